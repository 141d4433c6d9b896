#pragma once
// Planner phases for settings.manageShares (docs/contract.md §1 item 5; docs/reconcilers.md "Converging
// the shares"): the shares themselves, after the RAM/KMS phases. Pure; internal to the planner
// (plan_context.hpp).
//
//  - images -> accounts: the image's share permission list (ModifyImageSharePermission, at most
//    10 accounts per change, at most 50 per image: more is Blocked, nothing partial is sent);
//  - snapshots -> any target, images -> resource directories and folders: one resource share of
//    ours per (share entry, resource type), "<instance>-<share>-<snapshot|image>", tagged
//    managed-by and owned entirely (CreateResourceShare / AssociateResourceShare /
//    DisassociateResourceShare, at most 5 resources and 5 targets per change).
//
// Ownership as for the roles: an image first shared by us (empty list) is tagged and its list is
// then authoritative; an image already shared with accounts the config does not name is adopted
// additively (they are kept and noted as foreign) unless `adopt: authoritative`;
// protectedPrincipals are never unshared; resource shares that are not ours are never modified.
// Every unshare is a removal candidate the guards decide on (guards.hpp).
#include <string>

#include "reconcilers/guards.hpp"
#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// "<instance>-<share>-<snapshot|image>", characters Resource Sharing refuses replaced by '-',
// shortened to 50 characters with a stable hash suffix when longer.
std::string resource_share_name(const std::string& instance, const std::string& share,
                                RoleKind kind);
// How Resource Sharing names a target: the UID, the rd- id, or a folder's own id (the last part of
// its path).
std::string resource_share_target(const config::GrantTarget& t);

// Phase 1b (after the desired grants): what each image's list and each resource share of ours
// should hold, and what they hold. Does nothing without settings.manageShares.
void plan_share_wants(AccountContext& a, const PlanInputs& in);

// Phase 2 (with the other candidates): every account of an authoritative image list and every
// entity of a resource share of ours the config no longer asks for. Notes the foreign and the
// protected accounts kept.
void share_removal_candidates(AccountContext& a, Removals& out);
// Where the guards' allowed share revocation goes in the context.
void allow_share_revocation(AccountContext& a, const Revocation& r);

// Phase 3c: the share changes (stage 4) and the unshares the guards allowed (stage 5).
void plan_shares(AccountContext& a, const PlanInputs& in);

// For the grant status: with settings.manageShares, what the resource's sharing with the target
// makes of a grant whose RAM/KMS side is complete (rs.sharing already judged). Sets rs.state and
// rs.reason when it is not shared (Pending, Blocked by the 50-account cap, Failed when unknown).
void judge_managed_share(const AccountContext& a, const Resolved& r,
                         const config::GrantTarget& target, ResourceStatus& rs);

}  // namespace sharekeeper::reconcilers::planner
