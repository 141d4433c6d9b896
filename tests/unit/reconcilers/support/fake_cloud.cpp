#include "tests/unit/reconcilers/support/fake_cloud.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "cloud/request_ids.hpp"

namespace sharekeeper::testing {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool has_tags(const std::vector<cloud::Tag>& have, const std::vector<cloud::Tag>& want) {
  return std::all_of(want.begin(), want.end(), [&](const cloud::Tag& w) {
    return std::find(have.begin(), have.end(), w) != have.end();
  });
}

bool parses(std::string_view doc) {
  try {
    auto j = nlohmann::json::parse(doc);
    return j.is_object();
  } catch (...) {
    return false;
  }
}

constexpr std::size_t kMaxDoc = 6144;

}  // namespace

cloud::Error FakeCloud::error(const std::string& action, const std::string& code,
                              cloud::ErrorClass cls, int status, const std::string& message) const {
  cloud::Error e;
  e.product = "fake";
  e.action = action;
  e.code = code;
  e.cls = cls;
  e.http_status = status;
  e.message = message.empty() ? code : message;
  e.request_id = "fake-request";
  return e;
}

std::optional<cloud::Error> FakeCloud::enter(const std::string& action, bool write,
                                             std::optional<cloud::Error>* after_commit) {
  ++calls_[action];
  ++requests_;
  if (write) {
    ++writes_;
  }
  for (auto& f : faults_) {
    if (f.action != action || f.times <= 0) continue;
    if (f.skip > 0) {
      --f.skip;
      continue;
    }
    --f.times;
    int status = f.cls == cloud::ErrorClass::kOutcomeUnknown ? 0 : 500;
    auto e = error(action, f.code, f.cls, status, "injected fault");
    if (f.after_commit && after_commit != nullptr) {
      *after_commit = e;
      return std::nullopt;
    }
    return e;
  }
  // Like AlibabaClient: a call that answers reports its RequestId to the thread's collectors.
  if (write) cloud::note_call(action, "fake-" + action + "-" + std::to_string(requests_), false);
  return std::nullopt;
}

FakeCloud::RoleState* FakeCloud::find_role(std::string_view name) {
  auto it = roles_.find(lower(name));
  return it == roles_.end() ? nullptr : &it->second;
}
const FakeCloud::RoleState* FakeCloud::find_role(std::string_view name) const {
  auto it = roles_.find(lower(name));
  return it == roles_.end() ? nullptr : &it->second;
}

// ---- seeding

void FakeCloud::add_role(const std::string& name, const std::string& trust,
                         std::vector<cloud::Tag> tags) {
  std::lock_guard<std::mutex> lock(mu_);
  RoleState r;
  r.role.role_name = name;
  r.role.role_id = "3" + std::to_string(roles_.size() + 100000);
  r.role.arn = "acs:ram::" + uid_ + ":role/" + lower(name);
  r.role.trust_policy = trust;
  r.tags = std::move(tags);
  roles_[lower(name)] = std::move(r);
}

void FakeCloud::add_policy(const std::string& name, const std::string& document,
                           std::vector<cloud::Tag> tags) {
  std::lock_guard<std::mutex> lock(mu_);
  PolicyState p;
  p.name = name;
  p.tags = std::move(tags);
  p.versions.push_back({"v1", true, document, "2026-01-01T00:00:01Z"});
  p.next_version = 2;
  policies_[name] = std::move(p);
}

void FakeCloud::add_policy_version(const std::string& name, const std::string& document,
                                   bool set_default) {
  std::lock_guard<std::mutex> lock(mu_);
  PolicyState& p = policies_.at(name);
  if (set_default)
    for (auto& v : p.versions) v.is_default = false;
  int n = p.next_version++;
  p.versions.push_back(
      {"v" + std::to_string(n), set_default, document,
       "2026-01-01T00:00:" + std::string(n < 10 ? "0" : "") + std::to_string(n) + "Z"});
}

void FakeCloud::attach(const std::string& role, const std::string& type,
                       const std::string& policy) {
  std::lock_guard<std::mutex> lock(mu_);
  find_role(role)->attached.emplace_back(type, policy);
}

void FakeCloud::add_snapshot(const std::string& region, const std::string& id,
                             const std::string& key_id, std::vector<cloud::Tag> tags) {
  std::lock_guard<std::mutex> lock(mu_);
  cloud::Snapshot s;
  s.snapshot_id = id;
  s.region_id = region;
  s.status = "accomplished";
  s.encrypted = !key_id.empty();
  s.kms_key_id = key_id;
  s.tags = std::move(tags);
  snapshots_[region].push_back(std::move(s));
}

void FakeCloud::add_image(const std::string& region, const std::string& id,
                          const std::vector<std::string>& snapshot_ids,
                          std::vector<cloud::Tag> tags) {
  std::lock_guard<std::mutex> lock(mu_);
  cloud::Image img;
  img.image_id = id;
  img.owner_id = uid_;
  img.status = "Available";
  for (std::size_t i = 0; i < snapshot_ids.size(); ++i)
    img.disks.push_back(
        {snapshot_ids[i], i == 0 ? "system" : "data", "/dev/xvd" + std::string(1, char('a' + i))});
  img.tags = std::move(tags);
  images_[region].push_back(std::move(img));
}

void FakeCloud::add_key(const std::string& region, const std::string& key_id,
                        const std::string& state, const std::string& creator,
                        std::vector<std::string> aliases) {
  std::lock_guard<std::mutex> lock(mu_);
  KeyState k;
  k.meta.key_id = key_id;
  k.meta.arn = "acs:kms:" + region + ":" + uid_ + ":key/" + key_id;
  k.meta.creator = creator.empty() ? uid_ : creator;
  k.meta.key_state = state;
  k.meta.key_usage = "ENCRYPT/DECRYPT";
  k.meta.key_spec = "Aliyun_AES_256";
  k.aliases = std::move(aliases);
  keys_[region][key_id] = std::move(k);
}

void FakeCloud::set_caller_uid(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  caller_uid_ = uid;
}

// ---- inspection

std::optional<FakeCloud::RoleState> FakeCloud::role(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const RoleState* r = find_role(name);
  if (r == nullptr) return std::nullopt;
  return *r;
}

std::optional<FakeCloud::PolicyState> FakeCloud::policy(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = policies_.find(name);
  if (it == policies_.end()) return std::nullopt;
  return it->second;
}

std::string FakeCloud::default_document(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = policies_.find(name);
  if (it == policies_.end()) return "";
  for (const auto& v : it->second.versions)
    if (v.is_default) return v.document;
  return "";
}

std::vector<std::string> FakeCloud::attached_to(const std::string& role) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  const RoleState* r = find_role(role);
  if (r == nullptr) return out;
  for (const auto& [t, n] : r->attached) out.push_back(t + ":" + n);
  std::sort(out.begin(), out.end());
  return out;
}

int FakeCloud::calls(const std::string& action) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(action);
  return it == calls_.end() ? 0 : it->second;
}

int FakeCloud::total_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [a, c] : calls_) n += c;
  return n;
}

int FakeCloud::write_calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

int FakeCloud::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeCloud::reset_counters() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
  writes_ = 0;
  requests_ = 0;
  journal_.clear();
}

void FakeCloud::inject(Fault f) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(f));
}

void FakeCloud::clear_faults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::vector<std::string> FakeCloud::journal() const {
  std::lock_guard<std::mutex> lock(mu_);
  return journal_;
}

// ---- CloudApi

cloud::Result<cloud::CallerIdentity> FakeCloud::get_caller_identity() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("GetCallerIdentity", false, nullptr)) return *e;
  cloud::CallerIdentity id;
  id.account_id = caller_uid_.empty() ? uid_ : caller_uid_;
  id.arn = "acs:ram::" + id.account_id + ":root";
  id.identity_type = "Account";
  id.principal_id = id.account_id;
  return id;
}

cloud::Result<std::optional<cloud::Role>> FakeCloud::get_role(std::string_view role_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("GetRole", false, nullptr)) return *e;
  const RoleState* r = find_role(role_name);
  if (r == nullptr) return std::optional<cloud::Role>{};
  return std::optional<cloud::Role>{r->role};
}

cloud::Result<cloud::Role> FakeCloud::create_role(std::string_view role_name,
                                                  std::string_view trust_policy,
                                                  std::string_view description,
                                                  const std::vector<cloud::Tag>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("CreateRole", true, &late)) return *e;
  if (find_role(role_name) != nullptr)
    return error("CreateRole", "EntityAlreadyExists.Role", cloud::ErrorClass::kConflict, 409);
  if (!parses(trust_policy))
    return error("CreateRole", "MalformedPolicyDocument", cloud::ErrorClass::kTerminal, 400);
  RoleState r;
  r.role.role_name = std::string(role_name);
  r.role.role_id = "3" + std::to_string(roles_.size() + 100000);
  r.role.arn = "acs:ram::" + uid_ + ":role/" + lower(role_name);
  r.role.description = std::string(description);
  r.role.trust_policy = std::string(trust_policy);
  r.tags = tags;
  cloud::Role out = r.role;
  roles_[lower(role_name)] = std::move(r);
  journal_.push_back("CreateRole " + std::string(role_name));
  if (late) return *late;
  return out;
}

cloud::Result<cloud::Role> FakeCloud::update_role_trust_policy(std::string_view role_name,
                                                               std::string_view trust_policy) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("UpdateRole", true, &late)) return *e;
  RoleState* r = find_role(role_name);
  if (r == nullptr)
    return error("UpdateRole", "EntityNotExist.Role", cloud::ErrorClass::kNotFound, 404);
  if (!parses(trust_policy))
    return error("UpdateRole", "MalformedPolicyDocument", cloud::ErrorClass::kTerminal, 400);
  r->role.trust_policy = std::string(trust_policy);
  journal_.push_back("UpdateRole " + std::string(role_name));
  if (late) return *late;
  return r->role;
}

cloud::Result<std::vector<cloud::AttachedPolicy>> FakeCloud::list_policies_for_role(
    std::string_view role_name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListPoliciesForRole", false, nullptr)) return *e;
  const RoleState* r = find_role(role_name);
  if (r == nullptr)
    return error("ListPoliciesForRole", "EntityNotExist.Role", cloud::ErrorClass::kNotFound, 404);
  std::vector<cloud::AttachedPolicy> out;
  for (const auto& [t, n] : r->attached) {
    cloud::AttachedPolicy a;
    a.policy_type = t;
    a.policy_name = n;
    if (auto it = policies_.find(n); t == "Custom" && it != policies_.end())
      for (const auto& v : it->second.versions)
        if (v.is_default) a.default_version = v.version_id;
    out.push_back(a);
  }
  return out;
}

cloud::Result<std::optional<cloud::Policy>> FakeCloud::get_policy(std::string_view policy_name,
                                                                  std::string_view policy_type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("GetPolicy", false, nullptr)) return *e;
  if (policy_type == "System") {
    cloud::Policy p;
    p.policy_name = std::string(policy_name);
    p.policy_type = "System";
    p.default_version = "v1";
    return std::optional<cloud::Policy>{p};
  }
  auto it = policies_.find(std::string(policy_name));
  if (it == policies_.end()) return std::optional<cloud::Policy>{};
  cloud::Policy p;
  p.policy_name = it->second.name;
  p.policy_type = "Custom";
  for (const auto& v : it->second.versions)
    if (v.is_default) {
      p.default_version = v.version_id;
      p.default_document = v.document;
    }
  return std::optional<cloud::Policy>{p};
}

cloud::Result<std::vector<cloud::PolicyVersion>> FakeCloud::list_policy_versions(
    std::string_view policy_name, std::string_view /*type*/) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListPolicyVersions", false, nullptr)) return *e;
  auto it = policies_.find(std::string(policy_name));
  if (it == policies_.end())
    return error("ListPolicyVersions", "EntityNotExist.Policy", cloud::ErrorClass::kNotFound, 404);
  return it->second.versions;
}

cloud::Result<cloud::Policy> FakeCloud::create_policy(std::string_view policy_name,
                                                      std::string_view document,
                                                      std::string_view description,
                                                      const std::vector<cloud::Tag>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("CreatePolicy", true, &late)) return *e;
  if (policies_.count(std::string(policy_name)) != 0U)
    return error("CreatePolicy", "EntityAlreadyExists.Policy", cloud::ErrorClass::kConflict, 409);
  if (document.size() > kMaxDoc)
    return error("CreatePolicy", "InvalidParameter.PolicyDocument.Length",
                 cloud::ErrorClass::kTerminal, 400);
  if (!parses(document))
    return error("CreatePolicy", "MalformedPolicyDocument", cloud::ErrorClass::kTerminal, 400);
  PolicyState p;
  p.name = std::string(policy_name);
  p.description = std::string(description);
  p.tags = tags;
  p.versions.push_back({"v1", true, std::string(document), "2026-01-01T00:00:01Z"});
  p.next_version = 2;
  policies_[p.name] = p;
  journal_.push_back("CreatePolicy " + p.name);
  if (late) return *late;
  cloud::Policy out;
  out.policy_name = p.name;
  out.policy_type = "Custom";
  out.default_version = "v1";
  out.default_document = std::string(document);
  return out;
}

cloud::Result<cloud::PolicyVersion> FakeCloud::create_policy_version(std::string_view policy_name,
                                                                     std::string_view document,
                                                                     bool set_as_default,
                                                                     bool rotate) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("CreatePolicyVersion", true, &late)) return *e;
  auto it = policies_.find(std::string(policy_name));
  if (it == policies_.end())
    return error("CreatePolicyVersion", "EntityNotExist.Policy", cloud::ErrorClass::kNotFound, 404);
  if (document.size() > kMaxDoc)
    return error("CreatePolicyVersion", "InvalidParameter.PolicyDocument.Length",
                 cloud::ErrorClass::kTerminal, 400);
  PolicyState& p = it->second;
  if (p.versions.size() >= 5) {
    if (!rotate)
      return error("CreatePolicyVersion", "LimitExceeded.Policy.Version",
                   cloud::ErrorClass::kConflict, 409);
    auto oldest = std::find_if(p.versions.begin(), p.versions.end(),
                               [](const auto& v) { return !v.is_default; });
    p.versions.erase(oldest);
  }
  if (set_as_default)
    for (auto& v : p.versions) v.is_default = false;
  int n = p.next_version++;
  cloud::PolicyVersion v{
      "v" + std::to_string(n), set_as_default, std::string(document),
      "2026-01-01T00:00:" + std::string(n < 10 ? "0" : "") + std::to_string(n) + "Z"};
  p.versions.push_back(v);
  journal_.push_back("CreatePolicyVersion " + p.name + " " + v.version_id);
  if (late) return *late;
  return v;
}

cloud::Result<void> FakeCloud::delete_policy_version(std::string_view policy_name,
                                                     std::string_view version_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("DeletePolicyVersion", true, &late)) return *e;
  auto it = policies_.find(std::string(policy_name));
  if (it == policies_.end())
    return error("DeletePolicyVersion", "EntityNotExist.Policy", cloud::ErrorClass::kNotFound, 404);
  auto& vs = it->second.versions;
  auto v =
      std::find_if(vs.begin(), vs.end(), [&](const auto& x) { return x.version_id == version_id; });
  if (v == vs.end())
    return error("DeletePolicyVersion", "EntityNotExist.Policy.Version",
                 cloud::ErrorClass::kNotFound, 404);
  if (v->is_default)
    return error("DeletePolicyVersion", "DeleteConflict.Policy.Version.Default",
                 cloud::ErrorClass::kConflict, 409);
  vs.erase(v);
  journal_.push_back("DeletePolicyVersion " + std::string(policy_name) + " " +
                     std::string(version_id));
  if (late) return *late;
  return {};
}

cloud::Result<void> FakeCloud::set_default_policy_version(std::string_view policy_name,
                                                          std::string_view version_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("SetDefaultPolicyVersion", true, &late)) return *e;
  auto it = policies_.find(std::string(policy_name));
  if (it == policies_.end())
    return error("SetDefaultPolicyVersion", "EntityNotExist.Policy", cloud::ErrorClass::kNotFound,
                 404);
  bool found = false;
  for (auto& v : it->second.versions) {
    v.is_default = v.version_id == version_id;
    found = found || v.is_default;
  }
  if (!found)
    return error("SetDefaultPolicyVersion", "EntityNotExist.Policy.Version",
                 cloud::ErrorClass::kNotFound, 404);
  journal_.push_back("SetDefaultPolicyVersion " + std::string(policy_name) + " " +
                     std::string(version_id));
  if (late) return *late;
  return {};
}

cloud::Result<void> FakeCloud::attach_policy_to_role(std::string_view policy_type,
                                                     std::string_view policy_name,
                                                     std::string_view role_name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("AttachPolicyToRole", true, &late)) return *e;
  RoleState* r = find_role(role_name);
  if (r == nullptr)
    return error("AttachPolicyToRole", "EntityNotExist.Role", cloud::ErrorClass::kNotFound, 404);
  if (policy_type == "Custom" && policies_.count(std::string(policy_name)) == 0U)
    return error("AttachPolicyToRole", "EntityNotExist.Policy", cloud::ErrorClass::kNotFound, 404);
  std::pair<std::string, std::string> a{std::string(policy_type), std::string(policy_name)};
  if (std::find(r->attached.begin(), r->attached.end(), a) == r->attached.end()) {
    auto custom = std::count_if(r->attached.begin(), r->attached.end(),
                                [](const auto& x) { return x.first == "Custom"; });
    if (policy_type == "Custom" && custom >= 5)
      return error("AttachPolicyToRole", "LimitExceeded.Role.Policy", cloud::ErrorClass::kConflict,
                   409);
    r->attached.push_back(a);
    journal_.push_back("AttachPolicyToRole " + a.second + " " + r->role.role_name);
  }
  if (late) return *late;
  return {};
}

cloud::Result<void> FakeCloud::detach_policy_from_role(std::string_view policy_type,
                                                       std::string_view policy_name,
                                                       std::string_view role_name) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("DetachPolicyFromRole", true, &late)) return *e;
  RoleState* r = find_role(role_name);
  if (r == nullptr)
    return error("DetachPolicyFromRole", "EntityNotExist.Role", cloud::ErrorClass::kNotFound, 404);
  std::pair<std::string, std::string> a{std::string(policy_type), std::string(policy_name)};
  auto it = std::find(r->attached.begin(), r->attached.end(), a);
  if (it != r->attached.end()) {
    r->attached.erase(it);
    journal_.push_back("DetachPolicyFromRole " + a.second + " " + r->role.role_name);
  }
  if (late) return *late;
  return {};
}

cloud::Result<void> FakeCloud::tag_resources(std::string_view resource_type,
                                             const std::vector<std::string>& names,
                                             const std::vector<cloud::Tag>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("TagResources", true, &late)) return *e;
  for (const auto& n : names) {
    std::vector<cloud::Tag>* have = nullptr;
    if (resource_type == "role") {
      if (RoleState* r = find_role(n)) have = &r->tags;
    } else if (auto it = policies_.find(n); it != policies_.end()) {
      have = &it->second.tags;
    }
    if (have == nullptr)
      return error("TagResources", "EntityNotExist", cloud::ErrorClass::kNotFound, 404);
    for (const auto& t : tags) {
      auto same =
          std::find_if(have->begin(), have->end(), [&](const auto& x) { return x.key == t.key; });
      if (same != have->end()) {
        same->value = t.value;
      } else {
        have->push_back(t);
      }
    }
    journal_.push_back("TagResources " + n);
  }
  if (late) return *late;
  return {};
}

cloud::Result<std::vector<cloud::TagResource>> FakeCloud::list_tag_resources(
    std::string_view resource_type, const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListTagResources", false, nullptr)) return *e;
  std::vector<cloud::TagResource> out;
  for (const auto& n : names) {
    const std::vector<cloud::Tag>* have = nullptr;
    std::string canonical = n;
    if (resource_type == "role") {
      if (const RoleState* r = find_role(n)) {
        have = &r->tags;
        canonical = r->role.role_name;
      }
    } else if (auto it = policies_.find(n); it != policies_.end()) {
      have = &it->second.tags;
    }
    // Like the emulator: one missing name fails the whole call.
    if (have == nullptr)
      return error("ListTagResources",
                   resource_type == "role" ? "EntityNotExist.Role" : "EntityNotExist.Policy",
                   cloud::ErrorClass::kNotFound, 404);
    for (const auto& t : *have)
      out.push_back({std::string(resource_type), canonical, t.key, t.value});
  }
  return out;
}

cloud::Result<std::vector<cloud::Snapshot>> FakeCloud::describe_snapshots(
    std::string_view region, const std::vector<std::string>& ids,
    const std::vector<cloud::Tag>& tag_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeSnapshots", false, nullptr)) return *e;
  if (ids.size() > 100)
    requests_ += static_cast<int>((ids.size() - 1) / 100);  // the real client chunks by 100
  std::vector<cloud::Snapshot> out;
  if (ids.empty() && tag_filter.empty()) return out;
  for (const auto& s : snapshots_[std::string(region)]) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), s.snapshot_id) == ids.end()) continue;
    if (!has_tags(s.tags, tag_filter)) continue;
    out.push_back(s);
  }
  return out;
}

cloud::Result<std::vector<cloud::Image>> FakeCloud::describe_images(
    std::string_view region, const std::vector<std::string>& ids,
    const std::vector<cloud::Tag>& tag_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeImages", false, nullptr)) return *e;
  if (ids.size() > 100) requests_ += static_cast<int>((ids.size() - 1) / 100);
  std::vector<cloud::Image> out;
  if (ids.empty() && tag_filter.empty()) return out;
  for (const auto& i : images_[std::string(region)]) {
    if (!ids.empty() && std::find(ids.begin(), ids.end(), i.image_id) == ids.end()) continue;
    if (!has_tags(i.tags, tag_filter)) continue;
    out.push_back(i);
  }
  return out;
}

cloud::Result<std::vector<std::string>> FakeCloud::describe_image_share_permission(
    std::string_view /*region*/, std::string_view image_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeImageSharePermission", false, nullptr)) return *e;
  return image_shares_[std::string(image_id)];
}

cloud::Result<void> FakeCloud::modify_image_share_permission(
    std::string_view /*region*/, std::string_view image_id,
    const std::vector<std::string>& add_accounts, const std::vector<std::string>& remove_accounts) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  if (auto e = enter("ModifyImageSharePermission", true, &late)) return *e;
  auto& list = image_shares_[std::string(image_id)];
  for (const auto& a : add_accounts)
    if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
  for (const auto& r : remove_accounts)
    list.erase(std::remove(list.begin(), list.end(), r), list.end());
  if (late) return *late;
  return {};
}

cloud::Result<std::optional<cloud::KeyMetadata>> FakeCloud::describe_key(std::string_view region,
                                                                         std::string_view key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeKey", false, nullptr)) return *e;
  auto& ks = keys_[std::string(region)];
  auto it = ks.find(std::string(key_id));
  if (it == ks.end()) return std::optional<cloud::KeyMetadata>{};
  return std::optional<cloud::KeyMetadata>{it->second.meta};
}

cloud::Result<std::vector<std::string>> FakeCloud::list_aliases_by_key_id(std::string_view region,
                                                                          std::string_view key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListAliasesByKeyId", false, nullptr)) return *e;
  auto& ks = keys_[std::string(region)];
  auto it = ks.find(std::string(key_id));
  if (it == ks.end())
    return error("ListAliasesByKeyId", "Forbidden.KeyNotFound", cloud::ErrorClass::kNotFound, 404);
  return it->second.aliases;
}

cloud::Result<std::vector<cloud::ResourceShare>> FakeCloud::list_resource_shares(
    std::string_view /*region*/, std::string_view /*name*/) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListResourceShares", false, nullptr)) return *e;
  return std::vector<cloud::ResourceShare>{};
}

cloud::Result<cloud::ResourceShare> FakeCloud::create_resource_share(
    std::string_view /*region*/, std::string_view /*name*/,
    const std::vector<cloud::ShareResource>&, const std::vector<std::string>&, bool,
    const std::vector<cloud::Tag>&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("CreateResourceShare", true, nullptr)) return *e;
  return error("CreateResourceShare", "UnsupportedOperation", cloud::ErrorClass::kTerminal, 400,
               "the fake does not model Resource Sharing");
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>> FakeCloud::associate_resource_share(
    std::string_view, std::string_view, const std::vector<cloud::ShareResource>&,
    const std::vector<std::string>&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("AssociateResourceShare", true, nullptr)) return *e;
  return error("AssociateResourceShare", "UnsupportedOperation", cloud::ErrorClass::kTerminal, 400,
               "the fake does not model Resource Sharing");
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>> FakeCloud::disassociate_resource_share(
    std::string_view, std::string_view, const std::vector<cloud::ShareResource>&,
    const std::vector<std::string>&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DisassociateResourceShare", true, nullptr)) return *e;
  return error("DisassociateResourceShare", "UnsupportedOperation", cloud::ErrorClass::kTerminal,
               400, "the fake does not model Resource Sharing");
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>>
FakeCloud::list_resource_share_associations(std::string_view, std::string_view association_type,
                                            const std::vector<std::string>&) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListResourceShareAssociations", false, nullptr)) return *e;
  std::vector<cloud::ResourceShareAssociation> out;
  for (const auto& a : associations_)
    if (a.association_type == association_type) out.push_back(a);
  return out;
}

void FakeCloud::add_association(cloud::ResourceShareAssociation a) {
  std::lock_guard<std::mutex> lock(mu_);
  associations_.push_back(std::move(a));
}

}  // namespace sharekeeper::testing
