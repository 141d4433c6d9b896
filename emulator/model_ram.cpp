// RAM (docs/alibaba-api.md §3): roles, custom policies and their versions, attachments, tags — with
// RAM's errors and limits. Names are looked up case-insensitively and answered in their canonical
// case; trust documents come back re-serialised (pretty-printed, keys sorted) so no client can
// byte-compare them; every document travels as a JSON string inside the JSON body.
#include <algorithm>
#include <cctype>

#include "emulator/model_state.hpp"
#include "emulator/policy_eval.hpp"
#include "support/wire.hpp"

namespace sharekeeper::emulator {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxRolesPerAccount = 1000;
constexpr std::size_t kMaxCustomPoliciesPerAccount = 1500;
constexpr std::size_t kMaxCustomPoliciesPerRole = 5;
constexpr std::size_t kMaxSystemPoliciesPerRole = 20;
constexpr std::size_t kMaxTagsPerResource = 20;
constexpr std::size_t kMaxTagResourceNames = 50;

struct Ctx {
  State& state;
  const ModelOptions& options;
  const ApiCall& call;
  Account& acc;
};

bool visible(Clock::time_point visible_at, const ApiCall& call) { return visible_at <= call.now; }

void check_name(const std::string& value, std::string_view param, std::size_t max, bool allow_dot) {
  if (value.empty() || value.size() > max) {
    fail(400, "InvalidParameter." + std::string(param) + ".Length",
         "The parameter " + std::string(param) + " must be 1-" + std::to_string(max) +
             " characters.");
  }
  for (char c : value) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || (allow_dot && c == '.');
    if (!ok) {
      fail(400, "InvalidParameter." + std::string(param) + ".InvalidChars",
           "The parameter " + std::string(param) + " contains invalid characters.");
    }
  }
}

void check_description(const ApiCall& call, std::string_view param) {
  const std::string* d = find_param(call, param);
  if (d != nullptr && d->size() > 1024) {
    fail(400, "InvalidParameter." + std::string(param) + ".Length",
         "The parameter " + std::string(param) + " must be at most 1024 characters.");
  }
}

json parse_document(const std::string& text, policy::DocKind kind, std::string_view param) {
  if (kind == policy::DocKind::Identity && text.size() > wire::kMaxPolicyDocumentChars) {
    fail(400, "InvalidParameter." + std::string(param) + ".Length",
         "The parameter " + std::string(param) + " must be at most 6144 characters.");
  }
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) fail(400, "MalformedPolicyDocument", "The policy is not valid JSON.");
  if (auto err = policy::validate(doc, kind)) fail(400, "MalformedPolicyDocument", *err);
  return doc;
}

Tags parse_tag_param(const ApiCall& call, std::string_view name) {
  Tags out;
  const std::string* raw = find_param(call, name);
  if (raw == nullptr || raw->empty()) return out;
  json tags = json::parse(*raw, nullptr, false);
  if (!tags.is_array()) {
    fail(400, "InvalidParameter.Tag", "The parameter Tag must be a JSON array of {Key, Value}.");
  }
  if (tags.size() > kMaxTagsPerResource) {
    fail(400, "InvalidParameter.Tag", "At most 20 tags may be given.");
  }
  for (const auto& t : tags) {
    if (!t.is_object() || !t.contains("Key") || !t["Key"].is_string() ||
        (t.contains("Value") && !t["Value"].is_string())) {
      fail(400, "InvalidParameter.Tag", R"(Each tag must be {"Key": string, "Value": string}.)");
    }
    std::string key = t["Key"];
    std::string value = t.value("Value", "");
    if (key.empty() || key.size() > 128 || value.size() > 256) {
      fail(400, "InvalidParameter.Tag", "Tag keys are 1-128 and values 0-256 characters.");
    }
    if (key.rfind("acs:", 0) == 0 || lower(key).rfind("aliyun", 0) == 0) {
      fail(400, "InvalidParameter.Tag", "Tag keys may not start with acs: or aliyun.");
    }
    out[key] = value;
  }
  return out;
}

std::vector<std::string> parse_name_list(const ApiCall& call, std::string_view name,
                                         bool required) {
  std::vector<std::string> out;
  const std::string* raw = find_param(call, name);
  if (raw == nullptr || raw->empty()) {
    if (required) required_param(call, name);
    return out;
  }
  json list = json::parse(*raw, nullptr, false);
  if (!list.is_array() ||
      !std::all_of(list.begin(), list.end(), [](const json& e) { return e.is_string(); })) {
    fail(400, "InvalidParameter." + std::string(name),
         "The parameter " + std::string(name) + " must be a JSON array of strings.");
  }
  for (const auto& e : list) out.push_back(e.get<std::string>());
  return out;
}

json tags_json(const Tags& tags) {
  json list = json::array();
  for (const auto& [k, v] : tags) list.push_back({{"TagKey", k}, {"TagValue", v}});
  return {{"Tag", list}};
}

std::string role_arn(const Account& acc, const Role& r) {
  // Real ARNs are frequently lower-cased (docs/alibaba-api.md §9); clients must compare
  // case-insensitively.
  return "acs:ram::" + acc.uid + ":role/" + lower(r.name);
}

json role_json(const Account& acc, const Role& r, bool with_trust) {
  json j = {{"RoleId", r.id},
            {"RoleName", r.name},
            {"Arn", role_arn(acc, r)},
            {"Description", r.description},
            {"CreateDate", iso_seconds(r.created)},
            {"UpdateDate", iso_seconds(r.updated)},
            {"MaxSessionDuration", r.max_session_duration}};
  // RAM re-serialises trust documents: 2-space indentation, keys sorted (docs/alibaba-api.md §3).
  if (with_trust) j["AssumeRolePolicyDocument"] = r.trust.dump(2);
  return j;
}

Role& role_or_404(Ctx& c, const std::string& name) {
  Role* r = find_role(c.acc, name);
  if (r == nullptr || !visible(r->visible_at, c.call)) {
    fail(404, "EntityNotExist.Role", "The role not exists: " + name + ".");
  }
  return *r;
}

std::string policy_type_param(const ApiCall& call, bool required) {
  std::string type =
      required ? required_param(call, "PolicyType") : param_or(call, "PolicyType", "");
  if (type.empty()) return type;
  if (iequals(type, "Custom")) return "Custom";
  if (iequals(type, "System")) return "System";
  fail(400, "InvalidParameter.PolicyType", "The parameter PolicyType must be System or Custom.");
}

const Policy& policy_or_404(Ctx& c, const std::string& name, const std::string& type) {
  const Policy* p = find_policy(c.acc, name, type);
  if (p == nullptr || !visible(p->visible_at, c.call)) {
    fail(404, "EntityNotExist.Policy", "The policy not exists: " + name + ".");
  }
  return *p;
}

Policy& custom_policy_or_404(Ctx& c, const std::string& name) {
  for (auto& p : c.acc.policies) {
    if (iequals(p.name, name) && visible(p.visible_at, c.call)) return p;
  }
  fail(404, "EntityNotExist.Policy", "The policy not exists: " + name + ".");
}

int attachment_count(const Account& acc, const Policy& p) {
  int n = 0;
  for (const auto& r : acc.roles) {
    for (const auto& a : r.attachments) {
      if (a.policy_name == p.name && a.policy_type == p.type) ++n;
    }
  }
  return n;
}

json version_json(const Policy& p, const PolicyVersion& v) {
  return {{"VersionId", v.id},
          {"IsDefaultVersion", v.id == p.default_version},
          {"PolicyDocument", v.document},
          {"CreateDate", iso_seconds(v.created)}};
}

const PolicyVersion& version_or_404(const Policy& p, const std::string& id) {
  for (const auto& v : p.versions) {
    if (v.id == id) return v;
  }
  fail(404, "EntityNotExist.Policy.Version",
       "The policy version not exists: " + p.name + " " + id + ".");
}

struct Page {
  std::size_t begin;
  std::size_t end;
  bool truncated;
};

Page marker_page(const ApiCall& call, std::size_t total) {
  long max_items = int_param(call, "MaxItems", 100, 1, 1000);
  std::size_t begin = 0;
  if (const std::string* m = find_param(call, "Marker"); m != nullptr && !m->empty()) {
    begin = std::min(parse_offset_token(*m, "Marker"), total);
  }
  std::size_t end = std::min(total, begin + static_cast<std::size_t>(max_items));
  return {begin, end, end < total};
}

// --- roles -------------------------------------------------------------------------------------

ApiResponse create_role(Ctx& c) {
  std::string name = required_param(c.call, "RoleName");
  check_name(name, "RoleName", 64, true);
  std::string doc_text = required_param(c.call, "AssumeRolePolicyDocument");
  check_description(c.call, "Description");
  long max_session = int_param(c.call, "MaxSessionDuration", 3600, 3600, 43200);
  json trust = parse_document(doc_text, policy::DocKind::Trust, "AssumeRolePolicyDocument");
  Tags tags = parse_tag_param(c.call, "Tag");
  // Existence ignores the consistency lag: a second create always conflicts.
  if (Role* existing = find_role(c.acc, name)) {
    fail(409, "EntityAlreadyExists.Role", "The role already exists: " + existing->name + ".");
  }
  if (c.acc.roles.size() >= kMaxRolesPerAccount) {
    fail(409, "LimitExceeded.Role", "The count of roles beyond the current limits: 1000.");
  }
  Role r;
  r.id = c.state.next_id("3", 17);
  r.name = name;
  r.description = param_or(c.call, "Description", "");
  r.trust = std::move(trust);
  r.max_session_duration = static_cast<int>(max_session);
  r.created = r.updated = std::chrono::time_point_cast<std::chrono::seconds>(c.call.now);
  r.visible_at = c.call.now + c.options.consistency_lag;
  r.tags = std::move(tags);
  c.acc.roles.push_back(r);
  json role = role_json(c.acc, r, true);
  role.erase("UpdateDate");
  return ok(c.call, {{"Role", role}});
}

ApiResponse get_role(Ctx& c) {
  const Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  return ok(c.call, {{"Role", role_json(c.acc, r, true)}});
}

ApiResponse update_role(Ctx& c) {
  Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  std::optional<json> trust;
  if (const std::string* d = find_param(c.call, "NewAssumeRolePolicyDocument"); d && !d->empty()) {
    trust = parse_document(*d, policy::DocKind::Trust, "NewAssumeRolePolicyDocument");
  }
  check_description(c.call, "NewDescription");
  long max_session =
      int_param(c.call, "NewMaxSessionDuration", r.max_session_duration, 3600, 43200);
  if (trust) r.trust = std::move(*trust);
  if (const std::string* d = find_param(c.call, "NewDescription")) r.description = *d;
  r.max_session_duration = static_cast<int>(max_session);
  r.updated = std::chrono::time_point_cast<std::chrono::seconds>(c.call.now);
  return ok(c.call, {{"Role", role_json(c.acc, r, true)}});
}

ApiResponse delete_role(Ctx& c) {
  Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  if (!r.attachments.empty()) {
    fail(409, "DeleteConflict.Role.Policy",
         "The role still has policies attached: " + r.name + ". Detach them first.");
  }
  std::string id = r.id;
  std::erase_if(c.acc.roles, [&](const Role& x) { return x.id == id; });
  return ok(c.call);
}

ApiResponse list_roles(Ctx& c) {
  Tags filter = parse_tag_param(c.call, "Tag");
  std::vector<const Role*> roles;
  for (const auto& r : c.acc.roles) {
    if (!visible(r.visible_at, c.call)) continue;
    bool match = std::all_of(filter.begin(), filter.end(), [&](const auto& kv) {
      auto it = r.tags.find(kv.first);
      return it != r.tags.end() && (kv.second.empty() || it->second == kv.second);
    });
    if (match) roles.push_back(&r);
  }
  Page page = marker_page(c.call, roles.size());
  json list = json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) {
    json r = role_json(c.acc, *roles[i], false);  // ListRoles carries no trust document
    r["Tags"] = tags_json(roles[i]->tags);
    list.push_back(r);
  }
  json body = {{"IsTruncated", page.truncated}, {"Roles", {{"Role", list}}}};
  if (page.truncated) body["Marker"] = offset_token(page.end);
  return ok(c.call, body);
}

// --- policies ----------------------------------------------------------------------------------

json policy_json(const Account& acc, const Policy& p) {
  return {{"PolicyName", p.name},
          {"PolicyType", p.type},
          {"Description", p.description},
          {"DefaultVersion", p.default_version},
          {"AttachmentCount", attachment_count(acc, p)},
          {"CreateDate", iso_seconds(p.created)},
          {"UpdateDate", iso_seconds(p.updated)}};
}

ApiResponse create_policy(Ctx& c) {
  std::string name = required_param(c.call, "PolicyName");
  check_name(name, "PolicyName", 128, false);
  std::string text = required_param(c.call, "PolicyDocument");
  check_description(c.call, "Description");
  parse_document(text, policy::DocKind::Identity, "PolicyDocument");
  Tags tags = parse_tag_param(c.call, "Tag");
  if (const Policy* existing = find_policy(c.acc, name, "")) {
    fail(409, "EntityAlreadyExists.Policy", "The policy already exists: " + existing->name + ".");
  }
  if (c.acc.policies.size() >= kMaxCustomPoliciesPerAccount) {
    fail(409, "LimitExceeded.Policy", "The count of policies beyond the current limits: 1500.");
  }
  Policy p;
  p.name = name;
  p.type = "Custom";
  p.description = param_or(c.call, "Description", "");
  p.created = p.updated = std::chrono::time_point_cast<std::chrono::seconds>(c.call.now);
  p.visible_at = c.call.now + c.options.consistency_lag;
  // Custom documents are stored and returned as submitted (docs/alibaba-api.md §3).
  p.versions.push_back(PolicyVersion{"v1", text, p.created});
  p.default_version = "v1";
  p.next_version = 2;
  p.tags = std::move(tags);
  c.acc.policies.push_back(p);
  return ok(c.call, {{"Policy",
                      {{"PolicyName", p.name},
                       {"PolicyType", p.type},
                       {"Description", p.description},
                       {"DefaultVersion", p.default_version},
                       {"CreateDate", iso_seconds(p.created)}}}});
}

ApiResponse get_policy(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  const Policy& p = policy_or_404(c, required_param(c.call, "PolicyName"), type);
  json policy = policy_json(c.acc, p);
  const PolicyVersion* v = p.default_doc();
  policy["PolicyDocument"] = v ? v->document : "";
  json body = {{"Policy", policy}};
  if (v) body["DefaultPolicyVersion"] = version_json(p, *v);
  return ok(c.call, body);
}

ApiResponse delete_policy(Ctx& c) {
  Policy& p = custom_policy_or_404(c, required_param(c.call, "PolicyName"));
  if (attachment_count(c.acc, p) > 0) {
    fail(409, "DeleteConflict.Role.Policy",
         "The policy is still attached to roles: " + p.name + ". Detach it first.");
  }
  bool cascade = bool_param(c.call, "CascadingDelete", false);
  if (p.versions.size() > 1 && !cascade) {
    fail(409, "DeleteConflict.Policy.Version",
         "The policy still has non-default versions: " + p.name + ".");
  }
  std::string name = p.name;
  std::erase_if(c.acc.policies, [&](const Policy& x) { return x.name == name; });
  return ok(c.call);
}

ApiResponse list_policies(Ctx& c) {
  std::string type = policy_type_param(c.call, false);
  std::vector<const Policy*> all;
  if (type.empty() || type == "System") {
    for (const auto& p : system_policies()) all.push_back(&p);
  }
  if (type.empty() || type == "Custom") {
    for (const auto& p : c.acc.policies) {
      if (visible(p.visible_at, c.call)) all.push_back(&p);
    }
  }
  Page page = marker_page(c.call, all.size());
  json list = json::array();
  for (std::size_t i = page.begin; i < page.end; ++i) list.push_back(policy_json(c.acc, *all[i]));
  json body = {{"IsTruncated", page.truncated}, {"Policies", {{"Policy", list}}}};
  if (page.truncated) body["Marker"] = offset_token(page.end);
  return ok(c.call, body);
}

ApiResponse create_policy_version(Ctx& c) {
  Policy& p = custom_policy_or_404(c, required_param(c.call, "PolicyName"));
  std::string text = required_param(c.call, "PolicyDocument");
  parse_document(text, policy::DocKind::Identity, "PolicyDocument");
  bool set_default = bool_param(c.call, "SetAsDefault", false);
  std::string rotate = param_or(c.call, "RotateStrategy", "None");
  if (rotate != "None" && rotate != "DeleteOldestNonDefaultVersionWhenLimitExceeded") {
    fail(400, "InvalidParameter.RotateStrategy",
         "RotateStrategy must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded.");
  }
  if (p.versions.size() >= wire::kMaxPolicyVersions) {
    if (rotate == "None") {
      fail(409, "LimitExceeded.Policy.Version",
           "Exceeded the maximum number of 5 versions of policy " + p.name + ".");
    }
    auto oldest = std::find_if(p.versions.begin(), p.versions.end(),
                               [&](const PolicyVersion& v) { return v.id != p.default_version; });
    p.versions.erase(oldest);
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(c.call.now);
  // Version numbers only increase (v6 after v1..v5 even when v1 was rotated out).
  p.versions.push_back(PolicyVersion{"v" + std::to_string(p.next_version++), text, now});
  if (set_default) p.default_version = p.versions.back().id;
  p.updated = now;
  return ok(c.call, {{"PolicyVersion", version_json(p, p.versions.back())}});
}

ApiResponse get_policy_version(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  const Policy& p = policy_or_404(c, required_param(c.call, "PolicyName"), type);
  const PolicyVersion& v = version_or_404(p, required_param(c.call, "VersionId"));
  return ok(c.call, {{"PolicyVersion", version_json(p, v)}});
}

ApiResponse list_policy_versions(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  const Policy& p = policy_or_404(c, required_param(c.call, "PolicyName"), type);
  json list = json::array();
  for (const auto& v : p.versions) list.push_back(version_json(p, v));
  return ok(c.call, {{"PolicyVersions", {{"PolicyVersion", list}}}});
}

ApiResponse delete_policy_version(Ctx& c) {
  Policy& p = custom_policy_or_404(c, required_param(c.call, "PolicyName"));
  std::string id = required_param(c.call, "VersionId");
  version_or_404(p, id);
  if (id == p.default_version) {
    fail(409, "DeleteConflict.Policy.Version.Default",
         "The default version of a policy cannot be deleted: " + p.name + " " + id + ".");
  }
  std::erase_if(p.versions, [&](const PolicyVersion& v) { return v.id == id; });
  return ok(c.call);
}

ApiResponse set_default_policy_version(Ctx& c) {
  Policy& p = custom_policy_or_404(c, required_param(c.call, "PolicyName"));
  std::string id = required_param(c.call, "VersionId");
  version_or_404(p, id);
  p.default_version = id;
  p.updated = std::chrono::time_point_cast<std::chrono::seconds>(c.call.now);
  return ok(c.call);
}

// --- attachments -------------------------------------------------------------------------------

ApiResponse attach_policy_to_role(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  std::string policy_name = required_param(c.call, "PolicyName");
  Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  const Policy& p = policy_or_404(c, policy_name, type);
  std::size_t same_type = 0;
  for (const auto& a : r.attachments) {
    if (a.policy_name == p.name && a.policy_type == p.type) {
      fail(409, "EntityAlreadyExists.Role.Policy",
           "The policy is already attached to the role: " + p.name + ".");
    }
    if (a.policy_type == p.type) ++same_type;
  }
  std::size_t limit = p.type == "Custom" ? kMaxCustomPoliciesPerRole : kMaxSystemPoliciesPerRole;
  if (same_type >= limit) {
    fail(409, "LimitExceeded.Role.Policy",
         "The count of " + p.type + " policies attached to role " + r.name +
             " beyond the current limits: " + std::to_string(limit) + ".");
  }
  r.attachments.push_back(
      Attachment{p.name, p.type, std::chrono::time_point_cast<std::chrono::seconds>(c.call.now)});
  return ok(c.call);
}

ApiResponse detach_policy_from_role(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  std::string policy_name = required_param(c.call, "PolicyName");
  Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  const Policy& p = policy_or_404(c, policy_name, type);
  auto before = r.attachments.size();
  std::erase_if(r.attachments, [&](const Attachment& a) {
    return a.policy_name == p.name && a.policy_type == p.type;
  });
  if (r.attachments.size() == before) {
    fail(404, "EntityNotExist.Role.Policy",
         "The policy is not attached to the role: " + p.name + ".");
  }
  return ok(c.call);
}

ApiResponse list_policies_for_role(Ctx& c) {
  const Role& r = role_or_404(c, required_param(c.call, "RoleName"));
  json list = json::array();
  for (const auto& a : r.attachments) {
    const Policy* p = find_policy(c.acc, a.policy_name, a.policy_type);
    list.push_back({{"PolicyName", a.policy_name},
                    {"PolicyType", a.policy_type},
                    {"Description", p ? p->description : ""},
                    {"DefaultVersion", p ? p->default_version : ""},
                    {"AttachDate", iso_seconds(a.attached)}});
  }
  return ok(c.call, {{"Policies", {{"Policy", list}}}});
}

ApiResponse list_entities_for_policy(Ctx& c) {
  std::string type = policy_type_param(c.call, true);
  const Policy& p = policy_or_404(c, required_param(c.call, "PolicyName"), type);
  json roles = json::array();
  for (const auto& r : c.acc.roles) {
    for (const auto& a : r.attachments) {
      if (a.policy_name == p.name && a.policy_type == p.type) {
        roles.push_back({{"RoleName", r.name},
                         {"RoleId", r.id},
                         {"Arn", role_arn(c.acc, r)},
                         {"Description", r.description},
                         {"AttachDate", iso_seconds(a.attached)}});
      }
    }
  }
  return ok(c.call, {{"Roles", {{"Role", roles}}},
                     {"Users", {{"User", json::array()}}},
                     {"Groups", {{"Group", json::array()}}}});
}

// --- tags --------------------------------------------------------------------------------------

std::string resource_type_param(const ApiCall& call) {
  std::string type = required_param(call, "ResourceType");
  if (type != "role" && type != "policy") {
    fail(400, "InvalidParameter.ResourceType", "ResourceType must be role or policy.");
  }
  return type;
}

Tags& taggable(Ctx& c, const std::string& type, const std::string& name) {
  if (type == "role") return role_or_404(c, name).tags;
  return custom_policy_or_404(c, name).tags;
}

std::vector<std::string> resource_names(Ctx& c, bool required) {
  auto names = parse_name_list(c.call, "ResourceNames", required);
  if (names.size() > kMaxTagResourceNames) {
    fail(400, "InvalidParameter.ResourceNames", "At most 50 ResourceNames may be given.");
  }
  return names;
}

ApiResponse tag_resources(Ctx& c) {
  std::string type = resource_type_param(c.call);
  auto names = resource_names(c, true);
  Tags tags = parse_tag_param(c.call, "Tag");
  if (tags.empty()) required_param(c.call, "Tag");
  // Validate every resource before changing any.
  for (const auto& n : names) {
    Tags merged = taggable(c, type, n);
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > kMaxTagsPerResource) {
      fail(400, "InvalidParameter.Tag", "A resource carries at most 20 tags: " + n + ".");
    }
  }
  for (const auto& n : names) {
    for (const auto& [k, v] : tags) taggable(c, type, n)[k] = v;
  }
  return ok(c.call);
}

ApiResponse untag_resources(Ctx& c) {
  std::string type = resource_type_param(c.call);
  auto names = resource_names(c, true);
  bool all = bool_param(c.call, "All", false);
  auto keys = parse_name_list(c.call, "TagKeys", !all);
  for (const auto& n : names) taggable(c, type, n);
  for (const auto& n : names) {
    Tags& t = taggable(c, type, n);
    if (all) {
      t.clear();
    } else {
      for (const auto& k : keys) t.erase(k);
    }
  }
  return ok(c.call);
}

ApiResponse list_tag_resources(Ctx& c) {
  std::string type = resource_type_param(c.call);
  auto names = resource_names(c, false);
  Tags filter = parse_tag_param(c.call, "Tag");
  long page_size = int_param(c.call, "PageSize", 50, 1, 100);
  std::vector<std::pair<std::string, const Tags*>> resources;
  if (names.empty()) {
    if (type == "role") {
      for (const auto& r : c.acc.roles) {
        if (visible(r.visible_at, c.call)) resources.emplace_back(r.name, &r.tags);
      }
    } else {
      for (const auto& p : c.acc.policies) {
        if (visible(p.visible_at, c.call)) resources.emplace_back(p.name, &p.tags);
      }
    }
  } else {
    for (const auto& n : names) {
      const Tags& t = taggable(c, type, n);
      std::string canonical =
          type == "role" ? role_or_404(c, n).name : custom_policy_or_404(c, n).name;
      resources.emplace_back(canonical, &t);
    }
  }
  json all = json::array();
  for (const auto& [name, tags] : resources) {
    // An init-capture: clang before 16 cannot capture a structured binding.
    bool match = std::all_of(filter.begin(), filter.end(), [&tags = tags](const auto& kv) {
      auto it = tags->find(kv.first);
      return it != tags->end() && (kv.second.empty() || it->second == kv.second);
    });
    if (!match) continue;
    for (const auto& [k, v] : *tags) {
      all.push_back(
          {{"ResourceType", type}, {"ResourceName", name}, {"TagKey", k}, {"TagValue", v}});
    }
  }
  std::size_t begin = 0;
  if (const std::string* t = find_param(c.call, "NextToken"); t != nullptr && !t->empty()) {
    begin = std::min(parse_offset_token(*t, "NextToken"), all.size());
  }
  std::size_t end = std::min(all.size(), begin + static_cast<std::size_t>(page_size));
  json page = json::array();
  for (std::size_t i = begin; i < end; ++i) page.push_back(all[i]);
  // Bare array, unlike the rest of RAM (docs/alibaba-api.md §3).
  json body = {{"TagResources", page}};
  if (end < all.size()) body["NextToken"] = offset_token(end);
  return ok(c.call, body);
}

using Handler = ApiResponse (*)(Ctx&);

const std::map<std::string, Handler, std::less<>>& handlers() {
  static const std::map<std::string, Handler, std::less<>> kHandlers = {
      {"CreateRole", create_role},
      {"GetRole", get_role},
      {"UpdateRole", update_role},
      {"DeleteRole", delete_role},
      {"ListRoles", list_roles},
      {"CreatePolicy", create_policy},
      {"GetPolicy", get_policy},
      {"DeletePolicy", delete_policy},
      {"ListPolicies", list_policies},
      {"CreatePolicyVersion", create_policy_version},
      {"GetPolicyVersion", get_policy_version},
      {"ListPolicyVersions", list_policy_versions},
      {"DeletePolicyVersion", delete_policy_version},
      {"SetDefaultPolicyVersion", set_default_policy_version},
      {"AttachPolicyToRole", attach_policy_to_role},
      {"DetachPolicyFromRole", detach_policy_from_role},
      {"ListPoliciesForRole", list_policies_for_role},
      {"ListEntitiesForPolicy", list_entities_for_policy},
      {"TagResources", tag_resources},
      {"UntagResources", untag_resources},
      {"ListTagResources", list_tag_resources},
  };
  return kHandlers;
}

}  // namespace

ApiResponse ram_call(State& state, const ModelOptions& options, const ApiCall& call) {
  auto it = handlers().find(call.action);
  if (it == handlers().end()) {
    fail(404, "InvalidAction.NotFound",
         "Specified api is not found, please check your url and method.");
  }
  Ctx c{state, options, call, *state.account(call.caller.account_uid)};
  return it->second(c);
}

}  // namespace sharekeeper::emulator
