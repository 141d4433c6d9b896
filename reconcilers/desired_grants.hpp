#pragma once
// Planner phase 1 — desired grants: what each share role should hold (from enforce-mode shares),
// what it must keep (observe-mode shares, and resources that are blocked or could not be read),
// and what the observation says it holds. Internal to the planner (plan_context.hpp). Pure.
#include <string>
#include <vector>

#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// The resources of one share (named and selected), each resolved against the account's
// observation: which role it needs, its CMKs, or why it cannot be granted. Sorted by id. When the
// selector's listing failed, the named resources are still resolved and `selector_error` says so
// (the share's grants are Failed, nothing of it is revoked).
struct ResolvedShare {
  std::vector<Resolved> resources;
  std::string selector_error;
};
ResolvedShare resolve_share(const config::Share& share, const AccountObservation& o,
                            bool allow_service_keys);

// What the observation says of one role: its trust principals, whether we own it, the resources
// our attached policies grant and the attachments that are not ours.
RoleFacts role_facts(const ObservedRole& role, const AccountObservation& o,
                     const config::Account& account, const std::string& instance);

// Fills both roles' facts and wants, and `resolved`, for a plannable account.
void plan_desired_grants(AccountContext& a, const PlanInputs& in);

// "acs:kms:<region>:<uid>:key": the resource kms:List* is granted on.
std::string list_resource(const std::string& region, const std::string& uid);

}  // namespace sharekeeper::reconcilers::planner
