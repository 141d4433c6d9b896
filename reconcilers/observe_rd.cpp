// Resource Directory membership (observe_rd.hpp).
#include "reconcilers/observe_rd.hpp"

#include <algorithm>
#include <memory>

#include "reconcilers/policy_document.hpp"

namespace sharekeeper::reconcilers {
namespace {

std::string rd_of_path(std::string_view path) {
  return std::string(path.substr(0, path.find('/')));
}

// The accounts to ask GetResourceDirectory, in order: the sharers whose grants name `rd` first,
// then every other account of the config.
std::vector<const config::Account*> askers(const config::DesiredState& desired,
                                           const std::string& rd) {
  std::vector<const config::Account*> out;
  auto add = [&](const config::Account* a) {
    if (a != nullptr && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  };
  for (const auto& s : desired.shares) {
    bool names = s.to.resource_directory && *s.to.resource_directory == rd;
    for (const auto& f : s.to.folders) names = names || rd_of_path(f) == rd;
    if (names) add(desired.find_account(s.account));
  }
  for (const auto& a : desired.accounts) add(&a);
  return out;
}

// ResourceDirectoryPath "rd/r/fd.../<uid>" -> "rd/r/fd..." (the documented example ends with the
// account; a path without it is taken as it is). "" when it does not lie in `rd`.
std::string folder_path(const cloud::DirectoryAccount& a, const std::string& rd) {
  std::string_view p = a.resource_directory_path;
  const std::string tail = "/" + a.account_id;
  if (p.size() > tail.size() && p.substr(p.size() - tail.size()) == tail)
    p.remove_suffix(tail.size());
  if (p.rfind(rd + "/", 0) != 0) return "";
  return std::string(p);
}

}  // namespace

Membership membership_of(const Directories* d, std::string_view rd_id, std::string_view uid,
                         std::string* folder_path) {
  if (d == nullptr) return Membership::kUnknown;
  auto it = d->by_id.find(rd_id);
  if (it == d->by_id.end() || !it->second.known) return Membership::kUnknown;
  auto m = it->second.folder_of.find(uid);
  if (m == it->second.folder_of.end()) return Membership::kNotMember;
  if (folder_path != nullptr) *folder_path = m->second;
  return Membership::kMember;
}

std::set<std::string> directories_named(const config::DesiredState& desired,
                                        const std::vector<std::string>& only) {
  std::set<std::string> out;
  for (const auto& s : desired.shares) {
    if (!only.empty() && std::find(only.begin(), only.end(), s.account) == only.end()) continue;
    if (s.to.resource_directory) out.insert(*s.to.resource_directory);
    for (const auto& f : s.to.folders) out.insert(rd_of_path(f));
  }
  return out;
}

void add_trusted_directories(const AccountObservation& obs, std::set<std::string>& out) {
  for (const ObservedRole* r : {&obs.snapshot_role, &obs.image_role}) {
    if (r->presence != Presence::kPresent) continue;
    auto tp = parse_trust_policy(r->role.trust_policy);
    if (!tp) continue;
    for (const auto& rd : tp->rds) out.insert(rd);
    for (const auto& f : tp->folders) out.insert(rd_of_path(f));
  }
  // A directory the resources are shared with (a Resource Sharing target).
  for (const auto& [region, r] : obs.regions)
    for (const auto& [resource, targets] : r.shares.resource_targets)
      for (const auto& [target, association] : targets)
        if (target.rfind("rd-", 0) == 0) out.insert(target);
}

Directories observe_directories(const config::DesiredState& desired,
                                const std::set<std::string>& ids, const ClientFor& client_for,
                                const UidOf& uid_of) {
  Directories out;
  // GetResourceDirectory's answer per account, asked at most once.
  std::map<std::string, std::optional<cloud::ResourceDirectoryInfo>> answers;
  std::set<std::string> failed;  // accounts whose GetResourceDirectory failed
  for (const auto& rd : ids) {
    DirectoryMembership m;
    m.directory_id = rd;
    std::optional<cloud::ResourceDirectoryInfo> info;
    std::string failure;
    for (const config::Account* a : askers(desired, rd)) {
      if (failed.count(a->name) != 0U) continue;
      auto it = answers.find(a->name);
      if (it == answers.end()) {
        cloud::CloudApi* api = client_for ? client_for(*a) : nullptr;
        if (api == nullptr) continue;
        ++out.calls;
        auto r = api->get_resource_directory();
        if (!r) {
          out.errors.push_back(r.error());
          if (failure.empty()) failure = "account " + a->name + ": " + r.error().to_string();
          failed.insert(a->name);
          continue;
        }
        it = answers.emplace(a->name, std::move(r).value()).first;
      }
      if (it->second && it->second->resource_directory_id == rd) {
        info = it->second;
        break;
      }
    }
    if (!info) {
      m.why_unknown = !failure.empty()
                          ? "GetResourceDirectory failed (" + failure + ")"
                          : "no account of the config belongs to " + rd + " (GetResourceDirectory)";
      out.by_id.emplace(rd, std::move(m));
      continue;
    }
    m.management_uid = info->master_account_id;
    m.root_folder_id = info->root_folder_id;
    const config::Account* manager = nullptr;
    for (const auto& a : desired.accounts) {
      const std::optional<std::string> uid = uid_of ? uid_of(a) : a.uid;
      if (uid && *uid == info->master_account_id) {
        manager = &a;
        break;
      }
    }
    cloud::CloudApi* api = manager != nullptr && client_for ? client_for(*manager) : nullptr;
    if (api == nullptr) {
      m.why_unknown = "the management account " + info->master_account_id + " of " + rd +
                      (manager == nullptr ? " is not among the config's accounts (add it, with its "
                                            "uid, to read the directory's members)"
                                          : " has no cloud client");
      out.by_id.emplace(rd, std::move(m));
      continue;
    }
    m.reader = manager->name;
    ++out.calls;
    auto members = api->list_directory_accounts();
    if (!members) {
      out.errors.push_back(members.error());
      m.why_unknown =
          "ListAccounts with account " + manager->name + " failed: " + members.error().to_string();
      out.by_id.emplace(rd, std::move(m));
      continue;
    }
    m.known = true;
    for (const auto& acc : *members) {
      if (!acc.resource_directory_id.empty() && acc.resource_directory_id != rd) continue;
      std::string path = folder_path(acc, rd);
      if (path.empty() && acc.folder_id == info->root_folder_id)
        path = rd + "/" + info->root_folder_id;
      if (path.empty()) {
        // Without its path the account's folder cannot be placed: the whole directory stays
        // unknown rather than calling a member an outsider.
        m.known = false;
        m.folder_of.clear();
        m.why_unknown = "ListAccounts gave no usable ResourceDirectoryPath for account " +
                        acc.account_id + " (\"" + acc.resource_directory_path + "\")";
        break;
      }
      m.folder_of[acc.account_id] = std::move(path);
    }
    out.by_id.emplace(rd, std::move(m));
  }
  return out;
}

void attach_directories(const config::DesiredState& desired, Observation& obs,
                        const ClientFor& client_for, bool trusted) {
  std::vector<std::string> observed;
  for (const auto& [name, o] : obs.accounts) observed.push_back(name);
  std::set<std::string> ids = directories_named(desired, observed);
  if (trusted)
    for (const auto& [name, o] : obs.accounts) add_trusted_directories(o, ids);
  if (ids.empty()) return;
  const UidOf uid_of = [&](const config::Account& a) -> std::optional<std::string> {
    auto it = obs.accounts.find(a.name);
    if (it != obs.accounts.end() && !it->second.fatal_error && !it->second.uid.empty())
      return it->second.uid;
    return a.uid;
  };
  auto d =
      std::make_shared<const Directories>(observe_directories(desired, ids, client_for, uid_of));
  for (auto& [name, o] : obs.accounts) o.directories = d;
}

}  // namespace sharekeeper::reconcilers
