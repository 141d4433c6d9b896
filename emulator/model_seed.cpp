// Seed loader (docs/emulator-seed.md) and the /_emulator/state view. Every malformed value throws
// SeedError naming its JSON path, e.g. `accounts[0].accessKeys[1].secret: expected a string`.
#include <algorithm>
#include <set>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

[[noreturn]] void seed_fail(const std::string& path, const std::string& what) {
  throw SeedError("seed: " + (path.empty() ? std::string("(root)") : path) + ": " + what);
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string idx(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const json* member(const json& obj, const std::string& path, std::string_view key) {
  if (!obj.is_object()) seed_fail(path, "expected an object");
  auto it = obj.find(std::string(key));
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string str(const json& obj, const std::string& path, std::string_view key,
                std::optional<std::string> fallback = std::nullopt) {
  const json* v = member(obj, path, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    seed_fail(join(path, key), "missing (expected a string)");
  }
  if (!v->is_string()) seed_fail(join(path, key), "expected a string");
  return v->get<std::string>();
}

bool boolean(const json& obj, const std::string& path, std::string_view key, bool fallback) {
  const json* v = member(obj, path, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) seed_fail(join(path, key), "expected true or false");
  return v->get<bool>();
}

int integer(const json& obj, const std::string& path, std::string_view key, int fallback, int min,
            int max) {
  const json* v = member(obj, path, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer() || v->get<long long>() < min || v->get<long long>() > max) {
    seed_fail(join(path, key),
              "expected an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return v->get<int>();
}

const json& array(const json& obj, const std::string& path, std::string_view key) {
  static const json kEmpty = json::array();
  const json* v = member(obj, path, key);
  if (v == nullptr) return kEmpty;
  if (!v->is_array()) seed_fail(join(path, key), "expected an array");
  return *v;
}

std::vector<std::string> strings(const json& obj, const std::string& path, std::string_view key) {
  std::vector<std::string> out;
  const json& a = array(obj, path, key);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) seed_fail(idx(join(path, key), i), "expected a string");
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

Tags tags(const json& obj, const std::string& path) {
  Tags out;
  const json* v = member(obj, path, "tags");
  if (v == nullptr) return out;
  if (!v->is_object()) seed_fail(join(path, "tags"), "expected an object of key: value");
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) seed_fail(join(join(path, "tags"), k), "expected a string");
    out[k] = val.get<std::string>();
  }
  return out;
}

std::optional<Clock::time_point> time_value(const json& obj, const std::string& path,
                                            std::string_view key) {
  const json* v = member(obj, path, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) seed_fail(join(path, key), "expected yyyy-MM-ddTHH:mm:ssZ");
  auto t = parse_iso(v->get<std::string>());
  if (!t) seed_fail(join(path, key), "expected yyyy-MM-ddTHH:mm:ssZ");
  return t;
}

// A document given as an object or as a JSON string.
json document(const json& obj, const std::string& path, std::string_view key,
              policy::DocKind kind) {
  const json* v = member(obj, path, key);
  if (v == nullptr) seed_fail(join(path, key), "missing (expected a policy document)");
  json doc = *v;
  if (v->is_string()) {
    doc = json::parse(v->get<std::string>(), nullptr, false);
    if (doc.is_discarded()) seed_fail(join(path, key), "not valid JSON");
  }
  if (auto err = policy::validate(doc, kind)) seed_fail(join(path, key), *err);
  return doc;
}

std::string document_text(const json& obj, const std::string& path, std::string_view key) {
  json doc = document(obj, path, key, policy::DocKind::Identity);
  const json* v = member(obj, path, key);
  return v->is_string() ? v->get<std::string>() : doc.dump();
}

AccessKey load_key(const json& k, const std::string& path, const Account& acc, State& state) {
  AccessKey key;
  key.id = str(k, path, "id");
  key.secret = str(k, path, "secret");
  if (key.id.empty()) seed_fail(join(path, "id"), "must not be empty");
  if (key.secret.empty()) seed_fail(join(path, "secret"), "must not be empty");
  if (const json* t = member(k, path, "securityToken")) {
    if (!t->is_string()) seed_fail(join(path, "securityToken"), "expected a string");
    key.security_token = t->get<std::string>();
  }
  key.expires = time_value(k, path, "expiration");
  std::string user = str(k, path, "user", "");
  std::string role = str(k, path, "role", "");
  if (!user.empty() && !role.empty()) seed_fail(path, "give either user or role, not both");
  if (!role.empty()) {
    // An STS credential captured from an assumed role (replays of SDK captures need it).
    std::string session = str(k, path, "sessionName", "session");
    key.identity_type = "AssumedRoleUser";
    key.role_id = "3" + std::string(acc.uid.substr(0, std::min<std::size_t>(acc.uid.size(), 17)));
    key.principal_id = key.role_id + ":" + session;
    key.arn = "acs:ram::" + acc.uid + ":assumed-role/" + role + "/" + session;
  } else if (!user.empty()) {
    key.identity_type = "RAMUser";
    key.principal_id = state.next_id("2", 17);
    key.arn = "acs:ram::" + acc.uid + ":user/" + user;
  } else {
    key.identity_type = "Account";
    key.principal_id = acc.uid;
    key.arn = "acs:ram::" + acc.uid + ":root";
  }
  return key;
}

Role load_role(const json& r, const std::string& path, const Account& acc, State& state) {
  Role role;
  role.name = str(r, path, "name");
  if (role.name.empty() || role.name.size() > 64) seed_fail(join(path, "name"), "1-64 characters");
  role.description = str(r, path, "description", "");
  role.trust = document(r, path, "trustPolicy", policy::DocKind::Trust);
  role.max_session_duration = integer(r, path, "maxSessionDuration", 3600, 3600, 43200);
  role.id = state.next_id("3", 17);
  role.created = role.updated = state.epoch;
  // Seeded objects exist at every emulated time (the clock may be moved back to replay captures);
  // the consistency lag applies only to objects created through the API.
  role.visible_at = Clock::time_point{};
  role.tags = tags(r, path);
  const json& attached = array(r, path, "policies");
  for (std::size_t i = 0; i < attached.size(); ++i) {
    std::string p = idx(join(path, "policies"), i);
    std::string name;
    std::string type;
    if (attached[i].is_string()) {
      name = attached[i].get<std::string>();
    } else {
      name = str(attached[i], p, "name");
      type = str(attached[i], p, "type", "");
    }
    const Policy* pol = find_policy(acc, name, type);
    if (pol == nullptr)
      seed_fail(p, "no such policy \"" + name + "\" (define it under policies[])");
    role.attachments.push_back(Attachment{pol->name, pol->type, state.epoch});
  }
  return role;
}

Policy load_policy(const json& p, const std::string& path, State& state) {
  Policy pol;
  pol.name = str(p, path, "name");
  if (pol.name.empty() || pol.name.size() > 128) seed_fail(join(path, "name"), "1-128 characters");
  pol.type = "Custom";
  pol.description = str(p, path, "description", "");
  pol.created = pol.updated = state.epoch;
  pol.visible_at = Clock::time_point{};
  pol.tags = tags(p, path);
  const json& versions = array(p, path, "versions");
  if (versions.empty()) {
    pol.versions.push_back(PolicyVersion{"v1", document_text(p, path, "document"), state.epoch});
    pol.default_version = "v1";
    pol.next_version = 2;
    return pol;
  }
  if (versions.size() > wire::kMaxPolicyVersions) {
    seed_fail(join(path, "versions"), "at most 5 versions");
  }
  for (std::size_t i = 0; i < versions.size(); ++i) {
    std::string vp = idx(join(path, "versions"), i);
    std::string id = "v" + std::to_string(pol.next_version++);
    pol.versions.push_back(
        PolicyVersion{id, document_text(versions[i], vp, "document"), state.epoch});
    if (boolean(versions[i], vp, "default", false)) pol.default_version = id;
  }
  if (pol.default_version.empty()) pol.default_version = pol.versions.back().id;
  return pol;
}

void load_region(const json& r, const std::string& path, const std::string& name, Account& acc,
                 State& state) {
  Region& region = acc.regions[name];
  const json& keys = array(r, path, "kmsKeys");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string p = idx(join(path, "kmsKeys"), i);
    KmsKey k;
    k.key_id = str(keys[i], p, "keyId");
    k.region = name;
    k.creator = str(keys[i], p, "creator", acc.uid);
    k.state = str(keys[i], p, "state", "Enabled");
    static const std::set<std::string> kStates = {"Enabled", "Disabled", "PendingDeletion",
                                                  "PendingImport"};
    if (kStates.count(k.state) == 0) {
      seed_fail(join(p, "state"), "one of Enabled, Disabled, PendingDeletion, PendingImport");
    }
    k.spec = str(keys[i], p, "keySpec", "Aliyun_AES_256");
    k.description = str(keys[i], p, "description", "");
    k.aliases = strings(keys[i], p, "aliases");
    for (std::size_t j = 0; j < k.aliases.size(); ++j) {
      if (k.aliases[j].rfind("alias/", 0) != 0) {
        seed_fail(idx(join(p, "aliases"), j), "an alias starts with alias/");
      }
    }
    k.created = state.epoch;
    region.kms_keys.push_back(std::move(k));
  }
  auto resolve_key = [&](const std::string& id, const std::string& p) -> std::string {
    for (const auto& k : region.kms_keys) {
      if (k.key_id == id || std::find(k.aliases.begin(), k.aliases.end(), id) != k.aliases.end()) {
        return k.key_id;
      }
    }
    seed_fail(p, "no KMS key \"" + id + "\" in region " + name);
  };
  const json& snaps = array(r, path, "snapshots");
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    std::string p = idx(join(path, "snapshots"), i);
    Snapshot s;
    s.id = str(snaps[i], p, "snapshotId");
    if (s.id.rfind("s-", 0) != 0) seed_fail(join(p, "snapshotId"), "a snapshot id starts with s-");
    s.region = name;
    s.name = str(snaps[i], p, "name", "");
    s.description = str(snaps[i], p, "description", "");
    s.encrypted = boolean(snaps[i], p, "encrypted", false);
    std::string key = str(snaps[i], p, "kmsKeyId", "");
    if (s.encrypted) {
      // Encrypted without a CMK means ECS's default service key, as in the real console.
      s.kms_key_id = resolve_key(key.empty() ? "alias/acs/ecs" : key, join(p, "kmsKeyId"));
    } else if (!key.empty()) {
      seed_fail(join(p, "kmsKeyId"), "set only when encrypted is true");
    }
    s.source_disk_id = str(snaps[i], p, "sourceDiskId", "d-" + s.id.substr(2));
    s.source_disk_type = str(snaps[i], p, "sourceDiskType", "System");
    s.source_disk_size = integer(snaps[i], p, "sourceDiskSize", 40, 1, 65536);
    s.created = time_value(snaps[i], p, "creationTime").value_or(state.epoch);
    s.tags = tags(snaps[i], p);
    region.snapshots.push_back(std::move(s));
  }
  const json& images = array(r, path, "images");
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::string p = idx(join(path, "images"), i);
    Image img;
    img.id = str(images[i], p, "imageId");
    if (img.id.rfind("m-", 0) != 0) seed_fail(join(p, "imageId"), "an image id starts with m-");
    img.region = name;
    img.name = str(images[i], p, "name", img.id);
    img.status = str(images[i], p, "status", "Available");
    img.os_type = str(images[i], p, "osType", "linux");
    img.platform = str(images[i], p, "platform", "Ubuntu");
    img.created = time_value(images[i], p, "creationTime").value_or(state.epoch);
    img.tags = tags(images[i], p);
    auto find_snapshot = [&](const std::string& id, const std::string& sp) -> const Snapshot& {
      for (const auto& s : region.snapshots) {
        if (s.id == id) return s;
      }
      seed_fail(sp, "no snapshot \"" + id + "\" in region " + name + " of this account");
    };
    const json& maps = array(images[i], p, "diskDeviceMappings");
    if (!maps.empty()) {
      for (std::size_t j = 0; j < maps.size(); ++j) {
        std::string mp = idx(join(p, "diskDeviceMappings"), j);
        DiskMapping m;
        m.snapshot_id = str(maps[j], mp, "snapshotId");
        const Snapshot& s = find_snapshot(m.snapshot_id, join(mp, "snapshotId"));
        m.type = str(maps[j], mp, "type", j == 0 ? "system" : "data");
        m.device = str(maps[j], mp, "device", "/dev/xvd" + std::string(1, char('a' + j % 26)));
        m.size = integer(maps[j], mp, "size", s.source_disk_size, 1, 65536);
        img.mappings.push_back(std::move(m));
      }
    } else {
      auto ids = strings(images[i], p, "snapshotIds");
      for (std::size_t j = 0; j < ids.size(); ++j) {
        const Snapshot& s = find_snapshot(ids[j], idx(join(p, "snapshotIds"), j));
        img.mappings.push_back(DiskMapping{ids[j], j == 0 ? "system" : "data",
                                           "/dev/xvd" + std::string(1, char('a' + j % 26)),
                                           s.source_disk_size});
      }
    }
    if (!img.mappings.empty()) img.size = img.mappings.front().size;
    auto shared = strings(images[i], p, "sharedWith");
    for (std::size_t j = 0; j < shared.size(); ++j) {
      if (!is_uid(shared[j])) seed_fail(idx(join(p, "sharedWith"), j), "a 16-digit account UID");
      img.shares.push_back(ImageShare{shared[j], state.epoch});
    }
    region.images.push_back(std::move(img));
  }
}

void load_rd(const json& j, State& state) {
  const std::string path = "resourceDirectory";
  ResourceDirectory rd;
  rd.id = str(j, path, "id");
  if (rd.id.rfind("rd-", 0) != 0) seed_fail(join(path, "id"), "an RD id starts with rd-");
  rd.root_folder_id = str(j, path, "rootFolderId");
  rd.folder_parent[rd.root_folder_id] = "";
  const json& folders = array(j, path, "folders");
  for (std::size_t i = 0; i < folders.size(); ++i) {
    std::string p = idx(join(path, "folders"), i);
    std::string id = str(folders[i], p, "id");
    std::string parent = str(folders[i], p, "parentId", rd.root_folder_id);
    if (id.rfind("fd-", 0) != 0) seed_fail(join(p, "id"), "a folder id starts with fd-");
    if (rd.folder_parent.count(id) != 0) seed_fail(join(p, "id"), "duplicate folder " + id);
    rd.folder_parent[id] = parent;
  }
  for (std::size_t i = 0; i < folders.size(); ++i) {
    std::string p = idx(join(path, "folders"), i);
    std::string cur = str(folders[i], p, "id");
    // Every folder must reach the root without a cycle.
    for (std::size_t steps = 0; cur != rd.root_folder_id; ++steps) {
      auto it = rd.folder_parent.find(cur);
      if (it == rd.folder_parent.end()) seed_fail(join(p, "parentId"), "unknown folder " + cur);
      if (steps > rd.folder_parent.size()) seed_fail(join(p, "parentId"), "folder cycle");
      cur = it->second;
    }
  }
  if (const json* accs = member(j, path, "accounts")) {
    if (!accs->is_object()) seed_fail(join(path, "accounts"), "expected an object uid: folderId");
    for (const auto& [uid, folder] : accs->items()) {
      std::string p = join(join(path, "accounts"), uid);
      if (!folder.is_string()) seed_fail(p, "expected a folder id");
      if (rd.folder_parent.count(folder.get<std::string>()) == 0) {
        seed_fail(p, "unknown folder " + folder.get<std::string>());
      }
      if (!is_uid(uid)) seed_fail(p, "a 16-digit account UID");
      rd.account_folder[uid] = folder.get<std::string>();
    }
  }
  if (const json* master = member(j, path, "masterAccountId")) {
    const std::string p = join(path, "masterAccountId");
    if (!master->is_string() || !is_uid(master->get<std::string>()))
      seed_fail(p, "a 16-digit account UID (as a string)");
    rd.master_account_id = master->get<std::string>();
    if (rd.account_folder.count(rd.master_account_id) == 0)
      seed_fail(p, "the management account must be a member (in resourceDirectory.accounts)");
  } else {
    // The first seeded account that is a member (accounts are loaded before the directory).
    for (const auto& acc : state.accounts)
      if (rd.account_folder.count(acc.uid) != 0) {
        rd.master_account_id = acc.uid;
        break;
      }
  }
  state.rd = std::move(rd);
}

void load_emulation(const json& j, State& state) {
  const std::string path = "emulation";
  if (!j.is_object()) seed_fail(path, "expected an object");
  for (const auto& [k, v] : j.items()) {
    if (k != "refuseEncryptedFullImages" && k != "resourceSharingChecksShareRole") {
      seed_fail(join(path, k), "unknown field");
    }
  }
  state.emulation.refuse_encrypted_full_images =
      boolean(j, path, "refuseEncryptedFullImages", false);
  state.emulation.resource_sharing_checks_share_role =
      boolean(j, path, "resourceSharingChecksShareRole", false);
}

bool rd_member(const State& state, const std::string& uid) {
  return state.rd && state.rd->account_folder.count(uid) != 0;
}

// A resource share as it stands when the world starts: every association already Associated
// (seeded objects exist at every emulated time), external targets with their invitation.
void load_share(const json& j, const std::string& path, State& state, std::set<std::string>& ids) {
  if (!j.is_object()) seed_fail(path, "expected an object");
  static const std::set<std::string> kFields = {
      "resourceShareId",      "owner", "region",    "name",
      "allowExternalTargets", "tags",  "resources", "targets"};
  for (const auto& [k, v] : j.items()) {
    if (kFields.count(k) == 0) seed_fail(join(path, k), "unknown field");
  }
  ResourceShare share;
  share.owner = str(j, path, "owner");
  const Account* owner = state.account(share.owner);
  if (owner == nullptr)
    seed_fail(join(path, "owner"), "no account " + share.owner + " in the seed");
  share.region = str(j, path, "region");
  share.name = str(j, path, "name");
  if (share.name.empty() || share.name.size() > 150)
    seed_fail(join(path, "name"), "1-50 characters");
  share.id = str(j, path, "resourceShareId", "");
  if (share.id.empty()) {
    share.id = state.next_id("rs-", 12);
  } else {
    bool generated = share.id.size() == 15 && share.id.rfind("rs-", 0) == 0 &&
                     std::all_of(share.id.begin() + 3, share.id.end(),
                                 [](char ch) { return ch >= '0' && ch <= '9'; });
    if (share.id.rfind("rs-", 0) != 0 || generated) {
      seed_fail(join(path, "resourceShareId"),
                "a resource share id starts with rs- (rs- and 12 digits are the emulator's own)");
    }
  }
  if (!ids.insert(share.id).second) seed_fail(join(path, "resourceShareId"), "duplicate id");
  share.allow_external = boolean(j, path, "allowExternalTargets", false);
  share.tags = tags(j, path);
  share.created = share.updated = Clock::time_point{};
  const json& resources = array(j, path, "resources");
  for (std::size_t i = 0; i < resources.size(); ++i) {
    std::string rp = idx(join(path, "resources"), i);
    std::string type = str(resources[i], rp, "type");
    std::string id = str(resources[i], rp, "id");
    if (type != "Snapshot" && type != "Image") seed_fail(join(rp, "type"), "Snapshot or Image");
    ResourceRef ref = find_resource(state, id);
    std::string region = ref.snapshot ? ref.snapshot->region
                         : ref.image  ? ref.image->region
                                      : std::string();
    bool right = type == "Snapshot" ? ref.snapshot != nullptr : ref.image != nullptr;
    if (!right || ref.owner != owner || region != share.region) {
      seed_fail(join(rp, "id"),
                "no " + type + " " + id + " of " + share.owner + " in " + share.region);
    }
    Association a;
    a.entity_id = id;
    a.entity_type = type;
    a.association_type = "Resource";
    const KmsKey* key = resource_key(*owner, ref);
    if (key != nullptr && key->is_service_key()) {
      // What AssociateResourceShare would have made of it.
      a.failed = true;
      a.failure_message =
          "Resources encrypted with a service key cannot be shared; copy them "
          "with a CMK.";
    }
    share.associations.push_back(a);
  }
  const json& targets = array(j, path, "targets");
  for (std::size_t i = 0; i < targets.size(); ++i) {
    std::string tp = idx(join(path, "targets"), i);
    std::string id;
    std::optional<std::string> invitation;
    std::optional<Clock::time_point> invited_at;
    if (targets[i].is_string()) {
      id = targets[i].get<std::string>();
    } else {
      id = str(targets[i], tp, "id");
      for (const auto& [k, v] : targets[i].items()) {
        if (k != "id" && k != "invitation" && k != "invitedAt")
          seed_fail(join(tp, k), "unknown field");
      }
      if (member(targets[i], tp, "invitation") != nullptr)
        invitation = str(targets[i], tp, "invitation");
      invited_at = time_value(targets[i], tp, "invitedAt");
    }
    Association a;
    a.entity_id = id;
    a.association_type = "Target";
    const bool owner_in_rd = rd_member(state, share.owner);
    if (is_uid(id)) {
      if (id == share.owner) seed_fail(tp, "a share cannot target its owner");
      a.entity_type = "Account";
      a.external = !(owner_in_rd && rd_member(state, id));
      if (a.external && !share.allow_external) {
        seed_fail(tp, id + " is outside the owner's resource directory: set allowExternalTargets");
      }
    } else if (owner_in_rd && id == state.rd->id) {
      a.entity_type = "ResourceDirectory";
    } else if (owner_in_rd && state.rd->folder_parent.count(id) != 0) {
      a.entity_type = "Folder";
    } else {
      seed_fail(tp, "an account UID, or the owner's resource directory or one of its folders");
    }
    if (invitation && !a.external) seed_fail(join(tp, "invitation"), "only for external targets");
    if (a.external) {
      std::string st = invitation.value_or("Accepted");
      if (st != "Pending" && st != "Accepted" && st != "Rejected") {
        seed_fail(join(tp, "invitation"), "one of Pending, Accepted, Rejected");
      }
      Invitation inv;
      inv.id = state.next_id("in-", 12);
      inv.share_id = share.id;
      inv.sender = share.owner;
      inv.receiver = id;
      inv.status = st;
      // A pending invitation is valid 7 days from when it was sent (default: the seed's load).
      inv.created = invited_at.value_or(st == "Pending" ? state.epoch : Clock::time_point{});
      if (st == "Accepted") inv.accepted_at = inv.created;
      state.invitations.push_back(inv);
    } else if (invited_at) {
      seed_fail(join(tp, "invitedAt"), "only for external targets");
    }
    share.associations.push_back(a);
  }
  // A failed resource lists each target it failed for, as the API does.
  for (auto& r : share.associations) {
    if (r.association_type != "Resource" || !r.failed) continue;
    for (const auto& t : share.associations) {
      if (t.association_type == "Target") {
        r.failures.push_back(
            {t.entity_id, t.entity_type, "UnsupportedOperation", r.failure_message});
      }
    }
  }
  state.shares.push_back(std::move(share));
}

}  // namespace

State load_seed_state(const json& seed, Clock::time_point now) {
  State state;
  state.epoch = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (!seed.is_object()) seed_fail("", "expected an object");
  for (const auto& [k, v] : seed.items()) {
    if (k != "accounts" && k != "resourceDirectory" && k != "resourceShares" && k != "emulation" &&
        k != "$schema" && k != "description") {
      seed_fail(k, "unknown field");
    }
  }
  const json& accounts = array(seed, "", "accounts");
  std::set<std::string> key_ids;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    std::string path = idx("accounts", i);
    const json& a = accounts[i];
    Account acc;
    acc.uid = str(a, path, "uid");
    if (!is_uid(acc.uid)) seed_fail(join(path, "uid"), "a 16-digit account UID (as a string)");
    if (state.account(acc.uid) != nullptr) seed_fail(join(path, "uid"), "duplicate account");
    acc.name = str(a, path, "name", acc.uid);
    const json& keys = array(a, path, "accessKeys");
    for (std::size_t j = 0; j < keys.size(); ++j) {
      std::string kp = idx(join(path, "accessKeys"), j);
      acc.keys.push_back(load_key(keys[j], kp, acc, state));
      if (!key_ids.insert(acc.keys.back().id).second) {
        seed_fail(join(kp, "id"), "duplicate access key id");
      }
    }
    const json& providers = array(a, path, "oidcProviders");
    for (std::size_t j = 0; j < providers.size(); ++j) {
      std::string pp = idx(join(path, "oidcProviders"), j);
      acc.oidc_providers.push_back(OidcProvider{str(providers[j], pp, "name"),
                                                str(providers[j], pp, "issuerUrl", ""),
                                                strings(providers[j], pp, "clientIds")});
    }
    const json& policies = array(a, path, "policies");
    for (std::size_t j = 0; j < policies.size(); ++j) {
      std::string pp = idx(join(path, "policies"), j);
      Policy p = load_policy(policies[j], pp, state);
      if (find_policy(acc, p.name, "") != nullptr) seed_fail(join(pp, "name"), "duplicate policy");
      acc.policies.push_back(std::move(p));
    }
    const json& roles = array(a, path, "roles");
    for (std::size_t j = 0; j < roles.size(); ++j) {
      std::string rp = idx(join(path, "roles"), j);
      Role r = load_role(roles[j], rp, acc, state);
      if (find_role(acc, r.name) != nullptr) seed_fail(join(rp, "name"), "duplicate role");
      acc.roles.push_back(std::move(r));
    }
    if (const json* regions = member(a, path, "regions")) {
      if (!regions->is_object()) seed_fail(join(path, "regions"), "expected an object by region");
      for (const auto& [name, r] : regions->items()) {
        load_region(r, join(join(path, "regions"), name), name, acc, state);
      }
    }
    state.accounts.push_back(std::move(acc));
  }
  if (const json* rd = member(seed, "", "resourceDirectory")) load_rd(*rd, state);
  if (const json* e = member(seed, "", "emulation")) load_emulation(*e, state);
  // After the accounts (resources, owners) and the resource directory (internal or external).
  const json& shares = array(seed, "", "resourceShares");
  std::set<std::string> share_ids;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    load_share(shares[i], idx("resourceShares", i), state, share_ids);
  }
  return state;
}

json dump_state(const State& state, const ModelOptions& options, Clock::time_point now) {
  json out;
  out["accounts"] = json::array();
  for (const auto& acc : state.accounts) {
    json a;
    a["uid"] = acc.uid;
    a["name"] = acc.name;
    // Key ids only: secrets and tokens never leave through the admin API.
    a["accessKeys"] = json::array();
    for (const auto& k : acc.keys) {
      a["accessKeys"].push_back({{"id", k.id}, {"identityType", k.identity_type}, {"arn", k.arn}});
    }
    a["roles"] = json::array();
    for (const auto& r : acc.roles) {
      json attached = json::array();
      for (const auto& at : r.attachments) {
        attached.push_back({{"name", at.policy_name}, {"type", at.policy_type}});
      }
      a["roles"].push_back({{"name", r.name},
                            {"roleId", r.id},
                            {"trustPolicy", r.trust},
                            {"policies", attached},
                            {"tags", r.tags},
                            {"createDate", iso_seconds(r.created)}});
    }
    a["policies"] = json::array();
    for (const auto& p : acc.policies) {
      json versions = json::array();
      for (const auto& v : p.versions) {
        versions.push_back({{"versionId", v.id},
                            {"default", v.id == p.default_version},
                            {"document", v.document}});
      }
      a["policies"].push_back({{"name", p.name}, {"versions", versions}, {"tags", p.tags}});
    }
    a["regions"] = json::object();
    for (const auto& [name, r] : acc.regions) {
      json reg;
      reg["kmsKeys"] = json::array();
      for (const auto& k : r.kms_keys) {
        reg["kmsKeys"].push_back({{"keyId", k.key_id},
                                  {"creator", k.creator},
                                  {"state", k.state},
                                  {"aliases", k.aliases}});
      }
      reg["snapshots"] = json::array();
      for (const auto& s : r.snapshots) {
        reg["snapshots"].push_back({{"snapshotId", s.id},
                                    {"encrypted", s.encrypted},
                                    {"kmsKeyId", s.kms_key_id},
                                    {"tags", s.tags}});
      }
      reg["images"] = json::array();
      for (const auto& img : r.images) {
        json ids = json::array();
        for (const auto& m : img.mappings) ids.push_back(m.snapshot_id);
        json shared = json::array();
        for (const auto& s : img.shares) shared.push_back(s.account_uid);
        reg["images"].push_back({{"imageId", img.id},
                                 {"snapshotIds", ids},
                                 {"sharedWith", shared},
                                 {"tags", img.tags}});
      }
      a["regions"][name] = reg;
    }
    out["accounts"].push_back(a);
  }
  if (state.rd) {
    json folders = json::array();
    for (const auto& [id, parent] : state.rd->folder_parent) {
      if (!parent.empty()) folders.push_back({{"id", id}, {"parentId", parent}});
    }
    out["resourceDirectory"] = {{"id", state.rd->id},
                                {"rootFolderId", state.rd->root_folder_id},
                                {"folders", folders},
                                {"accounts", state.rd->account_folder}};
    if (!state.rd->master_account_id.empty())
      out["resourceDirectory"]["masterAccountId"] = state.rd->master_account_id;
  }
  out["emulation"] = {
      {"refuseEncryptedFullImages", state.emulation.refuse_encrypted_full_images},
      {"resourceSharingChecksShareRole", state.emulation.resource_sharing_checks_share_role}};
  out["resourceShares"] = json::array();
  for (const auto& s : state.shares) {
    json assocs = json::array();
    for (const auto& a : s.associations) {
      json entry = {{"entityId", a.entity_id},
                    {"entityType", a.entity_type},
                    {"associationType", a.association_type},
                    {"external", a.external},
                    {"status", association_status(state, s, a, options, now)}};
      if (a.failed) entry["failureMessage"] = a.failure_message;
      assocs.push_back(std::move(entry));
    }
    out["resourceShares"].push_back({{"resourceShareId", s.id},
                                     {"name", s.name},
                                     {"owner", s.owner},
                                     {"region", s.region},
                                     {"status", share_status(s, options, now)},
                                     {"allowExternalTargets", s.allow_external},
                                     {"tags", s.tags},
                                     {"associations", assocs}});
  }
  out["invitations"] = json::array();
  for (const auto& inv : state.invitations) {
    out["invitations"].push_back({{"invitationId", inv.id},
                                  {"resourceShareId", inv.share_id},
                                  {"sender", inv.sender},
                                  {"receiver", inv.receiver},
                                  {"status", inv.status_at(now)},
                                  {"createTime", iso_seconds(inv.created)},
                                  {"expires", iso_seconds(inv.created + kInvitationValidity)}});
  }
  out["stsSessions"] = json::array();
  for (const auto& k : state.sts_keys) {
    out["stsSessions"].push_back(
        {{"accessKeyId", k.id}, {"arn", k.arn}, {"expiration", iso_seconds(*k.expires)}});
  }
  return out;
}

}  // namespace sharekeeper::emulator
