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

void FakeCloud::rendezvous(std::string waiter, std::string arriver) {
  std::lock_guard<std::mutex> lock(gate_mu_);
  gate_waiter_ = std::move(waiter);
  gate_arriver_ = std::move(arriver);
  gate_waited_ = gate_arrived_ = gate_met_ = false;
}

bool FakeCloud::met() const {
  std::lock_guard<std::mutex> lock(gate_mu_);
  return gate_met_;
}

void FakeCloud::arrive(const std::string& action) {
  std::unique_lock<std::mutex> lock(gate_mu_);
  if (!gate_arriver_.empty() && action == gate_arriver_) {
    gate_arrived_ = true;
    gate_cv_.notify_all();
  }
  if (!gate_waiter_.empty() && action == gate_waiter_ && !gate_waited_) {
    gate_waited_ = true;
    gate_met_ = gate_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return gate_arrived_; });
  }
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
  arrive("GetRole");
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
  arrive("DescribeSnapshots");
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
  arrive("DescribeImages");
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

cloud::Result<std::vector<cloud::Image>> FakeCloud::list_own_images(std::string_view region) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeImages", false, nullptr)) return *e;
  return images_[std::string(region)];
}

cloud::Result<std::vector<std::string>> FakeCloud::describe_image_share_permission(
    std::string_view region, std::string_view image_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeImageSharePermission", false, nullptr)) return *e;
  const auto& images = images_[std::string(region)];
  if (std::none_of(images.begin(), images.end(),
                   [&](const cloud::Image& i) { return i.image_id == image_id; }))
    return error("DescribeImageSharePermission", "InvalidImageId.NotFound",
                 cloud::ErrorClass::kNotFound, 404);
  return image_shares_[std::string(image_id)];
}

const FakeCloud::KeyState* FakeCloud::key_of_image(const std::string& region,
                                                   const cloud::Image& image) const {
  auto snaps = snapshots_.find(region);
  auto keys = keys_.find(region);
  if (snaps == snapshots_.end() || keys == keys_.end()) return nullptr;
  for (const auto& d : image.disks) {
    for (const auto& s : snaps->second) {
      if (s.snapshot_id != d.snapshot_id || !s.encrypted) continue;
      if (auto k = keys->second.find(s.kms_key_id); k != keys->second.end()) return &k->second;
    }
  }
  return nullptr;
}

namespace {

bool is_uid(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_service_key(const cloud::KeyMetadata& meta, const std::vector<std::string>& aliases) {
  for (const auto& a : aliases)
    if (a.rfind("alias/acs/", 0) == 0) return true;
  return !is_uid(meta.creator);
}

std::vector<std::string> as_strings(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.get<std::string>());
  if (v.is_array())
    for (const auto& x : v)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// The first 10 distinct non-empty entries: what ModifyImageSharePermission reads of one request.
std::vector<std::string> first_ten(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < in.size() && i < 10; ++i)
    if (!in[i].empty() && std::find(out.begin(), out.end(), in[i]) == out.end())
      out.push_back(in[i]);
  return out;
}

}  // namespace

bool FakeCloud::trusts(const std::string& role, const std::string& uid) const {
  const RoleState* r = find_role(role);
  if (r == nullptr) return false;
  auto doc = nlohmann::json::parse(r->role.trust_policy, nullptr, false);
  if (!doc.is_object() || !doc.contains("Statement")) return false;
  const std::string principal = uid + "@ecs.aliyuncs.com";
  bool allowed = false;
  for (const auto& st : doc["Statement"]) {
    if (!st.is_object()) continue;
    auto actions = as_strings(st.value("Action", nlohmann::json()));
    if (std::none_of(actions.begin(), actions.end(), [](const std::string& a) {
          return lower(a) == "sts:assumerole" || a == "*" || lower(a) == "sts:*";
        }))
      continue;
    const auto principals = st.contains("Principal") && st["Principal"].is_object()
                                ? as_strings(st["Principal"].value("Service", nlohmann::json()))
                                : std::vector<std::string>{};
    bool names = false;
    for (const auto& p : principals) names = names || lower(p) == principal;
    bool wildcard =
        std::find(principals.begin(), principals.end(), "*@ecs.aliyuncs.com") != principals.end();
    if (!names && !wildcard) continue;
    bool matches = true;
    if (st.contains("Condition")) {
      // Only the RD-id condition is understood: for members of the fake's directory.
      const auto& c = st["Condition"];
      auto eq = c.contains("StringEquals") ? c["StringEquals"] : nlohmann::json::object();
      auto rd = as_strings(eq.value("sts:ServiceOwnerRDId", nlohmann::json()));
      matches = !rd_id_.empty() && rd_members_.count(uid) != 0 && c.size() == 1 && eq.size() == 1 &&
                std::find(rd.begin(), rd.end(), rd_id_) != rd.end();
    } else if (!names) {
      matches = true;  // an unconditioned *@ecs.aliyuncs.com admits every account
    }
    if (!matches) continue;
    if (st.value("Effect", "") == "Deny") return false;
    if (st.value("Effect", "") == "Allow") allowed = true;
  }
  return allowed;
}

cloud::Result<void> FakeCloud::modify_image_share_permission(
    std::string_view region, std::string_view image_id,
    const std::vector<std::string>& add_accounts, const std::vector<std::string>& remove_accounts) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "ModifyImageSharePermission";
  if (auto e = enter(action, true, &late)) return *e;
  const auto& images = images_[std::string(region)];
  auto img = std::find_if(images.begin(), images.end(),
                          [&](const cloud::Image& i) { return i.image_id == image_id; });
  if (img == images.end())
    return error(action, "InvalidImageId.NotFound", cloud::ErrorClass::kNotFound, 404);
  // One call is one request: the API reads only the first 10 of each list.
  const auto add = first_ten(add_accounts);
  const auto remove = first_ten(remove_accounts);
  for (const auto& a : add) {
    if (!is_uid(a))
      return error(action, "InvalidAccount.NotFound", cloud::ErrorClass::kNotFound, 404);
    if (a == uid_)
      return error(action, "InvalidAccount.Forbbiden", cloud::ErrorClass::kTerminal, 404);
  }
  for (const auto& r : remove)
    if (!is_uid(r))
      return error(action, "InvalidAccount.NotFound", cloud::ErrorClass::kNotFound, 404);
  if (!add.empty() && img->status == "Deprecated")
    return error(action, "OperationDenied.InvalidImageStatus", cloud::ErrorClass::kTerminal, 403);
  if (!add.empty()) {
    if (const KeyState* key = key_of_image(std::string(region), *img)) {
      if (is_service_key(key->meta, key->aliases))
        return error(action, "InvalidOperation.ServiceKeyEncryptedImageUnsupported",
                     cloud::ErrorClass::kTerminal, 403);
      if (key->meta.key_state != "Enabled")
        return error(action, "InvalidParameter.KMSKeyId.CMKNotEnabled",
                     cloud::ErrorClass::kTerminal, 403);
      if (refuse_full_images_ && img->disks.size() > 1)
        return error(action, "OperationDeined.FullImage", cloud::ErrorClass::kTerminal, 403);
      for (const auto& a : add)
        if (!trusts("AliyunECSShareEncryptImageDefaultRole", a))
          return error(action, "AssumeRoleError", cloud::ErrorClass::kTerminal, 403,
                       "Requires a RAM role of AliyunECSShareEncryptImageDefaultRole before "
                       "sharing encrypted image (" +
                           a + ")");
    }
  }
  auto& list = image_shares_[std::string(image_id)];
  std::vector<std::string> after;
  for (const auto& a : list)
    if (std::find(remove.begin(), remove.end(), a) == remove.end()) after.push_back(a);
  for (const auto& a : add)
    if (std::find(after.begin(), after.end(), a) == after.end()) after.push_back(a);
  if (after.size() > 50)
    return error(action, "QuotaExceed.ShareImageUser", cloud::ErrorClass::kTerminal, 403);
  list = std::move(after);
  std::string entry = action + " " + std::string(image_id);
  for (const auto& a : add) entry += " +" + a;
  for (const auto& r : remove) entry += " -" + r;
  journal_.push_back(entry);
  if (late) return *late;
  return {};
}

cloud::Result<std::vector<std::vector<cloud::Tag>*>> FakeCloud::ecs_tags_of(
    const std::string& action, std::string_view region, std::string_view resource_type,
    const std::vector<std::string>& resource_ids) {
  if (resource_type != "image" && resource_type != "snapshot")
    return error(action, "InvalidResourceType.NotFound", cloud::ErrorClass::kTerminal, 404);
  std::vector<std::vector<cloud::Tag>*> out;
  for (const auto& id : resource_ids) {
    std::vector<cloud::Tag>* have = nullptr;
    if (resource_type == "image") {
      for (auto& i : images_[std::string(region)])
        if (i.image_id == id) have = &i.tags;
    } else {
      for (auto& sn : snapshots_[std::string(region)])
        if (sn.snapshot_id == id) have = &sn.tags;
    }
    if (have == nullptr)
      return error(action, "InvalidResourceId.NotFound", cloud::ErrorClass::kNotFound, 404);
    out.push_back(have);
  }
  return out;
}

namespace {

// Like AlibabaClient: 50 ids by 20 tags (or keys) per request.
int tag_requests(std::size_t ids, std::size_t tags) {
  const auto chunks = [](std::size_t n, std::size_t per) { return n == 0 ? 0 : (n - 1) / per + 1; };
  return static_cast<int>(chunks(ids, 50) * chunks(tags, 20));
}

}  // namespace

cloud::Result<void> FakeCloud::tag_ecs_resources(std::string_view region,
                                                 std::string_view resource_type,
                                                 const std::vector<std::string>& resource_ids,
                                                 const std::vector<cloud::Tag>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "TagResources";
  if (auto e = enter(action, true, &late)) return *e;
  requests_ += tag_requests(resource_ids.size(), tags.size()) - 1;
  auto targets = ecs_tags_of(action, region, resource_type, resource_ids);
  if (!targets) return targets.error();
  for (auto* have : *targets) {
    for (const auto& t : tags) {
      auto same =
          std::find_if(have->begin(), have->end(), [&](const auto& x) { return x.key == t.key; });
      if (same != have->end()) {
        same->value = t.value;
      } else {
        have->push_back(t);
      }
    }
  }
  for (const auto& id : resource_ids) journal_.push_back(action + " " + id);
  if (late) return *late;
  return {};
}

cloud::Result<void> FakeCloud::untag_ecs_resources(std::string_view region,
                                                   std::string_view resource_type,
                                                   const std::vector<std::string>& resource_ids,
                                                   const std::vector<std::string>& tag_keys) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "UntagResources";
  if (auto e = enter(action, true, &late)) return *e;
  requests_ += tag_requests(resource_ids.size(), tag_keys.size()) - 1;
  auto targets = ecs_tags_of(action, region, resource_type, resource_ids);
  if (!targets) return targets.error();
  for (auto* have : *targets)
    for (const auto& k : tag_keys)
      have->erase(std::remove_if(have->begin(), have->end(),
                                 [&](const cloud::Tag& t) { return t.key == k; }),
                  have->end());
  for (const auto& id : resource_ids) journal_.push_back(action + " " + id);
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

void FakeCloud::set_directory_membership(std::optional<cloud::ResourceDirectoryInfo> rd,
                                         std::vector<cloud::DirectoryAccount> members) {
  std::lock_guard<std::mutex> lock(mu_);
  directory_ = std::move(rd);
  directory_members_ = std::move(members);
}

cloud::Result<std::vector<std::string>> FakeCloud::describe_regions(std::string_view) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("DescribeRegions", false, nullptr)) return *e;
  std::set<std::string> ids{"cn-hangzhou"};
  for (const auto& [r, v] : snapshots_) ids.insert(r);
  for (const auto& [r, v] : images_) ids.insert(r);
  for (const auto& [r, v] : keys_) ids.insert(r);
  return std::vector<std::string>(ids.begin(), ids.end());
}

cloud::Result<std::optional<cloud::ResourceDirectoryInfo>> FakeCloud::get_resource_directory() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("GetResourceDirectory", false, nullptr)) return *e;
  return directory_;
}

cloud::Result<std::vector<cloud::DirectoryAccount>> FakeCloud::list_directory_accounts() {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListAccounts", false, nullptr)) return *e;
  if (!directory_ || directory_->master_account_id != uid_)
    return error("ListAccounts", "EntityNotExists.ResourceDirectory", cloud::ErrorClass::kNotFound,
                 404);
  return directory_members_;
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

// ---- Resource Sharing

namespace {

constexpr std::size_t kPerCall = 5;

bool valid_share_name(std::string_view name) {
  if (name.empty()) return false;
  std::size_t chars = 0;
  for (const char byte : name) {
    const auto ch = static_cast<unsigned char>(byte);
    if ((ch & 0xC0) != 0x80) ++chars;  // UTF-8 characters, not bytes
    if (ch < 0x80 && !(std::isalnum(ch) || ch == '.' || ch == '_' || ch == '-')) return false;
  }
  return chars <= 50;
}

bool live(const std::string& status) { return status == "Associating" || status == "Associated"; }

bool in_region(const FakeCloud::ShareState& s, std::string_view region) {
  return s.region.empty() || s.region == region;
}

template <class T>
bool has_duplicates(const std::vector<T>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = i + 1; j < v.size(); ++j)
      if (v[i] == v[j]) return true;
  return false;
}

int chunk_count(std::size_t n) { return n == 0 ? 1 : static_cast<int>((n - 1) / kPerCall + 1); }

const char* const kPendingMessage = "The invitation has not been accepted by the target account.";

}  // namespace

FakeCloud::Invitation* FakeCloud::pending_invitation(const std::string& share_id,
                                                     const std::string& receiver) {
  for (auto& inv : invitations_)
    if (inv.share_id == share_id && inv.receiver == receiver && inv.status == "Pending")
      return &inv;
  return nullptr;
}

cloud::Result<std::pair<std::string, bool>> FakeCloud::classify_target(
    const std::string& action, const ShareState& share, const std::string& target) const {
  const bool owner_in_rd = !rd_id_.empty() && rd_members_.count(uid_) != 0;
  if (is_uid(target)) {
    if (target == uid_)
      return error(action, "ShareWithYourself", cloud::ErrorClass::kTerminal, 409);
    if (owner_in_rd && rd_members_.count(target) != 0)
      return std::pair<std::string, bool>{"Account", false};
    if (!share.share.allow_external_targets)
      return error(action, "InvalidTarget", cloud::ErrorClass::kTerminal, 400,
                   "The target " + target + " is outside the resource directory");
    return std::pair<std::string, bool>{"Account", true};
  }
  if (owner_in_rd && target == rd_id_)
    return std::pair<std::string, bool>{"ResourceDirectory", false};
  if (owner_in_rd && rd_folders_.count(target) != 0)
    return std::pair<std::string, bool>{"Folder", false};
  return error(action, "InvalidTarget", cloud::ErrorClass::kTerminal, 400,
               "The target " + target + " is not an account, the RD or one of its folders");
}

std::optional<cloud::Error> FakeCloud::check_entities(
    const std::string& action, const std::vector<cloud::ShareResource>& resources,
    const std::vector<std::string>& targets) const {
  if (resources.size() > kPerCall)
    return error(action, "InvalidParameter.Resources.Length", cloud::ErrorClass::kTerminal, 400);
  if (targets.size() > kPerCall)
    return error(action, "InvalidParameter.Targets.Length", cloud::ErrorClass::kTerminal, 400);
  if (has_duplicates(resources))
    return error(action, "InvalidParameter.Resources.Duplicate", cloud::ErrorClass::kTerminal, 400);
  if (has_duplicates(targets))
    return error(action, "InvalidParameter.Targets.Duplicate", cloud::ErrorClass::kTerminal, 400);
  return std::nullopt;
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>> FakeCloud::associate(
    const std::string& action, ShareState& share,
    const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets) {
  if (auto e = check_entities(action, resources, targets)) return *e;
  // Validate everything before changing anything: a refused call changes nothing.
  std::vector<std::optional<std::string>> resource_failure;
  for (const auto& r : resources) {
    if (r.type != "Snapshot" && r.type != "Image")
      return error(action, "InvalidParameter.ResourceType", cloud::ErrorClass::kTerminal, 400);
    const KeyState* key = nullptr;
    bool found = false;
    for (const auto& [region, list] : images_) {
      if (!share.region.empty() && region != share.region) continue;
      for (const auto& i : list)
        if (r.type == "Image" && i.image_id == r.id) {
          found = true;
          key = key_of_image(region, i);
        }
    }
    for (const auto& [region, list] : snapshots_) {
      if (!share.region.empty() && region != share.region) continue;
      for (const auto& sn : list)
        if (r.type == "Snapshot" && sn.snapshot_id == r.id) {
          found = true;
          if (sn.encrypted)
            if (auto k = keys_.find(region); k != keys_.end())
              if (auto kk = k->second.find(sn.kms_key_id); kk != k->second.end()) key = &kk->second;
        }
    }
    if (!found)
      return error(action, "EntityNotExists.Resource", cloud::ErrorClass::kNotFound, 404,
                   "The " + r.type + " " + r.id + " does not exist in this account and region");
    resource_failure.push_back(
        key != nullptr && is_service_key(key->meta, key->aliases)
            ? std::optional<std::string>("Resources encrypted with a service key cannot be "
                                         "shared; copy them with a CMK.")
            : std::nullopt);
  }
  std::vector<std::pair<std::string, bool>> target_kind;
  for (const auto& t : targets) {
    auto kind = classify_target(action, share, t);
    if (!kind) return kind.error();
    target_kind.push_back(*kind);
  }
  auto find = [&](const std::string& type, const std::string& id) {
    return std::find_if(share.associations.begin(), share.associations.end(),
                        [&](const cloud::ResourceShareAssociation& a) {
                          return a.association_type == type && a.entity_id == id;
                        });
  };
  for (const auto& r : resources)
    if (auto it = find("Resource", r.id);
        it != share.associations.end() && it->association_status == "Disassociating")
      return error(action, "AssociateConflict", cloud::ErrorClass::kConflict, 409);
  for (const auto& t : targets)
    if (auto it = find("Target", t);
        it != share.associations.end() && it->association_status == "Disassociating")
      return error(action, "AssociateConflict", cloud::ErrorClass::kConflict, 409);

  std::vector<cloud::ResourceShareAssociation> out;
  auto touch = [&](const std::string& type, const std::string& id, const std::string& entity_type,
                   bool external) -> cloud::ResourceShareAssociation& {
    auto it = find(type, id);
    if (it == share.associations.end()) {
      cloud::ResourceShareAssociation a;
      a.resource_share_id = share.share.resource_share_id;
      a.entity_id = id;
      a.association_type = type;
      a.association_status = "";
      share.associations.push_back(a);
      it = share.associations.end() - 1;
    }
    if (!live(it->association_status)) {
      it->association_status = "Associating";
      it->association_status_message.clear();
      it->failures.clear();
      it->entity_type = entity_type;
      it->external = external;
      if (external) {
        invitations_.push_back({share.share.resource_share_id, id, "Pending"});
        it->association_status_message = kPendingMessage;
      }
    }
    return *it;
  };
  for (std::size_t i = 0; i < resources.size(); ++i) {
    auto& a = touch("Resource", resources[i].id, resources[i].type, false);
    if (resource_failure[i] && a.association_status == "Associating") {
      a.association_status = "Failed";
      a.association_status_message = *resource_failure[i];
      for (const auto& t : share.associations)
        if (t.association_type == "Target" && live(t.association_status))
          a.failures.push_back({t.entity_id, t.entity_type, "UnsupportedOperation",
                                *resource_failure[i], "Associate"});
    }
    out.push_back(a);
  }
  for (std::size_t i = 0; i < targets.size(); ++i)
    out.push_back(touch("Target", targets[i], target_kind[i].first, target_kind[i].second));
  for (auto& a : out) a.resource_share_name = share.share.resource_share_name;
  return out;
}

cloud::Result<std::vector<cloud::ResourceShare>> FakeCloud::list_resource_shares(
    std::string_view region, const cloud::ResourceShareFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListResourceShares", false, nullptr)) return *e;
  requests_ += chunk_count(filter.resource_share_ids.size()) - 1;  // ResourceShareIds.N <= 5
  std::vector<cloud::ResourceShare> out;
  for (const auto& [id, st] : shares_) {
    if (!in_region(st, region)) continue;
    const auto& ids = filter.resource_share_ids;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    if (!filter.name.empty() && st.share.resource_share_name != filter.name) continue;
    if (!filter.status.empty() && st.share.resource_share_status != filter.status) continue;
    if (!has_tags(st.share.tags, filter.tags)) continue;
    out.push_back(st.share);
  }
  return out;
}

cloud::Result<cloud::ResourceShare> FakeCloud::create_resource_share(
    std::string_view region, std::string_view name,
    const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets,
    bool allow_external_targets, const std::vector<cloud::Tag>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "CreateResourceShare";
  if (auto e = enter(action, true, &late)) return *e;
  if (!valid_share_name(name))
    return error(action, "InvalidParameter.ResourceShareName", cloud::ErrorClass::kTerminal, 400);
  if (tags.size() > 20)
    return error(action, "InvalidParameter.Tag", cloud::ErrorClass::kTerminal, 400);
  ShareState draft;
  draft.region = std::string(region);
  draft.share.resource_share_id = "rs-fake" + std::to_string(next_share_);
  draft.share.resource_share_name = std::string(name);
  draft.share.resource_share_owner = uid_;
  draft.share.resource_share_status = "Active";
  draft.share.allow_external_targets = allow_external_targets;
  draft.share.tags = tags;
  const std::size_t invitations = invitations_.size();
  auto assoc = associate(action, draft, resources, targets);
  if (!assoc) {
    invitations_.resize(invitations);
    return assoc.error();
  }
  ++next_share_;
  const cloud::ResourceShare out = draft.share;
  shares_[out.resource_share_id] = std::move(draft);
  journal_.push_back(action + " " + out.resource_share_name + " " + out.resource_share_id);
  if (late) return *late;
  return out;
}

cloud::Result<cloud::ResourceShare> FakeCloud::update_resource_share(
    std::string_view /*region*/, std::string_view resource_share_id, std::string_view name,
    bool allow_external_targets) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "UpdateResourceShare";
  if (auto e = enter(action, true, &late)) return *e;
  auto it = shares_.find(std::string(resource_share_id));
  if (it == shares_.end())
    return error(action, "EntityNotExists.ResourceShare", cloud::ErrorClass::kNotFound, 404);
  if (it->second.share.resource_share_status != "Active")
    return error(action, "ResourceShareStatusMismatchAction", cloud::ErrorClass::kConflict, 409);
  if (!valid_share_name(name))
    return error(action, "InvalidParameter.ResourceShareName", cloud::ErrorClass::kTerminal, 400);
  it->second.share.resource_share_name = std::string(name);
  it->second.share.allow_external_targets = allow_external_targets;
  journal_.push_back(action + " " + it->first);
  if (late) return *late;
  return it->second.share;
}

cloud::Result<void> FakeCloud::delete_resource_share(std::string_view /*region*/,
                                                     std::string_view resource_share_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "DeleteResourceShare";
  if (auto e = enter(action, true, &late)) return *e;
  auto it = shares_.find(std::string(resource_share_id));
  // Absent, or already being deleted, is what the caller wants (CloudApi contract).
  if (it != shares_.end() && it->second.share.resource_share_status == "Active") {
    it->second.share.resource_share_status = "Deleting";
    for (auto& a : it->second.associations) {
      if (!live(a.association_status)) continue;
      a.association_status = "Disassociating";
      if (Invitation* inv = pending_invitation(it->first, a.entity_id)) inv->status = "Cancelled";
    }
    journal_.push_back(action + " " + it->first);
  }
  if (late) return *late;
  return {};
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>> FakeCloud::associate_resource_share(
    std::string_view /*region*/, std::string_view resource_share_id,
    const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "AssociateResourceShare";
  if (auto e = enter(action, true, &late)) return *e;
  auto it = shares_.find(std::string(resource_share_id));
  if (it == shares_.end())
    return error(action, "EntityNotExists.ResourceShare", cloud::ErrorClass::kNotFound, 404);
  if (it->second.share.resource_share_status != "Active")
    return error(action, "ResourceShareStatusMismatchAction", cloud::ErrorClass::kConflict, 409);
  if (resources.empty() && targets.empty())
    return error(action, "ResourceAndTargetBothEmpty", cloud::ErrorClass::kTerminal, 400);
  ShareState draft = it->second;
  const std::size_t invitations = invitations_.size();
  auto out = associate(action, draft, resources, targets);
  if (!out) {
    invitations_.resize(invitations);
    return out.error();
  }
  it->second = std::move(draft);
  std::string entry = action + " " + it->first;
  for (const auto& r : resources) entry += " +" + r.id;
  for (const auto& t : targets) entry += " +" + t;
  journal_.push_back(entry);
  if (late) return *late;
  return out;
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>> FakeCloud::disassociate_resource_share(
    std::string_view /*region*/, std::string_view resource_share_id,
    const std::vector<cloud::ShareResource>& resources, const std::vector<std::string>& targets) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<cloud::Error> late;
  const std::string action = "DisassociateResourceShare";
  if (auto e = enter(action, true, &late)) return *e;
  auto it = shares_.find(std::string(resource_share_id));
  if (it == shares_.end())
    return error(action, "EntityNotExists.ResourceShare", cloud::ErrorClass::kNotFound, 404);
  if (it->second.share.resource_share_status != "Active")
    return error(action, "ResourceShareStatusMismatchAction", cloud::ErrorClass::kConflict, 409);
  if (resources.empty() && targets.empty())
    return error(action, "ResourceAndTargetBothEmpty", cloud::ErrorClass::kTerminal, 400);
  if (auto e = check_entities(action, resources, targets)) return *e;
  ShareState& share = it->second;
  std::vector<cloud::ResourceShareAssociation*> touched;
  auto find = [&](const std::string& type,
                  const std::string& id) -> cloud::Result<cloud::ResourceShareAssociation*> {
    for (auto& a : share.associations) {
      if (a.association_type != type || a.entity_id != id) continue;
      if (!live(a.association_status)) break;
      const bool waits = a.external && a.association_status == "Associating" &&
                         pending_invitation(share.share.resource_share_id, id) != nullptr;
      // Still being associated: refused, except an invitation nobody answered (it is withdrawn).
      if (a.association_status == "Associating" && !waits)
        return error(action, "DisassociateConflict", cloud::ErrorClass::kConflict, 409);
      return &a;
    }
    return error(action, "DisassociateInvalid", cloud::ErrorClass::kTerminal, 400,
                 "The entity " + id + " is not associated with " + share.share.resource_share_id);
  };
  for (const auto& r : resources) {
    auto a = find("Resource", r.id);
    if (!a) return a.error();
    touched.push_back(*a);
  }
  for (const auto& t : targets) {
    auto a = find("Target", t);
    if (!a) return a.error();
    touched.push_back(*a);
  }
  std::vector<cloud::ResourceShareAssociation> out;
  std::string entry = action + " " + it->first;
  for (auto* a : touched) {
    if (Invitation* inv = pending_invitation(it->first, a->entity_id)) inv->status = "Cancelled";
    a->association_status = "Disassociating";
    a->association_status_message.clear();
    out.push_back(*a);
    out.back().resource_share_name = share.share.resource_share_name;
    entry += " -" + a->entity_id;
  }
  journal_.push_back(entry);
  if (late) return *late;
  return out;
}

cloud::Result<std::vector<cloud::ResourceShareAssociation>>
FakeCloud::list_resource_share_associations(std::string_view region,
                                            std::string_view association_type,
                                            const std::vector<std::string>& resource_share_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto e = enter("ListResourceShareAssociations", false, nullptr)) return *e;
  requests_ += chunk_count(resource_share_ids.size()) - 1;  // ResourceShareIds.N <= 5 per request
  if (association_type != "Resource" && association_type != "Target")
    return error("ListResourceShareAssociations", "InvalidParameter.AssociationType",
                 cloud::ErrorClass::kTerminal, 400);
  std::vector<cloud::ResourceShareAssociation> out;
  for (const auto& [id, st] : shares_) {
    if (!in_region(st, region)) continue;
    if (!resource_share_ids.empty() &&
        std::find(resource_share_ids.begin(), resource_share_ids.end(), id) ==
            resource_share_ids.end())
      continue;
    for (const auto& a : st.associations) {
      if (a.association_type != association_type) continue;
      out.push_back(a);
      if (out.back().resource_share_name.empty())
        out.back().resource_share_name = st.share.resource_share_name;
    }
  }
  return out;
}

// ---- Resource Sharing seeding and time

void FakeCloud::add_image_share(const std::string& image_id,
                                const std::vector<std::string>& accounts) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& list = image_shares_[image_id];
  for (const auto& a : accounts)
    if (std::find(list.begin(), list.end(), a) == list.end()) list.push_back(a);
}

void FakeCloud::set_resource_directory(const std::string& rd_id, std::vector<std::string> folders,
                                       std::vector<std::string> members) {
  std::lock_guard<std::mutex> lock(mu_);
  rd_id_ = rd_id;
  rd_folders_ = {folders.begin(), folders.end()};
  rd_members_ = {members.begin(), members.end()};
}

void FakeCloud::add_resource_share(const std::string& region, const std::string& id,
                                   const std::string& name, bool allow_external_targets,
                                   std::vector<cloud::Tag> tags) {
  std::lock_guard<std::mutex> lock(mu_);
  ShareState st;
  st.region = region;
  st.share.resource_share_id = id;
  st.share.resource_share_name = name;
  st.share.resource_share_owner = uid_;
  st.share.resource_share_status = "Active";
  st.share.allow_external_targets = allow_external_targets;
  st.share.tags = std::move(tags);
  shares_[id] = std::move(st);
}

void FakeCloud::add_association(cloud::ResourceShareAssociation a) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = shares_.try_emplace(a.resource_share_id);
  if (fresh) {
    it->second.share.resource_share_id = a.resource_share_id;
    it->second.share.resource_share_name = a.resource_share_name;
    it->second.share.resource_share_owner = uid_;
    it->second.share.resource_share_status = "Active";
  }
  it->second.associations.push_back(std::move(a));
}

void FakeCloud::set_image_status(const std::string& region, const std::string& image_id,
                                 const std::string& status) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& i : images_[region])
    if (i.image_id == image_id) i.status = status;
}

void FakeCloud::refuse_encrypted_full_images(bool refuse) {
  std::lock_guard<std::mutex> lock(mu_);
  refuse_full_images_ = refuse;
}

void FakeCloud::settle_resource_sharing() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, st] : shares_) {
    if (st.share.resource_share_status == "Deleting") st.share.resource_share_status = "Deleted";
    for (auto& a : st.associations) {
      if (a.association_status == "Disassociating") {
        a.association_status = "Disassociated";
      } else if (a.association_status == "Associating" &&
                 !(a.external && pending_invitation(id, a.entity_id) != nullptr)) {
        a.association_status = "Associated";
        a.association_status_message.clear();
      }
    }
  }
}

int FakeCloud::accept_invitations(const std::string& receiver) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (auto& inv : invitations_) {
    if (inv.status != "Pending" || (!receiver.empty() && inv.receiver != receiver)) continue;
    inv.status = "Accepted";
    ++n;
  }
  return n;
}

void FakeCloud::reject_invitation(const std::string& resource_share_id,
                                  const std::string& receiver) {
  std::lock_guard<std::mutex> lock(mu_);
  Invitation* inv = pending_invitation(resource_share_id, receiver);
  if (inv == nullptr) return;
  inv->status = "Rejected";
  for (auto& a : shares_[resource_share_id].associations)
    if (a.association_type == "Target" && a.entity_id == receiver &&
        a.association_status == "Associating") {
      a.association_status = "Failed";
      a.association_status_message = "The invitation was rejected by the target account.";
    }
}

void FakeCloud::expire_invitations() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& inv : invitations_) {
    if (inv.status != "Pending") continue;
    inv.status = "Expired";
    for (auto& a : shares_[inv.share_id].associations)
      if (a.association_type == "Target" && a.entity_id == inv.receiver &&
          a.association_status == "Associating") {
        a.association_status = "Failed";
        a.association_status_message =
            "The invitation expired before the target account accepted it.";
      }
  }
}

// ---- Resource Sharing and image inspection

std::vector<std::string> FakeCloud::image_shares(const std::string& image_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = image_shares_.find(image_id);
  return it == image_shares_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<cloud::Tag> FakeCloud::image_tags(const std::string& region,
                                              const std::string& image_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = images_.find(region);
  if (it == images_.end()) return {};
  for (const auto& i : it->second)
    if (i.image_id == image_id) return i.tags;
  return {};
}

std::optional<FakeCloud::ShareState> FakeCloud::resource_share(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shares_.find(id);
  if (it == shares_.end()) return std::nullopt;
  return it->second;
}

std::vector<FakeCloud::ShareState> FakeCloud::resource_shares() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ShareState> out;
  for (const auto& [id, st] : shares_) out.push_back(st);
  return out;
}

std::string FakeCloud::invitation_status(const std::string& resource_share_id,
                                         const std::string& receiver) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string status;  // the latest invitation wins
  for (const auto& inv : invitations_)
    if (inv.share_id == resource_share_id && inv.receiver == receiver) status = inv.status;
  return status;
}

}  // namespace sharekeeper::testing
