#pragma once
// Grant status: the health of one (share entry, target) pair (docs/contract.md §1, last paragraph),
// what the daemon publishes as sharekeeper_grant_state / sharekeeper_grant_ready and in /status.
// The vocabulary (GrantState, GrantTarget, Sharing) is config/grant.hpp, shared with the daemon;
// the phase that computes the statuses is grant_status_plan.hpp.
#include <string>
#include <vector>

#include "config/grant.hpp"
#include "reconcilers/chain.hpp"

namespace sharekeeper::reconcilers {

using config::GrantState;
using config::GrantTarget;
using config::Sharing;
using config::TargetType;
using config::to_string;  // so reconcilers::to_string names every enum a plan shows

// Per resource of a share: why it does (not) hold. Detail for /status, never a metric label.
struct ResourceStatus {
  std::string resource_id;  // s-... | m-...
  std::string region;
  GrantState state = GrantState::kReady;
  std::string reason;  // "", "unencrypted: no RAM grant needed", "service key: ...", ...
  std::vector<std::string> key_ids;  // KMS keys it depends on
  Sharing sharing = Sharing::kUnknown;
  std::string sharing_detail;  // how: "image share permission", "resource share rs-...", or why not
  // settings.manageShares, images with account targets: the accounts the image is shared with
  // that no share of the config names, kept (adopted additively, protected, another instance's).
  std::vector<std::string> foreign_accounts;
  // Every link that must hold for the target to use it (reconcilers/chain.hpp), with its text. For
  // a Ready grant (not in observe mode) only the links that do not hold (broken or unknown, with
  // their text): empty when the target can use the resource. blocking_link() reads either alike.
  std::vector<ChainLink> chain;
};

struct GrantStatus {
  std::string share;
  std::string account;  // config account name
  GrantTarget target;
  GrantState state = GrantState::kPending;
  std::string reason;                     // always set unless Ready with nothing to say
  std::vector<ResourceStatus> resources;  // sorted by id
  // The first link that keeps the target from using a resource of the share (its chain's
  // blocked_by(), resources in id order); "" when the target can use every resource.
  std::string blocked_by;
};

}  // namespace sharekeeper::reconcilers
