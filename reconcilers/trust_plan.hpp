#pragma once
// Planner phase 3a — trust policies: creates a missing role with the principals it should trust,
// widens a trust policy that lacks some (stage 1), and narrows it by what the guards allowed
// (stage 4). Also the account-level notes (foreign attachments, the disk-encryption role).
// Internal to the planner (plan_context.hpp).
#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// Notes of a plannable account that no change carries.
void plan_account_notes(AccountContext& a, const PlanInputs& in);

// The role and trust changes of both roles; sets RoleContext::will_exist.
void plan_trust_policies(AccountContext& a, const PlanInputs& in);

}  // namespace sharekeeper::reconcilers::planner
