// KMS (docs/alibaba-api.md §6): DescribeKey (by id, alias or ARN), ListKeys with Filters incl.
// CreatorType, ListAliases, ListAliasesByKeyId, DisableKey and EnableKey. KMS is regional: the
// region is RegionId, else the one in the Host (kms.<region>.aliyuncs.com), else every region of
// the account.
#include <algorithm>

#include "emulator/model_state.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

struct Ctx {
  const ApiCall& call;
  Account& acc;
  std::string region;  // empty: all regions
};

std::string region_of_call(const ApiCall& call) {
  std::string region = param_or(call, "RegionId", "");
  if (!region.empty()) return region;
  for (std::string_view prefix : {"kms.", "kms-vpc."}) {
    if (call.host.rfind(prefix, 0) == 0) {
      std::string rest = call.host.substr(prefix.size());
      std::size_t dot = rest.find('.');
      if (dot != std::string::npos) return rest.substr(0, dot);
    }
  }
  return "";
}

std::vector<KmsKey*> keys_in_scope(const Ctx& c) {
  std::vector<KmsKey*> out;
  for (auto& [name, r] : c.acc.regions) {
    if (!c.region.empty() && name != c.region) continue;
    for (auto& k : r.kms_keys) out.push_back(&k);
  }
  return out;
}

KmsKey& resolve_key(const Ctx& c, const std::string& ref) {
  std::string id = ref;
  bool is_alias = ref.rfind("alias/", 0) == 0;
  if (ref.rfind("acs:kms:", 0) == 0) {
    // acs:kms:<region>:<uid>:key/<id> or acs:kms:<region>:<uid>:alias/<name>
    std::size_t p1 = ref.find(':', 8);
    std::size_t p2 = p1 == std::string::npos ? p1 : ref.find(':', p1 + 1);
    if (p2 == std::string::npos) fail(400, "InvalidParameter", "The KeyId is not a valid ARN.");
    std::string uid = ref.substr(p1 + 1, p2 - p1 - 1);
    std::string rest = ref.substr(p2 + 1);
    if (uid != c.acc.uid) {
      fail(403, "Forbidden.NoPermission",
           "This operation for the key is forbidden: the key belongs to another account.");
    }
    if (rest.rfind("key/", 0) == 0) {
      id = rest.substr(4);
    } else if (rest.rfind("alias/", 0) == 0) {
      id = rest;
      is_alias = true;
    } else {
      fail(400, "InvalidParameter", "The KeyId is not a valid ARN.");
    }
  }
  for (KmsKey* k : keys_in_scope(c)) {
    if (!is_alias && k->key_id == id) return *k;
    if (is_alias && std::find(k->aliases.begin(), k->aliases.end(), id) != k->aliases.end()) {
      return *k;
    }
  }
  if (is_alias) fail(404, "Forbidden.AliasNotFound", "The specified alias is not found.");
  fail(404, "Forbidden.KeyNotFound", "The specified Key is not found.");
}

struct Page {
  std::size_t begin;
  std::size_t end;
  long number;
  long size;
};

Page page_of(const ApiCall& call, std::size_t total) {
  long number = int_param(call, "PageNumber", 1, 1, 1000000);
  long size = int_param(call, "PageSize", 10, 1, 100);
  std::size_t begin = std::min(total, static_cast<std::size_t>((number - 1) * size));
  return {begin, std::min(total, begin + static_cast<std::size_t>(size)), number, size};
}

ApiResponse describe_key(const Ctx& c) {
  const KmsKey& k = resolve_key(c, required_param(c.call, "KeyId"));
  return ok(c.call, {{"KeyMetadata",
                      {{"KeyId", k.key_id},
                       {"Arn", key_arn(c.acc, k)},
                       // The owner's UID for CMKs; a service name ("Ecs") for service keys.
                       {"Creator", k.creator},
                       {"KeyState", k.state},
                       {"KeyUsage", k.usage},
                       {"KeySpec", k.spec},
                       {"ProtectionLevel", k.protection_level},
                       {"Origin", "Aliyun_KMS"},
                       {"CreationDate", iso_seconds(k.created)},
                       {"Description", k.description},
                       {"DeleteDate", ""},
                       {"MaterialExpireTime", ""},
                       {"PrimaryKeyVersion", k.key_id + "-v1"},
                       {"AutomaticRotation", "Disabled"},
                       {"RotationInterval", ""},
                       {"LastRotationDate", iso_seconds(k.created)},
                       {"NextRotationDate", ""},
                       {"DeletionProtection", "Disabled"},
                       {"DeletionProtectionDescription", ""},
                       {"DKMSInstanceId", ""}}}});
}

ApiResponse list_keys(const Ctx& c) {
  std::map<std::string, std::vector<std::string>> filters;
  if (const std::string* raw = find_param(c.call, "Filters"); raw && !raw->empty()) {
    json f = json::parse(*raw, nullptr, false);
    if (!f.is_array()) fail(400, "InvalidParameter", "Filters must be a JSON array.");
    for (const auto& e : f) {
      if (!e.is_object() || !e.contains("Key") || !e["Key"].is_string() || !e.contains("Values") ||
          !e["Values"].is_array()) {
        fail(400, "InvalidParameter", R"(Each filter is {"Key": string, "Values": [string]}.)");
      }
      std::string key = e["Key"];
      static const char* const kKeys[] = {"KeyState",        "KeySpec",     "KeyUsage",
                                          "ProtectionLevel", "CreatorType", "DKMSInstanceId"};
      if (std::none_of(std::begin(kKeys), std::end(kKeys),
                       [&](const char* k) { return key == k; })) {
        fail(400, "InvalidParameter", "Unsupported filter key: " + key + ".");
      }
      for (const auto& v : e["Values"]) {
        if (!v.is_string()) fail(400, "InvalidParameter", "Filter values must be strings.");
        filters[key].push_back(v.get<std::string>());
      }
    }
  }
  auto value_of = [](const KmsKey& k, const std::string& key) -> std::string {
    if (key == "KeyState") return k.state;
    if (key == "KeySpec") return k.spec;
    if (key == "KeyUsage") return k.usage;
    if (key == "ProtectionLevel") return k.protection_level;
    if (key == "CreatorType") return k.is_service_key() ? "Service" : "User";
    return "";
  };
  std::vector<const KmsKey*> matched;
  for (const KmsKey* k : keys_in_scope(c)) {
    // Keys ANDed, values ORed.
    bool ok_all = std::all_of(filters.begin(), filters.end(), [&](const auto& f) {
      std::string v = value_of(*k, f.first);
      return std::find(f.second.begin(), f.second.end(), v) != f.second.end();
    });
    if (ok_all) matched.push_back(k);
  }
  Page p = page_of(c.call, matched.size());
  json keys = json::array();
  for (std::size_t i = p.begin; i < p.end; ++i) {
    keys.push_back({{"KeyId", matched[i]->key_id}, {"KeyArn", key_arn(c.acc, *matched[i])}});
  }
  return ok(c.call, {{"TotalCount", matched.size()},
                     {"PageNumber", p.number},
                     {"PageSize", p.size},
                     {"Keys", {{"Key", keys}}}});
}

ApiResponse aliases(const Ctx& c, const KmsKey* only) {
  std::vector<std::pair<const KmsKey*, std::string>> all;
  for (const KmsKey* k : keys_in_scope(c)) {
    if (only != nullptr && k != only) continue;
    for (const auto& a : k->aliases) all.emplace_back(k, a);
  }
  Page p = page_of(c.call, all.size());
  json list = json::array();
  for (std::size_t i = p.begin; i < p.end; ++i) {
    const auto& [k, a] = all[i];
    list.push_back({{"AliasName", a},
                    {"AliasArn", "acs:kms:" + k->region + ":" + c.acc.uid + ":" + a},
                    {"KeyId", k->key_id}});
  }
  return ok(c.call, {{"TotalCount", all.size()},
                     {"PageNumber", p.number},
                     {"PageSize", p.size},
                     {"Aliases", {{"Alias", list}}}});
}

// DisableKey / EnableKey. KMS's key-state table ("Impact of CMK states on API calls"): both succeed
// on an Enabled or Disabled key (so repeating one is harmless) and answer
// Rejected.StateModifiedFailed (409) on a key PendingDeletion or PendingImport. Service keys are
// managed by their cloud service and read-only to the account; the exact error for changing one is
// not documented, so the emulator answers the generic KMS Forbidden.NoPermission (403).
ApiResponse set_key_state(const Ctx& c, const char* target) {
  KmsKey& k = resolve_key(c, required_param(c.call, "KeyId"));
  if (k.is_service_key()) {
    fail(403, "Forbidden.NoPermission",
         "This operation is forbidden by permission system: " + k.key_id +
             " is a service key, managed by its cloud service.");
  }
  if (k.state != "Enabled" && k.state != "Disabled") {
    fail(409, "Rejected.StateModifiedFailed",
         "Keystate modified failed: the key is " + k.state + ".");
  }
  k.state = target;
  return ok(c.call);
}

}  // namespace

ApiResponse kms_call(State& state, const ModelOptions&, const ApiCall& call) {
  Ctx c{call, *state.account(call.caller.account_uid), region_of_call(call)};
  if (call.action == "DescribeKey") return describe_key(c);
  if (call.action == "ListKeys") return list_keys(c);
  if (call.action == "ListAliases") return aliases(c, nullptr);
  if (call.action == "ListAliasesByKeyId") {
    return aliases(c, &resolve_key(c, required_param(call, "KeyId")));
  }
  if (call.action == "DisableKey") return set_key_state(c, "Disabled");
  if (call.action == "EnableKey") return set_key_state(c, "Enabled");
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
