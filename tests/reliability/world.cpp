#include "world.hpp"

#include <sstream>

#include "config/loader.hpp"

namespace sharekeeper::reliability {

using nlohmann::json;

namespace {

constexpr const char* kKey1 = "key-hzz6rel0000000000001";
constexpr const char* kKey2 = "key-hzz6rel0000000000002";

std::string key_arn(const char* key) {
  return std::string("acs:kms:") + kRegion + ":" + kSharer + ":key/" + key;
}

// A trust policy as the console writes it for ECS share roles (`<UID>@ecs.aliyuncs.com`), or, for
// a role of people, with RAM principals.
json trust_of(const std::vector<std::string>& uids, bool ecs = true) {
  json principals = json::array();
  for (const auto& u : uids)
    principals.push_back(ecs ? u + "@ecs.aliyuncs.com" : "acs:ram::" + u + ":root");
  return {{"Version", "1"},
          {"Statement", json::array({{{"Action", "sts:AssumeRole"},
                                      {"Effect", "Allow"},
                                      {"Principal", {{ecs ? "Service" : "RAM", principals}}}}})}};
}

std::string yaml_list(const std::vector<std::string>& v, bool quoted) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ", ";
    out += quoted ? "\"" + v[i] + "\"" : v[i];
  }
  return out + "]";
}

}  // namespace

const std::vector<std::string>& consumers() {
  static const std::vector<std::string> kConsumers = {"1111222233334444", "2222333344445555",
                                                      "5555666677778888", "6666777788889999"};
  return kConsumers;
}
const std::vector<std::string>& images() {
  static const std::vector<std::string> kImages = {"m-bp1aaaaaaaaaaaaaaaaa",
                                                   "m-bp1eeeeeeeeeeeeeeeee"};
  return kImages;
}
const std::vector<std::string>& snapshots() {
  static const std::vector<std::string> kSnapshots = {"s-bp1bbbbbbbbbbbbbbbbb",
                                                      "s-bp1ddddddddddddddddd"};
  return kSnapshots;
}

std::string config_yaml(const ConfigSpec& c) {
  std::ostringstream y;
  y << "apiVersion: sharekeeper/v1\n"
    << "settings:\n"
    << "  interval: 5m\n"
    << "  prune: " << (c.prune ? "true" : "false") << "\n"
    << "  allowMassRevoke: " << (c.allow_mass_revoke ? "true" : "false") << "\n"
    << "  instanceName: " << kInstance << "\n";
  // Without manageShares the image share lists stay the world's (the S2 check on them); with it
  // the key is left out: the default is what runs.
  if (!c.manage_shares) y << "  manageShares: false\n";
  if (c.invalid) y << "  intervall: 5m\n";  // a typo: the loader refuses unknown keys
  y << "accounts:\n"
    << "  - name: prod\n"
    << "    uid: \"" << kSharer << "\"\n"
    << "    credentials:\n"
    << "      source: env\n"
    << "      accessKeyIdEnv: SK_REL_KEY_ID\n"
    << "      accessKeySecretEnv: SK_REL_KEY_SECRET\n"
    << "    adopt: " << (c.authoritative ? "authoritative" : "additive") << "\n";
  if (!c.protected_principals.empty())
    y << "    protectedPrincipals: " << yaml_list(c.protected_principals, true) << "\n";
  if (c.shares.empty()) {
    y << "shares: []\n";
    return y.str();
  }
  y << "shares:\n";
  for (const auto& s : c.shares) {
    y << "  - name: " << s.name << "\n"
      << "    account: prod\n"
      << "    region: " << kRegion << "\n";
    if (!s.images.empty()) y << "    images: " << yaml_list(s.images, false) << "\n";
    if (!s.snapshots.empty()) y << "    snapshots: " << yaml_list(s.snapshots, false) << "\n";
    y << "    to:\n";
    if (!s.targets.empty()) y << "      accounts: " << yaml_list(s.targets, true) << "\n";
    if (s.to_rd) y << "      resourceDirectory: " << kRd << "\n";
    if (!s.folders.empty()) y << "      folders: " << yaml_list(s.folders, false) << "\n";
  }
  return y.str();
}

std::optional<config::DesiredState> load_config(const ConfigSpec& c) {
  auto r = config::load_sources({{"sharekeeper.yaml", config_yaml(c)}});
  if (!r.ok()) return std::nullopt;
  return std::move(*r.state);
}

json seed(const WorldSpec& w) {
  auto key = [](const char* id) {
    return json{{"keyId", id}, {"creator", kSharer}, {"state", "Enabled"}};
  };
  auto snap = [](const std::string& id, const char* k) {
    return json{{"snapshotId", id}, {"encrypted", true}, {"kmsKeyId", k}, {"tags", json::object()}};
  };
  // Without image_shared_with every image is already shared with every consumer (the share itself
  // is not sharekeeper's without settings.manageShares), so whether a consumer can use it depends
  // on the role, its trust and the keys: what sharekeeper converges.
  auto shared = [&](const std::string& image) -> json {
    if (!w.image_shared_with) return consumers();
    auto it = w.image_shared_with->find(image);
    return it == w.image_shared_with->end() ? json::array() : json(it->second);
  };
  json imgs = json::array();
  json snaps =
      json::array({snap(snapshots()[0], kKey1), snap(snapshots()[1], kKey2),
                   snap("s-bp1ccccccccccccccccc", kKey1), snap("s-bp1fffffffffffffffff", kKey2)});
  imgs.push_back({{"imageId", images()[0]},
                  {"snapshotIds", json::array({"s-bp1ccccccccccccccccc"})},
                  {"sharedWith", shared(images()[0])},
                  {"tags", json::object()}});
  imgs.push_back({{"imageId", images()[1]},
                  {"snapshotIds", json::array({"s-bp1fffffffffffffffff"})},
                  {"sharedWith", shared(images()[1])},
                  {"tags", json::object()}});
  json roles = json::array();
  json policies = json::array();
  // ECS's own use of the CMKs (present, as the console creates it on the first encrypted disk).
  roles.push_back(
      {{"name", "AliyunECSDiskEncryptDefaultRole"},
       {"trustPolicy",
        {{"Version", "1"},
         {"Statement",
          json::array({{{"Action", "sts:AssumeRole"},
                        {"Effect", "Allow"},
                        {"Principal", {{"Service", json::array({"ecs.aliyuncs.com"})}}}}})}}},
       {"policies",
        json::array({{{"name", "AliyunECSDiskEncryptRolePolicy"}, {"type", "System"}}})}});
  if (w.foreign_role || w.foreign_attachment) {
    policies.push_back(
        {{"name", kForeignPolicy},
         {"document",
          {{"Version", "1"},
           {"Statement", json::array({{{"Effect", "Allow"},
                                       {"Action", json::array({"kms:Decrypt"})},
                                       {"Resource", json::array({key_arn(kKey2)})}}})}}}});
  }
  if (w.foreign_role)
    roles.push_back({{"name", kForeignRole},
                     {"trustPolicy", trust_of({kOutsider}, false)},
                     {"policies", json::array({kForeignPolicy})}});
  if (w.foreign_attachment)
    roles.push_back({{"name", kSnapshotRole},
                     {"trustPolicy", trust_of({consumers()[0]})},
                     {"policies", json::array({kForeignPolicy})}});
  if (w.image_role_adopted) {
    std::vector<std::string> trusted = {kOutsider};
    trusted.insert(trusted.end(), w.extra_consumers_trusted.begin(),
                   w.extra_consumers_trusted.end());
    roles.push_back({{"name", kImageRole}, {"trustPolicy", trust_of(trusted)}});
  }
  json account = {{"uid", kSharer},
                  {"name", "prod"},
                  {"accessKeys", json::array({{{"id", kAccessKeyId}, {"secret", kCanarySecret}}})},
                  {"roles", roles},
                  {"policies", policies},
                  {"regions",
                   {{kRegion,
                     {{"kmsKeys", json::array({key(kKey1), key(kKey2)})},
                      {"snapshots", snaps},
                      {"images", imgs}}}}}};
  json accounts = json::array({account});
  for (const auto& uid : consumers())
    accounts.push_back({{"uid", uid}, {"name", "c" + uid}, {"accessKeys", json::array()}});
  accounts.push_back({{"uid", kOutsider}, {"name", "outsider"}, {"accessKeys", json::array()}});
  accounts.push_back({{"uid", kStranger}, {"name", "stranger"}, {"accessKeys", json::array()}});
  json out = {{"accounts", accounts}};
  if (w.resource_directory)
    out["resourceDirectory"] = {{"id", kRd},
                                {"rootFolderId", kRootFolder},
                                {"folders", json::array({{{"id", kFolder}}})},
                                {"accounts",
                                 {{kSharer, kRootFolder},
                                  {consumers()[0], kFolder},
                                  {consumers()[1], kFolder},
                                  {consumers()[2], kRootFolder}}}};
  if (w.foreign_share)
    out["resourceShares"] = json::array(
        {{{"name", kForeignShare},
          {"owner", kSharer},
          {"region", kRegion},
          {"allowExternalTargets", true},
          {"resources", json::array({{{"type", "Snapshot"}, {"id", snapshots()[1]}}})},
          {"targets", json::array({{{"id", kOutsider}, {"invitation", "Accepted"}}})}}});
  return out;
}

std::optional<std::string> key_arn_of(const json& state, const std::string& resource) {
  for (const auto& a : state["accounts"]) {
    if (a["uid"] != kSharer || !a.contains("regions")) continue;
    for (const auto& [region, r] : a["regions"].items()) {
      auto snapshot_key = [&](const std::string& id) -> std::optional<std::string> {
        for (const auto& s : r.value("snapshots", json::array()))
          if (s.value("snapshotId", "") == id && s.value("encrypted", false))
            return "acs:kms:" + region + ":" + kSharer + ":key/" + s.value("kmsKeyId", "");
        return std::nullopt;
      };
      if (resource.rfind("s-", 0) == 0) return snapshot_key(resource);
      for (const auto& i : r.value("images", json::array()))
        if (i.value("imageId", "") == resource)
          for (const auto& sid : i.value("snapshotIds", json::array()))
            if (auto k = snapshot_key(sid.get<std::string>())) return k;
    }
  }
  return std::nullopt;
}

}  // namespace sharekeeper::reliability
