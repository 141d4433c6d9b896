#include "reconcilers/share_plan.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "support/wire.hpp"

namespace sharekeeper::reconcilers::planner {
namespace {

constexpr std::size_t kMaxResourceShareName = 50;

bool is_uid(const std::string& s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// A Resource Sharing entity id as the principal plans show (UID, rd- id, or a folder's own id).
Principal entity_principal(const std::string& id) {
  if (is_uid(id)) return {PrincipalKind::kAccount, id};
  if (id.rfind("rd-", 0) == 0) return {PrincipalKind::kResourceDirectory, id};
  return {PrincipalKind::kFolder, id};
}

// An association's status, read once per plan (the phases after plan_share_wants use the diff).
enum class Assoc : unsigned char { kOther, kAssociated, kAssociating, kDisassociating };
Assoc assoc_of(std::string_view s) {
  switch (s.size()) {
    case 10:
      return s == "Associated" ? Assoc::kAssociated : Assoc::kOther;
    case 11:
      return s == "Associating" ? Assoc::kAssociating : Assoc::kOther;
    case 14:
      return s == "Disassociating" ? Assoc::kDisassociating : Assoc::kOther;
    default:
      return Assoc::kOther;
  }
}

bool in_effect(Assoc a) { return a == Assoc::kAssociated || a == Assoc::kAssociating; }
bool in_effect(std::string_view status) { return in_effect(assoc_of(status)); }

// One observed association, for the merge with the wants.
struct Seen {
  std::string_view id;
  std::uint32_t index = 0;  // in the listing
  Assoc state = Assoc::kOther;
  bool operator<(const Seen& o) const {
    const int c = id.compare(o.id);  // one comparison of the ids, not two
    return c != 0 ? c < 0 : index < o.index;
  }
};

// Reusable buffers of share_diff (one set per account, so that diffing allocates nothing).
struct DiffScratch {
  std::vector<Seen> seen;
  std::vector<char> wanted;
};

// The diff of one list (resources or targets) of a resource share of ours: `want` (sealed) against
// the observed associations `list`, merged once in id order.
void diff_list(const GrantsByKey& want, const std::set<std::string_view, std::less<>>& keep,
               const std::vector<cloud::ResourceShareAssociation>* list, bool targets,
               DiffScratch& s, ResourceShareContext& c, std::vector<std::string_view>& add,
               std::vector<std::string_view>& waiting, std::vector<std::string_view>& stale) {
  s.seen.clear();
  if (list != nullptr) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& x = (*list)[i];
      const Assoc st = assoc_of(x.association_status);
      if ((st == Assoc::kAssociating && !(targets && x.external)) || st == Assoc::kDisassociating)
        ++c.settling;
      if (in_effect(st)) ++c.in_effect;
      s.seen.push_back({x.entity_id, static_cast<std::uint32_t>(i), st});
    }
    // A share lists a few entities: sorting them costs less than a lookup per want.
    std::sort(s.seen.begin(), s.seen.end());
  }
  s.wanted.assign(s.seen.size(), 0);
  std::size_t j = 0;
  want.for_each_key([&](std::string_view id) {
    int order = -1;
    while (j < s.seen.size() && (order = s.seen[j].id.compare(id)) < 0) ++j;
    if (j == s.seen.size() || order != 0) {
      add.push_back(id);
      return;
    }
    // The first record of the id in the listing decides, as the cloud lists the current one first.
    const Assoc st = s.seen[j].state;
    for (; j < s.seen.size() && s.seen[j].id == id; ++j) s.wanted[s.seen[j].index] = 1;
    if (in_effect(st)) return;
    (st == Assoc::kDisassociating ? waiting : add).push_back(id);
  });
  if (list == nullptr) return;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto& x = (*list)[i];
    if (s.wanted[i] != 0 || !in_effect(x.association_status)) continue;
    if (keep.count(x.entity_id) != 0U) continue;
    stale.push_back(x.entity_id);
  }
}

void share_diff(ResourceShareContext& c, DiffScratch& s) {
  if (!c.known || c.observe) return;
  const auto* res = c.observed != nullptr ? &c.observed->resources : nullptr;
  const auto* tgt = c.observed != nullptr ? &c.observed->targets : nullptr;
  diff_list(c.want_resources, c.keep_resources, res, false, s, c, c.add_resources,
            c.waiting_resources, c.stale_resources);
  diff_list(c.want_targets, c.keep_targets, tgt, true, s, c, c.add_targets, c.waiting_targets,
            c.stale_targets);
}

// The first `n`-sized slices of `items`.
template <class T>
std::vector<std::vector<T>> chunks(const std::vector<T>& items, std::size_t n) {
  std::vector<std::vector<T>> out;
  for (std::size_t i = 0; i < items.size(); i += n)
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + n)));
  return out;
}

template <class T>
std::vector<T> slice(const std::vector<std::vector<T>>& parts, std::size_t i) {
  return i < parts.size() ? parts[i] : std::vector<T>{};
}

Change share_change(const AccountContext& a, Stage stage, Action action, ObjectKind object,
                    const std::string& region) {
  Change c;
  c.account = a.plan.account;
  c.stage = stage;
  c.action = action;
  c.object = object;
  c.region = region;
  return c;
}

// The protected principals of the account, as Resource Sharing and image lists name them.
std::set<std::string> protected_entities(const config::Account& account) {
  std::set<std::string> out;
  for (const auto& entry : account.protected_principals) {
    auto p = protected_principal(entry);
    if (!p) continue;
    out.insert(p->kind == PrincipalKind::kFolder ? p->id.substr(p->id.rfind('/') + 1) : p->id);
  }
  return out;
}

void plan_image(AccountContext& a, ImageShareContext& c) {
  if (!c.known) return;
  std::vector<std::string> adds;
  for (const auto& [account, grants] : c.want)
    if (c.current.count(account) == 0U) adds.push_back(account);
  if (!adds.empty()) {
    std::set<std::string> after(c.current);
    after.insert(adds.begin(), adds.end());
    if (after.size() > wire::kMaxImageShareAccounts) {
      c.blocked = "image " + c.image_id + " would be shared with " + std::to_string(after.size()) +
                  " accounts; an image can be shared with at most " +
                  std::to_string(wire::kMaxImageShareAccounts) +
                  " (QuotaExceed.ShareImageUser): share it with fewer accounts or through a "
                  "resource directory";
      a.note(c.blocked);
    } else {
      if (c.current.empty() && !c.owned && !c.other_instance) {
        Change t =
            share_change(a, Stage::kShares, Action::kTagImage, ObjectKind::kImageShare, c.region);
        t.image_id = c.image_id;
        t.reason = "first shared by sharekeeper: its share list becomes ours (tag " +
                   std::string(kManagedByTagKey) + ")";
        a.add(std::move(t));
      }
      const bool drift = c.owned;  // we shared it before: someone removed accounts
      for (const auto& part : chunks(adds, wire::kMaxImageShareAccountsPerCall)) {
        Change m = share_change(a, Stage::kShares, Action::kModifyImageShare,
                                ObjectKind::kImageShare, c.region);
        m.image_id = c.image_id;
        for (const auto& id : part) m.added.principals.push_back({PrincipalKind::kAccount, id});
        m.reason = drift ? "drifted: not in the image's share permissions"
                         : "missing: not in the image's share permissions";
        m.grants = a.grants.refs_of(part, c.want);
        a.add(std::move(m));
      }
    }
  }
  std::vector<std::string> removes(c.revoke.begin(), c.revoke.end());
  for (const auto& part : chunks(removes, wire::kMaxImageShareAccountsPerCall)) {
    Change m = share_change(a, Stage::kUnshares, Action::kModifyImageShare, ObjectKind::kImageShare,
                            c.region);
    m.image_id = c.image_id;
    for (const auto& id : part) m.removed.principals.push_back({PrincipalKind::kAccount, id});
    m.reason = "not in config: unshared";
    a.add(std::move(m));
  }
}

void plan_resource_share(AccountContext& a, ResourceShareContext& c) {
  if (!c.known || c.observe) return;
  a.plan.shares_settling += c.settling;
  // Wanted but still being disassociated: associating it now would be refused
  // (AssociateConflict); a later pass does.
  for (const auto& waiting : {&c.waiting_resources, &c.waiting_targets})
    for (std::string_view id : *waiting)
      a.note("resource share " + std::string(c.name) + ": " + std::string(id) +
             " is still being disassociated; it is associated again on a later pass");
  if (c.add_resources.empty() && c.add_targets.empty() && c.revoke_resources.empty() &&
      c.revoke_targets.empty())
    return;  // converged: the common case
  const std::vector<std::string> add_res(c.add_resources.begin(), c.add_resources.end());
  const std::vector<std::string> add_tgt(c.add_targets.begin(), c.add_targets.end());
  auto principals = [&](const std::vector<std::string>& ids) {
    std::vector<Principal> out;
    for (const auto& id : ids) {
      const config::GrantTarget* named = nullptr;
      if (c.targets != nullptr)
        for (const auto& t : *c.targets)
          if (resource_share_target(t) == id) named = &t;
      out.push_back(named != nullptr ? Principal::of(*named) : entity_principal(id));
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  auto grants_of = [&](const std::vector<std::string>& res, const std::vector<std::string>& tgt) {
    GrantIds ids;
    c.want_resources.grants_of(res, ids);
    c.want_targets.grants_of(tgt, ids);
    return a.grants.refs(ids);  // sorted, each once
  };
  const auto res_parts = chunks(add_res, wire::kMaxResourceSharingItemsPerCall);
  const auto tgt_parts = chunks(add_tgt, wire::kMaxResourceSharingItemsPerCall);
  const std::size_t n = std::max(res_parts.size(), tgt_parts.size());
  std::size_t first = 0;
  const std::string kind = role_short(c.kind);
  if (c.observed == nullptr) {
    // Nothing to create without both a resource and a target (a share is their product).
    if (add_res.empty() || add_tgt.empty()) return;
    Change m = share_change(a, Stage::kShares, Action::kCreateResourceShare,
                            ObjectKind::kResourceShare, c.region);
    m.resource_share_name = c.name;
    m.allow_external_targets = c.need_external;
    m.added.share_resources = res_parts[0];
    m.added.principals = principals(tgt_parts[0]);
    m.reason = "missing: the " + kind + " resource share of share " + std::string(c.share);
    m.grants = grants_of(res_parts[0], tgt_parts[0]);
    a.add(std::move(m));
    first = 1;
  } else if (c.need_external && !c.observed->share.allow_external_targets && !add_tgt.empty()) {
    Change m = share_change(a, Stage::kShares, Action::kUpdateResourceShare,
                            ObjectKind::kResourceShare, c.region);
    m.resource_share_name = c.name;
    m.resource_share_id = c.observed->share.resource_share_id;
    m.allow_external_targets = true;
    m.reason = "drifted: account targets need AllowExternalTargets";
    a.add(std::move(m));
  }
  for (std::size_t i = first; i < n; ++i) {
    Change m = share_change(a, Stage::kShares, Action::kAssociateResourceShare,
                            ObjectKind::kResourceShare, c.region);
    m.resource_share_name = c.name;
    if (c.observed != nullptr) m.resource_share_id = c.observed->share.resource_share_id;
    m.added.share_resources = slice(res_parts, i);
    const auto tgt = slice(tgt_parts, i);
    m.added.principals = principals(tgt);
    m.reason = c.observed != nullptr
                   ? "drifted: not associated with resource share " + std::string(c.name)
                   : "missing: more than 5 resources or targets";
    m.grants = grants_of(m.added.share_resources, tgt);
    a.add(std::move(m));
  }
  const std::vector<std::string> rm_res(c.revoke_resources.begin(), c.revoke_resources.end());
  const std::vector<std::string> rm_tgt(c.revoke_targets.begin(), c.revoke_targets.end());
  const auto rm_res_parts = chunks(rm_res, wire::kMaxResourceSharingItemsPerCall);
  const auto rm_tgt_parts = chunks(rm_tgt, wire::kMaxResourceSharingItemsPerCall);
  const std::size_t rn = std::max(rm_res_parts.size(), rm_tgt_parts.size());
  for (std::size_t i = 0; i < rn; ++i) {
    Change m = share_change(a, Stage::kUnshares, Action::kDisassociateResourceShare,
                            ObjectKind::kResourceShare, c.region);
    m.resource_share_name = c.name;
    m.resource_share_id = c.observed->share.resource_share_id;
    m.removed.share_resources = slice(rm_res_parts, i);
    m.removed.principals = principals(slice(rm_tgt_parts, i));
    m.reason = "not in config: unshared";
    a.add(std::move(m));
  }
}

}  // namespace

std::string resource_share_name(const std::string& instance, const std::string& share,
                                RoleKind kind) {
  std::string name;
  name.reserve(instance.size() + share.size() + 10);
  name.append(instance).append(1, '-').append(share).append(1, '-').append(role_short(kind));
  for (char& ch : name) {
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    if (!allowed) ch = '-';
  }
  if (name.size() <= kMaxResourceShareName) return name;
  std::uint32_t h = 2166136261U;  // FNV-1a: stable across builds and platforms
  for (char ch : name) h = (h ^ static_cast<unsigned char>(ch)) * 16777619U;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return name.substr(0, kMaxResourceShareName - 9) + "-" + hex;
}

std::string_view resource_share_target(const config::GrantTarget& t) {
  const std::string_view id = t.id;
  if (t.type != TargetType::kFolder) return id;
  return id.substr(id.rfind('/') + 1);
}

void plan_share_wants(AccountContext& a, const PlanInputs& in) {
  SharesContext& sc = a.shares;
  sc.managed = in.settings->manage_shares;
  if (!sc.managed) return;
  const AccountObservation& o = *a.obs;
  const bool adopt_authoritative = a.account->adopt == config::AdoptMode::kAuthoritative;
  auto region_of = [&](const std::string& region) -> const ObservedRegion* {
    auto it = o.regions.find(region);
    return it == o.regions.end() ? nullptr : &it->second;
  };
  // Looked up by views before anything is built: most lookups find the context.
  auto image_ctx = [&](const std::string& region, const std::string& id) -> ImageShareContext& {
    if (auto it = sc.images.find(RegionIdView{region, id}); it != sc.images.end())
      return it->second;
    ImageShareContext& c = sc.images.try_emplace({region, id}).first->second;
    c.region = region;
    c.image_id = id;
    if (const ObservedRegion* reg = region_of(region); reg != nullptr) {
      const ObservedShares& sh = reg->shares;
      if (auto l = sh.image_accounts.find(id); l != sh.image_accounts.end() && sh.managed_known) {
        c.known = true;
        c.current.insert(l->second.begin(), l->second.end());
      }
      c.owned = sh.owned_images.count(id) != 0U;
      if (auto im = reg->images.find(id); im != reg->images.end())
        for (const auto& t : im->second.image.tags)
          if (t.key == kManagedByTagKey && t.value != in.instance) c.other_instance = true;
    }
    c.authoritative = c.owned || (adopt_authoritative && !c.other_instance);
    return c;
  };
  // The config's shares come mostly in name order, and so do their resource shares' names: a new
  // name after the last one is appended with one comparison (a hint), any other is looked up.
  auto& rs_map = sc.resource_shares;
  auto rs_ctx = [&](const std::string& region, std::string name) -> ResourceShareContext& {
    const RegionIdView key{region, name};
    auto it = rs_map.end();
    if (rs_map.empty() || RegionIdLess{}(std::prev(rs_map.end())->first, key)) {
      it = rs_map.emplace_hint(rs_map.end(), std::piecewise_construct,
                               std::forward_as_tuple(region, std::move(name)),
                               std::forward_as_tuple());
    } else if (it = rs_map.find(key); it == rs_map.end()) {
      it = rs_map.try_emplace({region, std::move(name)}).first;
    } else {
      return it->second;
    }
    ResourceShareContext& c = it->second;
    c.region = region;
    c.name = it->first.second;
    return c;
  };

  if (auto shares = in.shares_by_account.find(a.account->name);
      shares != in.shares_by_account.end()) {
    auto next_resolved = a.resolved.begin();
    for (std::size_t si = 0; si < shares->second.size(); ++si) {
      const config::Share* share = shares->second[si];
      // The shares come in name order (the loader sorts them), and so does `resolved`: the next
      // entry is the one, unless a caller built the config unsorted.
      auto rit = next_resolved;
      if (rit == a.resolved.end() || rit->first != share->name) rit = a.resolved.find(share->name);
      if (rit == a.resolved.end()) continue;
      next_resolved = std::next(rit);
      const auto& targets = in.targets(*share);
      const int first = a.first_grant[si];
      const bool observe = share->mode == config::ShareMode::kObserve;
      const bool directory_targets = std::any_of(targets.begin(), targets.end(), [](const auto& t) {
        return t.type != TargetType::kAccount;
      });
      ResourceShareContext* snapshot_rs = nullptr;  // looked up once per share and kind
      ResourceShareContext* image_rs = nullptr;
      for (const Resolved& r : rit->second) {
        const std::string& id = r.status.resource_id;
        const bool image = r.kind == RoleKind::kImage;
        if (image && !share->to.accounts.empty()) {
          ImageShareContext& c = image_ctx(share->region, id);
          for (std::size_t i = 0; i < targets.size(); ++i) {
            if (targets[i].type != TargetType::kAccount) continue;
            if (observe || r.keep) {
              c.keep.insert(targets[i].id);
            } else {
              c.want[targets[i].id].push_back(first + static_cast<int>(i));
            }
          }
        }
        if (image && !directory_targets) continue;
        ResourceShareContext*& slot = image ? image_rs : snapshot_rs;
        if (slot == nullptr) {
          slot = &rs_ctx(share->region, resource_share_name(in.instance, share->name, r.kind));
          slot->share = share->name;
          slot->kind = r.kind;
          slot->targets = &targets;
          slot->want_resources.reserve(rit->second.size() * targets.size());
          slot->want_targets.reserve(rit->second.size() * targets.size());
        }
        ResourceShareContext& c = *slot;
        c.observe = c.observe || observe;
        if (observe) continue;
        for (std::size_t i = 0; i < targets.size(); ++i) {
          if (image && targets[i].type == TargetType::kAccount) continue;
          const std::string_view t = resource_share_target(targets[i]);
          if (r.keep) {
            c.keep_targets.insert(t);
            continue;
          }
          const int g = first + static_cast<int>(i);
          c.want_targets.add(t, g);
          c.want_resources.add(id, g);
          if (targets[i].type == TargetType::kAccount) c.need_external = true;
        }
        if (r.keep) c.keep_resources.insert(id);
      }
      for (ResourceShareContext* c : {snapshot_rs, image_rs})
        if (c != nullptr) {
          c->want_resources.seal();
          c->want_targets.seal();
        }
    }
  }
  // What we own wherever the config is now: images we tagged, our resource shares.
  // Both are in (region, name) order: one merge links each context to its observed share and adds
  // the shares of ours that no entry wants any more.
  // A context is diffed as the merge passes it (its observed share, if any, is linked by then); the
  // contexts of a region that was not observed stay unknown and have nothing to diff.
  DiffScratch scratch;
  for (const auto& entry : o.regions) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& region = entry.first;
    const ObservedRegion& reg = entry.second;
    for (const auto& id : reg.shares.owned_images) image_ctx(region, id);
    auto it = rs_map.lower_bound(RegionIdView{region, {}});
    const auto end = rs_map.lower_bound(RegionIdView{region + '\0', {}});  // the next region
    auto finish = [&](ResourceShareContext& c) {
      c.known = reg.shares.managed_known;
      share_diff(c, scratch);
    };
    for (const auto& [name, m] : reg.shares.managed) {
      int order = -1;
      for (; it != end && (order = it->first.second.compare(name)) < 0; ++it) finish(it->second);
      if (it == end || order != 0) {
        it = rs_map.emplace_hint(it, std::piecewise_construct, std::forward_as_tuple(region, name),
                                 std::forward_as_tuple());
        it->second.region = region;
        it->second.name = it->first.second;
      }
      it->second.observed = &m;
    }
    for (; it != end; ++it) finish(it->second);
  }
}

void share_removal_candidates(AccountContext& a, Removals& out) {
  if (!a.shares.managed) return;
  const std::set<std::string> protected_ids = protected_entities(*a.account);
  auto candidate = [&](ObjectKind object, const std::string& region, const std::string& name) {
    Candidate c;
    c.revocation.account = a.plan.account;
    c.revocation.object = object;
    c.revocation.region = region;
    c.revocation.share_object = name;
    c.partial = a.plan.partial;
    return c;
  };
  for (auto& [key, c] : a.shares.images) {
    if (!c.known) continue;
    if (c.authoritative) out.in_place += static_cast<int>(c.current.size());
    for (const auto& account : c.current) {
      if (c.want.count(account) != 0U || c.keep.count(account) != 0U) continue;
      const std::string label = Principal{PrincipalKind::kAccount, account}.label();
      if (protected_ids.count(account) != 0U) {
        a.note("protected account kept in the share permission of image " + c.image_id + ": " +
               label);
        continue;
      }
      if (!c.authoritative) {
        a.note("foreign account kept in the share permission of image " + c.image_id +
               " (adopted additively" + (c.other_instance ? ", managed by another instance" : "") +
               "): " + label);
        continue;
      }
      Candidate cand = candidate(ObjectKind::kImageShare, c.region, c.image_id);
      cand.revocation.principal = {PrincipalKind::kAccount, account};
      out.candidates.push_back(std::move(cand));
    }
  }
  // A pair (resource, target) this share has Associated (or Associating) that the config now wants
  // through another resource share of ours (an entry renamed, or a resource moved between entries)
  // is let go only once that share has it Associated too: before, the target would lose the
  // resource until the new association finishes (Associating can take minutes). Found by the
  // reliability suite. `live` also counts a pair still Associating in the share that lets it go: it
  // becomes Associated while the plan is applied, and the target then uses it (seed 826 of the
  // reliability suite, under CPU load: the old share's pair was Associating when observed and
  // Associated when disassociated, and the target lost the snapshot until the new share's pair was
  // Associated).
  auto pair_in = [](const ResourceShareContext& d, std::string_view r, std::string_view t,
                    bool live) {
    if (d.observed == nullptr) return false;
    auto has = [live](const auto& list, std::string_view id) {
      return std::any_of(list.begin(), list.end(), [&](const auto& y) {
        if (y.entity_id != id) return false;
        const Assoc st = assoc_of(y.association_status);
        return live ? in_effect(st) : st == Assoc::kAssociated;
      });
    };
    return has(d.observed->resources, r) && has(d.observed->targets, t);
  };
  auto associated_in = [&](const ResourceShareContext& d, std::string_view r, std::string_view t) {
    return pair_in(d, r, t, false);
  };
  // A directory or folder target reaches the accounts and folders below it: the pair (r, rd) in
  // this share may be how an account the config now wants to have r through another share still
  // uses it (seed 6 of the reliability suite: disassociating the directory from the old share cut
  // an account off r while its own pair in the new share was Associating). Conservatively, any
  // such wanted pair that is not Associated yet counts, except an external target (never a member).
  auto reaches_below = [](std::string_view t) {
    return entity_principal(std::string(t)).kind != PrincipalKind::kAccount;
  };
  auto not_yet_associated = [&](const ResourceShareContext& d, std::string_view r,
                                std::string_view t) {
    if (associated_in(d, r, t)) return false;
    if (d.observed != nullptr)
      for (const auto& y : d.observed->targets)
        if (y.entity_id == t && y.external) return false;
    return true;
  };
  auto moving_to = [&](const ResourceShareContext& self, std::string_view r,
                       std::string_view t) -> const ResourceShareContext* {
    if (!pair_in(self, r, t, true)) return nullptr;  // nothing in effect to lose
    const ResourceShareContext* waiting = nullptr;
    for (const auto& entry : a.shares.resource_shares) {
      const ResourceShareContext& d = entry.second;  // captured below: not a structured binding
      if (&d == &self || d.region != self.region) continue;
      // Held elsewhere already, by a share that keeps it. One that has it but lets it go too does
      // not count: two old shares of ours holding the same pair each let go because of the other
      // (seed 121 of the full reliability run: both were emptied in the pass that created the new
      // share, and the target lost the snapshot until the new pair was Associated).
      if (associated_in(d, r, t) && d.want_resources.contains(r) && d.want_targets.contains(t))
        return nullptr;
      if (!d.want_resources.contains(r)) continue;
      if (d.want_targets.contains(t)) {
        waiting = &d;
      } else if (reaches_below(t)) {
        d.want_targets.for_each_key([&](std::string_view wt) {
          if (wt != t && not_yet_associated(d, r, wt)) waiting = &d;
        });
      }
    }
    // The same share, when no other one holds the pair: a directory or folder leaving it may be
    // how an account the share now names directly still uses r while that account's own pair is
    // Associating (seed 554 of the full reliability run: the folder was disassociated in the pass
    // after the account was associated, and the account lost the snapshot until its pair was
    // Associated).
    if (waiting == nullptr && reaches_below(t) && self.want_resources.contains(r))
      self.want_targets.for_each_key([&](std::string_view wt) {
        if (wt != t && not_yet_associated(self, r, wt)) waiting = &self;
      });
    return waiting;
  };
  auto held_for = [&](const ResourceShareContext& self, std::string_view resource,
                      std::string_view target) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    if (!resource.empty()) {
      for (const auto& t : self.observed->targets) pairs.emplace_back(resource, t.entity_id);
    } else {
      for (const auto& r : self.observed->resources) pairs.emplace_back(r.entity_id, target);
    }
    for (const auto& [r, t] : pairs)
      if (const ResourceShareContext* d = moving_to(self, r, t)) {
        a.note("kept in resource share " + std::string(self.name) + " until resource share " +
               std::string(d->name) + " has " + std::string(r) + " Associated with " +
               std::string(t));
        return true;
      }
    return false;
  };
  // share_diff found what is in effect and neither wanted nor kept.
  for (auto& [key, c] : a.shares.resource_shares) {
    if (!c.known || c.observed == nullptr || c.observe) continue;
    out.in_place += c.in_effect;
    for (std::string_view id : c.stale_resources) {
      if (held_for(c, id, {})) continue;
      Candidate cand = candidate(ObjectKind::kResourceShare, c.region, std::string(c.name));
      cand.revocation.share_resource = std::string(id);
      out.candidates.push_back(std::move(cand));
    }
    for (std::string_view id : c.stale_targets) {
      const std::string target(id);
      if (protected_ids.count(target) != 0U) {
        a.note("protected target kept in resource share " + std::string(c.name) + ": " +
               entity_principal(target).label());
        continue;
      }
      if (held_for(c, {}, id)) continue;
      Candidate cand = candidate(ObjectKind::kResourceShare, c.region, std::string(c.name));
      cand.revocation.principal = entity_principal(target);
      out.candidates.push_back(std::move(cand));
    }
  }
}

void allow_share_revocation(AccountContext& a, const Revocation& r) {
  if (r.object == ObjectKind::kImageShare) {
    if (auto it = a.shares.images.find(RegionIdView{r.region, r.share_object});
        it != a.shares.images.end())
      it->second.revoke.insert(r.principal.id);
    return;
  }
  auto it = a.shares.resource_shares.find(RegionIdView{r.region, r.share_object});
  if (it == a.shares.resource_shares.end()) return;  // candidates name only contexts that exist
  ResourceShareContext& c = it->second;
  if (!r.share_resource.empty()) {
    c.revoke_resources.insert(r.share_resource);
  } else {
    c.revoke_targets.insert(r.principal.id);
  }
}

void plan_shares(AccountContext& a, const PlanInputs& /*in*/) {
  if (!a.shares.managed) return;
  for (auto& [key, c] : a.shares.images) plan_image(a, c);
  for (auto& [key, c] : a.shares.resource_shares) plan_resource_share(a, c);
}

void judge_managed_share(const AccountContext& a, const Resolved& r,
                         const config::GrantTarget& target, ResourceStatus& rs) {
  if (!a.shares.managed) return;
  const ImageShareContext* image = nullptr;
  if (r.kind == RoleKind::kImage && target.type == TargetType::kAccount)
    if (auto it = a.shares.images.find(RegionIdView{rs.region, rs.resource_id});
        it != a.shares.images.end())
      image = &it->second;
  if (image != nullptr && rs.foreign_accounts.empty())
    for (const auto& account : image->current)
      if (image->want.count(account) == 0U && image->keep.count(account) == 0U &&
          image->revoke.count(account) == 0U)
        rs.foreign_accounts.push_back(account);
  if (rs.state != GrantState::kReady) return;
  if (image != nullptr && rs.sharing != Sharing::kShared) {
    if (const auto* it = image; !it->blocked.empty()) {
      rs.state = GrantState::kBlocked;
      rs.reason = it->blocked;
      return;
    }
  }
  switch (rs.sharing) {
    case Sharing::kShared:
      return;
    case Sharing::kPending:
      rs.state = GrantState::kPending;
      rs.reason = rs.sharing_detail.find("(external target)") != std::string::npos
                      ? "invitation sent, not accepted yet (it expires 7 days after it was "
                        "sent): " +
                            rs.sharing_detail
                      : "sharing in progress: " + rs.sharing_detail;
      return;
    case Sharing::kNotShared:
      rs.state = GrantState::kPending;
      rs.reason = rs.resource_id + " is not shared yet: " + rs.sharing_detail;
      return;
    case Sharing::kUnknown:
      rs.state = GrantState::kFailed;
      rs.reason = "could not observe whether " + rs.resource_id + " is shared";
      return;
  }
}

}  // namespace sharekeeper::reconcilers::planner
