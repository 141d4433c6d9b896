// ECS's use of the account's own KMS keys (docs/alibaba-api.md §11; docs/contract.md §1.6): ECS may
// use a customer master key (CMK) only through the account's AliyunECSDiskEncryptDefaultRole, a
// role that trusts Service "ecs.aliyuncs.com" and has AliyunECSDiskEncryptRolePolicy attached (the
// console creates it on the first encrypted disk). The ECS service key (alias/acs/ecs) needs no
// authorisation.
//
// CopySnapshot is the ECS call the emulator implements on top of it: its API metadata documents
// InvalidParameter.KMSKeyId.KMSUnauthorized (403, "ECS service have no right to access your KMS."),
// and it is the remedy for resources under a service key (copy them with a CMK), so it fits the
// snapshot model the emulator already has.
#include <algorithm>
#include <cctype>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

constexpr std::string_view kEcsService = "ecs.aliyuncs.com";
constexpr std::string_view kServiceKeyAlias = "alias/acs/ecs";

bool plausible_region(const std::string& r) {
  // cn-hangzhou, ap-southeast-1, us-east-1: lower-case letters, digits and dashes, at least one
  // dash.
  return !r.empty() && r.find('-') != std::string::npos && r.front() != '-' && r.back() != '-' &&
         std::all_of(r.begin(), r.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
         });
}

bool starts_with_url(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// A key of the account in one region, by id or alias (ECS takes the key id; the alias is accepted
// as the seed accepts it).
KmsKey* key_in_region(Account& acc, const std::string& region, const std::string& ref) {
  auto it = acc.regions.find(region);
  if (it == acc.regions.end()) return nullptr;
  for (auto& k : it->second.kms_keys) {
    if (k.key_id == ref || std::find(k.aliases.begin(), k.aliases.end(), ref) != k.aliases.end()) {
      return &k;
    }
  }
  return nullptr;
}

// The region's ECS service key, created on first use as the real cloud does ("the first time you
// encrypt an ECS resource in a region, KMS creates the service key alias/acs/ecs").
KmsKey& service_key(State& state, Account& acc, const std::string& region, Clock::time_point now) {
  if (KmsKey* k = key_in_region(acc, region, std::string(kServiceKeyAlias))) return *k;
  KmsKey k;
  k.key_id = state.next_id("key-svc", 14);
  k.region = region;
  k.creator = "Ecs";
  k.description = "Default Service CMK";
  k.aliases = {std::string(kServiceKeyAlias)};
  k.created = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto& keys = acc.regions[region].kms_keys;
  keys.push_back(std::move(k));
  return keys.back();
}

// The checks ECS makes before it uses a key on the caller's behalf, in the order the emulator makes
// them (the real order is not documented): authorised, then enabled.
void require_usable_by_ecs(const Account& acc, const KmsKey& key) {
  if (key.is_service_key()) return;
  if (auto gap = disk_encrypt_gap(acc, key)) {
    fail(403, "InvalidParameter.KMSKeyId.KMSUnauthorized",
         "ECS service have no right to access your KMS. (" + *gap + ")");
  }
  if (key.state != "Enabled") {
    fail(403, "InvalidParameter.KMSKeyId.CMKNotEnabled",
         "The CMK (Customer Master Key) must be in an active state: " + key.key_id + " is " +
             key.state + ".");
  }
}

Tags tags_param(const ApiCall& call) {
  Tags tags;
  for (const auto& [n, fields] : repeat_param(call, "Tag")) {
    auto key = fields.find("Key");
    if (key == fields.end()) continue;
    if (n > 20) fail(400, "InvalidTagCount", "At most 20 tags.");
    if (key->second.empty() || key->second.size() > 128 || key->second.rfind("acs:", 0) == 0 ||
        key->second.rfind("aliyun", 0) == 0 || starts_with_url(key->second)) {
      fail(400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.");
    }
    if (tags.count(key->second) != 0) {
      fail(400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.");
    }
    auto value = fields.find("Value");
    tags[key->second] = value == fields.end() ? "" : value->second;
  }
  return tags;
}

ApiResponse copy_snapshot(State& state, const ApiCall& call) {
  Account& acc = *state.account(call.caller.account_uid);
  const std::string region = required_param(call, "RegionId");
  const std::string dest = required_param(call, "DestinationRegionId");
  const std::string source_id = required_param(call, "SnapshotId");
  const std::string name = param_or(call, "DestinationSnapshotName", "");
  const std::string description = param_or(call, "DestinationSnapshotDescription", "");
  if (!plausible_region(dest)) {
    fail(400, "InvalidRegionId.MalFormed", "The specified RegionId is not valid: " + dest + ".");
  }
  if (!name.empty() && (name.size() < 2 || name.size() > 128 || starts_with_url(name) ||
                        !std::isalpha(static_cast<unsigned char>(name.front())))) {
    fail(403, "InvalidSnapshotName.Malformed", "The specified SnapshotName is wrongly formed.");
  }
  if (!description.empty() &&
      (description.size() < 2 || description.size() > 256 || starts_with_url(description))) {
    fail(403, "InvalidDescription.Malformed", "The specified description is wrongly formed.");
  }
  const Snapshot* found = nullptr;
  if (auto it = acc.regions.find(region); it != acc.regions.end()) {
    for (const auto& s : it->second.snapshots) {
      if (s.id == source_id) found = &s;
    }
  }
  if (found == nullptr) {
    fail(403, "InvalidSnapshotId.NotFound", "The specified snapshot is not exists: " + source_id);
  }
  const Snapshot source = *found;  // a copy: the destination region's vector may grow below
  if (source.status != "accomplished") {
    fail(403, "InvalidSnapshotId.NotReady", "The specified snapshot has not completed yet.");
  }
  if (dest == region) {
    fail(403, "InvalidOperation.NotSupportCopyInSameRegion",
         "Copying snapshot in the same region is not supported.");
  }
  const bool encrypted = bool_param(call, "Encrypted", false);
  const std::string key_ref = param_or(call, "KMSKeyId", "");
  if (!key_ref.empty() && !encrypted) {
    fail(403, "InvalidEncrypted.NotMatchKmsKeyId",
         "The specified parameter Encrypted must be true when KmsKeyId is not empty.");
  }
  if (source.encrypted && !encrypted) {
    fail(403, "InvalidEncrypted.NotSupportDecrypt",
         "Encrypted snapshot not support copy to decrypt snapshot.");
  }
  // ECS reads the source through its key, then writes the copy under the destination key.
  if (source.encrypted) {
    if (const KmsKey* k = key_in_region(acc, region, source.kms_key_id)) {
      require_usable_by_ecs(acc, *k);
    }
  }
  std::string dest_key;
  if (encrypted) {
    if (key_ref.empty()) {
      dest_key = service_key(state, acc, dest, call.now).key_id;
    } else {
      const KmsKey* k = key_in_region(acc, dest, key_ref);
      if (k == nullptr) {
        fail(403, "InvalidParameter.KMSKeyId.NotFound",
             "The specified KMSKeyId does not exist in " + dest + ": " + key_ref + ".");
      }
      require_usable_by_ecs(acc, *k);
      dest_key = k->key_id;
    }
  }
  Tags tags = tags_param(call);

  Snapshot copy;
  copy.id = state.next_id("s-copy", 14);
  copy.region = dest;
  copy.name = name;
  copy.description = description;
  copy.encrypted = encrypted;
  copy.kms_key_id = dest_key;
  copy.source_disk_id = source.source_disk_id;
  copy.source_disk_type = source.source_disk_type;
  copy.source_disk_size = source.source_disk_size;
  copy.usage = source.usage;
  // The real copy is `progressing` for minutes; the emulator's world has no background work, so
  // the copy is complete when the call returns.
  copy.status = "accomplished";
  copy.snapshot_type = "user";
  copy.created = std::chrono::time_point_cast<std::chrono::seconds>(call.now);
  copy.tags = std::move(tags);
  acc.regions[dest].snapshots.push_back(copy);
  return ok(call, {{"SnapshotId", copy.id}});
}

}  // namespace

std::vector<nlohmann::json> attached_documents(const Account& acc, const Role& role) {
  std::vector<json> documents;
  for (const auto& a : role.attachments) {
    const Policy* p = find_policy(acc, a.policy_name, a.policy_type);
    const PolicyVersion* v = p ? p->default_doc() : nullptr;
    if (v == nullptr) continue;
    json doc = json::parse(v->document, nullptr, false);
    if (!doc.is_discarded()) documents.push_back(std::move(doc));
  }
  return documents;
}

std::optional<std::string> disk_encrypt_gap(const Account& acc, const KmsKey& key) {
  if (key.is_service_key()) return std::nullopt;
  const std::string role_name(wire::kDiskEncryptRole);
  const Role* role = find_role(acc, role_name);
  if (role == nullptr) {
    return "role " + role_name + " does not exist in account " + acc.uid +
           ": ECS is not authorised to use the account's CMKs";
  }
  auto matcher = [](std::string_view kind, std::string_view value) {
    return kind == "Service" && policy::wildcard_match(value, kEcsService, true);
  };
  if (policy::evaluate_trust(role->trust, "sts:AssumeRole", matcher, {}) !=
      policy::Decision::Allow) {
    return "trust policy of " + role->name + " does not admit Service " + std::string(kEcsService);
  }
  const std::vector<json> documents = attached_documents(acc, *role);
  const std::string arn = key_arn(acc, key);
  std::string missing;
  for (const char* action :
       {"kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}) {
    if (policy::evaluate(documents, {action, arn, {}}) != policy::Decision::Allow) {
      missing += (missing.empty() ? "" : ", ") + std::string(action);
    }
  }
  if (!missing.empty()) {
    return "policies attached to " + role->name + " do not allow " + missing + " on " + arn;
  }
  return std::nullopt;
}

ApiResponse ecs_disks_call(State& state, const ModelOptions&, const ApiCall& call) {
  if (call.action == "CopySnapshot") return copy_snapshot(state, call);
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
