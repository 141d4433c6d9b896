#pragma once
// FakeCloud: an in-memory CloudApi for one account, with the RAM/ECS/KMS semantics the reconcilers
// rely on (5 policy versions, 6,144-char documents, default version never deletable, idempotent
// attach and detach, case-insensitive role names), call counting, and fault injection (before or
// after the write commits). Thread-safe. Not a mock: tests assert on the resulting state and on
// counters.
#include <map>
#include <mutex>
#include <optional>
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
  // Resource Sharing associations ListResourceShareAssociations returns (by AssociationType).
  void add_association(cloud::ResourceShareAssociation a);

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
  cloud::Result<std::vector<std::string>> describe_image_share_permission(
      std::string_view region, std::string_view image_id) override;
  cloud::Result<void> modify_image_share_permission(
      std::string_view region, std::string_view image_id,
      const std::vector<std::string>& add_accounts,
      const std::vector<std::string>& remove_accounts) override;
  cloud::Result<std::optional<cloud::KeyMetadata>> describe_key(std::string_view region,
                                                                std::string_view key_id) override;
  cloud::Result<std::vector<std::string>> list_aliases_by_key_id(std::string_view region,
                                                                 std::string_view key_id) override;
  cloud::Result<std::vector<cloud::ResourceShare>> list_resource_shares(
      std::string_view region, std::string_view name_filter) override;
  cloud::Result<cloud::ResourceShare> create_resource_share(
      std::string_view region, std::string_view name,
      const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets,
      bool allow_external_targets, const std::vector<cloud::Tag>& tags) override;
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

 private:
  // Counts the call; returns the injected error to report before doing anything, if any; sets
  // *after_commit to the error to report after the write succeeded, if any.
  std::optional<cloud::Error> enter(const std::string& action, bool write,
                                    std::optional<cloud::Error>* after_commit);
  cloud::Error error(const std::string& action, const std::string& code, cloud::ErrorClass cls,
                     int status, const std::string& message = "") const;
  RoleState* find_role(std::string_view name);
  const RoleState* find_role(std::string_view name) const;

  mutable std::mutex mu_;
  std::string uid_;
  std::string caller_uid_;
  std::map<std::string, RoleState> roles_;                         // by lower-case name
  std::map<std::string, PolicyState> policies_;                    // by name
  std::map<std::string, std::vector<cloud::Snapshot>> snapshots_;  // by region
  std::map<std::string, std::vector<cloud::Image>> images_;        // by region
  std::map<std::string, std::map<std::string, KeyState>> keys_;    // region -> key id
  std::map<std::string, std::vector<std::string>> image_shares_;   // image id -> accounts
  std::vector<cloud::ResourceShareAssociation> associations_;
  std::map<std::string, int> calls_;
  int writes_ = 0;
  int requests_ = 0;
  std::vector<Fault> faults_;
  std::vector<std::string> journal_;
};

}  // namespace sharekeeper::testing
