// Helpers shared by the product handlers: parameters, errors, time, paging, lookups.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "emulator/model_state.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

void fail(int status, std::string code, std::string message) {
  throw ApiFailure{status, std::move(code), std::move(message)};
}

ApiResponse ok(const ApiCall& call, nlohmann::json body) {
  body["RequestId"] = call.request_id;
  return ApiResponse{200, std::move(body)};
}

const std::string* find_param(const ApiCall& call, std::string_view name) {
  auto it = call.params.find(std::string(name));
  return it == call.params.end() ? nullptr : &it->second;
}

std::string required_param(const ApiCall& call, std::string_view name) {
  const std::string* v = find_param(call, name);
  if (v == nullptr || v->empty()) {
    fail(400, "MissingParameter",
         "The input parameter \"" + std::string(name) +
             "\" that is mandatory for processing this request is not supplied.");
  }
  return *v;
}

std::string param_or(const ApiCall& call, std::string_view name, std::string fallback) {
  const std::string* v = find_param(call, name);
  if (v == nullptr || v->empty()) return fallback;
  return *v;
}

bool bool_param(const ApiCall& call, std::string_view name, bool fallback) {
  const std::string* v = find_param(call, name);
  if (v == nullptr || v->empty()) return fallback;
  if (iequals(*v, "true")) return true;
  if (iequals(*v, "false")) return false;
  fail(400, "InvalidParameter." + std::string(name),
       "The parameter \"" + std::string(name) + "\" must be true or false.");
}

long int_param(const ApiCall& call, std::string_view name, long fallback, long min, long max) {
  const std::string* v = find_param(call, name);
  if (v == nullptr || v->empty()) return fallback;
  long out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc{} || ptr != v->data() + v->size() || out < min || out > max) {
    fail(400, "InvalidParameter." + std::string(name),
         "The parameter \"" + std::string(name) + "\" must be an integer between " +
             std::to_string(min) + " and " + std::to_string(max) + ".");
  }
  return out;
}

std::map<int, std::map<std::string, std::string>> repeat_param(const ApiCall& call,
                                                               std::string_view name) {
  std::map<int, std::map<std::string, std::string>> out;
  std::string prefix = std::string(name) + ".";
  for (auto it = call.params.lower_bound(prefix);
       it != call.params.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string_view rest = std::string_view(it->first).substr(prefix.size());
    std::size_t dot = rest.find('.');
    std::string_view num = rest.substr(0, dot);
    int n = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc{} || ptr != num.data() + num.size() || n < 1) continue;
    std::string field = dot == std::string_view::npos ? "" : std::string(rest.substr(dot + 1));
    out[n][field] = it->second;
  }
  return out;
}

std::vector<std::pair<std::string, std::optional<std::string>>> ecs_tag_filter(
    const ApiCall& call) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto tags = repeat_param(call, "Tag");
  // ECS accepts Tag.1 .. Tag.20 on Describe* calls.
  if (!tags.empty() && tags.rbegin()->first > 20) {
    fail(400, "InvalidTagCount", "The number of specified tags exceeds the upper limit of 20.");
  }
  for (auto& [n, fields] : tags) {
    auto key = fields.find("Key");
    if (key == fields.end() || key->second.empty()) {
      fail(400, "InvalidTagKey.Malformed", "Tag." + std::to_string(n) + ".Key must be specified.");
    }
    auto value = fields.find("Value");
    out.emplace_back(key->second, value == fields.end()
                                      ? std::nullopt
                                      : std::optional<std::string>(value->second));
  }
  return out;
}

bool tags_match(const Tags& tags,
                const std::vector<std::pair<std::string, std::optional<std::string>>>& filter) {
  for (const auto& [k, v] : filter) {
    auto it = tags.find(k);
    if (it == tags.end()) return false;
    if (v && it->second != *v) return false;
  }
  return true;
}

std::string iso_seconds(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string iso_millis(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  long long rem = ms % 1000;
  if (rem < 0) rem += 1000;
  std::string s = iso_seconds(t);
  char buf[8];
  std::snprintf(buf, sizeof buf, ".%03lldZ", rem);
  s.pop_back();
  return s + buf;
}

std::optional<Clock::time_point> parse_iso(std::string_view text) {
  std::tm tm{};
  int y, mo, d, h, mi, s;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) {
    return std::nullopt;
  }
  if (str.empty() || str.back() != 'Z') return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return Clock::from_time_t(timegm(&tm));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_uid(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string offset_token(std::size_t offset) { return "ek" + std::to_string(offset); }

std::size_t parse_offset_token(std::string_view token, std::string_view param_name) {
  std::size_t out = 0;
  if (token.size() > 2 && token.substr(0, 2) == "ek") {
    auto [ptr, ec] = std::from_chars(token.data() + 2, token.data() + token.size(), out);
    if (ec == std::errc{} && ptr == token.data() + token.size()) return out;
  }
  fail(400, "InvalidParameter." + std::string(param_name),
       "The specified " + std::string(param_name) + " is not valid.");
}

Account* State::account(std::string_view uid) {
  for (auto& a : accounts) {
    if (a.uid == uid) return &a;
  }
  return nullptr;
}

const Account* State::account(std::string_view uid) const {
  for (const auto& a : accounts) {
    if (a.uid == uid) return &a;
  }
  return nullptr;
}

std::string State::next_id(std::string_view prefix, std::size_t digits) {
  // Deterministic, unique ids: tests and journal diffs stay stable across runs.
  std::string n = std::to_string(++counter);
  std::string pad = n.size() < digits ? std::string(digits - n.size(), '0') : "";
  return std::string(prefix) + pad + n;
}

const PolicyVersion* Policy::default_doc() const {
  for (const auto& v : versions) {
    if (v.id == default_version) return &v;
  }
  return nullptr;
}

bool KmsKey::is_service_key() const {
  for (const auto& a : aliases) {
    if (a.rfind("alias/acs/", 0) == 0) return true;
  }
  return !creator.empty() && !is_uid(creator);
}

Role* find_role(Account& acc, std::string_view name) {
  for (auto& r : acc.roles) {
    if (iequals(r.name, name)) return &r;
  }
  return nullptr;
}

const Role* find_role(const Account& acc, std::string_view name) {
  for (const auto& r : acc.roles) {
    if (iequals(r.name, name)) return &r;
  }
  return nullptr;
}

const KmsKey* find_key_in(const Account& acc, std::string_view key_id) {
  for (const auto& [region, r] : acc.regions) {
    for (const auto& k : r.kms_keys) {
      if (k.key_id == key_id) return &k;
      for (const auto& a : k.aliases) {
        if (a == key_id) return &k;
      }
    }
  }
  return nullptr;
}

std::string key_arn(const Account& acc, const KmsKey& key) {
  return "acs:kms:" + key.region + ":" + acc.uid + ":key/" + key.key_id;
}

ResourceRef find_resource(const State& state, std::string_view id) {
  for (const auto& acc : state.accounts) {
    for (const auto& [name, region] : acc.regions) {
      for (const auto& s : region.snapshots) {
        if (s.id == id) return {&acc, &s, nullptr};
      }
      for (const auto& i : region.images) {
        if (i.id == id) return {&acc, nullptr, &i};
      }
    }
  }
  return {};
}

const KmsKey* resource_key(const Account& owner, const ResourceRef& ref) {
  auto snapshot_key = [&](const Snapshot& s) -> const KmsKey* {
    if (!s.encrypted) return nullptr;
    return find_key_in(owner, s.kms_key_id);
  };
  if (ref.snapshot != nullptr) return snapshot_key(*ref.snapshot);
  if (ref.image != nullptr) {
    for (const auto& m : ref.image->mappings) {
      auto it = owner.regions.find(ref.image->region);
      if (it == owner.regions.end()) continue;
      for (const auto& s : it->second.snapshots) {
        if (s.id == m.snapshot_id) {
          if (const KmsKey* k = snapshot_key(s)) return k;
        }
      }
    }
  }
  return nullptr;
}

std::vector<std::string> folder_chain(const State& state, std::string_view folder_id) {
  std::vector<std::string> chain;
  if (!state.rd) return chain;
  std::string cur(folder_id);
  // Bounded walk: the seed loader rejects cycles, but never loop forever on a broken state.
  for (std::size_t i = 0; i <= state.rd->folder_parent.size() && !cur.empty(); ++i) {
    chain.push_back(cur);
    auto it = state.rd->folder_parent.find(cur);
    if (it == state.rd->folder_parent.end()) break;
    cur = it->second;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::string rd_path(const State& state, std::string_view uid) {
  if (!state.rd) return "";
  auto it = state.rd->account_folder.find(std::string(uid));
  if (it == state.rd->account_folder.end()) return "";
  std::string path = state.rd->id;
  for (const auto& f : folder_chain(state, it->second)) path += "/" + f;
  return path;
}

std::map<std::string, std::string> rd_context(const State& state, std::string_view uid) {
  std::map<std::string, std::string> ctx;
  std::string path = rd_path(state, uid);
  if (path.empty()) return ctx;
  ctx[std::string(wire::kRdIdConditionKey)] = state.rd->id;
  ctx[std::string(wire::kRdPathConditionKey)] = path;
  return ctx;
}

}  // namespace sharekeeper::emulator

namespace sharekeeper::emulator {

namespace {

Policy system_policy(std::string name, std::string description, std::string document) {
  Policy p;
  p.name = std::move(name);
  p.type = "System";
  p.description = std::move(description);
  p.default_version = "v1";
  p.next_version = 2;
  // System policies keep shapes such as "Action":"*" (a string, not a list), as RAM returns them.
  p.versions.push_back(PolicyVersion{"v1", std::move(document), Clock::from_time_t(1420070400)});
  p.created = p.updated = p.visible_at = Clock::from_time_t(1420070400);
  return p;
}

}  // namespace

const std::vector<Policy>& system_policies() {
  static const std::vector<Policy> kPolicies = [] {
    auto doc = [](std::string_view action) {
      return R"({"Version":"1","Statement":[{"Action":")" + std::string(action) +
             R"(","Resource":"*","Effect":"Allow"}]})";
    };
    std::vector<Policy> v;
    v.push_back(system_policy("AdministratorAccess", "管理所有阿里云资源的权限", doc("*")));
    v.push_back(
        system_policy("AliyunKMSFullAccess", "管理密钥管理服务（KMS）的权限", doc("kms:*")));
    v.push_back(system_policy(
        "AliyunKMSReadOnlyAccess", "只读访问密钥管理服务（KMS）的权限",
        R"({"Version":"1","Statement":[{"Action":["kms:Describe*","kms:List*","kms:Get*"],"Resource":"*","Effect":"Allow"}]})"));
    v.push_back(
        system_policy("AliyunECSFullAccess", "管理云服务器服务（ECS）的权限", doc("ecs:*")));
    v.push_back(system_policy(
        "AliyunECSReadOnlyAccess", "只读访问云服务器服务（ECS）的权限",
        R"({"Version":"1","Statement":[{"Action":["ecs:Describe*","ecs:List*"],"Resource":"*","Effect":"Allow"}]})"));
    v.push_back(system_policy("AliyunRAMFullAccess", "管理访问控制（RAM）的权限", doc("ram:*")));
    v.push_back(system_policy("AliyunSTSAssumeRoleAccess", "调用STS服务AssumeRole接口的权限",
                              doc("sts:AssumeRole")));
    v.push_back(system_policy("AliyunOSSFullAccess", "管理对象存储服务（OSS）权限", doc("oss:*")));
    v.push_back(system_policy("AliyunResourceSharingFullAccess", "管理资源共享的权限",
                              doc("resourcesharing:*")));
    // Attached to AliyunECSDiskEncryptDefaultRole ("加密云盘所需的权限"). Its real document was not
    // found in any public source; this one grants the KMS actions ECS needs on any key.
    v.push_back(system_policy(
        "AliyunECSDiskEncryptRolePolicy", "加密云盘所需的权限",
        R"({"Version":"1","Statement":[{"Action":["kms:List*","kms:Describe*","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":"*","Effect":"Allow"}]})"));
    return v;
  }();
  return kPolicies;
}

const Policy* find_policy(const Account& acc, std::string_view name, std::string_view type) {
  if (type.empty() || iequals(type, "Custom")) {
    for (const auto& p : acc.policies) {
      if (iequals(p.name, name)) return &p;
    }
  }
  if (type.empty() || iequals(type, "System")) {
    for (const auto& p : system_policies()) {
      if (iequals(p.name, name)) return &p;
    }
  }
  return nullptr;
}

}  // namespace sharekeeper::emulator
