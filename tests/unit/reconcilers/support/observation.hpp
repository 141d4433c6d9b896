#pragma once
// Observation values built directly (no FakeCloud, no observe()): the planner is a pure function of
// desired x observed, so its tests can state the observed world as data.
#include <string>
#include <vector>

#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "tests/unit/reconcilers/support/fixtures.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"  // trust_for

namespace sharekeeper::testing {

inline std::string arn_of(const std::string& uid, const std::string& key_id,
                          const std::string& region = kRegion) {
  return "acs:kms:" + region + ":" + uid + ":key/" + key_id;
}
inline std::string listing_of(const std::string& uid, const std::string& region = kRegion) {
  return "acs:kms:" + region + ":" + uid + ":key";
}

// One account's observation, seeded field by field.
class AccountBuilder {
 public:
  explicit AccountBuilder(std::string account = "prod", std::string uid = kUid) {
    o_.account = std::move(account);
    o_.uid = std::move(uid);
    o_.disk_role.presence = reconcilers::Presence::kPresent;
    o_.snapshot_role.presence = reconcilers::Presence::kAbsent;
    o_.image_role.presence = reconcilers::Presence::kAbsent;
    region();
  }

  reconcilers::ObservedRegion& region(const std::string& r = kRegion) {
    auto& reg = o_.regions[r];
    reg.region = r;
    // Nothing is shared yet, and the listing worked.
    reg.shares.resource_sharing_known = true;
    reg.shares.managed_known = true;
    return reg;
  }

  // settings.manageShares: the image's share permission list, and whether we tagged it.
  AccountBuilder& image_shared(const std::string& id, const std::vector<std::string>& accounts,
                               bool owned = false, const std::string& r = kRegion) {
    region(r).shares.image_accounts[id] = accounts;
    if (owned) region(r).shares.owned_images.insert(id);
    return *this;
  }
  // A resource share of ours with its associations (entity -> status), and the joined pairs the
  // sharing report reads.
  AccountBuilder& managed_share(const std::string& name, const std::string& id,
                                const std::map<std::string, std::string>& resources,
                                const std::map<std::string, std::string>& targets,
                                bool allow_external = true, const std::string& r = kRegion) {
    auto& m = region(r).shares.managed[name];
    m.share.resource_share_id = id;
    m.share.resource_share_name = name;
    m.share.resource_share_status = "Active";
    m.share.allow_external_targets = allow_external;
    for (const auto& [e, st] : resources) {
      cloud::ResourceShareAssociation a;
      a.resource_share_id = id;
      a.entity_id = e;
      a.association_type = "Resource";
      a.association_status = st;
      m.resources.push_back(a);
    }
    for (const auto& [e, st] : targets) {
      cloud::ResourceShareAssociation a;
      a.resource_share_id = id;
      a.entity_id = e;
      a.association_type = "Target";
      a.association_status = st;
      m.targets.push_back(a);
      for (const auto& [res, rst] : resources) {
        using A = reconcilers::ObservedShares::Association;
        const std::string& weaker = A::rank(rst) < A::rank(st) ? rst : st;
        region(r).shares.resource_targets[res][e] = A{weaker, "", id, false};
      }
    }
    return *this;
  }
  AccountBuilder& shares_unknown(const std::string& r = kRegion) {
    region(r).shares.managed_known = false;
    return *this;
  }

  // A CMK of the account (creator = its UID), or a service key.
  AccountBuilder& key(const std::string& id, const std::string& state = "Enabled",
                      bool service = false, const std::string& r = kRegion) {
    reconcilers::ObservedKey k;
    k.region = r;
    k.key_id = id;
    k.presence = reconcilers::Presence::kPresent;
    k.meta.key_id = id;
    k.meta.key_state = state;
    k.meta.creator = service ? "Ecs" : o_.uid;
    k.service_key = service;
    if (service) k.aliases = {"alias/acs/ecs"};
    k.arn = arn_of(o_.uid, id, r);
    region(r).keys[id] = k;
    return *this;
  }
  // An encrypted snapshot ("" key: unencrypted).
  AccountBuilder& snapshot(const std::string& id, const std::string& key_id,
                           const std::string& r = kRegion) {
    reconcilers::ObservedSnapshot s;
    s.presence = reconcilers::Presence::kPresent;
    s.snapshot.snapshot_id = id;
    s.snapshot.encrypted = !key_id.empty();
    s.snapshot.kms_key_id = key_id;
    region(r).snapshots[id] = s;
    return *this;
  }
  AccountBuilder& image(const std::string& id, const std::vector<std::string>& disk_snapshots,
                        const std::string& r = kRegion) {
    reconcilers::ObservedImage im;
    im.presence = reconcilers::Presence::kPresent;
    im.image.image_id = id;
    for (const auto& s : disk_snapshots) {
      cloud::DiskMapping d;
      d.snapshot_id = s;
      im.image.disks.push_back(d);
    }
    region(r).images[id] = im;
    return *this;
  }

  // A share role present with this trust policy, tagged `managed_by` ("" = untagged), its tags
  // and attachments read.
  AccountBuilder& role(reconcilers::RoleKind kind, const std::string& trust,
                       const std::string& managed_by = "sharekeeper") {
    auto& r = o_.role(kind);
    r.presence = reconcilers::Presence::kPresent;
    r.role.role_name = reconcilers::role_name(kind);
    r.role.trust_policy = trust;
    r.tags_known = true;
    r.managed_by = managed_by;
    r.attachments_known = true;
    return *this;
  }
  AccountBuilder& role_unknown(reconcilers::RoleKind kind) {
    o_.role(kind) = {};
    return *this;
  }
  // A custom policy with one (default) version; `versions` more non-default ones before it.
  AccountBuilder& policy(const std::string& name, const std::string& document,
                         const std::string& managed_by = "sharekeeper", int older_versions = 0) {
    reconcilers::ObservedPolicy p;
    p.name = name;
    p.presence = reconcilers::Presence::kPresent;
    p.tags_known = true;
    p.managed_by = managed_by;
    p.versions_known = true;
    for (int i = 0; i < older_versions; ++i)
      p.versions.push_back({"v" + std::to_string(i + 1), false, document,
                            "2026-01-0" + std::to_string(i + 1) + "T00:00:00Z"});
    const std::string v = "v" + std::to_string(older_versions + 1);
    p.versions.push_back({v, true, document, "2026-02-01T00:00:00Z"});
    p.default_version = v;
    p.default_document = document;
    o_.policies[name] = p;
    return *this;
  }
  AccountBuilder& attach(reconcilers::RoleKind kind, const std::string& policy,
                         const std::string& type = "Custom") {
    cloud::AttachedPolicy a;
    a.policy_name = policy;
    a.policy_type = type;
    o_.role(kind).attached.push_back(a);
    return *this;
  }
  AccountBuilder& partial() {
    o_.partial = true;
    return *this;
  }

  reconcilers::AccountObservation& get() { return o_; }
  reconcilers::AccountObservation build() const { return o_; }

 private:
  reconcilers::AccountObservation o_;
};

inline std::string kms_of(const std::string& uid, const std::vector<std::string>& key_ids,
                          const std::string& r = kRegion) {
  reconcilers::KmsPolicyContent c;
  c.list_resources = {listing_of(uid, r)};
  for (const auto& k : key_ids) c.key_arns.push_back(arn_of(uid, k, r));
  return reconcilers::build_kms_policy(c);
}

inline reconcilers::Observation observation_of(std::vector<reconcilers::AccountObservation> accts) {
  reconcilers::Observation o;
  for (auto& a : accts) o.accounts[a.account] = std::move(a);
  return o;
}

}  // namespace sharekeeper::testing
