#include "reconcilers/grant_status_plan.hpp"

#include <algorithm>
#include <tuple>

#include "reconcilers/desired_grants.hpp"
#include "reconcilers/observe_rd.hpp"
#include "reconcilers/share_plan.hpp"

namespace sharekeeper::reconcilers::planner {
namespace {

// What the role's attached policies still lack for this resource ("" when nothing): the same for
// every target of the share, so computed once per resource.
std::string resources_unmet(const Resolved& r, const RoleFacts& f, RoleKind kind,
                            const std::string& uid) {
  if (r.needs_full_access && !f.full_access_attached)
    return std::string(kFullAccessPolicy) + " is not attached to " + role_name(kind);
  auto granted = [&](const std::string& resource) {
    return f.resources.count(resource) != 0U || f.foreign_resources.count(resource) != 0U;
  };
  for (const ObservedKey* k : r.cmks) {
    if (!granted(k->arn)) return "no attached KMS policy allows key " + k->key_id;
    if (!granted(list_resource(k->region, uid)))
      return "no attached KMS policy allows kms:List* in " + k->region;
  }
  return "";
}

// Why the role does not serve `target` for this resource yet ("" when it does).
std::string unmet_requirement(const std::string& resources_unmet, const RoleFacts& f, RoleKind kind,
                              const Principal& target) {
  if (f.presence == Presence::kUnknown)
    return "could not observe role " + std::string(role_name(kind));
  if (f.presence == Presence::kAbsent)
    return "role " + std::string(role_name(kind)) + " does not exist";
  if (!f.trust_known) return "trust policy of " + std::string(role_name(kind)) + " is unreadable";
  if (f.principals.count(target) == 0U)
    return "trust policy of " + std::string(role_name(kind)) + " lacks " + target.label();
  return resources_unmet;
}

// The grants of one share, appended to `out`.
void share_statuses(const config::Share& share, const AccountContext* a, const PlanInputs& in,
                    std::vector<GrantStatus>& out) {
  // Once per share, for each of its targets below: its resolved resources, their sharing data and
  // what our policies lack for them.
  const std::vector<Resolved>* resolved = nullptr;
  std::vector<SharingLookup> sharing;
  std::vector<std::string> unmet_resources;
  if (a != nullptr && a->obs != nullptr) {
    if (auto rit = a->resolved.find(share.name); rit != a->resolved.end()) {
      resolved = &rit->second;
      sharing.reserve(resolved->size());
      unmet_resources.resize(resolved->size());
      for (std::size_t i = 0; i < resolved->size(); ++i) {
        const Resolved& r = (*resolved)[i];
        sharing.push_back(sharing_lookup(*a->obs, r.status));
        if (r.needs_role)
          unmet_resources[i] = resources_unmet(r, a->role(r.kind).facts, r.kind, a->obs->uid);
      }
    }
  }
  const std::string* selector_error = nullptr;
  if (a != nullptr)
    if (auto se = a->selector_errors.find(share.name); se != a->selector_errors.end())
      selector_error = &se->second;
  // Each resource's chain without detail, as built for the share's first target that needed one:
  // the other targets only judge their own links again (retarget_chain), in `scratch`.
  std::vector<std::vector<ChainLink>> base_chains(resolved != nullptr ? resolved->size() : 0);
  std::vector<bool> has_base(base_chains.size(), false);
  std::vector<ChainLink> scratch;
  Principal target;  // reused: one buffer for every target of the share
  for (const auto& t : in.targets(share)) {
    target.kind = Principal::kind_of(t.type);
    target.id.assign(t.id);
    GrantStatus g;
    g.share = share.name;
    g.account = share.account;
    g.target = t;
    if (a == nullptr) {
      g.state = GrantState::kFailed;
      g.reason = "unknown account '" + share.account + "'";
      out.push_back(std::move(g));
      continue;
    }
    if (!a->plan.error.empty()) {
      g.state = GrantState::kFailed;
      g.reason = a->plan.error;
      out.push_back(std::move(g));
      continue;
    }
    GrantState worst = GrantState::kReady;
    std::string why;
    auto consider = [&](GrantState s, const std::string& r) {
      if (severity(s) > severity(worst)) {
        worst = s;
        why = r;
      }
    };
    if (selector_error != nullptr) consider(GrantState::kFailed, *selector_error);
    bool any_needs_role = false;
    if (resolved != nullptr) {
      g.resources.reserve(resolved->size());
      for (std::size_t i = 0; i < resolved->size(); ++i) {
        const Resolved& r = (*resolved)[i];
        g.resources.push_back(r.status);
        judge_sharing(sharing[i], r.kind, t, g.resources.back());

        consider(r.status.state, r.status.reason);
        if (r.status.state != GrantState::kReady) continue;
        auto& rs = g.resources.back();
        if (r.needs_role) {
          any_needs_role = true;
          const RoleFacts& f = a->role(r.kind).facts;
          std::string unmet = unmet_requirement(unmet_resources[i], f, r.kind, target);
          if (!unmet.empty()) {
            rs.state =
                f.presence == Presence::kUnknown ? GrantState::kFailed : GrantState::kPending;
            rs.reason = std::move(unmet);
            consider(rs.state, rs.reason);
          }
        }
        // settings.manageShares: Ready also means the resource is shared with the target.
        if (share.mode == config::ShareMode::kEnforce) {
          judge_managed_share(*a, r, t, rs);
          consider(rs.state, rs.reason);
        }
      }
    }
    // The chains, once the state is known: in detail for grants that are not Ready (plan -o json
    // shows them); for the others only the links that do not hold, with their text (usually none:
    // 20,000 Ready grants would otherwise keep 160,000 links nobody reads).
    if (resolved != nullptr) {
      const bool detail = worst != GrantState::kReady || share.mode == config::ShareMode::kObserve;
      for (std::size_t i = 0; i < resolved->size(); ++i) {
        ResourceStatus& rs = g.resources[i];
        const RoleFacts& facts = a->role((*resolved)[i].kind).facts;
        if (detail) {
          rs.chain = build_chain(*a->obs, facts, rs, t, true).links;
        } else {
          const std::vector<ChainLink>* links = &base_chains[i];
          if (has_base[i]) {
            scratch = base_chains[i];  // into the capacity it already has
            scratch = retarget_chain(std::move(scratch), *a->obs, facts, rs, t);
            links = &scratch;
          } else {
            base_chains[i] = build_chain(*a->obs, facts, rs, t, false).links;
            has_base[i] = true;
          }
          for (const ChainLink& l : *links)
            if (l.state == LinkState::kBroken || l.state == LinkState::kUnknown)
              rs.chain.push_back(l);
        }
        if (const ChainLink* b = blocking_link(rs.chain); b != nullptr && g.blocked_by.empty())
          g.blocked_by = to_string(b->link);
      }
    }
    if (share.mode == config::ShareMode::kObserve) {
      g.state = GrantState::kObserved;
      g.reason = worst == GrantState::kReady
                     ? "observe mode: in sync"
                     : "observe mode: " + std::string(to_string(worst)) + ": " + why;
    } else {
      g.state = worst;
      g.reason = std::move(why);
      if (worst == GrantState::kReady) {
        if (g.resources.empty()) {
          g.reason = "no resources matched";
        } else if (!any_needs_role) {
          g.reason = "unencrypted: no RAM grant needed";
        }
      }
    }
    out.push_back(std::move(g));
  }
}

}  // namespace

namespace {
// Every directory membership the observation asked for was read (and there is one).
bool directories_read(const Directories* d) {
  if (d == nullptr || d->by_id.empty()) return false;
  return std::all_of(d->by_id.begin(), d->by_id.end(),
                     [](const auto& kv) { return kv.second.known; });
}
}  // namespace

SharingLookup sharing_lookup(const AccountObservation& obs, const ResourceStatus& rs) {
  SharingLookup l;
  auto reg = obs.regions.find(rs.region);
  if (reg == obs.regions.end()) return l;
  l.shares = &reg->second.shares;
  l.directories = obs.directories.get();
  if (auto it = l.shares->image_accounts.find(rs.resource_id); it != l.shares->image_accounts.end())
    l.image_accounts = &it->second;
  if (auto it = l.shares->resource_targets.find(rs.resource_id);
      it != l.shares->resource_targets.end())
    l.pairs = &it->second;
  return l;
}

void judge_sharing(const SharingLookup& l, RoleKind kind, const config::GrantTarget& target,
                   ResourceStatus& rs) {
  if (l.shares == nullptr) return;
  const bool image_to_account = kind == RoleKind::kImage && target.type == TargetType::kAccount;
  if (image_to_account) {
    // Not listed (the call failed): Resource Sharing alone cannot say "not shared".
    if (l.image_accounts == nullptr) return;
    if (std::find(l.image_accounts->begin(), l.image_accounts->end(), target.id) !=
        l.image_accounts->end()) {
      rs.sharing = Sharing::kShared;
      rs.sharing_detail = "image share permission";
      return;
    }
  }
  if (!l.shares->resource_sharing_known) return;
  // A share with a directory or folder reaches everything below it: a folder target is covered
  // by a share with itself (its own id, the last part of the path), any folder above it, or its
  // directory; an account by a share with itself, or (when the membership was read) with its
  // directory or a folder on its path.
  const ObservedShares::Association* a = nullptr;
  // A view of the listing's key, not of `id`: a membership path below lives only for one turn of
  // the loop over the directories (a view into it printed freed memory in plan -o json;
  // reliability seed 6), the observation for the whole plan.
  std::string_view via;
  if (l.pairs != nullptr) {
    const auto& by_target = *l.pairs;
    auto best = [&](std::string_view id) {
      auto t = by_target.find(id);
      if (t == by_target.end()) return;
      if (a == nullptr || ObservedShares::Association::rank(t->second.status) >
                              ObservedShares::Association::rank(a->status)) {
        a = &t->second;
        via = t->first;
      }
    };
    auto walk = [&](std::string_view path) {
      while (!path.empty()) {
        const auto slash = path.find('/');
        best(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
      }
    };
    if (target.type == TargetType::kFolder) {
      walk(target.id);
    } else {
      best(target.id);
      if (target.type == TargetType::kAccount && l.directories != nullptr) {
        for (const auto& [rd, m] : l.directories->by_id) {
          std::string path;
          if (membership_of(l.directories, rd, target.id, &path) == Membership::kMember) walk(path);
        }
      }
    }
  }
  if (a == nullptr) {
    rs.sharing = Sharing::kNotShared;
    rs.sharing_detail =
        image_to_account ? "not in the image's share permissions nor a resource share"
        : target.type == TargetType::kAccount
            ? (directories_read(l.directories)
                   ? "in no resource share with this account, its directory or its folders"
                   : "in no resource share with this account (directory membership is not "
                     "resolved)")
            : "in no resource share with this target";
    return;
  }
  std::string where = "resource share " + a->resource_share_id;
  const std::string_view own = target.type == TargetType::kFolder
                                   ? std::string_view(target.id).substr(target.id.rfind('/') + 1)
                                   : std::string_view(target.id);
  if (via != own) where.append(" via ").append(via);
  if (a->external) where += " (external target)";
  const std::string message = a->message.empty() ? "" : " (" + a->message + ")";
  if (a->status == "Associated") {
    rs.sharing = Sharing::kShared;
    rs.sharing_detail = std::move(where);
  } else if (a->status == "Associating") {
    rs.sharing = Sharing::kPending;
    rs.sharing_detail = where + ": associating" + message;
  } else {
    rs.sharing = Sharing::kNotShared;
    rs.sharing_detail =
        where + ": " + (a->status == "Failed" ? "association Failed" : "being removed") + message;
  }
}

std::vector<GrantStatus> grant_statuses(
    const std::map<std::string, const AccountContext*>& accounts, const PlanInputs& in,
    const std::vector<std::string>& only) {
  std::vector<GrantStatus> out;
  // Out-of-scope shares have no targets in `in` (plan_inputs), so this counts only those in scope.
  std::size_t n = 0;
  for (const auto& targets : in.share_targets) n += targets.size();
  out.reserve(n);
  for (const auto& share : in.desired->shares) {
    if (!only.empty() && std::find(only.begin(), only.end(), share.account) == only.end()) continue;
    auto it = accounts.find(share.account);
    share_statuses(share, it == accounts.end() ? nullptr : it->second, in, out);
  }
  // Shares come sorted by name (DesiredState contract) and targets sorted, so this is usually a
  // linear check.
  auto by_grant = [](const GrantStatus& a, const GrantStatus& b) {
    return std::tie(a.share, a.target) < std::tie(b.share, b.target);
  };
  if (!std::is_sorted(out.begin(), out.end(), by_grant))
    std::sort(out.begin(), out.end(), by_grant);
  return out;
}

}  // namespace sharekeeper::reconcilers::planner
