#include "reconcilers/guards.hpp"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace sharekeeper::reconcilers::planner {

GuardSettings GuardSettings::of(const config::DesiredState& d) {
  GuardSettings g;
  g.prune = d.settings.prune;
  g.allow_mass_revoke = d.settings.allow_mass_revoke;
  g.max_revoke_fraction = d.settings.max_revoke_fraction;
  g.max_revocations_per_cycle = d.settings.max_revocations_per_cycle;
  g.config_has_shares = !d.shares.empty();
  return g;
}

GuardOutcome apply_guards(std::vector<Candidate> candidates, int in_place,
                          const GuardSettings& settings) {
  // Sorted by what plans show, so the per-cycle budget goes to the same candidates every time.
  std::vector<std::tuple<std::string, std::string, std::string>> keys;
  keys.reserve(candidates.size());
  for (const auto& c : candidates)
    keys.emplace_back(c.revocation.account, c.revocation.object_label(), c.revocation.item_label());
  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });

  struct Verdict {
    bool allowed = false;
    Guard guard = Guard::kPruneDisabled;
    std::string detail;
  };
  std::vector<Verdict> verdicts(candidates.size());
  auto block = [&](std::size_t i, Guard g, std::string detail) {
    verdicts[i] = {false, g, std::move(detail)};
  };
  std::vector<std::size_t> open;
  for (std::size_t i : order) {
    if (candidates[i].partial) {
      block(i, Guard::kPartialObservation,
            "a call failed while observing this account; no revocation this cycle");
    } else if (!settings.prune) {
      block(i, Guard::kPruneDisabled, "settings.prune is false");
    } else if (!settings.config_has_shares && !settings.allow_mass_revoke) {
      block(i, Guard::kEmptyConfig,
            "the config has no shares; set allowMassRevoke to revoke everything");
    } else {
      open.push_back(i);
    }
  }
  if (!open.empty() && !settings.allow_mass_revoke &&
      static_cast<double>(open.size()) >
          settings.max_revoke_fraction * static_cast<double>(in_place)) {
    const std::string detail = std::to_string(open.size()) + " of " + std::to_string(in_place) +
                               " grants in place exceeds maxRevokeFraction " +
                               std::to_string(settings.max_revoke_fraction);
    for (std::size_t i : open) block(i, Guard::kMaxRevokeFraction, detail);
    open.clear();
  }
  int budget = settings.max_revocations_per_cycle;
  for (std::size_t i : open) {
    if (budget > 0) {
      verdicts[i].allowed = true;
      --budget;
    } else {
      block(i, Guard::kMaxRevocationsPerCycle,
            "at most " + std::to_string(settings.max_revocations_per_cycle) +
                " revocations per cycle");
    }
  }
  GuardOutcome out;
  for (std::size_t i : order) {
    if (verdicts[i].allowed) {
      out.allowed.push_back(std::move(candidates[i].revocation));
    } else {
      BlockedRevocation b;
      static_cast<Revocation&>(b) = std::move(candidates[i].revocation);
      b.guard = verdicts[i].guard;
      b.detail = std::move(verdicts[i].detail);
      out.blocked.push_back(std::move(b));
    }
  }
  return out;
}

Removals removal_candidates(AccountContext& a) {
  Removals out;
  std::set<Principal> protected_principals;
  for (const auto& entry : a.account->protected_principals)
    if (auto p = protected_principal(entry)) protected_principals.insert(std::move(*p));
  for (const RoleContext& role : a.roles) {
    const RoleFacts& f = role.facts;
    const RoleWant& want = role.want;
    if (f.presence != Presence::kPresent) continue;
    const std::string rn = role_name(role.kind);
    auto candidate = [&](ObjectKind object) {
      Candidate c;
      c.revocation.account = a.plan.account;
      c.revocation.role = role.kind;
      c.revocation.object = object;
      c.partial = a.plan.partial;
      return c;
    };
    if (f.trust_known) {
      if (f.authoritative) out.in_place += static_cast<int>(f.principals.size());
      for (const auto& p : f.principals) {
        if (want.principals.count(p) != 0U || want.keep_principals.count(p) != 0U) continue;
        if (protected_principals.count(p) != 0U) {
          a.note("protected principal kept in " + rn + ": " + p.label());
          continue;
        }
        if (!f.authoritative) {
          const std::string& other = a.obs->role(role.kind).managed_by;
          a.note(
              "foreign principal kept in " + rn + " (role adopted additively" +
              (f.owned || other.empty() ? std::string() : ", managed by instance '" + other + "'") +
              "): " + p.label());
          continue;
        }
        Candidate c = candidate(ObjectKind::kTrustPolicy);
        c.revocation.principal = p;
        out.candidates.push_back(std::move(c));
      }
    }
    if (f.policies_known) {
      out.in_place += static_cast<int>(f.resources.size());
      for (const auto& r : f.resources) {
        if (want.resources.count(r) != 0U || want.keep_resources.count(r) != 0U) continue;
        Candidate c = candidate(ObjectKind::kKmsPolicy);
        c.revocation.kms_resource = r;
        out.candidates.push_back(std::move(c));
      }
    }
  }
  return out;
}

}  // namespace sharekeeper::reconcilers::planner
