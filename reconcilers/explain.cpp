#include "reconcilers/explain.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "config/formats.hpp"
#include "reconcilers/observe_rd.hpp"
#include "reconcilers/principal.hpp"

namespace sharekeeper::reconcilers {
namespace {

struct Candidate {
  std::string account;
  std::string region;
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

bool names(const config::Share& s, const std::string& id) {
  return std::binary_search(s.images.begin(), s.images.end(), id) ||
         std::binary_search(s.snapshots.begin(), s.snapshots.end(), id);
}

std::vector<Candidate> candidates(const config::DesiredState& d, const std::string& id,
                                  const std::vector<std::string>& regions) {
  std::vector<Candidate> out;
  auto add = [&](const std::string& account, const std::string& region) {
    Candidate c{account, region};
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  };
  if (regions.empty())
    for (const auto& s : d.shares)
      if (names(s, id)) add(s.account, s.region);
  std::set<std::string> all_regions(regions.begin(), regions.end());
  if (regions.empty())
    for (const auto& s : d.shares) all_regions.insert(s.region);
  for (const auto& a : d.accounts) {
    std::set<std::string> own;
    if (regions.empty())
      for (const auto& s : d.shares)
        if (s.account == a.name) own.insert(s.region);
    for (const auto& r : own.empty() ? all_regions : own) add(a.name, r);
  }
  return out;
}

Presence presence_of(const AccountObservation& o, const std::string& region,
                     const std::string& id) {
  auto r = o.regions.find(region);
  if (r == o.regions.end()) return Presence::kUnknown;
  if (id.rfind("m-", 0) == 0) {
    auto it = r->second.images.find(id);
    return it == r->second.images.end() ? Presence::kUnknown : it->second.presence;
  }
  auto it = r->second.snapshots.find(id);
  return it == r->second.snapshots.end() ? Presence::kUnknown : it->second.presence;
}

const char* mark(LinkState s) {
  switch (s) {
    case LinkState::kHeld:
      return "held      ";
    case LinkState::kBroken:
      return "BROKEN    ";
    case LinkState::kUnknown:
      return "unknown   ";
    case LinkState::kNotNeeded:
      return "not needed";
  }
  return "?";
}

}  // namespace

int Explanation::exit_code() const {
  if (chain.broken()) return 2;
  if (!errors.empty() || chain.links.empty() || !chain.usable()) return 1;
  return 0;
}

support::Result<config::GrantTarget, support::Failure> parse_target(const std::string& text) {
  namespace f = config::format;
  if (f::is_account_uid(text)) return config::GrantTarget{config::TargetType::kAccount, text};
  if (f::is_rd_id(text)) return config::GrantTarget{config::TargetType::kResourceDirectory, text};
  if (f::is_folder_path(text)) return config::GrantTarget{config::TargetType::kFolder, text};
  return support::Failure{"--target '" + text +
                          "' is neither an account UID (16 digits), a resource directory id "
                          "(rd-xxxxxx) nor a folder path (rd-xxxxxx/r-xxxxxx/fd-xxxxxxxxxx)"};
}

support::Result<Explanation, support::Failure> explain(const config::DesiredState& desired,
                                                       const std::string& resource_id,
                                                       const config::GrantTarget& target,
                                                       const std::vector<std::string>& regions,
                                                       const ClientFor& client_for) {
  namespace f = config::format;
  if (!f::is_image_id(resource_id) && !f::is_snapshot_id(resource_id))
    return support::Failure{"--resource '" + resource_id +
                            "' is neither an image id (m-...) nor a snapshot id (s-...)"};
  for (const auto& r : regions)
    if (!f::is_region_id(r)) return support::Failure{"--region '" + r + "' is not a region id"};
  if (desired.accounts.empty()) return support::Failure{"the config has no accounts"};
  const std::vector<Candidate> cands = candidates(desired, resource_id, regions);
  if (cands.empty())
    return support::Failure{"no region to look for " + resource_id +
                            " in: the config has no shares; name one with --region"};

  // One share per candidate naming just this resource and target: observe() then reads the
  // resource, its disks and keys, both roles, the policies and the share listings it needs.
  config::DesiredState probe;
  probe.settings = desired.settings;
  // Read the disk-encryption role's attachments too (observation only: explain never writes).
  probe.settings.manage_disk_encrypt_role = true;
  probe.accounts = desired.accounts;
  probe.revision = desired.revision;
  std::vector<std::string> only;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    config::Share s;
    s.name = "explain-" + std::to_string(1000 + i);
    s.account = cands[i].account;
    s.region = cands[i].region;
    (resource_id.rfind("m-", 0) == 0 ? s.images : s.snapshots).push_back(resource_id);
    switch (target.type) {
      case config::TargetType::kAccount:
        s.to.accounts.push_back(target.id);
        break;
      case config::TargetType::kResourceDirectory:
        s.to.resource_directory = target.id;
        break;
      case config::TargetType::kFolder:
        s.to.folders.push_back(target.id);
        break;
    }
    probe.shares.push_back(std::move(s));
    if (std::find(only.begin(), only.end(), cands[i].account) == only.end())
      only.push_back(cands[i].account);
  }
  Observation obs = observe(probe, client_for, 4, only);
  // Where an account target sits in the directories the roles trust or the resource is shared
  // with (observe_rd.hpp): read with the directory's management account, when it is in the config.
  if (target.type == config::TargetType::kAccount) attach_directories(probe, obs, client_for, true);

  Explanation e;
  e.resource_id = resource_id;
  e.target = target;
  const Candidate* first_absent = nullptr;
  for (const auto& c : cands) {
    e.looked_in.push_back(c.account + "/" + c.region);
    auto it = obs.accounts.find(c.account);
    if (it == obs.accounts.end()) continue;
    const AccountObservation& o = it->second;
    if (o.fatal_error) {
      const std::string err = "account " + c.account + ": " + *o.fatal_error;
      if (std::find(e.errors.begin(), e.errors.end(), err) == e.errors.end())
        e.errors.push_back(err);
      continue;
    }
    const Presence p = presence_of(o, c.region, resource_id);
    if (p == Presence::kPresent) {
      e.found = true;
      e.errors.clear();  // where it is matters; what failed elsewhere does not
      e.account = c.account;
      e.uid = o.uid;
      e.region = c.region;
      e.chain = explain_chain(o, *desired.find_account(c.account), desired.settings.instance_name,
                              c.region, resource_id, target);
      for (const auto& err : o.errors) e.errors.push_back(err.to_string());
      for (const auto& err : o.share_errors) e.errors.push_back(err.to_string());
      if (o.directories != nullptr)
        for (const auto& err : o.directories->errors) e.errors.push_back(err.to_string());
      // Failed calls that did not leave any link unknown do not make the verdict uncertain.
      if (e.chain.broken() || e.chain.usable()) e.errors.clear();
      return e;
    }
    if (p == Presence::kUnknown) {
      for (const auto& err : o.errors) e.errors.push_back(c.account + ": " + err.to_string());
    } else if (first_absent == nullptr) {
      first_absent = &c;
    }
  }
  if (first_absent != nullptr && e.errors.empty()) {
    // Nowhere to be found: the chain of its first place says so (its resource link is broken).
    const AccountObservation& o = obs.accounts.at(first_absent->account);
    e.account = first_absent->account;
    e.uid = o.uid;
    e.region = first_absent->region;
    e.chain = explain_chain(o, *desired.find_account(e.account), desired.settings.instance_name,
                            e.region, resource_id, target);
    std::string where;
    for (const auto& l : e.looked_in) where += (where.empty() ? "" : ", ") + l;
    e.chain.links.front().observed = resource_id + " exists in none of " + where;
  }
  return e;
}

std::string render_explanation_text(const Explanation& e) {
  std::ostringstream out;
  const std::string who = label(e.target);
  out << "sharekeeper explain: can " << who << " use " << e.resource_id << "?\n";
  if (!e.account.empty())
    out << "  sharer: account " << e.account << " (" << (e.uid.empty() ? "uid unknown" : e.uid)
        << "), region " << e.region << (e.found ? "" : " (not found there)") << "\n";
  out << "\n";
  for (const auto& l : e.chain.links) {
    std::string name = to_string(l.link);
    out << "  " << mark(l.state) << "  " << name
        << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << l.observed << "\n";
    if (!l.remedy.empty() && l.state != LinkState::kHeld)
      out << "              " << std::string(18, ' ') << "remedy: " << l.remedy << "\n";
  }
  for (const auto& err : e.errors) out << "  ! " << err << "\n";
  out << "\nverdict: ";
  if (e.exit_code() == 0) {
    out << who << " can use " << e.resource_id << "\n";
  } else if (const ChainLink* b = e.chain.blocked_by(); b != nullptr && e.chain.broken()) {
    out << who << " cannot use " << e.resource_id << ": blocked by " << to_string(b->link) << " ("
        << b->observed << ")\n";
  } else {
    out << "cannot tell whether " << who << " can use " << e.resource_id
        << ": the observation is incomplete"
        << (e.chain.blocked_by() != nullptr
                ? std::string(" (") + to_string(e.chain.blocked_by()->link) + " unknown)"
                : std::string())
        << "\n";
  }
  return out.str();
}

}  // namespace sharekeeper::reconcilers
