#include "invariants.hpp"

#include <algorithm>
#include <regex>

#include "reconcilers/observe.hpp"
#include "world.hpp"

namespace sharekeeper::reliability {

using nlohmann::json;

namespace {

json as_document(const json& d) {
  if (d.is_string()) {
    json parsed = json::parse(d.get<std::string>(), nullptr, false);
    return parsed.is_discarded() ? json() : parsed;
  }
  return d;
}

std::vector<json> as_list(const json& v) {
  if (v.is_array()) return {v.begin(), v.end()};
  if (v.is_null()) return {};
  return {v};
}

bool ours(const std::string& policy) { return policy.rfind(std::string(kInstance) + "-", 0) == 0; }
bool share_role(const std::string& role) { return role == kImageRole || role == kSnapshotRole; }

// obj[key] when it is an array, else an empty array (a reference that outlives the call).
const json& list_of(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_array() ? *it : kEmpty;
}

const json* named(const json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const auto& x : list)
    if (x.value("name", "") == name) return &x;
  return nullptr;
}

json sharer(const json& state) {
  for (const auto& a : state["accounts"])
    if (a.value("uid", "") == kSharer) return a;
  return json::object();
}

bool tagged_ours(const json& role) {
  return role.contains("tags") && role["tags"].is_object() &&
         role["tags"].value(reconcilers::kManagedByTagKey, "") == kInstance;
}

// The keys the policies attached to `role` grant (default versions), whoever owns the policy.
std::set<std::string> keys_granted_to(const json& account, const json& role) {
  std::set<std::string> out;
  for (const auto& at : list_of(role, "policies")) {
    const std::string name = at.is_string() ? at.get<std::string>() : at.value("name", "");
    const json* p = named(list_of(account, "policies"), name);
    if (p == nullptr) continue;
    for (const auto& v : list_of(*p, "versions"))
      if (v.value("default", false)) {
        auto k = granted_keys(as_document(v["document"]));
        out.insert(k.begin(), k.end());
      }
  }
  return out;
}

std::string image_shares(const json& account) {
  json out = json::object();
  const json regions = account.value("regions", json::object());  // items() must not outlive it
  for (const auto& [region, r] : regions.items())
    for (const auto& i : list_of(r, "images"))
      out[i.value("imageId", "")] = i.value("sharedWith", json::array());
  return out.dump();
}

bool tagged_ours_share(const json& share) {
  return share.contains("tags") && share["tags"].is_object() &&
         share["tags"].value(reconcilers::kManagedByTagKey, "") == kInstance;
}

// The sharer's resource shares, as the emulator's state has them.
std::vector<json> sharer_shares(const json& state) {
  std::vector<json> out;
  for (const auto& s : list_of(state, "resourceShares"))
    if (s.value("owner", "") == kSharer) out.push_back(s);
  return out;
}

bool live(const std::string& status) { return status == "Associating" || status == "Associated"; }

// Resource/target pairs of the sharer's Active resource shares: "link <resource> <target>" while
// both associations are live (Associating or Associated), "assoc ..." once both are Associated.
void add_pairs(const json& state, bool associated, std::set<std::string>& out) {
  for (const auto& s : sharer_shares(state)) {
    if (s.value("status", "") != "Active") continue;
    std::vector<std::pair<std::string, std::string>> resources;
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto& a : list_of(s, "associations"))
      (a.value("associationType", "") == "Resource" ? resources : targets)
          .emplace_back(a.value("entityId", ""), a.value("status", ""));
    for (const auto& [r, rs] : resources)
      for (const auto& [t, ts] : targets) {
        if (live(rs) && live(ts)) out.insert("link " + r + " " + t);
        if (associated && rs == "Associated" && ts == "Associated")
          out.insert("assoc " + r + " " + t);
      }
  }
}

// The resource shares not ours, as S2 compares them: every field but the time-dependent states
// (Associating and Associated are both "live").
json foreign_shares_of(const json& state) {
  json out = json::object();
  for (auto s : sharer_shares(state)) {
    if (tagged_ours_share(s)) continue;
    json assocs = json::array();
    for (const auto& a : list_of(s, "associations")) {
      const std::string st = a.value("status", "");
      assocs.push_back({a.value("associationType", ""), a.value("entityType", ""),
                        a.value("entityId", ""), live(st) ? "live" : st});
    }
    std::sort(assocs.begin(), assocs.end());
    s["associations"] = assocs;
    s.erase("status");
    out[s.value("resourceShareId", "")] = s;
  }
  return out;
}

// "perm <image> <uid>" for each account on each of the sharer's image share lists.
std::set<std::string> image_perms(const json& account) {
  std::set<std::string> out;
  const json regions = account.value("regions", json::object());
  for (const auto& [region, r] : regions.items())
    for (const auto& i : list_of(r, "images"))
      for (const auto& uid : list_of(i, "sharedWith"))
        if (uid.is_string())
          out.insert("perm " + i.value("imageId", "") + " " + uid.get<std::string>());
  return out;
}

// The id Resource Sharing names a target by: a folder by its own id (the path's last part).
std::string target_id(const std::string& folder_path) {
  const auto slash = folder_path.rfind('/');
  return slash == std::string::npos ? folder_path : folder_path.substr(slash + 1);
}

}  // namespace

std::set<std::string> members_under(const json& state, const std::string& target) {
  std::set<std::string> out;
  if (!state.contains("resourceDirectory")) return out;
  const json& rd = state["resourceDirectory"];
  std::map<std::string, std::string> parent;
  for (const auto& f : list_of(rd, "folders")) parent[f.value("id", "")] = f.value("parentId", "");
  const json accounts = rd.value("accounts", json::object());
  for (const auto& [uid, folder] : accounts.items()) {
    if (uid == kSharer || !folder.is_string()) continue;
    if (target == rd.value("id", "")) {
      out.insert(uid);
      continue;
    }
    std::string cur = folder.get<std::string>();
    for (std::size_t steps = 0; !cur.empty() && steps <= parent.size() + 1; ++steps) {
      if (cur == target) {
        out.insert(uid);
        break;
      }
      auto it = parent.find(cur);
      cur = it == parent.end() ? std::string() : it->second;
    }
  }
  return out;
}

std::set<std::string> trusted_accounts(const json& trust_policy) {
  // ECS in the target account assumes the share role as Service "<UID>@ecs.aliyuncs.com"; a RAM
  // principal (acs:ram::UID:root) lets that account's RAM users in, which is no share grant.
  static const std::regex kEcs("^([0-9]{16})@ecs\\.aliyuncs\\.com$");
  std::set<std::string> out;
  const json doc = as_document(trust_policy);
  if (!doc.is_object()) return out;
  for (const auto& st : as_list(doc.value("Statement", json())))
    if (st.is_object() && st.value("Effect", "") == "Allow" && !st.contains("Condition") &&
        st.contains("Principal") && st["Principal"].is_object())
      for (const auto& p : as_list(st["Principal"].value("Service", json())))
        if (std::smatch m; p.is_string()) {
          const std::string s = p.get<std::string>();
          if (std::regex_match(s, m, kEcs)) out.insert(m[1]);
        }
  return out;
}

std::set<std::string> granted_keys(const json& document) {
  std::set<std::string> out;
  if (!document.is_object()) return out;
  for (const auto& st : as_list(document.value("Statement", json())))
    if (st.is_object() && st.value("Effect", "") == "Allow")
      for (const auto& r : as_list(st.value("Resource", json())))
        if (r.is_string() && r.get<std::string>().find(":key/") != std::string::npos)
          out.insert(r.get<std::string>());
  return out;
}

void InvariantChecker::start_world() {
  const std::lock_guard<std::mutex> lock(mutex_);
  initial_ = sharer(emu_.model().state(emu_.server().clock().now()));
  violations_.clear();
  unconverged_.clear();
  paused_ = false;
  desired_ = {};
  ever_present_.clear();
  adopted_.clear();
  for (const auto& r : list_of(initial_, "roles"))
    if (share_role(r.value("name", "")) && !tagged_ours(r)) {
      auto t = trusted_accounts(r["trustPolicy"]);
      adopted_[r.value("name", "")] = {t.begin(), t.end()};
    }
  const json state = emu_.model().state(emu_.server().clock().now());
  foreign_perms_ = image_perms(initial_);
  foreign_shares_ = foreign_shares_of(state);
  previous_ = present(state, false);
}

InvariantChecker::Memory InvariantChecker::memory() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return {desired_, initial_, ever_present_, previous_, adopted_, foreign_perms_, foreign_shares_};
}

void InvariantChecker::recall(const Memory& m) {
  const std::lock_guard<std::mutex> lock(mutex_);
  desired_ = m.desired;
  initial_ = m.initial;
  ever_present_ = m.ever_present;
  previous_ = m.previous;
  adopted_ = m.adopted;
  foreign_perms_ = m.foreign_perms;
  foreign_shares_ = m.foreign_shares;
  violations_.clear();
  unconverged_.clear();
  paused_ = false;
}

void InvariantChecker::set_config(const config::DesiredState& desired) {
  const std::lock_guard<std::mutex> lock(mutex_);
  desired_ = desired;
  // What the new config keeps is protected from now on only where it is present now.
  const json state = emu_.model().state(emu_.server().clock().now());
  const Items now = present(state, true);
  Items still;
  for (const auto& i : ever_present_)
    if (now.count(i) != 0U) still.insert(i);
  ever_present_ = std::move(still);
  for (const auto& i : now) ever_present_.insert(i);
}

void InvariantChecker::pause() {
  const std::lock_guard<std::mutex> lock(mutex_);
  paused_ = true;
}

void InvariantChecker::resume() {
  const std::lock_guard<std::mutex> lock(mutex_);
  paused_ = false;
  const json state = emu_.model().state(emu_.server().clock().now());
  ever_present_ = present(state, true);
  previous_ = present(state, false);
  // An out-of-band edit may add foreign objects: they are foreign from now on.
  initial_ = sharer(state);
  foreign_shares_ = foreign_shares_of(state);
}

InvariantChecker::Items InvariantChecker::kept(const json& state) const {
  Items out;
  for (const auto& s : desired_.shares) {
    if (s.mode != config::ShareMode::kEnforce) continue;
    auto add = [&](const char* role, const std::vector<std::string>& resources) {
      if (resources.empty()) return;
      for (const auto& t : s.to.accounts) out.insert(std::string("trust ") + role + " " + t);
      for (const auto& r : resources) {
        if (auto k = key_arn_of(state, r)) out.insert(std::string("key ") + role + " " + *k);
        if (role == std::string(kImageRole))
          for (const auto& t : s.to.accounts) out.insert("use " + t + " " + r);
      }
    };
    add(kImageRole, s.images);
    add(kSnapshotRole, s.snapshots);
    if (!desired_.settings.manage_shares) continue;
    // The shares themselves: images to accounts on the image's list, everything else through
    // Resource Sharing (docs/reconcilers.md "Two drivers, one plan").
    std::vector<std::string> rs_targets;
    if (s.to.resource_directory) rs_targets.push_back(*s.to.resource_directory);
    for (const auto& f : s.to.folders) rs_targets.push_back(target_id(f));
    for (const auto& i : s.images) {
      for (const auto& t : s.to.accounts) out.insert("perm " + i + " " + t);
      for (const auto& t : rs_targets) {
        out.insert("link " + i + " " + t);
        out.insert("assoc " + i + " " + t);
      }
    }
    for (const auto& sn : s.snapshots) {
      for (const auto& t : s.to.accounts) {
        out.insert("link " + sn + " " + t);
        out.insert("assoc " + sn + " " + t);
        out.insert("use " + t + " " + sn);
      }
      for (const auto& t : rs_targets) {
        out.insert("link " + sn + " " + t);
        out.insert("assoc " + sn + " " + t);
      }
    }
  }
  // protectedPrincipals are never removed: from a share role's trust, nor from an image's list.
  if (!desired_.accounts.empty()) {
    const json account = sharer(state);
    const json regions = account.value("regions", json::object());
    for (const auto& p : desired_.accounts[0].protected_principals) {
      for (const char* role : {kImageRole, kSnapshotRole})
        out.insert(std::string("trust ") + role + " " + p);
      for (const auto& [region, r] : regions.items())
        for (const auto& i : list_of(r, "images"))
          out.insert("perm " + i.value("imageId", "") + " " + p);
    }
  }
  return out;
}

InvariantChecker::Items InvariantChecker::present(const json& state, bool with_access) const {
  Items out;
  const json account = sharer(state);
  for (const auto& r : list_of(account, "roles")) {
    const std::string name = r.value("name", "");
    if (!share_role(name)) continue;
    for (const auto& uid : trusted_accounts(r["trustPolicy"]))
      out.insert("trust " + name + " " + uid);
    for (const auto& k : keys_granted_to(account, r)) out.insert("key " + name + " " + k);
  }
  const auto perms = image_perms(account);
  out.insert(perms.begin(), perms.end());
  add_pairs(state, with_access, out);
  if (with_access) {
    const auto now = emu_.server().clock().now();
    for (const auto& item : kept(state)) {
      if (item.rfind("use ", 0) != 0) continue;
      const auto sp = item.find(' ', 4);
      const json verdict = emu_.model().access(item.substr(4, sp - 4), item.substr(sp + 1), now);
      if (verdict.value("usable", false)) out.insert(item);
    }
  }
  return out;
}

void InvariantChecker::violation(const std::string& v) {
  if (violations_.size() < 50)
    violations_.push_back(v);
  else if (violations_.size() == 50)
    violations_.push_back("... (more violations not kept)");
}

void InvariantChecker::check(const std::string& when) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (paused_) return;
  check_locked(when);
}

void InvariantChecker::check_locked(const std::string& when) {
  ++checks_;
  const json state = emu_.model().state(emu_.server().clock().now());
  const json account = sharer(state);
  const Items now = present(state, true);
  const Items keep = kept(state);
  // S1: what the config keeps and was present is still present.
  for (const auto& i : keep)
    if (ever_present_.count(i) != 0U && now.count(i) == 0U) violation("S1 " + when + ": lost " + i);
  for (const auto& i : now) ever_present_.insert(i);
  // S1 bookkeeping: an item the config no longer keeps may go; once gone it is not protected.
  for (auto it = ever_present_.begin(); it != ever_present_.end();)
    it = (keep.count(*it) == 0U && now.count(*it) == 0U) ? ever_present_.erase(it) : std::next(it);

  // S2: foreign roles and policies exactly as they were; none created.
  for (const char* collection : {"roles", "policies"}) {
    auto mine = [&](const std::string& n) {
      return collection == std::string("roles") ? share_role(n) : ours(n);
    };
    for (const auto& x : list_of(initial_, collection)) {
      const std::string n = x.value("name", "");
      if (mine(n)) continue;
      const json* after = named(list_of(account, collection), n);
      if (after == nullptr)
        violation("S2 " + when + ": foreign " + collection + " " + n + " removed");
      else if (*after != x)
        violation("S2 " + when + ": foreign " + collection + " " + n + " changed");
    }
    for (const auto& x : list_of(account, collection)) {
      const std::string n = x.value("name", "");
      if (!mine(n) && named(list_of(initial_, collection), n) == nullptr)
        violation("S2 " + when + ": " + collection + " " + n + " created, not ours");
    }
  }
  // S2: attachments not ours stay; new attachments are ours.
  for (const char* rn : {kImageRole, kSnapshotRole}) {
    const json* before = named(list_of(initial_, "roles"), rn);
    const json* after = named(list_of(account, "roles"), rn);
    auto attached = [](const json* role) {
      std::set<std::string> out;
      if (role != nullptr)
        for (const auto& at : list_of(*role, "policies"))
          out.insert(at.is_string() ? at.get<std::string>() : at.value("name", ""));
      return out;
    };
    const auto had = attached(before);
    const auto has = attached(after);
    for (const auto& p : had)
      if (!ours(p) && has.count(p) == 0U)
        violation("S2 " + when + ": foreign attachment " + p + " detached from " + rn);
    for (const auto& p : has)
      if (!ours(p) && had.count(p) == 0U)
        violation("S2 " + when + ": " + p + " attached to " + rn + ", not ours");
    // An adopted role (untagged when first seen) is additive unless the config says otherwise.
    auto adopted = adopted_.find(rn);
    if (adopted == adopted_.end()) continue;
    const bool authoritative = !desired_.accounts.empty() &&
                               desired_.accounts[0].adopt == config::AdoptMode::kAuthoritative;
    const auto trusted =
        after ? trusted_accounts((*after)["trustPolicy"]) : std::set<std::string>{};
    for (auto it = adopted->second.begin(); it != adopted->second.end();) {
      if (trusted.count(*it) != 0U) {
        ++it;
      } else if (authoritative) {
        it = adopted->second.erase(it);  // removed under authoritative adoption: allowed
      } else {
        violation("S2 " + when + ": principal " + *it + " of adopted role " + rn + " removed");
        it = adopted->second.erase(it);
      }
    }
  }
  if (!desired_.settings.manage_shares) {
    // S2: without manageShares, image share lists are not sharekeeper's.
    if (image_shares(account) != image_shares(initial_))
      violation("S2 " + when + ": an image's share list changed");
  } else {
    // S2: an account on an image's list when the world started is foreign (adopted additively:
    // kept), unless `adopt: authoritative` (then an unshare candidate).
    const bool authoritative = !desired_.accounts.empty() &&
                               desired_.accounts[0].adopt == config::AdoptMode::kAuthoritative;
    const auto perms = image_perms(account);
    for (auto it = foreign_perms_.begin(); it != foreign_perms_.end();) {
      if (perms.count(*it) != 0U) {
        ++it;
        continue;
      }
      if (!authoritative) violation("S2 " + when + ": foreign " + *it + " removed (unshared)");
      it = foreign_perms_.erase(it);
    }
  }
  // S2: resource shares not ours are never modified, and every resource share created is ours.
  const json shares_now = foreign_shares_of(state);
  for (const auto& [id, before] : foreign_shares_.items()) {
    auto it = shares_now.find(id);
    if (it == shares_now.end())
      violation("S2 " + when + ": resource share " + id + " (not ours) gone or tagged ours");
    else if (*it != before)
      violation("S2 " + when + ": resource share " + id + " (not ours) changed: " + it->dump());
  }
  for (const auto& [id, now_share] : shares_now.items())
    if (!foreign_shares_.contains(id))
      violation("S2 " + when + ": resource share " + id + " created, not ours");
  // S2: nothing granted that the config does not name (what was there may stay: guards).
  const Items grants = present(state, false);
  for (const auto& i : grants)
    if (previous_.count(i) == 0U && keep.count(i) == 0U)
      violation("S2 " + when + ": granted " + i + ", which the config does not name");
  previous_ = grants;
}

void InvariantChecker::check_grants(const std::vector<reconcilers::GrantStatus>& grants,
                                    const std::string& when) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto now = emu_.server().clock().now();
  const json state = emu_.model().state(emu_.server().clock().now());
  for (const auto& g : grants) {
    if (g.target.type != config::TargetType::kAccount) {
      // A directory or folder: Ready means every account it reaches can use the resource (one
      // such account may also be reached by another grant, so only this direction is checked).
      const auto members = members_under(state, target_id(g.target.id));
      for (const auto& r : g.resources) {
        const bool ready = g.state == config::GrantState::kReady &&
                           r.state == config::GrantState::kReady &&
                           r.sharing == config::Sharing::kShared;
        if (!ready) continue;
        if (members.empty())
          violation("S3 " + when + ": grant " + g.share + "/" + g.target.id +
                    " is Ready but reaches no account of the directory");
        for (const auto& uid : members) {
          const json verdict = emu_.model().access(uid, r.resource_id, now);
          if (!verdict.value("usable", false))
            violation("S3 " + when + ": grant " + g.share + "/" + g.target.id + " " +
                      r.resource_id + " is Ready but " + uid +
                      " cannot use it: " + verdict.value("reasons", json::array()).dump());
        }
      }
      continue;
    }
    for (const auto& r : g.resources) {
      const json verdict = emu_.model().access(g.target.id, r.resource_id, now);
      const bool usable = verdict.value("usable", false);
      // Per resource: a grant is Pending while one of its resources is (an external target's
      // snapshot waits for its invitation) though the target can use the others already.
      const bool ready =
          r.state == config::GrantState::kReady && r.sharing == config::Sharing::kShared;
      // Without manageShares a grant's Ready covers the RAM/KMS side only (docs/reconcilers.md).
      const bool grant_ready_unusable =
          desired_.settings.manage_shares && g.state == config::GrantState::kReady && !usable;
      // Usable before Ready: the target's own pair is still Associating while it reaches the
      // resource through a directory or folder pair that sharekeeper keeps for it until then (the
      // pair is leaving the config; reconcilers/share_plan.cpp, seed 554 of the full run). The
      // grant is Pending "sharing in progress", which is conservative, not wrong.
      const bool pending_but_reachable = usable && r.sharing == config::Sharing::kPending &&
                                         r.state == config::GrantState::kPending;
      if ((usable != ready && !pending_but_reachable) || grant_ready_unusable)
        violation(
            "S3 " + when + ": grant " + g.share + "/" + g.target.id + " " + r.resource_id + " is " +
            to_string(g.state) + "/" + to_string(r.state) + "/" + to_string(r.sharing) +
            " but the emulator says " +
            (usable ? "usable" : "not usable: " + verdict.value("reasons", json::array()).dump()));
    }
  }
}

void InvariantChecker::check_output(std::string_view text, const std::string& where) {
  if (text.find(kCanarySecret) == std::string_view::npos) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  violation("S4 " + where + ": the AccessKeySecret appears in the output");
}

void InvariantChecker::report_unconverged(const std::string& what) {
  const std::lock_guard<std::mutex> lock(mutex_);
  unconverged_.push_back(what);
}

std::vector<std::string> InvariantChecker::violations() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}
std::vector<std::string> InvariantChecker::unconverged() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return unconverged_;
}
int InvariantChecker::checks() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return checks_;
}

}  // namespace sharekeeper::reliability
