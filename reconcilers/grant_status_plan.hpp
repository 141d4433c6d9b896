#pragma once
// Planner phase 4 — grant statuses: every grant (share entry x target) of the accounts in scope,
// judged from the observation and the earlier phases (never from the planned changes): Ready when
// the role, its trust policy and our attached KMS policies already serve it; else Pending, Blocked
// or Failed with the first reason of the worst resource. Whether each resource is actually shared
// is reported per resource (Sharing). Internal to the planner (plan_context.hpp).
#include <vector>

#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// What the observation knows about one resource's sharing, looked up once per share (a share's
// resources are judged for each of its targets).
struct SharingLookup {
  const ObservedShares* shares = nullptr;                    // nullptr: the region was not observed
  const std::vector<std::string>* image_accounts = nullptr;  // nullptr: not listed
  const std::map<std::string, ObservedShares::Association, std::less<>>* pairs = nullptr;
  // Resource Directory membership (observe_rd.hpp): an account is also reached through its
  // directory and the folders above it. nullptr: not read.
  const Directories* directories = nullptr;
};
SharingLookup sharing_lookup(const AccountObservation& obs, const ResourceStatus& rs);

// Whether the resource is actually shared with the target: sets rs.sharing and rs.sharing_detail
// (reported, never planned from).
void judge_sharing(const SharingLookup& l, RoleKind kind, const config::GrantTarget& target,
                   ResourceStatus& rs);

// The chain of one resource for one target (reconcilers/chain.hpp), from the role's facts and the
// sharing judge's verdict already in `rs` (rs.sharing, rs.sharing_detail). Without `detail`, held
// links carry their state only (no text); links that are not held always carry theirs.
Chain build_chain(const AccountObservation& obs, const RoleFacts& facts, const ResourceStatus& rs,
                  const config::GrantTarget& target, bool detail);
// The same as build_chain(obs, facts, rs, target, false).links when `links` is that chain of the
// same resource for another target: only the target's links (trust, share) are judged again. A
// share's resources are the same for each of its targets.
std::vector<ChainLink> retarget_chain(std::vector<ChainLink> links, const AccountObservation& obs,
                                      const RoleFacts& facts, const ResourceStatus& rs,
                                      const config::GrantTarget& target);

// The statuses of every grant of the shares in scope, sorted by (share, target). `accounts` are
// the contexts after the other phases, by account name.
std::vector<GrantStatus> grant_statuses(
    const std::map<std::string, const AccountContext*>& accounts, const PlanInputs& in,
    const std::vector<std::string>& only);

}  // namespace sharekeeper::reconcilers::planner
