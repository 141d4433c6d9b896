#pragma once
// Observe: what the cloud looks like for one sharer account, read through the abstract CloudApi
// only.
//
// An observation is a value (no live handles), so the planner can be a pure function of it. Any
// failed call marks the account observation partial and the object it concerned kUnknown: the
// planner never plans a revocation from a partial observation. The minimum number of calls for a
// converged account is documented in docs/reconcilers.md ("Calls per plan") and measured by
// bench/planner.
//
// Thread-safety: observe_account uses only its CloudApi (thread-safe by contract); observe() runs
// accounts in parallel on at most `max_parallel` threads.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/api.hpp"
#include "config/desired_state.hpp"

namespace sharekeeper::reconcilers {

enum class Presence { kUnknown, kAbsent, kPresent };
struct Directories;  // observe_rd.hpp
const char* to_string(Presence p);

// Which of the two share roles (docs/contract.md §1.1): snapshots use one, images the other.
enum class RoleKind { kSnapshot, kImage };
const char* role_name(RoleKind kind);   // the RAM role name (support/wire.hpp)
const char* role_short(RoleKind kind);  // "snapshot" | "image", used in policy names

struct ObservedRole {
  Presence presence = Presence::kUnknown;
  cloud::Role role;  // when kPresent
  bool tags_known = false;
  std::string managed_by;  // value of the sharekeeper:managed-by tag, "" when untagged
  bool attachments_known = false;
  std::vector<cloud::AttachedPolicy> attached;  // sorted by (type, name)
};

// A custom policy attached to a share role (or otherwise relevant), with its versions.
struct ObservedPolicy {
  std::string name;
  Presence presence = Presence::kUnknown;
  bool tags_known = false;
  std::string managed_by;  // tag value, "" when untagged
  bool versions_known = false;
  std::vector<cloud::PolicyVersion> versions;  // as listed; at most 5
  std::string default_version;
  std::string default_document;
  // A policy not ours (attached to a share role): only its default document is read (GetPolicy),
  // so a KMS grant a person made counts as held (adopted additively, never edited).
  bool document_known = false;
};

struct ObservedKey {
  std::string region;
  std::string key_id;  // as the resource names it
  Presence presence = Presence::kUnknown;
  cloud::KeyMetadata meta;
  bool service_key = false;          // alias alias/acs/... or Creator not the account UID
  std::vector<std::string> aliases;  // only fetched when Creator is not the account UID
  std::string arn;                   // meta.arn, or built acs:kms:<region>:<uid>:key/<id>
};

struct ObservedSnapshot {
  Presence presence = Presence::kUnknown;
  cloud::Snapshot snapshot;
};

struct ObservedImage {
  Presence presence = Presence::kUnknown;
  cloud::Image image;
};

// Who the resources are actually shared with (docs/contract.md §1 item 5). With
// settings.manageShares (the default) these listings are planned from: a failed one makes the
// account observation partial (nothing is unshared that pass). Without it they are only reported
// (/status): a failed listing leaves it unknown and never makes the observation partial.
struct ObservedShares {
  // Images with account targets -> the accounts DescribeImageSharePermission lists. Absent key: not
  // listed, or the listing failed.
  std::map<std::string, std::vector<std::string>, std::less<>> image_accounts;
  // Resource Sharing, the account's own shares in the region, joined: resource id (this config's
  // resources only) -> target id (UID, rd-..., r-/fd- folder) -> the most advanced association of
  // that pair over every share holding both. False when a listing failed.
  bool resource_sharing_known = false;
  struct Association {
    // The less advanced of the resource's and the target's association: Associated | Associating
    // | Failed | Disassociating.
    std::string status;
    std::string message;  // AssociationStatusMessage, e.g. an invitation not accepted yet
    std::string resource_share_id;
    bool external = false;  // the target is outside the resource directory (an invitation)
    // Associated 4 > Associating 3 > Failed 2 > Disassociating 1 > anything else 0 (ignored).
    static int rank(std::string_view status) {
      return status == "Associated"       ? 4
             : status == "Associating"    ? 3
             : status == "Failed"         ? 2
             : status == "Disassociating" ? 1
                                          : 0;
    }
  };
  std::map<std::string, std::map<std::string, Association, std::less<>>, std::less<>>
      resource_targets;

  // settings.manageShares only: what this instance owns in the region. False when a listing
  // failed (then nothing of the region's shares is changed).
  bool managed_known = false;
  // Images tagged sharekeeper:managed-by=<instance> (DescribeImages by tag): their share lists
  // are ours, wherever the config is now. Each is also in image_accounts when listed.
  std::set<std::string> owned_images;
  // Our resource shares (ListResourceShares by the managed-by tag, Active), by name, each with
  // every association of its own (both listings, any status).
  struct ManagedShare {
    cloud::ResourceShare share;
    std::vector<cloud::ResourceShareAssociation> resources;
    std::vector<cloud::ResourceShareAssociation> targets;
  };
  std::map<std::string, ManagedShare, std::less<>> managed;
};

struct ObservedRegion {
  std::string region;
  std::map<std::string, ObservedSnapshot>
      snapshots;                                // by id: named, selected and images' disk snapshots
  std::map<std::string, ObservedImage> images;  // by id: named and selected
  // Selector (selector_key()) -> ids it matched; absent key = that listing failed.
  std::map<std::string, std::vector<std::string>> selected_snapshots;
  std::map<std::string, std::vector<std::string>> selected_images;
  std::map<std::string, ObservedKey> keys;  // by key id as resources name it
  ObservedShares shares;
};

struct AccountObservation {
  std::string account;  // config::Account::name
  std::string uid;      // from GetCallerIdentity (or config when that failed)
  // Set when nothing may be planned for this account (identity failed or differs from the config
  // uid).
  std::optional<std::string> fatal_error;
  bool partial = false;              // some call failed: no revocation may be planned from it
  std::vector<cloud::Error> errors;  // every failed call, in order
  // Failed calls that only feed the report of ObservedShares (they do not make the observation
  // partial).
  std::vector<cloud::Error> share_errors;
  ObservedRole snapshot_role;
  ObservedRole image_role;
  // AliyunECSDiskEncryptDefaultRole (docs/contract.md §1.6): its presence always; its managed-by
  // tag and attachments only with settings.manageDiskEncryptRole (tags_known / attachments_known
  // say whether they were read).
  ObservedRole disk_role;
  std::map<std::string, ObservedPolicy> policies;  // custom policies attached to the share roles
  std::map<std::string, ObservedRegion> regions;
  int calls = 0;  // CloudApi calls made
  // Resource Directory membership (observe_rd.hpp), shared by every account of one observation;
  // nullptr when no grant named a directory or folder (then an account reached only through one
  // is "unknown" in the chain).
  std::shared_ptr<const Directories> directories;

  const ObservedRole& role(RoleKind k) const {
    return k == RoleKind::kSnapshot ? snapshot_role : image_role;
  }
  ObservedRole& role(RoleKind k) { return k == RoleKind::kSnapshot ? snapshot_role : image_role; }
};

struct Observation {
  std::map<std::string, AccountObservation> accounts;  // by account name
};

// The canonical text of a selector ("k1=v1,k2=v2", keys sorted); "" for no selector.
std::string selector_key(const std::map<std::string, std::string>& tags);

// The managed-by tag key (docs/contract.md §2).
inline constexpr const char* kManagedByTagKey = "sharekeeper:managed-by";

// Observes one account: every object the desired state's shares of that account touch, and both
// share roles whether or not the config still needs them (so entries that left the config can be
// pruned).
AccountObservation observe_account(const config::DesiredState& desired,
                                   const config::Account& account, cloud::CloudApi& api);

// Re-reads only the Resource Sharing side of `regions` (ListResourceShares by our tag and both
// ListResourceShareAssociations listings: 3 calls a region when converged) into `base`, an
// observation of `account` whose other parts still stand, and returns it. apply's verification uses
// it after share writes, because Resource Sharing settles asynchronously (docs/reconcilers.md,
// "Verification"). `base.calls` counts the calls made.
AccountObservation observe_resource_sharing(const config::DesiredState& desired,
                                            const config::Account& account, cloud::CloudApi& api,
                                            AccountObservation base,
                                            const std::set<std::string>& regions);

// Returns the CloudApi for an account name, or nullptr when it cannot be built (the observation
// then carries a fatal error). The pointer must stay valid for the duration of the call using it.
using ClientFor = std::function<cloud::CloudApi*(const config::Account& account)>;

// How many accounts a pass works on at once when the caller leaves it to us (max_parallel 0).
// The cloud's rate limits are per account and product, so accounts never compete for quota, and
// one account's pass is a sequence of calls (one in flight): at 30 ms a round trip it cannot even
// reach a 20 calls/s quota of two products on its own. Every account therefore gets a lane; the
// only shared budget is this process's threads and connections, hence the cap.
inline constexpr int kMaxAccountWorkers = 64;
// Independent reads of one account in flight at once (the share permissions of its images, its
// keys, its policies' versions): with a 30 ms round trip, one call at a time cannot use a 20
// calls/s quota, and the client's rate limiter keeps a wider fan-out from being throttled.
inline constexpr std::size_t kAccountFanOut = 4;
int account_workers(std::size_t accounts);

// Observes every account of the desired state (or only those named in `only`), at most
// max_parallel at a time (0: account_workers()).
Observation observe(const config::DesiredState& desired, const ClientFor& client_for,
                    int max_parallel = 0, const std::vector<std::string>& only = {});

}  // namespace sharekeeper::reconcilers
