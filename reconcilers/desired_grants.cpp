#include "reconcilers/desired_grants.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <cctype>

namespace sharekeeper::reconcilers::planner {
namespace {

using support::ascii_lower;

// Folds one (possibly missing) snapshot into a resource's status: its key decides.
void fold_snapshot(const ObservedRegion& region, const std::string& snapshot_id,
                   const std::string& context, bool allow_service_keys, Resolved& r,
                   bool& any_encrypted) {
  auto set_state = [&](GrantState st, const std::string& why) {
    r.keep = r.keep || st == GrantState::kBlocked || st == GrantState::kFailed;
    if (severity(st) > severity(r.status.state) ||
        (severity(st) == severity(r.status.state) && r.status.reason.empty())) {
      r.status.state = st;
      r.status.reason = why;
    }
  };
  auto it = region.snapshots.find(snapshot_id);
  if (it == region.snapshots.end() || it->second.presence == Presence::kUnknown) {
    set_state(GrantState::kFailed, "could not observe snapshot " + snapshot_id + context);
    return;
  }
  if (it->second.presence == Presence::kAbsent) {
    set_state(GrantState::kBlocked, "snapshot " + snapshot_id + " not found" + context);
    return;
  }
  const cloud::Snapshot& sn = it->second.snapshot;
  if (!sn.encrypted) return;
  any_encrypted = true;
  if (sn.kms_key_id.empty()) {
    set_state(GrantState::kBlocked,
              "snapshot " + snapshot_id + " is encrypted but reports no KMS key" + context);
    return;
  }
  if (std::find(r.status.key_ids.begin(), r.status.key_ids.end(), sn.kms_key_id) ==
      r.status.key_ids.end())
    r.status.key_ids.push_back(sn.kms_key_id);
  auto k = region.keys.find(sn.kms_key_id);
  if (k == region.keys.end() || k->second.presence == Presence::kUnknown) {
    set_state(GrantState::kFailed, "could not observe KMS key " + sn.kms_key_id);
    return;
  }
  const ObservedKey& key = k->second;
  if (key.presence == Presence::kAbsent) {
    set_state(GrantState::kBlocked, "KMS key " + sn.kms_key_id + " not found");
    return;
  }
  if (key.service_key) {
    if (allow_service_keys) {
      r.needs_role = true;
      r.needs_full_access = true;
    } else {
      set_state(GrantState::kBlocked,
                "encrypted with a KMS service key (" +
                    (key.aliases.empty() ? std::string("alias/acs/ecs") : key.aliases[0]) +
                    "), which cannot be shared: copy it with a customer master key");
    }
    return;
  }
  if (std::find(r.cmks.begin(), r.cmks.end(), &key) == r.cmks.end()) r.cmks.push_back(&key);
  if (key.meta.key_state != "Enabled") {
    set_state(GrantState::kBlocked, "KMS key " + sn.kms_key_id + " is " + key.meta.key_state);
  } else {
    r.needs_role = true;
  }
}

Resolved resolve_image(const ObservedRegion& region, const config::Share& share,
                       const std::string& id, bool allow_service_keys) {
  Resolved r;
  r.kind = RoleKind::kImage;
  r.status.resource_id = id;
  r.status.region = share.region;
  auto it = region.images.find(id);
  if (it == region.images.end() || it->second.presence == Presence::kUnknown) {
    r.status.state = GrantState::kFailed;
    r.status.reason = "could not observe image " + id;
    r.keep = true;
  } else if (it->second.presence == Presence::kAbsent) {
    r.status.state = GrantState::kBlocked;
    r.status.reason = "image " + id + " not found";
    r.keep = true;
  } else {
    bool enc = false;
    for (const auto& d : it->second.image.disks)
      if (!d.snapshot_id.empty())
        fold_snapshot(region, d.snapshot_id, " (a disk of image " + id + ")", allow_service_keys, r,
                      enc);
    if (!enc && r.status.state == GrantState::kReady)
      r.status.reason = "unencrypted: no RAM grant needed";
  }
  // One blocked disk blocks the whole image: nothing of it is added, nothing removed.
  if (r.keep) {
    r.needs_role = false;
    r.needs_full_access = false;
  }
  return r;
}

}  // namespace

std::string list_resource(const std::string& region, const std::string& uid) {
  return "acs:kms:" + region + ":" + uid + ":key";
}

ResolvedShare resolve_share(const config::Share& share, const AccountObservation& o,
                            bool allow_service_keys) {
  ResolvedShare out;
  static const ObservedRegion kEmptyRegion;
  auto rit = o.regions.find(share.region);
  const ObservedRegion& region = rit == o.regions.end() ? kEmptyRegion : rit->second;

  // Named ids are sorted and unique (DesiredState contract); only selectors need merging.
  std::vector<std::string> merged_snapshots;
  std::vector<std::string> merged_images;
  const std::vector<std::string>* snapshots = &share.snapshots;
  const std::vector<std::string>* images = &share.images;
  if (!share.selector_tags.empty()) {
    merged_snapshots = share.snapshots;
    merged_images = share.images;
    snapshots = &merged_snapshots;
    images = &merged_images;
    std::string key = selector_key(share.selector_tags);
    auto si = region.selected_snapshots.find(key);
    auto ii = region.selected_images.find(key);
    if (si == region.selected_snapshots.end() || ii == region.selected_images.end())
      out.selector_error = "could not list the resources selected by {" + key + "}";
    auto merge = [](std::vector<std::string>& into, const std::vector<std::string>& more) {
      into.insert(into.end(), more.begin(), more.end());
      std::sort(into.begin(), into.end());
      into.erase(std::unique(into.begin(), into.end()), into.end());
    };
    if (si != region.selected_snapshots.end()) merge(merged_snapshots, si->second);
    if (ii != region.selected_images.end()) merge(merged_images, ii->second);
  }
  out.resources.reserve(snapshots->size() + images->size());
  for (const auto& id : *snapshots) {
    Resolved r;
    r.kind = RoleKind::kSnapshot;
    r.status.resource_id = id;
    r.status.region = share.region;
    bool enc = false;
    fold_snapshot(region, id, "", allow_service_keys, r, enc);
    if (!enc && r.status.state == GrantState::kReady)
      r.status.reason = "unencrypted: no RAM grant needed";
    out.resources.push_back(std::move(r));
  }
  for (const auto& id : *images)
    out.resources.push_back(resolve_image(region, share, id, allow_service_keys));
  std::sort(out.resources.begin(), out.resources.end(), [](const Resolved& a, const Resolved& b) {
    return a.status.resource_id < b.status.resource_id;
  });
  return out;
}

RoleFacts role_facts(const ObservedRole& role, const AccountObservation& o,
                     const config::Account& account, const std::string& instance) {
  RoleFacts f;
  f.presence = role.presence;
  if (role.presence != Presence::kPresent) {
    f.policies_known = role.presence == Presence::kAbsent;
    f.trust_known = role.presence == Presence::kAbsent;
    return f;
  }
  if (auto tp = parse_trust_policy(role.role.trust_policy)) {
    f.trust_known = true;
    f.trust = std::move(*tp);
    auto principals = principals_of(f.trust);
    f.principals.insert(principals.begin(), principals.end());
  } else {
    f.trust_error = tp.error().message;
  }
  f.owned = role.tags_known && role.managed_by == instance;
  const bool other_instance = !role.managed_by.empty() && role.managed_by != instance;
  f.authoritative = role.tags_known && !other_instance &&
                    (f.owned || account.adopt == config::AdoptMode::kAuthoritative);
  f.policies_known = role.attachments_known;
  for (const auto& a : role.attached) {
    if (a.policy_type == "System" && ascii_lower(a.policy_name) == ascii_lower(kFullAccessPolicy)) {
      f.full_access_attached = true;
      f.foreign_attachments.push_back(a.policy_type + " " + a.policy_name);
      continue;
    }
    if (a.policy_type == "Custom") {
      auto it = o.policies.find(a.policy_name);
      if (it == o.policies.end() || !it->second.tags_known) {
        f.policies_known = false;
        continue;
      }
      const ObservedPolicy& p = it->second;
      if (p.managed_by == instance) {
        if (!p.versions_known) {
          f.policies_known = false;
          continue;
        }
        f.owned_policies.push_back(&p);
        if (auto c = parse_kms_policy(p.default_document)) {
          f.resources.insert(c->key_arns.begin(), c->key_arns.end());
          f.resources.insert(c->list_resources.begin(), c->list_resources.end());
        }
        continue;
      }
      if (p.document_known)
        if (auto c = parse_kms_policy(p.default_document)) {
          f.foreign_resources.insert(c->key_arns.begin(), c->key_arns.end());
          f.foreign_resources.insert(c->list_resources.begin(), c->list_resources.end());
        }
    }
    f.foreign_attachments.push_back(a.policy_type + " " + a.policy_name);
  }
  return f;
}

void plan_desired_grants(AccountContext& a, const PlanInputs& in) {
  const AccountObservation& o = *a.obs;
  for (RoleKind kind : kRoleKinds)
    a.role(kind).facts = role_facts(o.role(kind), o, *a.account, in.instance);
  auto shares = in.shares_by_account.find(a.account->name);
  if (shares == in.shares_by_account.end()) return;
  std::vector<Principal> principals;
  GrantIds grants;
  for (const config::Share* sp : shares->second) {
    const config::Share& share = *sp;
    ResolvedShare res = resolve_share(share, o, in.settings->allow_service_key_shares);
    if (!res.selector_error.empty()) a.selector_errors[share.name] = std::move(res.selector_error);
    principals.clear();
    grants.clear();
    for (const auto& t : in.targets(share)) {
      principals.push_back(Principal::of(t));
      grants.push_back(a.grants.add(share, t));
    }
    if (in.settings->manage_shares) a.first_grant.push_back(grants.empty() ? -1 : grants.front());
    for (const auto& r : res.resources) {
      if (!r.needs_role && !r.keep) continue;
      RoleWant& want = a.role(r.kind).want;
      if (r.keep || share.mode == config::ShareMode::kObserve) {
        want.keep_principals.insert(principals.begin(), principals.end());
        for (const ObservedKey* k : r.cmks) {
          want.keep_resources.insert(k->arn);
          want.keep_resources.insert(list_resource(k->region, o.uid));
        }
        continue;
      }
      for (std::size_t i = 0; i < principals.size(); ++i)
        want.principals[principals[i]].push_back(grants[i]);
      for (const ObservedKey* k : r.cmks) {
        auto& by_key = want.resources[k->arn];
        auto& by_listing = want.resources[list_resource(k->region, o.uid)];
        by_key.insert(by_key.end(), grants.begin(), grants.end());
        by_listing.insert(by_listing.end(), grants.begin(), grants.end());
      }
      if (r.needs_full_access)
        want.full_access_grants.insert(want.full_access_grants.end(), grants.begin(), grants.end());
    }
    a.resolved[share.name] = std::move(res.resources);
  }
  // Adopted additively (docs/contract.md §2): what a policy not ours already grants is not granted
  // a second time, unless one of ours already holds it too (then it stays, or it would be revoked).
  for (RoleContext& role : a.roles) {
    for (auto it = role.want.resources.begin(); it != role.want.resources.end();) {
      if (role.facts.foreign_resources.count(it->first) != 0U &&
          role.facts.resources.count(it->first) == 0U) {
        it = role.want.resources.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace sharekeeper::reconcilers::planner
