#pragma once
// Grant status: the health of one (share entry, target) pair (DESIGN.md §1, last paragraph). This
// is the model the daemon publishes as sharekeeper_grant_state / sharekeeper_grant_ready and in
// /status.
//
// Until settings.manageShares, Ready means the RAM/KMS side (role, trust, KMS policy, attachment)
// is complete for every resource of the share; whether each resource is actually shared is reported
// apart.
#include <string>
#include <vector>

namespace sharekeeper::reconcilers {

enum class GrantState { kReady, kPending, kBlocked, kFailed, kObserved };
const char* to_string(GrantState s);  // "Ready" | "Pending" | "Blocked" | "Failed" | "Observed"

enum class TargetType { kAccount, kResourceDirectory, kFolder };
const char* to_string(
    TargetType t);  // "account" | "resource_directory" | "folder" (metric label values)

struct GrantTarget {
  TargetType type = TargetType::kAccount;
  std::string id;  // UID, rd- id, or folder path
  // "account:<uid>" | "rd:<rd-id>" | "folder:<path>": the same labels plans use for trust
  // principals.
  std::string label() const;
  friend auto operator<=>(const GrantTarget&, const GrantTarget&) = default;
};

// Whether a resource is actually shared with a grant's target (DESIGN.md §1 item 5): reported apart
// from the grant state until settings.manageShares.
enum class Sharing {
  kUnknown,    // not observed, or the listing failed
  kShared,     // in the image's share permissions, or an Associated Resource Sharing pair
  kPending,    // a Resource Sharing association in progress (or an invitation not accepted yet)
  kNotShared,  // neither (or the association Failed)
};
const char* to_string(Sharing s);  // "unknown" | "shared" | "pending" | "not_shared"

// Per resource of a share: why it does (not) hold. Detail for /status, never a metric label.
struct ResourceStatus {
  std::string resource_id;  // s-... | m-...
  std::string region;
  GrantState state = GrantState::kReady;
  std::string reason;  // "", "unencrypted: no RAM grant needed", "service key: ...", ...
  std::vector<std::string> key_ids;  // KMS keys it depends on
  Sharing sharing = Sharing::kUnknown;
  std::string sharing_detail;  // how: "image share permission", "resource share rs-...", or why not
};

struct GrantStatus {
  std::string share;
  std::string account;  // config account name
  GrantTarget target;
  GrantState state = GrantState::kPending;
  std::string reason;                     // always set unless Ready with nothing to say
  std::vector<ResourceStatus> resources;  // sorted by id
};

}  // namespace sharekeeper::reconcilers
