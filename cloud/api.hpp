#pragma once
// The abstract cloud interface the reconcilers depend on: typed calls for RAM, STS, ECS, KMS and
// Resource Sharing, one instance per sharer account (one credential set). No HTTP, no Beast, no
// JSON here.
//
// Implementations: AlibabaClient (cloud/alibaba_client.hpp, the real wire protocol) and in-memory
// fakes in the tests. Every method is blocking with a deadline inside, and thread-safe.
//
// Conventions:
//  - list calls return every page (pagination is the implementation's job); a failed page fails
//    the call, so a caller never sees a partial listing as complete;
//  - "absent" is a value (std::optional) where the API answers NotFound for a normal question
//    (GetRole, GetPolicy, DescribeKey);
//  - idempotent writes: "already exists / already attached / not attached" are success where
//    documented;
//  - documents are returned decoded once more (RAM sends JSON inside JSON): the raw policy JSON
//    text.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/result.hpp"

namespace sharekeeper::cloud {

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};

struct CallerIdentity {
  std::string account_id;  // 16-digit UID, always a string
  std::string arn;
  std::string identity_type;  // Account | RAMUser | AssumedRoleUser
  std::string principal_id;
};

struct Role {
  std::string role_id;
  std::string role_name;
  std::string arn;
  std::string description;
  std::string
      trust_policy;  // AssumeRolePolicyDocument, decoded JSON text (may be re-serialised by RAM)
  std::string create_date;
  std::string update_date;
  int max_session_duration = 3600;
};

struct AttachedPolicy {
  std::string policy_name;
  std::string policy_type;  // System | Custom
  std::string default_version;
  std::string attach_date;
};

struct Policy {
  std::string policy_name;
  std::string policy_type;
  std::string description;
  std::string default_version;  // "v3"
  int attachment_count = 0;
  std::string default_document;  // from DefaultPolicyVersion.PolicyDocument (GetPolicy)
};

struct PolicyVersion {
  std::string version_id;
  bool is_default = false;
  std::string document;
  std::string create_date;
};

struct TagResource {
  std::string resource_type;  // role | policy
  std::string resource_name;
  std::string key;
  std::string value;
};

struct Snapshot {
  std::string snapshot_id;
  std::string region_id;
  std::string status;
  bool encrypted = false;
  std::string kms_key_id;  // empty when unencrypted
  std::vector<Tag> tags;
};

struct DiskMapping {
  std::string snapshot_id;
  std::string type;  // system | data
  std::string device;
};

struct Image {
  std::string image_id;
  std::string image_name;
  std::string owner_id;
  std::string status;
  bool is_public = false;
  std::vector<DiskMapping> disks;
  std::vector<Tag> tags;
};

struct KeyMetadata {
  std::string key_id;
  std::string arn;
  std::string creator;    // owner UID for a CMK; a service name ("Ecs") for a service key
  std::string key_state;  // Enabled | Disabled | PendingDeletion | PendingImport
  std::string key_usage;
  std::string key_spec;
  std::string origin;
  std::string protection_level;
};

struct ShareResource {
  std::string type;  // Snapshot | Image
  std::string id;
  friend bool operator==(const ShareResource&, const ShareResource&) = default;
};

struct ResourceShare {
  std::string resource_share_id;
  std::string resource_share_name;
  std::string resource_share_owner;
  // Active | Pending (a consumer's view of an unaccepted invitation) | Deleting | Deleted.
  // ListResourceShares keeps answering Deleted shares for 48-96 h: filter on it.
  std::string resource_share_status;
  bool allow_external_targets = false;
  // ListResourceShares' Tags[] (sharekeeper:managed-by marks ours). Create and Update answer none.
  std::vector<Tag> tags;
  std::string create_time;  // 2020-12-03T08:02:22.413Z (milliseconds)
  std::string update_time;
};

// ListResourceShares filters (ANDed). ResourceOwner is always Self: only our own shares are ever
// listed for writing.
struct ResourceShareFilter {
  std::vector<std::string> resource_share_ids{};  // ResourceShareIds.N; chunked by 5
  std::string name{};                             // ResourceShareName, exact; "" = any
  std::string status{};     // ResourceShareStatus; "" = any (Deleted included, see above)
  std::vector<Tag> tags{};  // Tag.N.Key/Value, every one must match
};

// One AssociationFailedDetails entry: why one pair of the share failed. For a Resource association
// entity_* names the target it failed for; for a Target association, the resource.
struct AssociationFailure {
  std::string entity_id;
  std::string entity_type;  // a resource type, or ResourceDirectory | Folder | Account | Service
  // Unavailable | LimitExceeded | ZonalResourceInaccessible | InternalError | UnsupportedOperation
  std::string failure_reason;
  std::string failure_description;
  std::string operation_type;  // Associate | Disassociate
  friend bool operator==(const AssociationFailure&, const AssociationFailure&) = default;
};

struct ResourceShareAssociation {
  // The three fields every plan reads of every association come first, in one cache line (at
  // 10,000 shares of ours the planner's share phases are bound by reading them).
  std::string entity_id;  // resource id or target id
  // Associating | Associated | Failed | Disassociating | Disassociated. Asynchronous: a write
  // answers Associating / Disassociating; poll the listing. Failed and Disassociated records are
  // purged after 48-96 h.
  std::string association_status;
  bool external = false;  // a target outside the owner's resource directory (invitation needed)
  std::string resource_share_id;
  std::string resource_share_name;
  // Snapshot | Image for resources. For targets the API documents "Account" whatever the target
  // is (the emulator answers ResourceDirectory / Folder for those): classify targets by entity_id.
  std::string entity_type;
  std::string association_type;  // Resource | Target
  std::string association_status_message;
  std::vector<AssociationFailure> failures;
  std::string create_time;
  std::string update_time;
};

// ResourceManager GetResourceDirectory (docs/alibaba-api.md §13): the directory the calling account
// manages or belongs to.
struct ResourceDirectoryInfo {
  std::string resource_directory_id;  // rd-...
  std::string root_folder_id;         // r-...
  std::string master_account_id;      // the management account's UID
  std::string master_account_name;
};

// One member of a resource directory (ResourceManager ListAccounts, Accounts.Account[]).
struct DirectoryAccount {
  std::string account_id;  // UID
  std::string display_name;
  std::string folder_id;  // the folder the account is in (r-... for the root)
  std::string resource_directory_id;
  // rd-.../r-.../fd-.../<AccountId>: the directory, the root folder, each folder down to the
  // account's, then the account itself (the documented example ends with the account id).
  std::string resource_directory_path;
  std::string status;  // CreateSuccess | InviteSuccess | PromoteSuccess | ...
  std::string type;    // CloudAccount | ResourceAccount
};

class CloudApi {
 public:
  virtual ~CloudApi() = default;

  // ---- STS
  virtual Result<CallerIdentity> get_caller_identity() = 0;

  // ---- RAM (global)
  virtual Result<std::optional<Role>> get_role(std::string_view role_name) = 0;
  virtual Result<Role> create_role(std::string_view role_name, std::string_view trust_policy,
                                   std::string_view description, const std::vector<Tag>& tags) = 0;
  virtual Result<Role> update_role_trust_policy(std::string_view role_name,
                                                std::string_view trust_policy) = 0;
  // Not paged by the API (a role holds few policies).
  virtual Result<std::vector<AttachedPolicy>> list_policies_for_role(
      std::string_view role_name) = 0;
  virtual Result<std::optional<Policy>> get_policy(std::string_view policy_name,
                                                   std::string_view policy_type) = 0;
  virtual Result<std::vector<PolicyVersion>> list_policy_versions(std::string_view policy_name,
                                                                  std::string_view policy_type) = 0;
  virtual Result<Policy> create_policy(std::string_view policy_name, std::string_view document,
                                       std::string_view description,
                                       const std::vector<Tag>& tags) = 0;
  // rotate=true sends RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded.
  virtual Result<PolicyVersion> create_policy_version(std::string_view policy_name,
                                                      std::string_view document,
                                                      bool set_as_default, bool rotate) = 0;
  virtual Result<void> delete_policy_version(std::string_view policy_name,
                                             std::string_view version_id) = 0;
  virtual Result<void> set_default_policy_version(std::string_view policy_name,
                                                  std::string_view version_id) = 0;
  // EntityAlreadyExists.Role.Policy is success.
  virtual Result<void> attach_policy_to_role(std::string_view policy_type,
                                             std::string_view policy_name,
                                             std::string_view role_name) = 0;
  // EntityNotExist.Role.Policy is success.
  virtual Result<void> detach_policy_from_role(std::string_view policy_type,
                                               std::string_view policy_name,
                                               std::string_view role_name) = 0;
  // resource_type: "role" | "policy"; names <= 50 per call (chunked by the implementation).
  virtual Result<void> tag_resources(std::string_view resource_type,
                                     const std::vector<std::string>& names,
                                     const std::vector<Tag>& tags) = 0;
  virtual Result<std::vector<TagResource>> list_tag_resources(
      std::string_view resource_type, const std::vector<std::string>& names) = 0;

  // ---- ECS (regional)
  // ids are chunked by 100 (SnapshotIds JSON array); tag_filter is AND-combined; empty ids and
  // empty tags lists nothing (never "all snapshots of the region" by accident).
  virtual Result<std::vector<Snapshot>> describe_snapshots(
      std::string_view region, const std::vector<std::string>& snapshot_ids,
      const std::vector<Tag>& tag_filter) = 0;
  // Our own images (ImageOwnerAlias=self) with these ids, or with all the tags. Several ids are
  // read from the region's listing (100 a page) while that costs fewer calls than one lookup per id
  // not seen yet; the rest are looked up one by one (ImageId takes a single id).
  virtual Result<std::vector<Image>> describe_images(std::string_view region,
                                                     const std::vector<std::string>& image_ids,
                                                     const std::vector<Tag>& tag_filter) = 0;
  // Every image the account owns in the region (DescribeImages ImageOwnerAlias=self, no filter,
  // every page): what `sharekeeper import` looks through for images already shared.
  virtual Result<std::vector<Image>> list_own_images(std::string_view region) = 0;
  // ECS DescribeRegions (asked of the endpoint of `region`): the ids of every region ECS offers
  // the account (Regions.Region[].RegionId; not paged).
  virtual Result<std::vector<std::string>> describe_regions(std::string_view region) = 0;
  // Account UIDs the image is shared with (every page of DescribeImageSharePermission).
  virtual Result<std::vector<std::string>> describe_image_share_permission(
      std::string_view region, std::string_view image_id) = 0;
  // ModifyImageSharePermission. The API applies only the first 10 AddAccount.N and the first 10
  // RemoveAccount.N of a request and silently ignores the rest; AlibabaClient therefore splits
  // longer lists into several requests, but a caller that counts its calls batches by 10 itself
  // (FakeCloud, like the API, drops what is past the 10th). At most 50 accounts per image
  // (QuotaExceed.ShareImageUser, nothing changes). Never sets IsPublic.
  virtual Result<void> modify_image_share_permission(
      std::string_view region, std::string_view image_id,
      const std::vector<std::string>& add_accounts,
      const std::vector<std::string>& remove_accounts) = 0;
  // ECS TagResources / UntagResources (resource_type "image" | "snapshot"): ids chunked by 50,
  // tags and keys by 20. A tag key that exists is overwritten. Untagging a key the resource does
  // not carry is success.
  virtual Result<void> tag_ecs_resources(std::string_view region, std::string_view resource_type,
                                         const std::vector<std::string>& resource_ids,
                                         const std::vector<Tag>& tags) = 0;
  virtual Result<void> untag_ecs_resources(std::string_view region, std::string_view resource_type,
                                           const std::vector<std::string>& resource_ids,
                                           const std::vector<std::string>& tag_keys) = 0;

  // ---- KMS (regional)
  virtual Result<std::optional<KeyMetadata>> describe_key(std::string_view region,
                                                          std::string_view key_id) = 0;
  virtual Result<std::vector<std::string>> list_aliases_by_key_id(std::string_view region,
                                                                  std::string_view key_id) = 0;

  // ---- Resource Sharing (regional). Every request carries at most 5 resources and 5 targets
  // (InvalidParameter.Resources.Length / .Targets.Length otherwise). AlibabaClient splits longer
  // lists into several requests; a caller that counts its calls batches by 5 itself (FakeCloud,
  // like the API, refuses more).
  // ListResourceShares with ResourceOwner=Self, every page.
  virtual Result<std::vector<ResourceShare>> list_resource_shares(
      std::string_view region, const ResourceShareFilter& filter) = 0;
  // CreateResourceShare with Tag.N (<= 20 tags) and AllowExternalTargets. Resources and targets
  // past the first 5 are associated afterwards (AssociateResourceShare); if that fails, the share
  // exists and the error is returned: re-observe it (by name or tag) before creating again (names
  // are not unique).
  virtual Result<ResourceShare> create_resource_share(std::string_view region,
                                                      std::string_view name,
                                                      const std::vector<ShareResource>& resources,
                                                      const std::vector<std::string>& targets,
                                                      bool allow_external_targets,
                                                      const std::vector<Tag>& tags) = 0;
  // UpdateResourceShare: the name is required by the API (send the current one to keep it).
  virtual Result<ResourceShare> update_resource_share(std::string_view region,
                                                      std::string_view resource_share_id,
                                                      std::string_view name,
                                                      bool allow_external_targets) = 0;
  // DeleteResourceShare: every target loses access (Deleting, then Deleted). A share that does
  // not exist (EntityNotExists.ResourceShare) is success.
  virtual Result<void> delete_resource_share(std::string_view region,
                                             std::string_view resource_share_id) = 0;
  // Associate / disassociate (asynchronous: the answer says Associating / Disassociating).
  // AssociateConflict: the entity is still Disassociating; DisassociateConflict: still
  // Associating. Both are kConflict: observe again later.
  virtual Result<std::vector<ResourceShareAssociation>> associate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<ShareResource>& resources, const std::vector<std::string>& targets) = 0;
  virtual Result<std::vector<ResourceShareAssociation>> disassociate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<ShareResource>& resources, const std::vector<std::string>& targets) = 0;
  // ListResourceShareAssociations, every page; association_type "Resource" | "Target";
  // resource_share_ids chunked by 5 (empty = every share of the account in the region).
  virtual Result<std::vector<ResourceShareAssociation>> list_resource_share_associations(
      std::string_view region, std::string_view association_type,
      const std::vector<std::string>& resource_share_ids) = 0;

  // ---- ResourceManager (global, 2020-03-31; read-only). Resource Directory membership.
  // GetResourceDirectory: the directory this account manages or is a member of; nullopt when it
  // is in none (ResourceDirectoryNotInUse).
  virtual Result<std::optional<ResourceDirectoryInfo>> get_resource_directory() = 0;
  // ListAccounts, every page (PageNumber paging, PageSize 100): every member of the directory this
  // account manages. Only the management account (or a delegated administrator) may call it.
  virtual Result<std::vector<DirectoryAccount>> list_directory_accounts() = 0;
};

}  // namespace sharekeeper::cloud
