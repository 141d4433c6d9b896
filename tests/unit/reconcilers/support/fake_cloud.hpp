#pragma once
// FakeCloud: an in-memory CloudApi for one account, with the RAM/ECS/KMS/Resource Sharing semantics
// the reconcilers rely on, call counting, and fault injection (before or after the write commits).
// Thread-safe. Not a mock: tests assert on the resulting state and on counters.
//
// Semantics (those of sharekeeper-emulator, docs/emulator-seed.md "The cloud model"):
//  - RAM: 5 policy versions, 6,144-char documents, default version never deletable, idempotent
//    attach and detach, case-insensitive role names.
//  - ECS image sharing: one call is one request, so like the API only the first 10 AddAccount and
//    the first 10 RemoveAccount are applied and the rest is dropped silently (a caller that relies
//    on AlibabaClient's chunking shows up here); at most 50 accounts per image
//    (QuotaExceed.ShareImageUser, nothing changes); the owner itself is InvalidAccount.Forbbiden;
//    adding to a Deprecated image (set_image_status) is OperationDenied.InvalidImageStatus; an
//    image under a service key is InvalidOperation.ServiceKeyEncryptedImageUnsupported, under a
//    disabled CMK InvalidParameter.KMSKeyId.CMKNotEnabled; adding an account to a CMK-encrypted
//    image needs AliyunECSShareEncryptImageDefaultRole whose trust policy admits
//    <uid>@ecs.aliyuncs.com (AssumeRoleError otherwise). The trust check reads Allow statements for
//    sts:AssumeRole whose Principal.Service is the account's or *@ecs.aliyuncs.com; a statement
//    with a Condition admits only StringEquals sts:ServiceOwnerRDId = the fake's RD id for RD
//    members (no folder paths); an explicit Deny for the principal wins. OperationDeined.FullImage
//    for encrypted images with several disks only when refuse_encrypted_full_images(true), as the
//    emulator's seed switch.
//  - Resource Sharing: more than 5 resources or 5 targets in one call is
//    InvalidParameter.Resources.Length / .Targets.Length (duplicates .Duplicate); resources are the
//    fake's snapshots and images of the region (EntityNotExists.Resource), a service-key one is
//    associated Failed (UnsupportedOperation, with a failure detail per target); targets are an
//    account, the RD (set_resource_directory) or one of its folders; accounts outside the RD are
//    external (InvalidTarget unless the share AllowExternalTargets) and get a Pending invitation.
//    Writes answer Associating / Disassociating and nothing settles until the test calls
//    settle_resource_sharing() (Associating -> Associated except external targets whose invitation
//    is not accepted; Disassociating -> Disassociated; Deleting -> Deleted). AssociateConflict
//    while Disassociating, DisassociateConflict while Associating (except a pending invitation,
//    which is withdrawn: Cancelled). Invitations: accept_invitations(), reject_invitation(),
//    expire_invitations() (Expired: the target association becomes Failed). Share names need not be
//    unique.
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloud/api.hpp"

namespace sharekeeper::testing {

struct Fault {
  std::string action;  // e.g. "UpdateRole", "CreatePolicyVersion", "GetRole"
  std::string code = "InternalError";
  cloud::ErrorClass cls = cloud::ErrorClass::kTransient;
  int skip = 0;               // let this many matching calls through first
  int times = 1;              // then fail this many
  bool after_commit = false;  // perform the write, then report the error (outcome unknown)
};

class FakeCloud : public cloud::CloudApi {
 public:
  struct RoleState {
    cloud::Role role;
    std::vector<cloud::Tag> tags;
    std::vector<std::pair<std::string, std::string>> attached;  // (type, name)
  };
  struct PolicyState {
    std::string name;
    std::string description;
    std::vector<cloud::PolicyVersion> versions;
    int next_version = 1;
    std::vector<cloud::Tag> tags;
  };
  struct KeyState {
    cloud::KeyMetadata meta;
    std::vector<std::string> aliases;
  };

  explicit FakeCloud(std::string uid) : uid_(std::move(uid)) {}

  // ---- seeding (no counting)
  void add_role(const std::string& name, const std::string& trust,
                std::vector<cloud::Tag> tags = {});
  void add_policy(const std::string& name, const std::string& document,
                  std::vector<cloud::Tag> tags = {});
  void add_policy_version(const std::string& name, const std::string& document, bool set_default);
  void attach(const std::string& role, const std::string& type, const std::string& policy);
  void add_snapshot(const std::string& region, const std::string& id, const std::string& key_id,
                    std::vector<cloud::Tag> tags = {});  // key_id "" = unencrypted
  void add_image(const std::string& region, const std::string& id,
                 const std::vector<std::string>& snapshot_ids, std::vector<cloud::Tag> tags = {});
  // creator "" = the account UID (a CMK).
  void add_key(const std::string& region, const std::string& key_id,
               const std::string& state = "Enabled", const std::string& creator = "",
               std::vector<std::string> aliases = {});
  void set_caller_uid(const std::string& uid);
  // An image shared with accounts before the test (no checks, not counted).
  void add_image_share(const std::string& image_id, const std::vector<std::string>& accounts);
  // The resource directory: its id, folders, and member accounts (the fake's own account counts as
  // a member when listed). Without one, every account target is external.
  // ResourceManager: what GetResourceDirectory answers (nullopt: the account is in no directory)
  // and, when this account is the directory's management account, the members ListAccounts lists
  // (any other account gets EntityNotExists.ResourceDirectory, as the emulator answers).
  void set_directory_membership(std::optional<cloud::ResourceDirectoryInfo> rd,
                                std::vector<cloud::DirectoryAccount> members = {});
  void set_resource_directory(const std::string& rd_id, std::vector<std::string> folders,
                              std::vector<std::string> members);
  // A resource share that exists before the test (status Active, owned by the fake's account).
  void add_resource_share(const std::string& region, const std::string& id, const std::string& name,
                          bool allow_external_targets, std::vector<cloud::Tag> tags = {});
  // One association exactly as given (status and all); its share is created (empty name, no
  // tags, any region) when it does not exist. Not checked, not counted.
  void add_association(cloud::ResourceShareAssociation a);
  void refuse_encrypted_full_images(bool refuse);
  void set_image_status(const std::string& region, const std::string& image_id,
                        const std::string& status);

  // ---- Resource Sharing time (the test decides when asynchronous work finishes)
  void settle_resource_sharing();
  // Accepts the pending invitations of `receiver` ("" = every receiver); returns how many.
  int accept_invitations(const std::string& receiver = "");
  void reject_invitation(const std::string& resource_share_id, const std::string& receiver);
  // Every pending invitation expires (7 days passed): its target association becomes Failed.
  void expire_invitations();

  struct ShareState {
    cloud::ResourceShare share;
    std::string region;  // "" = any region (a share seeded through add_association)
    std::vector<cloud::ResourceShareAssociation> associations;
  };

  // ---- inspection
  std::optional<RoleState> role(const std::string& name) const;
  std::optional<PolicyState> policy(const std::string& name) const;
  std::string default_document(const std::string& policy) const;
  std::vector<std::string> attached_to(const std::string& role) const;  // "Type:Name", sorted
  int calls(const std::string& action) const;
  int total_calls() const;
  int write_calls() const;
  int requests()
      const;  // HTTP requests the real client would send (DescribeSnapshots chunks of 100)
  void reset_counters();
  void inject(Fault f);
  void clear_faults();
  std::vector<std::string> journal() const;  // every write, "Action target", in order
  std::vector<std::string> image_shares(const std::string& image_id) const;
  std::vector<cloud::Tag> image_tags(const std::string& region, const std::string& image_id) const;
  std::optional<ShareState> resource_share(const std::string& id) const;
  std::vector<ShareState> resource_shares() const;
  // Pending | Accepted | Rejected | Expired | Cancelled; "" when there is none.
  std::string invitation_status(const std::string& resource_share_id,
                                const std::string& receiver) const;

  // ---- CloudApi
  cloud::Result<cloud::CallerIdentity> get_caller_identity() override;
  cloud::Result<std::optional<cloud::Role>> get_role(std::string_view role_name) override;
  cloud::Result<cloud::Role> create_role(std::string_view role_name, std::string_view trust_policy,
                                         std::string_view description,
                                         const std::vector<cloud::Tag>& tags) override;
  cloud::Result<cloud::Role> update_role_trust_policy(std::string_view role_name,
                                                      std::string_view trust_policy) override;
  cloud::Result<std::vector<cloud::AttachedPolicy>> list_policies_for_role(
      std::string_view role_name) override;
  cloud::Result<std::optional<cloud::Policy>> get_policy(std::string_view policy_name,
                                                         std::string_view policy_type) override;
  cloud::Result<std::vector<cloud::PolicyVersion>> list_policy_versions(
      std::string_view policy_name, std::string_view policy_type) override;
  cloud::Result<cloud::Policy> create_policy(std::string_view policy_name,
                                             std::string_view document,
                                             std::string_view description,
                                             const std::vector<cloud::Tag>& tags) override;
  cloud::Result<cloud::PolicyVersion> create_policy_version(std::string_view policy_name,
                                                            std::string_view document,
                                                            bool set_as_default,
                                                            bool rotate) override;
  cloud::Result<void> delete_policy_version(std::string_view policy_name,
                                            std::string_view version_id) override;
  cloud::Result<void> set_default_policy_version(std::string_view policy_name,
                                                 std::string_view version_id) override;
  cloud::Result<void> attach_policy_to_role(std::string_view policy_type,
                                            std::string_view policy_name,
                                            std::string_view role_name) override;
  cloud::Result<void> detach_policy_from_role(std::string_view policy_type,
                                              std::string_view policy_name,
                                              std::string_view role_name) override;
  cloud::Result<void> tag_resources(std::string_view resource_type,
                                    const std::vector<std::string>& names,
                                    const std::vector<cloud::Tag>& tags) override;
  cloud::Result<std::vector<cloud::TagResource>> list_tag_resources(
      std::string_view resource_type, const std::vector<std::string>& names) override;
  cloud::Result<std::vector<cloud::Snapshot>> describe_snapshots(
      std::string_view region, const std::vector<std::string>& snapshot_ids,
      const std::vector<cloud::Tag>& tag_filter) override;
  cloud::Result<std::vector<cloud::Image>> describe_images(
      std::string_view region, const std::vector<std::string>& image_ids,
      const std::vector<cloud::Tag>& tag_filter) override;
  cloud::Result<std::vector<cloud::Image>> list_own_images(std::string_view region) override;
  cloud::Result<std::vector<std::string>> describe_image_share_permission(
      std::string_view region, std::string_view image_id) override;
  cloud::Result<void> modify_image_share_permission(
      std::string_view region, std::string_view image_id,
      const std::vector<std::string>& add_accounts,
      const std::vector<std::string>& remove_accounts) override;
  cloud::Result<void> tag_ecs_resources(std::string_view region, std::string_view resource_type,
                                        const std::vector<std::string>& resource_ids,
                                        const std::vector<cloud::Tag>& tags) override;
  cloud::Result<void> untag_ecs_resources(std::string_view region, std::string_view resource_type,
                                          const std::vector<std::string>& resource_ids,
                                          const std::vector<std::string>& tag_keys) override;
  cloud::Result<std::optional<cloud::KeyMetadata>> describe_key(std::string_view region,
                                                                std::string_view key_id) override;
  cloud::Result<std::vector<std::string>> list_aliases_by_key_id(std::string_view region,
                                                                 std::string_view key_id) override;
  cloud::Result<std::vector<cloud::ResourceShare>> list_resource_shares(
      std::string_view region, const cloud::ResourceShareFilter& filter) override;
  cloud::Result<cloud::ResourceShare> create_resource_share(
      std::string_view region, std::string_view name,
      const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets,
      bool allow_external_targets, const std::vector<cloud::Tag>& tags) override;
  cloud::Result<cloud::ResourceShare> update_resource_share(std::string_view region,
                                                            std::string_view resource_share_id,
                                                            std::string_view name,
                                                            bool allow_external_targets) override;
  cloud::Result<void> delete_resource_share(std::string_view region,
                                            std::string_view resource_share_id) override;
  cloud::Result<std::vector<cloud::ResourceShareAssociation>> associate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<cloud::ShareResource>& resources,
      const std::vector<std::string>& targets) override;
  cloud::Result<std::vector<cloud::ResourceShareAssociation>> disassociate_resource_share(
      std::string_view region, std::string_view resource_share_id,
      const std::vector<cloud::ShareResource>& resources,
      const std::vector<std::string>& targets) override;
  cloud::Result<std::vector<cloud::ResourceShareAssociation>> list_resource_share_associations(
      std::string_view region, std::string_view association_type,
      const std::vector<std::string>& resource_share_ids) override;
  // The regions the fake holds snapshots, images or keys in, and cn-hangzhou.
  cloud::Result<std::vector<std::string>> describe_regions(std::string_view region) override;
  cloud::Result<std::optional<cloud::ResourceDirectoryInfo>> get_resource_directory() override;
  cloud::Result<std::vector<cloud::DirectoryAccount>> list_directory_accounts() override;

  // A concurrency probe that needs no clock: the first `waiter` call waits (outside the fake's
  // lock, up to 10 s) until an `arriver` call has begun. met() says whether it did; run one after
  // the other, the two never meet. Only GetRole, DescribeSnapshots and DescribeImages take part.
  void rendezvous(std::string waiter, std::string arriver);
  bool met() const;

 private:
  // Counts the call; returns the injected error to report before doing anything, if any; sets
  // *after_commit to the error to report after the write succeeded, if any.
  std::optional<cloud::Error> enter(const std::string& action, bool write,
                                    std::optional<cloud::Error>* after_commit);
  cloud::Error error(const std::string& action, const std::string& code, cloud::ErrorClass cls,
                     int status, const std::string& message = "") const;
  RoleState* find_role(std::string_view name);
  const RoleState* find_role(std::string_view name) const;
  struct Invitation {
    std::string share_id;
    std::string receiver;
    std::string status;  // Pending | Accepted | Rejected | Expired | Cancelled
  };
  Invitation* pending_invitation(const std::string& share_id, const std::string& receiver);
  const KeyState* key_of_image(const std::string& region, const cloud::Image& image) const;
  // The tags of each image or snapshot, or the error for the first one that does not exist.
  cloud::Result<std::vector<std::vector<cloud::Tag>*>> ecs_tags_of(
      const std::string& action, std::string_view region, std::string_view resource_type,
      const std::vector<std::string>& resource_ids);
  bool trusts(const std::string& role, const std::string& uid) const;
  // Checks one Resource Sharing write's entities; the error to return, if any.
  std::optional<cloud::Error> check_entities(const std::string& action,
                                             const std::vector<cloud::ShareResource>& resources,
                                             const std::vector<std::string>& targets) const;
  // "Account" / "ResourceDirectory" / "Folder" and whether the target is external, or the error.
  cloud::Result<std::pair<std::string, bool>> classify_target(const std::string& action,
                                                              const ShareState& share,
                                                              const std::string& target) const;
  // Adds (or restarts) associations; the touched ones in request order.
  cloud::Result<std::vector<cloud::ResourceShareAssociation>> associate(
      const std::string& action, ShareState& share,
      const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets);

  mutable std::mutex mu_;
  void arrive(const std::string& action);
  mutable std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  std::string gate_waiter_, gate_arriver_;
  bool gate_waited_ = false, gate_arrived_ = false, gate_met_ = false;
  std::optional<cloud::ResourceDirectoryInfo> directory_;
  std::vector<cloud::DirectoryAccount> directory_members_;
  std::string uid_;
  std::string caller_uid_;
  std::map<std::string, RoleState> roles_;                         // by lower-case name
  std::map<std::string, PolicyState> policies_;                    // by name
  std::map<std::string, std::vector<cloud::Snapshot>> snapshots_;  // by region
  std::map<std::string, std::vector<cloud::Image>> images_;        // by region
  std::map<std::string, std::map<std::string, KeyState>> keys_;    // region -> key id
  std::map<std::string, std::vector<std::string>> image_shares_;   // image id -> accounts
  std::map<std::string, ShareState> shares_;                       // by id
  std::vector<Invitation> invitations_;
  std::string rd_id_;
  std::set<std::string> rd_folders_;
  std::set<std::string> rd_members_;
  bool refuse_full_images_ = false;
  int next_share_ = 1;
  std::map<std::string, int> calls_;
  int writes_ = 0;
  int requests_ = 0;
  std::vector<Fault> faults_;
  std::vector<std::string> journal_;
};

}  // namespace sharekeeper::testing
