#pragma once
// The emulated cloud's data (accounts, RAM, KMS, ECS, Resource Sharing) and the helpers every
// product handler shares: parameter parsing, errors as exceptions, time formats, paging. Internal
// to model_*.cpp; not thread-safe by itself (Model holds the mutex around every use).
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/model.hpp"

namespace sharekeeper::emulator {

using Tags = std::map<std::string, std::string>;

struct AccessKey {
  std::string id;
  std::string secret;
  std::string arn;
  std::string identity_type;  // Account | RAMUser | AssumedRoleUser
  std::string principal_id;   // uid, user id, or "<roleId>:<session>"
  std::string role_id;        // AssumedRoleUser only
  std::optional<std::string> security_token;
  std::optional<Clock::time_point> expires;
};

struct PolicyVersion {
  std::string id;        // v1, v2, ...
  std::string document;  // stored as submitted (custom and system policies are not re-serialised)
  Clock::time_point created;
};

struct Policy {
  std::string name;
  std::string type;  // Custom | System
  std::string description;
  std::vector<PolicyVersion> versions;  // oldest first
  std::string default_version;
  int next_version = 1;  // version numbers only ever increase, even after deletions
  Clock::time_point created;
  Clock::time_point updated;
  Clock::time_point visible_at;  // optional eventual consistency
  Tags tags;
  const PolicyVersion* default_doc() const;
};

struct Attachment {
  std::string policy_name;  // canonical case
  std::string policy_type;
  Clock::time_point attached;
};

struct Role {
  std::string id;
  std::string name;
  std::string description;
  nlohmann::json trust;  // parsed; returned re-serialised (pretty-printed, keys sorted)
  int max_session_duration = 3600;
  Clock::time_point created;
  Clock::time_point updated;
  Clock::time_point visible_at;
  Tags tags;
  std::vector<Attachment> attachments;
};

struct OidcProvider {
  std::string name;
  std::string issuer_url;
  std::vector<std::string> client_ids;
};

struct KmsKey {
  std::string key_id;
  std::string region;
  std::string creator;  // owner UID for CMKs, a service name ("Ecs") for service keys
  std::string state = "Enabled";
  std::string spec = "Aliyun_AES_256";
  std::string usage = "ENCRYPT/DECRYPT";
  std::string protection_level = "SOFTWARE";
  std::string description;
  std::vector<std::string> aliases;  // "alias/..."
  Clock::time_point created;
  bool is_service_key() const;
};

struct Snapshot {
  std::string id;
  std::string region;
  std::string name;
  std::string description;
  bool encrypted = false;
  std::string kms_key_id;  // canonical key id when encrypted
  std::string source_disk_id;
  std::string source_disk_type = "System";
  int source_disk_size = 40;
  std::string status = "accomplished";
  std::string snapshot_type = "user";
  std::string usage = "image";
  Clock::time_point created;
  Tags tags;
};

struct DiskMapping {
  std::string snapshot_id;
  std::string type;  // system | data
  std::string device;
  int size = 40;
};

struct ImageShare {
  std::string account_uid;
  Clock::time_point shared;
};

struct Image {
  std::string id;
  std::string region;
  std::string name;
  std::string status = "Available";
  std::string os_type = "linux";
  std::string architecture = "x86_64";
  std::string platform = "Ubuntu";
  int size = 40;
  bool is_public = false;
  Clock::time_point created;
  std::vector<DiskMapping> mappings;
  std::vector<ImageShare> shares;  // ModifyImageSharePermission
  Tags tags;
};

struct Region {
  std::vector<KmsKey> kms_keys;
  std::vector<Snapshot> snapshots;
  std::vector<Image> images;
};

struct Account {
  std::string uid;
  std::string name;
  std::vector<AccessKey> keys;
  std::vector<Role> roles;       // names compared case-insensitively
  std::vector<Policy> policies;  // custom only
  std::vector<OidcProvider> oidc_providers;
  std::map<std::string, Region> regions;
};

struct ResourceDirectory {
  std::string id;
  std::string root_folder_id;
  std::map<std::string, std::string> folder_parent;   // folder id -> parent id ("" for the root)
  std::map<std::string, std::string> account_folder;  // uid -> folder id
  // The management account (seed masterAccountId; default: the first seeded account that is a
  // member). It alone may list the members (ResourceManager ListAccounts).
  std::string master_account_id;
};

// One AssociationFailedDetails entry. For a Resource association it names the target the resource
// could not be shared with; for a Target association, the resource.
struct AssociationFailure {
  std::string entity_id;
  std::string entity_type;
  std::string reason;  // Unavailable | LimitExceeded | ... | UnsupportedOperation
  std::string description;
};

// One Resource Sharing association; its status is computed from timestamps (no background threads).
struct Association {
  std::string entity_id;
  std::string entity_type;       // Snapshot | Image | Account | ResourceDirectory | Folder
  std::string association_type;  // Resource | Target
  bool external = false;
  bool failed = false;  // failed when (re)associated: Failed at once, with `failures`
  std::string failure_message;
  std::vector<AssociationFailure> failures;
  Clock::time_point created;
  Clock::time_point updated;
  std::optional<Clock::time_point> disassociated_at;
};

struct ResourceShare {
  std::string id;
  std::string name;
  std::string owner;
  std::string region;
  bool allow_external = false;
  Tags tags;
  Clock::time_point created;
  Clock::time_point updated;
  std::optional<Clock::time_point> deleted_at;  // DeleteResourceShare: Deleting, then Deleted
  std::vector<Association> associations;
};

// A sharing invitation is valid for 7 days (AcceptResourceShareInvitation: "A resource sharing
// invitation is valid for seven days"); after that it is Expired, computed when asked.
inline constexpr std::chrono::hours kInvitationValidity{24 * 7};

struct Invitation {
  std::string id;
  std::string share_id;
  std::string sender;
  std::string receiver;
  std::string status = "Pending";  // Pending | Accepted | Rejected | Cancelled (Expired: computed)
  Clock::time_point created;
  std::optional<Clock::time_point> accepted_at;
  // Pending past its validity at `now`: Expired.
  std::string status_at(Clock::time_point now) const {
    return status == "Pending" && now >= created + kInvitationValidity ? "Expired" : status;
  }
};

// Seed switches for behaviours the reference cannot confirm (docs/emulator-seed.md "emulation").
struct Emulation {
  // ModifyImageSharePermission refuses an encrypted image with more than one snapshot
  // (OperationDeined.FullImage, listed by the ECS metadata; off by default).
  bool refuse_encrypted_full_images = false;
  // Resource Sharing checks the share role for encrypted resources when associating: a target its
  // trust policy does not admit (or a role, or key permission, that is missing) ends Failed.
  bool resource_sharing_checks_share_role = false;
};

struct State {
  Emulation emulation;
  std::vector<Account> accounts;
  std::optional<ResourceDirectory> rd;
  std::vector<ResourceShare> shares;
  std::vector<Invitation> invitations;
  std::vector<AccessKey> sts_keys;  // issued by AssumeRole / AssumeRoleWithOIDC (owner in arn)
  std::map<std::string, std::string> sts_key_account;  // STS key id -> owner uid
  std::uint64_t counter = 0;                           // ids
  Clock::time_point epoch;  // seed load time: creation times of seeded objects

  Account* account(std::string_view uid);
  const Account* account(std::string_view uid) const;
  std::string next_id(std::string_view prefix, std::size_t digits);
};

// Thrown by handlers; Model::call turns it into an Alibaba error body.
struct ApiFailure {
  int status;
  std::string code;
  std::string message;
};

[[noreturn]] void fail(int status, std::string code, std::string message);

// Parameters.
const std::string* find_param(const ApiCall& call, std::string_view name);
std::string required_param(const ApiCall& call, std::string_view name);
std::string param_or(const ApiCall& call, std::string_view name, std::string fallback);
bool bool_param(const ApiCall& call, std::string_view name, bool fallback);
long int_param(const ApiCall& call, std::string_view name, long fallback, long min, long max);
// Name.N (or Name.N.Field) entries, keyed by N; fields keyed by "" for the plain form.
std::map<int, std::map<std::string, std::string>> repeat_param(const ApiCall& call,
                                                               std::string_view name);
// Tag.N.Key / Tag.N.Value (ECS style); at most 20.
std::vector<std::pair<std::string, std::optional<std::string>>> ecs_tag_filter(const ApiCall& call);
bool tags_match(const Tags& tags,
                const std::vector<std::pair<std::string, std::optional<std::string>>>& filter);

// Time.
std::string iso_seconds(Clock::time_point t);  // yyyy-MM-ddTHH:mm:ssZ
std::string iso_millis(Clock::time_point t);   // yyyy-MM-ddTHH:mm:ss.sssZ
std::optional<Clock::time_point> parse_iso(std::string_view text);

// Text.
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool is_uid(std::string_view s);

// Offset paging tokens (opaque to clients).
std::string offset_token(std::size_t offset);
std::size_t parse_offset_token(std::string_view token, std::string_view param_name);

// Lookups shared across products.
Role* find_role(Account& acc, std::string_view name);
const Role* find_role(const Account& acc, std::string_view name);
const KmsKey* find_key_in(const Account& acc, std::string_view key_id);  // id or alias, any region
std::string key_arn(const Account& acc, const KmsKey& key);
struct ResourceRef {
  const Account* owner = nullptr;
  const Snapshot* snapshot = nullptr;
  const Image* image = nullptr;
};
ResourceRef find_resource(const State& state, std::string_view id);
// The KMS key of a snapshot or image (first encrypted disk), or nullptr when unencrypted.
const KmsKey* resource_key(const Account& owner, const ResourceRef& ref);
// RD context of an account for trust-policy conditions: sts:ServiceOwnerRDId /
// sts:ServiceOwnerRDPath.
std::map<std::string, std::string> rd_context(const State& state, std::string_view uid);
// rd-id/root/.../folder of an account, empty when not in the RD.
std::string rd_path(const State& state, std::string_view uid);
std::vector<std::string> folder_chain(const State& state, std::string_view folder_id);

// System policies (present in every account, PolicyType System).
const std::vector<Policy>& system_policies();
const Policy* find_policy(const Account& acc, std::string_view name, std::string_view type);

// Product handlers.
ApiResponse ram_call(State& state, const ModelOptions& options, const ApiCall& call);
ApiResponse sts_call(State& state, const ModelOptions& options, const ApiCall& call);
ApiResponse ecs_call(State& state, const ModelOptions& options, const ApiCall& call);
ApiResponse kms_call(State& state, const ModelOptions& options, const ApiCall& call);
ApiResponse resource_sharing_call(State& state, const ModelOptions& options, const ApiCall& call);
// ResourceManager's Resource Directory reads (model_resource_directory.cpp).
ApiResponse resource_manager_call(State& state, const ModelOptions& options, const ApiCall& call);
// ECS calls that use the account's KMS keys (model_ecs_disks.cpp): CopySnapshot.
ApiResponse ecs_disks_call(State& state, const ModelOptions& options, const ApiCall& call);
// Why ECS cannot use `key` of `acc` (AliyunECSDiskEncryptDefaultRole missing, not trusting
// ecs.aliyuncs.com, or its policies not allowing the key), or nullopt; service keys need no role.
std::optional<std::string> disk_encrypt_gap(const Account& acc, const KmsKey& key);
// The parsed default versions of the policies attached to `role`.
std::vector<nlohmann::json> attached_documents(const Account& acc, const Role& role);

// Resource Sharing association status at `now` (Associating -> Associated after the delay).
std::string association_status(const State& state, const ResourceShare& share, const Association& a,
                               const ModelOptions& options, Clock::time_point now);
// Does a Target association reach account `uid` (the account itself, its RD, or a folder on its
// path)?
bool target_reaches(const State& state, const Association& target, std::string_view uid);
// Has `uid` accepted the invitation of an external share (always true for internal targets)?
bool invitation_accepted(const State& state, std::string_view share_id, std::string_view uid);
std::optional<Clock::time_point> invitation_accepted_at(const State& state,
                                                        std::string_view share_id,
                                                        std::string_view uid);
// The newest invitation of `uid` to share `share_id` (nullptr when there is none).
const Invitation* latest_invitation(const State& state, std::string_view share_id,
                                    std::string_view uid);
// Active | Deleting | Deleted at `now`.
std::string share_status(const ResourceShare& share, const ModelOptions& options,
                         Clock::time_point now);
// Does `role_name` of `owner` trust `<uid>@ecs.aliyuncs.com` (with the RD context of `uid`)?
bool share_role_trusts(const State& state, const Account& owner, std::string_view role_name,
                       std::string_view uid);
// Is `resource_id` of `owner_uid` shared with `uid` through an Associated resource share at `now`?
bool shared_through_resource_sharing(const State& state, const ModelOptions& options,
                                     std::string_view owner_uid, std::string_view resource_id,
                                     std::string_view uid, Clock::time_point now);
int accept_pending_invitations(State& state, const std::optional<std::string>& uid,
                               Clock::time_point now);
// Live (Associating or Associated) associations of the owner's non-deleted shares that hold
// `resource_id` (DeleteImage refuses those: ImageUseShared).
bool in_live_resource_share(const State& state, const ModelOptions& options,
                            std::string_view owner_uid, std::string_view resource_id,
                            Clock::time_point now);

// Seed and state views.
State load_seed_state(const nlohmann::json& seed, Clock::time_point now);
nlohmann::json dump_state(const State& state, const ModelOptions& options, Clock::time_point now);
nlohmann::json evaluate_access(const State& state, const ModelOptions& options,
                               std::string_view account_uid, std::string_view resource_id,
                               Clock::time_point now);

ApiResponse ok(const ApiCall& call, nlohmann::json body = nlohmann::json::object());

}  // namespace sharekeeper::emulator
