#include "reconcilers/apply.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "reconcilers/policy_document.hpp"
#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace {

using cloud::ErrorClass;

// Executes one account's changes against its CloudApi.
class Executor {
 public:
  Executor(cloud::CloudApi& api, const std::string& instance) : api_(api), instance_(instance) {}

  AccountApplyResult run(const AccountPlan& ap) {
    AccountApplyResult out;
    out.account = ap.account;
    bool failed = false;
    std::set<std::string> failed_objects;  // roles and policies whose creation failed
    for (const auto& c : ap.changes) {
      ChangeResult r;
      r.change = c;
      if (failed && c.stage == Stage::kRemovals) {
        r.skipped = true;
        r.detail =
            "not attempted: an earlier write of this account failed (never remove after a failed "
            "add)";
      } else if (c.action == Action::kAttachPolicy && (failed_objects.count(c.role) != 0U ||
                                                       failed_objects.count(c.policy_name) != 0U)) {
        r.skipped = true;
        r.detail = "not attempted: creating what it attaches failed";
      } else {
        cloud::CallCollector collector;
        execute(c, r);
        for (const auto& call : collector.calls())
          if (!call.read_only) r.writes.push_back(call);
        if (!r.ok) {
          failed = true;
          if (c.action == Action::kCreateRole) failed_objects.insert(c.role);
          if (c.action == Action::kCreatePolicy) failed_objects.insert(c.policy_name);
        }
      }
      if (!r.ok && !r.skipped) ++out.failed;
      out.results.push_back(std::move(r));
    }
    out.writes = writes_;
    return out;
  }

 private:
  std::vector<cloud::Tag> tags() const { return {{kManagedByTagKey, instance_}}; }

  // Runs a write (any cloud::Result; its value is not needed); when its outcome is unknown,
  // `effective` re-reads the cloud to learn whether it took effect (a failed re-read is its
  // error) before the write is retried (once).
  template <class Write>
  void write_with_recheck(ChangeResult& r, Write write,
                          const std::function<cloud::Result<bool>()>& effective) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ++writes_;
      auto res = write();
      if (res.ok()) {
        r.ok = true;
        r.error.reset();
        return;
      }
      const cloud::Error& err = res.error();
      r.error = err;
      if (err.cls != ErrorClass::kOutcomeUnknown && err.cls != ErrorClass::kConflict) return;
      r.re_observed = true;
      const cloud::Result<bool> done = effective();
      if (done.value_or(false)) {
        r.ok = true;
        r.detail = err.cls == ErrorClass::kConflict ? "already in the intended state" : "";
        return;
      }
      if (err.cls == ErrorClass::kConflict)
        return;                // someone else's object or edit: re-plan next cycle
      if (!done.ok()) return;  // could not re-read: do not write blindly
    }
  }

  cloud::Result<bool> role_trust_is(const std::string& role, const std::string& doc) {
    return api_.get_role(role).transform([&](const std::optional<cloud::Role>& g) {
      return g.has_value() && policies_equivalent(g->trust_policy, doc);
    });
  }

  // A policy that does not exist has no versions.
  cloud::Result<std::vector<cloud::PolicyVersion>> versions(const std::string& policy) {
    return api_.list_policy_versions(policy, "Custom")
        .or_else([](cloud::Error e) -> cloud::Result<std::vector<cloud::PolicyVersion>> {
          if (e.cls == ErrorClass::kNotFound) return std::vector<cloud::PolicyVersion>{};
          return e;
        });
  }

  cloud::Result<bool> default_is(const std::string& policy, const std::string& doc) {
    return versions(policy).transform([&](const std::vector<cloud::PolicyVersion>& vs) {
      for (const auto& v : vs)
        if (v.is_default) return policies_equivalent(v.document, doc);
      return false;
    });
  }

  cloud::Result<bool> attached(const std::string& role, const std::string& type,
                               const std::string& policy) {
    return api_.list_policies_for_role(role).transform(
        [&](const std::vector<cloud::AttachedPolicy>& l) {
          return std::any_of(l.begin(), l.end(), [&](const auto& a) {
            return a.policy_type == type && a.policy_name == policy;
          });
        });
  }

  cloud::Result<bool> owned_policy(const std::string& policy) {
    return api_.list_tag_resources("policy", {policy})
        .transform([&](const std::vector<cloud::TagResource>& t) {
          return std::any_of(t.begin(), t.end(), [&](const auto& x) {
            return x.key == kManagedByTagKey && x.value == instance_;
          });
        })
        .or_else([](cloud::Error e) -> cloud::Result<bool> {
          // A policy that does not exist is answered NotFound: not created.
          if (e.cls == ErrorClass::kNotFound) return false;
          return e;
        });
  }

  void execute(const Change& c, ChangeResult& r) {
    if (!c.document.empty()) {
      // Never send a document that does not re-parse into what we meant.
      auto verified = verify_written_form(c.document, c.document);
      if (!verified) {
        r.detail = verified.error().message;
        return;
      }
      if (c.object == ObjectKind::kKmsPolicy && c.document.size() > wire::kMaxPolicyDocumentChars) {
        r.detail =
            "document exceeds " + std::to_string(wire::kMaxPolicyDocumentChars) + " characters";
        return;
      }
    }
    switch (c.action) {
      case Action::kCreateRole:
        write_with_recheck(
            r,
            [&] {
              return api_.create_role(c.role, c.document,
                                      "Managed by sharekeeper instance " + instance_, tags());
            },
            [&] { return role_trust_is(c.role, c.document); });
        return;
      case Action::kUpdateTrustPolicy:
        write_with_recheck(
            r, [&] { return api_.update_role_trust_policy(c.role, c.document); },
            [&] { return role_trust_is(c.role, c.document); });
        return;
      case Action::kCreatePolicy:
        write_with_recheck(
            r,
            [&] {
              return api_.create_policy(c.policy_name, c.document,
                                        "KMS permissions for " + c.role +
                                            ", managed by sharekeeper instance " + instance_,
                                        tags());
            },
            [&]() -> cloud::Result<bool> {
              SK_TRY(mine, owned_policy(c.policy_name));
              if (!mine) return false;
              SK_TRY(same, default_is(c.policy_name, c.document));
              if (same) return true;
              // Ours (e.g. created before a crash) but stale: give it the intended default version.
              ++writes_;
              return api_.create_policy_version(c.policy_name, c.document, true, true)
                  .transform([](const cloud::PolicyVersion&) { return true; });
            });
        return;
      case Action::kCreatePolicyVersion:
        write_with_recheck(
            r, [&] { return api_.create_policy_version(c.policy_name, c.document, true, false); },
            [&]() -> cloud::Result<bool> {
              SK_TRY(vs, versions(c.policy_name));
              for (const auto& v : vs) {
                if (!policies_equivalent(v.document, c.document)) continue;
                if (v.is_default) return true;
                // The version was created but not made default: finish it rather than add a
                // duplicate.
                ++writes_;
                return api_.set_default_policy_version(c.policy_name, v.version_id).transform([] {
                  return true;
                });
              }
              return false;
            });
        return;
      case Action::kDeletePolicyVersion:
        write_with_recheck(
            r,
            [&] {
              return api_.delete_policy_version(c.policy_name, c.version_id)
                  .or_else([](const cloud::Error& e) -> cloud::Result<void> {
                    if (e.cls == ErrorClass::kNotFound) return {};  // already gone
                    return e;
                  });
            },
            [&] {
              return versions(c.policy_name).transform([&](const auto& vs) {
                return std::none_of(vs.begin(), vs.end(),
                                    [&](const auto& v) { return v.version_id == c.version_id; });
              });
            });
        return;
      case Action::kAttachPolicy:
        write_with_recheck(
            r, [&] { return api_.attach_policy_to_role(c.policy_type, c.policy_name, c.role); },
            [&] { return attached(c.role, c.policy_type, c.policy_name); });
        return;
      case Action::kDetachPolicy:
        write_with_recheck(
            r, [&] { return api_.detach_policy_from_role(c.policy_type, c.policy_name, c.role); },
            [&] {
              return attached(c.role, c.policy_type, c.policy_name).transform([](bool a) {
                return !a;
              });
            });
        return;
    }
  }

  cloud::CloudApi& api_;
  std::string instance_;
  int writes_ = 0;
};

template <class Fn>
void for_each_bounded(std::size_t n, int max_parallel, Fn fn) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      fn(i);
    }
  };
  std::size_t threads =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(1, max_parallel)), n);
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

bool shares_an_item(const Items& a, const Items& b) {
  auto any_in = [](const auto& xs, const auto& ys) {
    return std::any_of(xs.begin(), xs.end(), [&](const auto& x) {
      return std::find(ys.begin(), ys.end(), x) != ys.end();
    });
  };
  return any_in(a.principals, b.principals) || any_in(a.kms_resources, b.kms_resources);
}

// True when `residual` still carries part of an applied change: same object and a shared item, or
// the same item-less change (attach/detach/delete version). New work (e.g. the next batch of
// revocations under the per-cycle cap) does not count.
bool still_differs(const Plan& residual, const ApplyResult& r) {
  for (const auto& a : r.accounts) {
    for (const auto& cr : a.results) {
      if (!cr.ok) continue;
      const Change& c = cr.change;
      for (const auto& ra : residual.accounts) {
        if (ra.account != c.account) continue;
        for (const auto& x : ra.changes) {
          if (x.role != c.role || x.policy_name != c.policy_name) continue;
          bool itemless = c.added.empty() && c.removed.empty();
          if (itemless && x.action == c.action) return true;
          if (shares_an_item(c.added, x.added) || shares_an_item(c.removed, x.removed)) return true;
        }
      }
    }
  }
  return residual.has_errors();
}

}  // namespace

bool ApplyResult::converged() const {
  return failures() == 0 && !residual.has_changes() && !residual.has_errors();
}

int ApplyResult::writes() const {
  int n = 0;
  for (const auto& a : accounts) n += a.writes;
  return n;
}

int ApplyResult::failures() const {
  int n = 0;
  for (const auto& a : accounts)
    for (const auto& c : a.results)
      if (!c.ok) ++n;
  return n;
}

ApplyResult apply(const config::DesiredState& desired, const Plan& p, const ClientFor& client_for,
                  const ApplyOptions& options) {
  support::Clock& clock = options.clock ? *options.clock : *support::SystemClock::shared();
  ApplyResult result;
  result.accounts.resize(p.accounts.size());
  for_each_bounded(p.accounts.size(), options.max_parallel_accounts, [&](std::size_t i) {
    const AccountPlan& ap = p.accounts[i];
    AccountApplyResult& out = result.accounts[i];
    out.account = ap.account;
    if (!ap.error.empty() || ap.changes.empty()) return;
    const config::Account* account = desired.find_account(ap.account);
    cloud::CloudApi* api = account && client_for ? client_for(*account) : nullptr;
    if (api == nullptr) {
      for (const auto& c : ap.changes) {
        ChangeResult r;
        r.change = c;
        r.detail = "no cloud client for this account";
        out.results.push_back(std::move(r));
      }
      out.failed = static_cast<int>(out.results.size());
      return;
    }
    out = Executor(*api, desired.settings.instance_name).run(ap);
  });

  if (result.writes() == 0 && result.failures() == 0) {
    result.residual = p;
    return result;
  }
  // Only the accounts this plan covered are re-read (a per-account pass never re-reads the others).
  std::vector<std::string> scope;
  for (const auto& a : p.accounts) scope.push_back(a.account);
  // Re-observe with a bounded, growing wait: RAM is eventually consistent, so a read right after a
  // write may still show the old state.
  auto delay = options.verify_initial_delay;
  for (int round = 1; round <= std::max(1, options.verify_attempts); ++round) {
    result.verify_rounds = round;
    result.residual =
        plan(desired, observe(desired, client_for, options.max_parallel_accounts, scope), scope);
    if (!still_differs(result.residual, result)) break;
    if (round == options.verify_attempts) break;
    clock.sleep_for(delay);
    delay = std::min(delay * 2, options.verify_max_delay);
  }
  return result;
}

std::vector<GrantStatus> grants_after_apply(const ApplyResult& result) {
  std::vector<GrantStatus> grants = result.residual.grants;
  for (const auto& a : result.accounts) {
    for (const auto& c : a.results) {
      if (c.ok || c.skipped) continue;
      std::string why = c.error ? c.error->to_string() : c.detail;
      for (const auto& g : c.change.grants) {
        for (auto& gs : grants) {
          if (gs.share != g.share || gs.target != g.target || gs.state == GrantState::kReady ||
              gs.state == GrantState::kFailed)
            continue;  // the first failure is the cause; later ones follow from it
          gs.state = GrantState::kFailed;
          gs.reason = std::string(to_string(c.change.action)) + " failed: " + why;
        }
      }
    }
  }
  return grants;
}

}  // namespace sharekeeper::reconcilers
