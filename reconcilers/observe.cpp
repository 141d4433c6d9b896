#include "reconcilers/observe.hpp"
#include "reconcilers/observe_rd.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <utility>

#include "reconcilers/plan.hpp"
#include "support/parallel.hpp"
#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace {

using support::ascii_lower;

bool is_uid(const std::string& s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<cloud::Tag> to_tags(const std::map<std::string, std::string>& m) {
  std::vector<cloud::Tag> out;
  out.reserve(m.size());
  for (const auto& [k, v] : m) out.push_back({k, v});
  return out;
}

// What the shares of one account name or select in one region.
struct RegionWants {
  std::set<std::string> snapshots;
  std::set<std::string> images;
  std::map<std::string, std::map<std::string, std::string>> selectors;  // selector_key -> tags
};

class Observer {
 public:
  Observer(const config::DesiredState& desired, const config::Account& account,
           cloud::CloudApi& api)
      : desired_(desired), account_(account), api_(api) {
    o_.account = account.name;
  }
  // Continues from `base`, an observation of the same account (apply's verification).
  Observer(const config::DesiredState& desired, const config::Account& account,
           cloud::CloudApi& api, AccountObservation base)
      : desired_(desired), account_(account), api_(api), o_(std::move(base)), o_uid_(o_.uid) {}

  // Re-reads the Resource Sharing side of `regions` (our tagged shares, both association
  // listings); everything else of the observation stands. Returns the observation.
  AccountObservation resource_sharing_again(const std::set<std::string>& regions) {
    for (const auto& region : regions) {
      auto it = o_.regions.find(region);
      if (it == o_.regions.end()) continue;
      ObservedShares& s = it->second.shares;
      s.managed.clear();
      s.resource_targets.clear();
      s.resource_sharing_known = false;
      s.managed_known = false;
      observe_shares(region, /*resource_sharing_only=*/true);
    }
    flush(own_);
    return std::move(o_);
  }

  // The account's reads after its identity: RAM (roles, then their policies) and each region
  // (resources, then their shares) depend on nothing of each other, so they run side by side and a
  // pass waits for the longest chain of round trips, not for their sum.
  AccountObservation run() {
    if (!identity()) {
      flush(own_);
      return std::move(o_);
    }
    const std::map<std::string, RegionWants> wants = region_wants();
    std::vector<const std::pair<const std::string, RegionWants>*> regions;
    for (const auto& entry : wants) {
      o_.regions[entry.first];  // every entry made here: the tasks only look them up (at())
      regions.push_back(&entry);
    }
    std::vector<Sink> sinks(1 + regions.size());
    support::parallel_for(sinks.size(), sinks.size(), [&](std::size_t i) {
      const SinkScope scope(sinks[i]);
      if (i == 0) {
        roles();
        policies();
      } else {
        observe_region(regions[i - 1]->first, regions[i - 1]->second);
        observe_shares(regions[i - 1]->first);
      }
    });
    flush(own_);
    for (auto& sink : sinks) flush(sink);  // in a fixed order, whichever task finished first
    return std::move(o_);
  }

 private:
  // Runs read(i) for i < n, up to kAccountFanOut at a time (CloudApi is thread-safe), and returns
  // the results in order, so that check() and everything after it stays on this thread.
  template <class Read>
  auto fan_out(std::size_t n, Read read) -> std::vector<decltype(read(std::size_t{}))> {
    using R = decltype(read(std::size_t{}));
    std::vector<std::optional<R>> slots(n);
    support::parallel_for(n, kAccountFanOut, [&](std::size_t i) { slots[i].emplace(read(i)); });
    std::vector<R> out;
    out.reserve(n);
    for (auto& s : slots) out.push_back(std::move(*s));
    return out;
  }

  // What check() records for one of run()'s side-by-side tasks, merged into o_ when they are done.
  struct Sink {
    int calls = 0;
    bool partial = false;
    std::vector<cloud::Error> errors;
    std::vector<cloud::Error> share_errors;
  };
  // The task's sink on this thread (check() runs on the task's thread: fan_out hands its results
  // back to it); none outside run()'s tasks, where check() writes o_ itself.
  inline static thread_local Sink* current_sink = nullptr;
  struct SinkScope {
    explicit SinkScope(Sink& s) { current_sink = &s; }
    ~SinkScope() { current_sink = nullptr; }
    SinkScope(const SinkScope&) = delete;
    SinkScope& operator=(const SinkScope&) = delete;
  };

  // The sink of the task on this thread, else the observer's own.
  Sink& sink() { return current_sink != nullptr ? *current_sink : own_; }
  void flush(Sink& from) {
    o_.calls += std::exchange(from.calls, 0);
    o_.partial = o_.partial || std::exchange(from.partial, false);
    for (auto& e : from.errors) o_.errors.push_back(std::move(e));
    for (auto& e : from.share_errors) o_.share_errors.push_back(std::move(e));
    from.errors.clear();
    from.share_errors.clear();
  }

  template <class R>
  // Counts the call; a failure is recorded and makes the observation partial, except for calls
  // that only feed the sharing report (report_only), whose failures never hold up a plan.
  bool check(R& r, bool report_only = false) {
    Sink& out = sink();
    ++out.calls;
    if (r.ok()) return true;
    (report_only ? out.share_errors : out.errors).push_back(r.error());
    if (!report_only) out.partial = true;
    return false;
  }

  bool identity() {
    auto id = api_.get_caller_identity();
    if (!check(id)) {
      o_.uid = account_.uid.value_or("");
      o_.fatal_error = "cannot identify the credentials of account '" + account_.name +
                       "': " + id.error().to_string();
      return false;
    }
    o_.uid = id->account_id;
    o_uid_ = o_.uid;
    if (account_.uid && *account_.uid != o_.uid) {
      o_.fatal_error = "the credentials of account '" + account_.name + "' belong to UID " +
                       o_.uid + ", but the config says uid " + *account_.uid +
                       "; refusing to touch it";
      return false;
    }
    return true;
  }

  void roles() {
    // The two share roles and the disk-encryption role, side by side.
    const std::string names[] = {role_name(RoleKind::kSnapshot), role_name(RoleKind::kImage),
                                 std::string(wire::kDiskEncryptRole)};
    auto got = fan_out(3, [&](std::size_t i) { return api_.get_role(names[i]); });
    for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage}) {
      auto& r = got[kind == RoleKind::kSnapshot ? 0 : 1];
      ObservedRole& obs = o_.role(kind);
      if (!check(r)) continue;
      if (r->has_value()) {
        obs.presence = Presence::kPresent;
        obs.role = **r;
      } else {
        obs.presence = Presence::kAbsent;
      }
    }
    auto& disk = got[2];
    if (check(disk)) {
      o_.disk_role.presence = disk->has_value() ? Presence::kPresent : Presence::kAbsent;
      if (disk->has_value()) o_.disk_role.role = **disk;
    }
    // Whether we created the disk-encryption role (and so may finish attaching its policy) is only
    // asked when we manage it: otherwise its presence is all that is reported.
    const bool disk_detail =
        desired_.settings.manage_disk_encrypt_role && o_.disk_role.presence == Presence::kPresent;

    std::vector<std::string> present;
    for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage})
      if (o_.role(kind).presence == Presence::kPresent) present.emplace_back(role_name(kind));
    if (disk_detail) present.emplace_back(wire::kDiskEncryptRole);
    if (!present.empty()) {
      auto tags = api_.list_tag_resources("role", present);
      if (check(tags)) {
        if (disk_detail) {
          o_.disk_role.tags_known = true;
          for (const auto& t : *tags)
            if (ascii_lower(t.resource_name) == ascii_lower(std::string(wire::kDiskEncryptRole)) &&
                t.key == kManagedByTagKey)
              o_.disk_role.managed_by = t.value;
        }
        for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage}) {
          ObservedRole& obs = o_.role(kind);
          if (obs.presence != Presence::kPresent) continue;
          obs.tags_known = true;
          // RAM compares role names case-insensitively and may return them in another case (§9).
          for (const auto& t : *tags)
            if (ascii_lower(t.resource_name) == ascii_lower(role_name(kind)) &&
                t.key == kManagedByTagKey)
              obs.managed_by = t.value;
        }
      }
    }
    std::vector<RoleKind> listed;
    for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage})
      if (o_.role(kind).presence == Presence::kPresent) listed.push_back(kind);
    auto attachments = fan_out(listed.size(), [&](std::size_t i) {
      return api_.list_policies_for_role(role_name(listed[i]));
    });
    for (std::size_t i = 0; i < listed.size(); ++i) {
      ObservedRole& obs = o_.role(listed[i]);
      auto& att = attachments[i];
      if (!check(att)) continue;
      obs.attachments_known = true;
      obs.attached = *att;
      std::sort(obs.attached.begin(), obs.attached.end(), [](const auto& a, const auto& b) {
        return std::tie(a.policy_type, a.policy_name) < std::tie(b.policy_type, b.policy_name);
      });
    }
    if (disk_detail) disk_role_attachments();
  }

  void disk_role_attachments() {
    auto att = api_.list_policies_for_role(wire::kDiskEncryptRole);
    if (!check(att)) return;
    o_.disk_role.attachments_known = true;
    o_.disk_role.attached = *att;
  }

  void policies() {
    const std::string& instance = desired_.settings.instance_name;
    std::set<std::string> names;
    for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage}) {
      const ObservedRole& role = o_.role(kind);
      for (const auto& a : role.attached) {
        if (a.policy_type != "Custom") continue;
        names.insert(a.policy_name);
        ObservedPolicy& p = o_.policies[a.policy_name];
        p.name = a.policy_name;
        p.presence = Presence::kPresent;
      }
      // Our first KMS policy not attached to an existing role: someone may have detached it (or we
      // crashed between create and attach). Probing it costs nothing when the account is converged.
      std::string first = kms_policy_name(instance, kind, 1);
      if (role.presence == Presence::kPresent && role.attachments_known &&
          names.count(first) == 0U) {
        names.insert(first);
        o_.policies[first].name = first;
      }
    }
    if (names.empty()) return;
    std::vector<cloud::TagResource> tags;
    std::set<std::string> unknown;  // names whose tags could not be read
    auto not_found = [](const auto& r) {
      return !r.ok() && r.error().cls == cloud::ErrorClass::kNotFound;
    };
    auto batch =
        api_.list_tag_resources("policy", std::vector<std::string>(names.begin(), names.end()));
    if (!not_found(batch)) {
      if (!check(batch)) return;
      tags = std::move(*batch);
    } else {
      // One missing name fails the whole call (our first policy not created yet, or a policy
      // deleted since it was listed): an expected answer; ask name by name.
      ++sink().calls;
      for (const auto& n : names) {
        auto one = api_.list_tag_resources("policy", {n});
        // Only the probed name can be absent; one listed as attached a moment ago that is not
        // found now is unknown (RAM's eventual consistency), never "absent".
        if (not_found(one) && o_.policies[n].presence != Presence::kPresent) {
          ++sink().calls;
          o_.policies[n].presence = Presence::kAbsent;
        } else if (check(one)) {
          tags.insert(tags.end(), one->begin(), one->end());
        } else {
          unknown.insert(n);
        }
      }
    }
    for (auto& [n, p] : o_.policies) {
      if (unknown.count(n) != 0U) continue;
      p.tags_known = true;
      for (const auto& t : tags)
        if (ascii_lower(t.resource_name) == ascii_lower(n) && t.key == kManagedByTagKey)
          p.managed_by = t.value;
    }
    // Only policies we own are read further: we never edit anyone else's, and ListPolicyVersions
    // gives the default document and the version count (for rotation) in one call.
    std::vector<std::string> owned;
    std::vector<std::string> foreign;
    for (const auto& [n, p] : o_.policies) {
      if (p.managed_by == instance) {
        owned.push_back(n);
      } else if (p.tags_known && p.presence == Presence::kPresent) {
        // Someone else's policy attached to a share role: what it grants is read (never edited),
        // so keys it already grants are adopted instead of granted a second time.
        foreign.push_back(n);
      }
    }
    auto documents = fan_out(foreign.size(),
                             [&](std::size_t i) { return api_.get_policy(foreign[i], "Custom"); });
    for (std::size_t i = 0; i < foreign.size(); ++i) {
      auto& got = documents[i];
      if (!check(got) || !got->has_value()) continue;
      ObservedPolicy& p = o_.policies[foreign[i]];
      p.document_known = true;
      p.default_version = (*got)->default_version;
      p.default_document = (*got)->default_document;
    }
    auto listed = fan_out(
        owned.size(), [&](std::size_t i) { return api_.list_policy_versions(owned[i], "Custom"); });
    for (std::size_t i = 0; i < owned.size(); ++i) {
      ObservedPolicy& p = o_.policies[owned[i]];
      auto& versions = listed[i];
      if (!check(versions)) continue;
      p.presence = Presence::kPresent;
      p.versions_known = true;
      p.versions = *versions;
      for (const auto& v : p.versions) {
        if (!v.is_default) continue;
        p.default_version = v.version_id;
        p.default_document = v.document;
      }
    }
  }

  std::map<std::string, RegionWants> region_wants() const {
    std::map<std::string, RegionWants> wants;
    for (const auto& s : desired_.shares) {
      if (s.account != account_.name) continue;
      RegionWants& w = wants[s.region];
      w.snapshots.insert(s.snapshots.begin(), s.snapshots.end());
      w.images.insert(s.images.begin(), s.images.end());
      if (!s.selector_tags.empty()) w.selectors[selector_key(s.selector_tags)] = s.selector_tags;
    }
    return wants;
  }

  // Who the region's resources are shared with (ObservedShares): planned from with
  // settings.manageShares, else only reported.
  // With resource_sharing_only, the image side (images by our tag, their share permissions) is kept
  // as it stands and only the Resource Sharing listings are read.
  void observe_shares(const std::string& region, bool resource_sharing_only = false) {
    ObservedRegion& r = o_.regions.at(region);
    const bool manage = desired_.settings.manage_shares;
    const bool report_only = !manage;
    const std::string& instance = desired_.settings.instance_name;
    bool managed_ok = manage;
    if (manage) {
      // What we own, wherever the config is now: images we tagged when we first shared them, and
      // our tagged resource shares (one call each).
      if (!resource_sharing_only) {
        auto owned = api_.describe_images(region, {}, {{kManagedByTagKey, instance}});
        if (check(owned)) {
          for (const auto& img : *owned) r.shares.owned_images.insert(img.image_id);
        } else {
          managed_ok = false;
        }
      }
      cloud::ResourceShareFilter mine;
      mine.status = "Active";
      mine.tags = {{kManagedByTagKey, instance}};
      auto shares = api_.list_resource_shares(region, mine);
      if (check(shares)) {
        for (auto& sh : *shares) {
          // Names are not unique: two of ours with one name (a create whose answer was lost and
          // retried elsewhere) are one; the lowest id wins so passes agree.
          auto [it, fresh] = r.shares.managed.try_emplace(sh.resource_share_name);
          if (fresh || sh.resource_share_id < it->second.share.resource_share_id)
            it->second.share = std::move(sh);
        }
      } else {
        managed_ok = false;
      }
    }
    if (!resource_sharing_only) image_permissions(region, report_only);
    resource_sharing(region, report_only, managed_ok);
  }

  // DescribeImageSharePermission of our images and the images shared with accounts.
  void image_permissions(const std::string& region, bool report_only) {
    ObservedRegion& r = o_.regions.at(region);
    std::set<std::string> images_to_accounts(r.shares.owned_images);
    for (const auto& s : desired_.shares) {
      if (s.account != account_.name || s.region != region || s.to.accounts.empty()) continue;
      auto add_present = [&](const std::vector<std::string>& ids) {
        for (const auto& id : ids)
          if (auto it = r.images.find(id);
              it != r.images.end() && it->second.presence == Presence::kPresent)
            images_to_accounts.insert(id);
      };
      add_present(s.images);
      if (!s.selector_tags.empty())
        if (auto it = r.selected_images.find(selector_key(s.selector_tags));
            it != r.selected_images.end())
          add_present(it->second);
    }
    const std::vector<std::string> ids(images_to_accounts.begin(), images_to_accounts.end());
    auto permissions = fan_out(ids.size(), [&](std::size_t i) {
      return api_.describe_image_share_permission(region, ids[i]);
    });
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (check(permissions[i], report_only))
        r.shares.image_accounts[ids[i]] = std::move(*permissions[i]);
  }

  void resource_sharing(const std::string& region, bool report_only, bool managed_ok) {
    ObservedRegion& r = o_.regions.at(region);
    const bool manage = desired_.settings.manage_shares;
    // Resource Sharing carries every snapshot share, and images shared with a directory or folder
    // (or with an account, by a person): the account's own shares in the region, both sides.
    const char* sides[] = {"Resource", "Target"};
    auto both = fan_out(2, [&](std::size_t i) {
      return api_.list_resource_share_associations(region, sides[i], {});
    });
    auto& resources = both[0];
    if (!check(resources, report_only)) return;
    auto& targets = both[1];
    if (!check(targets, report_only)) return;
    r.shares.resource_sharing_known = true;
    r.shares.managed_known = managed_ok;
    if (manage) {
      std::map<std::string, ObservedShares::ManagedShare*> by_id;
      for (auto& [name, m] : r.shares.managed) by_id[m.share.resource_share_id] = &m;
      for (const auto& a : *resources)
        if (auto it = by_id.find(a.resource_share_id); it != by_id.end())
          it->second->resources.push_back(a);
      for (const auto& a : *targets)
        if (auto it = by_id.find(a.resource_share_id); it != by_id.end())
          it->second->targets.push_back(a);
    }
    using Association = ObservedShares::Association;
    std::map<std::string, std::vector<const cloud::ResourceShareAssociation*>> targets_of;
    for (const auto& t : *targets)
      if (Association::rank(t.association_status) > 0)
        targets_of[t.resource_share_id].push_back(&t);
    for (const auto& res : *resources) {
      // Only this config's resources matter (an account's shares may hold VSwitches and more).
      if (Association::rank(res.association_status) == 0 ||
          (r.images.count(res.entity_id) == 0U && r.snapshots.count(res.entity_id) == 0U))
        continue;
      auto it = targets_of.find(res.resource_share_id);
      if (it == targets_of.end()) continue;
      for (const cloud::ResourceShareAssociation* t : it->second) {
        // A pair is only as far along as the less advanced of its two associations; on a tie the
        // target's side speaks (its message says e.g. that an invitation is not accepted yet).
        const int rr = Association::rank(res.association_status);
        const int tr = Association::rank(t->association_status);
        const auto& weaker = rr < tr ? res : *t;
        Association a{weaker.association_status, weaker.association_status_message,
                      res.resource_share_id, t->external};
        auto& slot = r.shares.resource_targets[res.entity_id][t->entity_id];
        // Several shares may hold the pair: the most advanced wins, then the lowest share id, so
        // the report does not flip between passes with the listing order.
        const int ar = Association::rank(a.status), sr = Association::rank(slot.status);
        if (ar > sr || (ar == sr && a.resource_share_id < slot.resource_share_id))
          slot = std::move(a);
      }
    }
  }

  void observe_region(const std::string& region, const RegionWants& w) {
    ObservedRegion& r = o_.regions.at(region);
    r.region = region;
    for (const auto& id : w.images) r.images[id];
    for (const auto& id : w.snapshots) r.snapshots[id];

    // Selectors first, so that the explicit-ID batches below skip what they already returned.
    for (const auto& [key, tags] : w.selectors) {
      auto imgs = api_.describe_images(region, {}, to_tags(tags));
      if (check(imgs)) {
        auto& ids = r.selected_images[key];
        for (const auto& img : *imgs) {
          ids.push_back(img.image_id);
          r.images[img.image_id] = {Presence::kPresent, img};
        }
        std::sort(ids.begin(), ids.end());
      }
      auto snaps = api_.describe_snapshots(region, {}, to_tags(tags));
      if (check(snaps)) {
        auto& ids = r.selected_snapshots[key];
        for (const auto& sn : *snaps) {
          ids.push_back(sn.snapshot_id);
          r.snapshots[sn.snapshot_id] = {Presence::kPresent, sn};
        }
        std::sort(ids.begin(), ids.end());
      }
    }

    std::vector<std::string> image_ids;
    for (const auto& id : w.images)
      if (r.images[id].presence == Presence::kUnknown) image_ids.push_back(id);
    if (!image_ids.empty()) {
      auto imgs = api_.describe_images(region, image_ids, {});
      if (check(imgs)) {
        for (const auto& id : image_ids) r.images[id].presence = Presence::kAbsent;
        for (const auto& img : *imgs) r.images[img.image_id] = {Presence::kPresent, img};
      }
    }

    // One batch for named snapshots and every image's disk snapshots (an image carries no key ID;
    // its snapshots do, docs/alibaba-api.md §5). The implementation chunks by 100 IDs.
    for (const auto& [id, img] : r.images)
      if (img.presence == Presence::kPresent)
        for (const auto& d : img.image.disks)
          if (!d.snapshot_id.empty()) r.snapshots[d.snapshot_id];
    std::vector<std::string> snap_ids;
    for (const auto& [id, sn] : r.snapshots)
      if (sn.presence == Presence::kUnknown) snap_ids.push_back(id);
    if (!snap_ids.empty()) {
      auto snaps = api_.describe_snapshots(region, snap_ids, {});
      if (check(snaps)) {
        for (const auto& id : snap_ids) r.snapshots[id].presence = Presence::kAbsent;
        for (const auto& sn : *snaps) r.snapshots[sn.snapshot_id] = {Presence::kPresent, sn};
      }
    }

    std::set<std::string> key_ids;
    for (const auto& [id, sn] : r.snapshots)
      if (sn.presence == Presence::kPresent && sn.snapshot.encrypted &&
          !sn.snapshot.kms_key_id.empty())
        key_ids.insert(sn.snapshot.kms_key_id);
    const std::vector<std::string> keys(key_ids.begin(), key_ids.end());
    // DescribeKey, and ListAliases for a key we did not create, side by side per key.
    struct KeyReads {
      decltype(api_.describe_key(region, "")) key;
      std::optional<decltype(api_.list_aliases_by_key_id(region, ""))> aliases;
    };
    auto reads = fan_out(keys.size(), [&](std::size_t i) {
      KeyReads out{api_.describe_key(region, keys[i]), std::nullopt};
      if (out.key.ok() && out.key->has_value() && (**out.key).creator != o_uid_)
        out.aliases = api_.list_aliases_by_key_id(region, keys[i]);
      return out;
    });
    for (std::size_t i = 0; i < keys.size(); ++i)
      observe_key(region, keys[i], r.keys[keys[i]], reads[i].key, reads[i].aliases);
  }

  template <class KeyResult, class AliasesResult>
  void observe_key(const std::string& region, const std::string& key_id, ObservedKey& k,
                   KeyResult& d, std::optional<AliasesResult>& aliases) {
    k.region = region;
    k.key_id = key_id;
    if (!check(d)) return;
    if (!d->has_value()) {
      k.presence = Presence::kAbsent;
      return;
    }
    k.presence = Presence::kPresent;
    k.meta = **d;
    k.arn = k.meta.arn.empty() ? "acs:kms:" + region + ":" + o_.uid + ":key/" + key_id : k.meta.arn;
    // A CMK's Creator is its owner's UID (§6): then no alias lookup is needed. Anything else may be
    // a service key; the alias/acs/ prefix (reserved for service keys) is the robust signal.
    if (k.meta.creator == o_.uid || !aliases) return;
    if (check(*aliases)) {
      k.aliases = **aliases;
      k.service_key = std::any_of(k.aliases.begin(), k.aliases.end(), [](const std::string& a) {
        return a.rfind("alias/acs/", 0) == 0;
      });
      if (!k.service_key && !is_uid(k.meta.creator)) k.service_key = true;
    } else {
      k.service_key = !is_uid(k.meta.creator);
    }
  }

  const config::DesiredState& desired_;
  const config::Account& account_;
  cloud::CloudApi& api_;
  AccountObservation o_;
  Sink own_;           // what check() records outside run()'s tasks (the identity, a re-read)
  std::string o_uid_;  // o_.uid, read by the fan-out threads (o_ itself is this thread's)
};

}  // namespace

const char* to_string(Presence p) {
  switch (p) {
    case Presence::kUnknown:
      return "unknown";
    case Presence::kAbsent:
      return "absent";
    case Presence::kPresent:
      return "present";
  }
  return "unknown";
}

const char* role_name(RoleKind kind) {
  return kind == RoleKind::kSnapshot ? wire::kSnapshotShareRole.data()
                                     : wire::kImageShareRole.data();
}

const char* role_short(RoleKind kind) { return kind == RoleKind::kSnapshot ? "snapshot" : "image"; }

std::string selector_key(const std::map<std::string, std::string>& tags) {
  std::string out;
  for (const auto& [k, v] : tags) {
    if (!out.empty()) out += ",";
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

int account_workers(std::size_t accounts) {
  return static_cast<int>(std::clamp<std::size_t>(accounts, 1, kMaxAccountWorkers));
}

AccountObservation observe_account(const config::DesiredState& desired,
                                   const config::Account& account, cloud::CloudApi& api) {
  return Observer(desired, account, api).run();
}

AccountObservation observe_resource_sharing(const config::DesiredState& desired,
                                            const config::Account& account, cloud::CloudApi& api,
                                            AccountObservation base,
                                            const std::set<std::string>& regions) {
  return Observer(desired, account, api, std::move(base)).resource_sharing_again(regions);
}

Observation observe(const config::DesiredState& desired, const ClientFor& client_for,
                    int max_parallel, const std::vector<std::string>& only) {
  std::vector<const config::Account*> accounts;
  for (const auto& a : desired.accounts)
    if (only.empty() || std::find(only.begin(), only.end(), a.name) != only.end())
      accounts.push_back(&a);
  Observation out;
  std::vector<AccountObservation> observed(accounts.size());
  const int workers = max_parallel > 0 ? max_parallel : account_workers(accounts.size());
  support::parallel_for(accounts.size(), static_cast<std::size_t>(workers), [&](std::size_t i) {
    const config::Account& account = *accounts[i];
    cloud::CloudApi* api = client_for ? client_for(account) : nullptr;
    if (api != nullptr) {
      observed[i] = observe_account(desired, account, *api);
      return;
    }
    AccountObservation& o = observed[i];
    o.account = account.name;
    o.uid = account.uid.value_or("");
    o.fatal_error = "no cloud client for account '" + account.name + "'";
  });
  for (std::size_t i = 0; i < accounts.size(); ++i)
    out.accounts[accounts[i]->name] = std::move(observed[i]);
  attach_directories(desired, out, client_for);  // observe_rd.hpp: only when a grant names one
  return out;
}

}  // namespace sharekeeper::reconcilers
