#include "reconcilers/trust_plan.hpp"

namespace sharekeeper::reconcilers::planner {

void plan_account_notes(AccountContext& a, const PlanInputs& /*in*/) {
  for (const RoleContext& role : a.roles) {
    if (role.facts.presence == Presence::kUnknown) continue;  // could not read the role
    for (const auto& fa : role.facts.foreign_attachments) {
      // AliyunKMSFullAccess is foreign, except when service-key shares need it.
      const bool ours_needed =
          fa == std::string("System ") + kFullAccessPolicy && !role.want.full_access_grants.empty();
      if (!ours_needed)
        a.note("foreign attachment on " + std::string(role_name(role.kind)) + ": " + fa +
               " (reported, never detached)");
    }
  }
}

void plan_trust_policies(AccountContext& a, const PlanInputs& /*in*/) {
  for (RoleContext& role : a.roles) {
    const RoleFacts& f = role.facts;
    const RoleWant& want = role.want;
    role.will_exist = f.presence == Presence::kPresent;
    if (f.presence == Presence::kUnknown) continue;  // could not read the role: touch nothing
    auto change = [&](Stage st, Action act, ObjectKind obj) {
      return base_change(a.plan.account, role.kind, st, act, obj);
    };
    if (f.presence == Presence::kAbsent) {
      if (want.principals.empty()) continue;
      Change c = change(Stage::kRoles, Action::kCreateRole, ObjectKind::kRole);
      for (const auto& [p, g] : want.principals) c.added.principals.push_back(p);
      c.document = build_trust_policy(trust_principals(c.added.principals));
      c.reason = "missing: role does not exist";
      c.grants = a.grants.refs_of(c.added.principals, want.principals);
      a.add(std::move(c));
      role.will_exist = true;
      continue;
    }
    if (!f.trust_known) {
      a.note("trust policy of " + std::string(role_name(role.kind)) + " is unreadable (" +
             f.trust_error + "); not changed");
      continue;
    }
    std::set<Principal> adds;
    std::set<Principal> removes;
    for (const auto& [p, g] : want.principals)
      if (f.principals.count(p) == 0U) adds.insert(p);
    for (const auto& p : f.principals)
      if (role.revoke_principals.count(p) != 0U) removes.insert(p);
    // The document keeps every principal it has (foreign statements included) plus the additions;
    // the narrowing one also drops the allowed removals.
    auto document = [&](bool with_removals) {
      std::set<Principal> all(f.principals.begin(), f.principals.end());
      all.insert(adds.begin(), adds.end());
      if (with_removals)
        for (const auto& r : removes) all.erase(r);
      return build_trust_policy(trust_principals(all));
    };
    if (!adds.empty()) {
      Change c = change(Stage::kRoles, Action::kUpdateTrustPolicy, ObjectKind::kTrustPolicy);
      c.document = document(false);
      c.added.principals.assign(adds.begin(), adds.end());
      c.reason = "drifted: trust policy lacks " + std::to_string(adds.size()) + " principal(s)";
      c.grants = a.grants.refs_of(c.added.principals, want.principals);
      a.add(std::move(c));
    }
    if (!removes.empty()) {
      Change c = change(Stage::kRemovals, Action::kUpdateTrustPolicy, ObjectKind::kTrustPolicy);
      c.document = document(true);
      c.removed.principals.assign(removes.begin(), removes.end());
      c.reason = "not in config: " + std::to_string(removes.size()) + " principal(s)";
      a.add(std::move(c));
    }
  }
}

}  // namespace sharekeeper::reconcilers::planner
