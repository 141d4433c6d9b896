#include "daemon/reconcile_runner.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "cloud/api.hpp"
#include "config/desired_state.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper::daemon {

namespace rc = reconcilers;

std::string digest(const std::string& document) {
  if (document.empty()) return "";
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(document.data()), document.size(), d);
  std::string out(std::size_t{2} * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; ++i)
    std::snprintf(&out[2 * static_cast<std::size_t>(i)], 3, "%02x", d[i]);
  return out;
}

namespace {

std::vector<GrantReport> map_grants(const std::vector<rc::GrantStatus>& in,
                                    const std::string& account) {
  std::vector<GrantReport> out;
  for (const auto& g : in) {
    if (g.account != account) continue;
    GrantReport r;
    r.key = GrantKey::of(g.account, g.share, g.target);
    r.state = g.state;
    r.reason = g.reason;
    if (r.state == GrantState::kFailed) r.message = g.reason;
    r.blocked_by = g.blocked_by;
    for (const auto& res : g.resources) {
      ResourceDetail d;
      d.id = res.resource_id;
      d.region = res.region;
      d.state = res.state;
      d.reason = res.reason;
      d.sharing = res.sharing;
      d.sharing_detail = res.sharing_detail;
      d.foreign_accounts = res.foreign_accounts;
      if (const rc::ChainLink* b = rc::blocking_link(res.chain)) {
        d.blocked_by = rc::to_string(b->link);
        d.blocked_observed = b->observed;
        d.blocked_remedy = b->remedy;
      }
      r.resources.push_back(std::move(d));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string operation(rc::Action a) {
  switch (a) {
    case rc::Action::kCreateRole:
      return "create_role";
    case rc::Action::kUpdateTrustPolicy:
      return "update_trust_policy";
    case rc::Action::kCreatePolicy:
      return "create_policy";
    case rc::Action::kCreatePolicyVersion:
      return "create_policy_version";
    case rc::Action::kDeletePolicyVersion:
      return "delete_policy_version";
    case rc::Action::kAttachPolicy:
      return "attach_policy";
    case rc::Action::kDetachPolicy:
      return "detach_policy";
    case rc::Action::kTagImage:
      return "tag_image";
    case rc::Action::kModifyImageShare:
      return "modify_image_share";
    case rc::Action::kCreateResourceShare:
      return "create_resource_share";
    case rc::Action::kUpdateResourceShare:
      return "update_resource_share";
    case rc::Action::kAssociateResourceShare:
      return "associate_resource_share";
    case rc::Action::kDisassociateResourceShare:
      return "disassociate_resource_share";
  }
  return "other";
}

// The document an object had before the change, for the audit digest.
std::string before_document(const rc::AccountObservation& obs, const rc::Change& c) {
  switch (c.action) {
    case rc::Action::kUpdateTrustPolicy:
      for (auto k : {rc::RoleKind::kSnapshot, rc::RoleKind::kImage})
        if (c.role == rc::role_name(k) && obs.role(k).presence == rc::Presence::kPresent)
          return obs.role(k).role.trust_policy;
      return "";
    case rc::Action::kCreatePolicyVersion:
    case rc::Action::kDeletePolicyVersion:
      if (auto it = obs.policies.find(c.policy_name); it != obs.policies.end())
        return it->second.default_document;
      return "";
    default:
      return "";
  }
}

// Drift: a change to an object that already existed (a creation on a fresh account is not drift).
std::optional<rc::ObjectKind> drift_object(const rc::AccountObservation& obs, const rc::Change& c) {
  switch (c.action) {
    case rc::Action::kUpdateTrustPolicy:
      return rc::ObjectKind::kTrustPolicy;
    case rc::Action::kCreatePolicyVersion:
      return rc::ObjectKind::kKmsPolicy;
    case rc::Action::kDetachPolicy:
      return rc::ObjectKind::kAttachment;
    case rc::Action::kAttachPolicy: {
      // Re-attaching a policy that exists means someone detached it.
      auto it = obs.policies.find(c.policy_name);
      if (it != obs.policies.end() && it->second.presence == rc::Presence::kPresent)
        return rc::ObjectKind::kAttachment;
      return std::nullopt;
    }
    case rc::Action::kModifyImageShare:
    case rc::Action::kAssociateResourceShare:
    case rc::Action::kUpdateResourceShare:
      // The planner says "drifted" when the image list is ours and already held accounts, or the
      // resource share of ours already existed: someone changed it out of band.
      if (c.reason.rfind("drifted", 0) == 0)
        return c.action == rc::Action::kModifyImageShare ? rc::ObjectKind::kImageShare
                                                         : rc::ObjectKind::kResourceShare;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// The audit record of a change apply made.
AppliedChange audit_record(const rc::AccountObservation& obs, const rc::ChangeResult& cr) {
  AppliedChange ch;
  ch.object = rc::to_string(cr.change.object);
  ch.name = !cr.change.image_id.empty()              ? cr.change.image_id
            : !cr.change.resource_share_name.empty() ? cr.change.resource_share_name
            : cr.change.policy_name.empty()          ? cr.change.role
                                                     : cr.change.policy_name;
  ch.operation = operation(cr.change.action);
  ch.before_digest = digest(before_document(obs, cr.change));
  ch.after_digest =
      cr.change.action == rc::Action::kDeletePolicyVersion ? "" : digest(cr.change.document);
  for (const auto& w : cr.writes) {
    const char* sep = ch.api_calls.empty() ? "" : ",";
    ch.api_calls.append(sep).append(w.action);
    ch.request_id.append(sep).append(w.request_id);
  }
  return ch;
}

// Only this account's part of a plan (plan() reports accounts it was not given as fatal), in place.
rc::Plan only_account(rc::Plan p, const std::string& account) {
  std::erase_if(p.accounts, [&](const rc::AccountPlan& a) { return a.account != account; });
  std::erase_if(p.blocked, [&](const rc::BlockedRevocation& b) { return b.account != account; });
  std::erase_if(p.grants, [&](const rc::GrantStatus& g) { return g.account != account; });
  p.summary.blocked_revocations = static_cast<int>(p.blocked.size());
  return p;
}

}  // namespace

const char* blocked_reason_label(reconcilers::Guard g) {
  switch (g) {
    case rc::Guard::kPartialObservation:
      return "partial_observation";
    case rc::Guard::kPruneDisabled:
      return "prune_disabled";
    case rc::Guard::kEmptyConfig:
      return "empty_config";
    case rc::Guard::kMaxRevokeFraction:
      return "max_revoke_fraction";
    case rc::Guard::kMaxRevocationsPerCycle:
      return "max_revocations_per_cycle";
  }
  return "other";
}

const char* drift_label(reconcilers::ObjectKind k) { return rc::to_string(k); }

ReconcileRunner::ReconcileRunner(ClientFactory factory, Options options)
    : factory_(std::move(factory)), options_(std::move(options)) {}

ReconcileRunner::ClientResult ReconcileRunner::client(const config::DesiredState& desired,
                                                      const config::Account& account) {
  std::lock_guard lock(mu_);
  auto it = clients_.find(account.name);
  if (it != clients_.end() && it->second.content_hash == desired.content_hash && it->second.api)
    return it->second.api;
  return factory_(desired, account).transform([&](std::shared_ptr<cloud::CloudApi> api) {
    clients_[account.name] = {desired.content_hash, api};
    return api;
  });
}

std::shared_ptr<const rc::Directories> ReconcileRunner::directories(
    const config::DesiredState& desired) {
  const std::shared_ptr<support::Clock> clock =
      options_.apply.clock ? options_.apply.clock : support::SystemClock::shared();
  std::lock_guard read_lock(rd_mu_);
  const support::SteadyTime now = clock->now();
  if (directories_.value && directories_.content_hash == desired.content_hash &&
      now - directories_.read_at < desired.settings.interval)
    return directories_.value;
  // The clients stay alive (shared) for the read; an account whose client cannot be built is
  // skipped (its directory stays unknown).
  std::vector<std::shared_ptr<cloud::CloudApi>> held;
  const rc::ClientFor client_for = [&](const config::Account& a) -> cloud::CloudApi* {
    auto made = client(desired, a);
    if (!made) return nullptr;
    held.push_back(*made);
    return held.back().get();
  };
  std::map<std::string, std::string> uids;
  {
    std::lock_guard lock(mu_);
    uids = uids_;
  }
  const rc::UidOf uid_of = [&](const config::Account& a) -> std::optional<std::string> {
    if (a.uid) return a.uid;
    auto it = uids.find(a.name);
    return it == uids.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  directories_.value = std::make_shared<const rc::Directories>(
      rc::observe_directories(desired, rc::directories_named(desired), client_for, uid_of));
  directories_.content_hash = desired.content_hash;
  directories_.read_at = now;
  return directories_.value;
}

PassOutcome ReconcileRunner::run_pass(const config::DesiredState& desired,
                                      const std::string& account, const std::atomic<bool>& stop) {
  PassOutcome out;
  const config::Account* acct = desired.find_account(account);
  if (acct == nullptr) {
    out.result = PassResult::kError;
    out.error = "account " + account + " is not in the config";
    return out;
  }
  auto made = client(desired, *acct);
  if (!made) {
    // Credentials that cannot even be set up (missing variables, bad profile) will not fix
    // themselves.
    out.result = PassResult::kError;
    out.terminal = true;
    out.error =
        made.error().message.empty() ? "cannot build the cloud client" : made.error().message;
    return out;
  }
  const std::shared_ptr<cloud::CloudApi> api = std::move(made).value();

  rc::Observation observation;
  observation.accounts[account] = rc::observe_account(desired, *acct, *api);
  if (!observation.accounts[account].fatal_error) {
    std::lock_guard lock(mu_);
    uids_[account] = observation.accounts[account].uid;
  }
  if (!rc::directories_named(desired, {account}).empty())
    observation.accounts[account].directories = directories(desired);
  const rc::AccountObservation& obs = observation.accounts[account];
  // Only this account: without `only`, plan() judged every grant of every account of the config
  // (the others as "not observed") and only_account() dropped them again, so each of the 64
  // workers built the whole organisation's grant statuses once a pass (30,000 of them at 200
  // accounts) and their arenas kept that peak (issue 14: most of the daemon's 1.35 GB).
  const rc::Plan p = only_account(rc::plan(desired, observation, {account}), account);
  out.plan_json = rc::render_json_compact(p);
  out.observation_complete = !obs.fatal_error && !obs.partial;
  for (const auto& b : p.blocked) ++out.revocations_blocked[blocked_reason_label(b.guard)];
  const rc::AccountPlan* ap = p.accounts.empty() ? nullptr : &p.accounts.front();
  if (ap != nullptr) {
    out.changes_planned = static_cast<int>(ap->changes.size());
    for (const auto& c : ap->changes)
      if (auto o = drift_object(obs, c)) ++out.drift[drift_label(*o)];
  }

  if (obs.fatal_error) {
    out.result = PassResult::kError;
    // Wrong account or rejected credentials: wait for a human. A network failure is not terminal.
    out.terminal = obs.errors.empty() || obs.errors.back().cls == cloud::ErrorClass::kTerminal;
    out.error = *obs.fatal_error;
    out.grants = map_grants(p.grants, account);
    return out;
  }

  std::vector<rc::GrantStatus> grants = p.grants;
  bool failed = false;
  int still_differs = 0;
  std::string first_error;
  if (ap != nullptr && !ap->observation_errors.empty())
    first_error = ap->observation_errors.front();
  if (options_.apply_changes && p.has_changes()) {
    if (stop) {
      out.result = PassResult::kPartial;
      out.error = "shutting down: planned changes not applied";
      out.grants = map_grants(p.grants, account);
      return out;
    }
    // Writes go to this account only. The other accounts' clients serve the verification's reads
    // of Resource Directory membership (observe_rd.hpp: the management account lists the members).
    std::mutex held_mu;
    std::vector<std::shared_ptr<cloud::CloudApi>> held;
    const rc::ClientFor client_for = [&](const config::Account& a) -> cloud::CloudApi* {
      if (a.name == account) return api.get();
      auto other = client(desired, a);
      if (!other) return nullptr;
      std::lock_guard lock(held_mu);
      held.push_back(*other);
      return held.back().get();
    };
    const rc::ApplyResult r = rc::apply(desired, observation, p, client_for, options_.apply);
    grants = rc::grants_after_apply(r);
    for (const auto& a : r.accounts) {
      for (const auto& cr : a.results) {
        if (cr.ok) {
          out.changes.push_back(audit_record(obs, cr));
        } else if (!cr.skipped) {
          failed = true;
          if (first_error.empty()) first_error = cr.error ? cr.error->to_string() : cr.detail;
        }
      }
    }
    // Verification re-observes through client_for, which knows only this account: judge only its
    // part.
    for (const auto& ra : r.residual.accounts) {
      if (ra.account != account) continue;
      if (!ra.error.empty() || ra.partial) out.observation_complete = false;
      // Like `apply`'s exit code: what still differs after the verification wait is not a success.
      if (!ra.changes.empty()) still_differs = static_cast<int>(ra.changes.size());
    }
  }
  out.grants = map_grants(grants, account);
  if (failed) {
    out.result = PassResult::kError;
  } else if (obs.partial || !out.observation_complete) {
    out.result = PassResult::kPartial;
  } else if (still_differs > 0) {
    out.result = PassResult::kError;
    first_error = std::to_string(still_differs) + " change(s) still differ after verification";
  }
  out.error = out.result == PassResult::kSuccess ? "" : first_error;
  return out;
}

}  // namespace sharekeeper::daemon
