#include "reconcilers/apply.hpp"
#include "support/text.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include "reconcilers/observe_rd.hpp"
#include "reconcilers/policy_document.hpp"
#include "support/parallel.hpp"
#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace {

using cloud::ErrorClass;

using support::ascii_lower;

// The observed role a change names (RAM compares role names case-insensitively), or nullptr.
ObservedRole* role_of(AccountObservation& o, const std::string& name) {
  const std::string n = ascii_lower(name);
  if (n == ascii_lower(role_name(RoleKind::kSnapshot))) return &o.snapshot_role;
  if (n == ascii_lower(role_name(RoleKind::kImage))) return &o.image_role;
  if (n == ascii_lower(std::string(wire::kDiskEncryptRole))) return &o.disk_role;
  return nullptr;
}

std::vector<std::string> principal_ids(const Items& items) {
  std::vector<std::string> out;
  for (const auto& p : items.principals) out.push_back(p.id);
  return out;
}

// What the cloud's definite answers told: which custom policies a re-observation lists (those
// attached to a share role, and our first KMS policy of a listed role, probed), as observe() does.
// False when one it would list is missing from `o` (not modelled: the account is re-read).
bool settle_policies(AccountObservation& o, const std::string& instance) {
  std::set<std::string> names;
  for (RoleKind kind : {RoleKind::kSnapshot, RoleKind::kImage}) {
    const ObservedRole& role = o.role(kind);
    for (const auto& a : role.attached)
      if (a.policy_type == "Custom") {
        if (o.policies.count(a.policy_name) == 0U) return false;
        names.insert(a.policy_name);
      }
    const std::string first = kms_policy_name(instance, kind, 1);
    if (role.presence == Presence::kPresent && role.attachments_known && names.count(first) == 0U) {
      names.insert(first);
      if (o.policies.count(first) == 0U) {
        // The probe of a policy that does not exist: absent, its (empty) tags known.
        ObservedPolicy& p = o.policies[first];
        p.name = first;
        p.presence = Presence::kAbsent;
        p.tags_known = true;
      }
    }
  }
  for (auto it = o.policies.begin(); it != o.policies.end();)
    it = names.count(it->first) != 0U ? std::next(it) : o.policies.erase(it);
  return true;
}

// Executes one account's changes against its CloudApi.
class Executor {
 public:
  // With `predicted` (a copy of the observation the plan was made from), every write the cloud
  // answered definitely is carried into it, so that verification need not read it back.
  Executor(cloud::CloudApi& api, std::string instance, AccountObservation* predicted)
      : api_(api), instance_(std::move(instance)), predicted_(predicted) {}

  // False when `predicted` no longer says what a re-read would (a write failed, its outcome was
  // re-read, or its effect is not modelled): the account is observed again.
  bool predictable() const { return predicted_ != nullptr && predictable_; }
  // Regions whose Resource Sharing listings must be read again (it settles asynchronously).
  const std::set<std::string>& sharing_regions() const { return sharing_regions_; }

  AccountApplyResult run(const AccountPlan& ap) {
    AccountApplyResult out;
    out.account = ap.account;
    bool failed = false;
    std::set<std::string> failed_objects;  // roles and policies whose creation failed
    for (const auto& c : ap.changes) {
      ChangeResult r;
      r.change = c;
      if (failed && c.stage == Stage::kRemovals) {
        r.skipped = true;
        r.detail =
            "not attempted: an earlier write of this account failed (never remove after a failed "
            "add)";
      } else if (failed && (c.stage == Stage::kShares || c.stage == Stage::kUnshares)) {
        // A share needs its role and keys in place (the cloud refuses it otherwise), and an
        // unshare is a removal.
        r.skipped = true;
        r.detail =
            "not attempted: an earlier write of this account failed (shares wait for "
            "their roles and keys; never remove after a failed add)";
      } else if (c.action == Action::kAttachPolicy && (failed_objects.count(c.role) != 0U ||
                                                       failed_objects.count(c.policy_name) != 0U)) {
        r.skipped = true;
        r.detail = "not attempted: creating what it attaches failed";
      } else {
        cloud::CallCollector collector;
        made_role_.reset();
        made_policy_.reset();
        made_version_.reset();
        execute(c, r);
        for (const auto& call : collector.calls())
          if (!call.read_only) r.writes.push_back(call);
        if (r.ok && !r.re_observed) {
          predict(c);
        } else {
          predictable_ = false;
        }
        if (!r.ok) {
          failed = true;
          if (c.action == Action::kCreateRole) failed_objects.insert(c.role);
          if (c.action == Action::kCreatePolicy) failed_objects.insert(c.policy_name);
        }
      }
      if (!r.ok && !r.skipped) ++out.failed;
      if (r.skipped) predictable_ = false;
      out.results.push_back(std::move(r));
    }
    out.writes = writes_;
    if (predicted_ != nullptr && predictable_)
      predictable_ = settle_policies(*predicted_, instance_);
    return out;
  }

 private:
  // Carries the effect of `c`, which the cloud answered with a success, into the prediction.
  void predict(const Change& c) {
    if (predicted_ == nullptr || !predictable_) return;
    AccountObservation& o = *predicted_;
    ObservedRole* role = c.role.empty() ? nullptr : role_of(o, c.role);
    auto policy = [&]() -> ObservedPolicy* {
      auto it = o.policies.find(c.policy_name);
      return it == o.policies.end() ? nullptr : &it->second;
    };
    switch (c.action) {
      case Action::kCreateRole:
        if (role == nullptr || !made_role_) break;
        role->presence = Presence::kPresent;
        role->role = *made_role_;
        if (role->role.role_name.empty()) role->role.role_name = c.role;
        if (role->role.trust_policy.empty()) role->role.trust_policy = c.document;
        role->tags_known = true;
        role->managed_by = instance_;
        role->attachments_known = true;
        role->attached.clear();
        return;
      case Action::kUpdateTrustPolicy:
        if (role == nullptr || role->presence != Presence::kPresent) break;
        role->role.trust_policy = c.document;
        return;
      case Action::kCreatePolicy: {
        if (!made_policy_) break;
        ObservedPolicy& p = o.policies[c.policy_name];
        p = ObservedPolicy{};
        p.name = c.policy_name;
        p.presence = Presence::kPresent;
        p.tags_known = true;
        p.managed_by = instance_;
        p.versions_known = true;
        p.default_version =
            made_policy_->default_version.empty() ? "v1" : made_policy_->default_version;
        p.default_document = c.document;
        p.versions = {{p.default_version, true, c.document, ""}};
        return;
      }
      case Action::kCreatePolicyVersion: {
        ObservedPolicy* p = policy();
        if (p == nullptr || !p->versions_known || !made_version_) break;
        for (auto& v : p->versions) v.is_default = false;
        cloud::PolicyVersion v = *made_version_;
        v.is_default = true;
        if (v.document.empty()) v.document = c.document;
        p->versions.push_back(v);
        p->default_version = v.version_id;
        p->default_document = v.document;
        return;
      }
      case Action::kDeletePolicyVersion: {
        ObservedPolicy* p = policy();
        if (p == nullptr || !p->versions_known) break;
        std::erase_if(p->versions, [&](const auto& v) { return v.version_id == c.version_id; });
        return;
      }
      case Action::kAttachPolicy:
      case Action::kDetachPolicy: {
        if (role == nullptr || !role->attachments_known) break;
        std::erase_if(role->attached, [&](const cloud::AttachedPolicy& a) {
          return a.policy_type == c.policy_type && a.policy_name == c.policy_name;
        });
        if (c.action == Action::kAttachPolicy) {
          cloud::AttachedPolicy a;
          a.policy_name = c.policy_name;
          a.policy_type = c.policy_type;
          if (ObservedPolicy* p = policy()) a.default_version = p->default_version;
          role->attached.push_back(a);
          std::sort(role->attached.begin(), role->attached.end(), [](const auto& x, const auto& y) {
            return std::tie(x.policy_type, x.policy_name) < std::tie(y.policy_type, y.policy_name);
          });
        }
        return;
      }
      case Action::kTagImage: {
        auto reg = o.regions.find(c.region);
        if (reg == o.regions.end()) break;
        reg->second.shares.owned_images.insert(c.image_id);
        if (auto im = reg->second.images.find(c.image_id); im != reg->second.images.end()) {
          auto& tags = im->second.image.tags;
          std::erase_if(tags, [](const cloud::Tag& t) { return t.key == kManagedByTagKey; });
          tags.push_back({kManagedByTagKey, instance_});
        }
        return;
      }
      case Action::kModifyImageShare: {
        auto reg = o.regions.find(c.region);
        if (reg == o.regions.end()) break;
        std::vector<std::string>& listed = reg->second.shares.image_accounts[c.image_id];
        const std::vector<std::string> add = principal_ids(c.added),
                                       remove = principal_ids(c.removed);
        std::erase_if(listed, [&](const std::string& a) {
          return std::find(remove.begin(), remove.end(), a) != remove.end();
        });
        for (const auto& a : add)
          if (std::find(listed.begin(), listed.end(), a) == listed.end()) listed.push_back(a);
        return;
      }
      case Action::kCreateResourceShare:
      case Action::kUpdateResourceShare:
      case Action::kAssociateResourceShare:
      case Action::kDisassociateResourceShare:
        // Asynchronous: the associations are read back (only the region's Resource Sharing).
        sharing_regions_.insert(c.region);
        return;
    }
    predictable_ = false;
  }

  std::vector<cloud::Tag> tags() const { return {{kManagedByTagKey, instance_}}; }

  // Runs a write (any cloud::Result; its value is not needed); when its outcome is unknown,
  // `effective` re-reads the cloud to learn whether it took effect (a failed re-read is its
  // error) before the write is retried (once).
  template <class Write>
  void write_with_recheck(ChangeResult& r, Write write,
                          const std::function<cloud::Result<bool>()>& effective) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ++writes_;
      auto res = write();
      if (res.ok()) {
        r.ok = true;
        r.error.reset();
        return;
      }
      const cloud::Error& err = res.error();
      r.error = err;
      if (err.cls != ErrorClass::kOutcomeUnknown && err.cls != ErrorClass::kConflict) return;
      r.re_observed = true;
      const cloud::Result<bool> done = effective();
      if (done.value_or(false)) {
        r.ok = true;
        r.detail = err.cls == ErrorClass::kConflict ? "already in the intended state" : "";
        return;
      }
      if (err.cls == ErrorClass::kConflict)
        return;                // someone else's object or edit: re-plan next cycle
      if (!done.ok()) return;  // could not re-read: do not write blindly
    }
  }

  // The id of our resource share `name` in `region`: the one this run created, else the one the
  // listing shows (tagged managed-by; the lowest id when a lost answer made two).
  cloud::Result<std::optional<std::string>> share_id(const std::string& region,
                                                     const std::string& name) {
    if (auto it = created_shares_.find({region, name}); it != created_shares_.end())
      return std::optional<std::string>(it->second);
    cloud::ResourceShareFilter f;
    f.name = name;
    f.status = "Active";
    f.tags = {{kManagedByTagKey, instance_}};
    return api_.list_resource_shares(region, f).transform(
        [&](const std::vector<cloud::ResourceShare>& l) -> std::optional<std::string> {
          std::optional<std::string> id;
          for (const auto& s : l)
            if (s.resource_share_name == name && (!id || s.resource_share_id < *id))
              id = s.resource_share_id;
          if (id) created_shares_[{region, name}] = *id;
          return id;
        });
  }

  // Whether every entity of `items` is (dis)associated with the share as `associate` asks.
  cloud::Result<bool> associations_are(const std::string& region, const std::string& id,
                                       const Items& items, bool associate) {
    auto in_effect = [&](const std::vector<cloud::ResourceShareAssociation>& l,
                         const std::string& entity) {
      return std::any_of(l.begin(), l.end(), [&](const auto& x) {
        return x.entity_id == entity &&
               (x.association_status == "Associated" || x.association_status == "Associating");
      });
    };
    SK_TRY(res, api_.list_resource_share_associations(region, "Resource", {id}));
    SK_TRY(tgt, api_.list_resource_share_associations(region, "Target", {id}));
    for (const auto& r : items.share_resources)
      if (in_effect(res, r) != associate) return false;
    for (const auto& p : items.principals)
      if (in_effect(tgt, p.id) != associate) return false;
    return true;
  }

  static std::vector<cloud::ShareResource> share_resources(const Items& items) {
    std::vector<cloud::ShareResource> out;
    for (const auto& id : items.share_resources)
      out.push_back({id.rfind("m-", 0) == 0 ? "Image" : "Snapshot", id});
    return out;
  }
  // Resource Sharing names a folder by its own id (the last part of its path).
  static std::vector<std::string> share_targets(const Items& items) {
    std::vector<std::string> out;
    for (const auto& p : items.principals)
      out.push_back(p.kind == PrincipalKind::kFolder ? p.id.substr(p.id.rfind('/') + 1) : p.id);
    return out;
  }
  static std::vector<std::string> accounts(const Items& items) {
    std::vector<std::string> out;
    for (const auto& p : items.principals) out.push_back(p.id);
    return out;
  }

  void execute_share(const Change& c, ChangeResult& r) {
    switch (c.action) {
      case Action::kTagImage:
        write_with_recheck(
            r,
            [&] {
              return api_.tag_ecs_resources(c.region, "image", {c.image_id},
                                            {{kManagedByTagKey, instance_}});
            },
            [&] {
              return api_.describe_images(c.region, {c.image_id}, {})
                  .transform([&](const std::vector<cloud::Image>& l) {
                    return std::any_of(l.begin(), l.end(), [&](const cloud::Image& im) {
                      return std::any_of(im.tags.begin(), im.tags.end(), [&](const cloud::Tag& t) {
                        return t.key == kManagedByTagKey && t.value == instance_;
                      });
                    });
                  });
            });
        return;
      case Action::kModifyImageShare: {
        const std::vector<std::string> add = accounts(c.added), remove = accounts(c.removed);
        write_with_recheck(
            r,
            [&] { return api_.modify_image_share_permission(c.region, c.image_id, add, remove); },
            [&] {
              return api_.describe_image_share_permission(c.region, c.image_id)
                  .transform([&](const std::vector<std::string>& l) {
                    auto has = [&](const std::string& a) {
                      return std::find(l.begin(), l.end(), a) != l.end();
                    };
                    return std::all_of(add.begin(), add.end(), has) &&
                           std::none_of(remove.begin(), remove.end(), has);
                  });
            });
        return;
      }
      case Action::kCreateResourceShare:
        write_with_recheck(
            r,
            [&]() -> cloud::Result<void> {
              SK_TRY(made, api_.create_resource_share(
                               c.region, c.resource_share_name, share_resources(c.added),
                               share_targets(c.added), c.allow_external_targets,
                               {{kManagedByTagKey, instance_}}));
              created_shares_[{c.region, c.resource_share_name}] = made.resource_share_id;
              return {};
            },
            [&]() -> cloud::Result<bool> {
              // A share of ours with this name may exist (the answer was lost, or the follow-up
              // associations failed): finish it rather than create a second one.
              SK_TRY(id, share_id(c.region, c.resource_share_name));
              if (!id) return false;
              SK_TRY(done, associations_are(c.region, *id, c.added, true));
              if (done) return true;
              ++writes_;
              return api_
                  .associate_resource_share(c.region, *id, share_resources(c.added),
                                            share_targets(c.added))
                  .transform([](const auto&) { return true; });
            });
        return;
      case Action::kUpdateResourceShare:
        write_with_recheck(
            r,
            [&] {
              return api_.update_resource_share(c.region, c.resource_share_id,
                                                c.resource_share_name, true);
            },
            [&] {
              cloud::ResourceShareFilter f;
              f.resource_share_ids = {c.resource_share_id};
              return api_.list_resource_shares(c.region, f)
                  .transform([](const std::vector<cloud::ResourceShare>& l) {
                    return !l.empty() && l.front().allow_external_targets;
                  });
            });
        return;
      case Action::kAssociateResourceShare:
      case Action::kDisassociateResourceShare: {
        const bool associate = c.action == Action::kAssociateResourceShare;
        std::string id = c.resource_share_id;
        if (id.empty()) {
          auto found = share_id(c.region, c.resource_share_name);
          if (!found.ok()) {
            r.error = found.error();
            return;
          }
          if (!*found) {
            r.detail = "resource share " + c.resource_share_name + " does not exist";
            return;
          }
          id = **found;
        }
        const Items& items = associate ? c.added : c.removed;
        write_with_recheck(
            r,
            [&] {
              return associate ? api_.associate_resource_share(c.region, id, share_resources(items),
                                                               share_targets(items))
                               : api_.disassociate_resource_share(
                                     c.region, id, share_resources(items), share_targets(items));
            },
            [&] { return associations_are(c.region, id, items, associate); });
        return;
      }
      default:
        return;
    }
  }

  cloud::Result<bool> role_trust_is(const std::string& role, const std::string& doc) {
    return api_.get_role(role).transform([&](const std::optional<cloud::Role>& g) {
      return g.has_value() && policies_equivalent(g->trust_policy, doc);
    });
  }

  // A policy that does not exist has no versions.
  cloud::Result<std::vector<cloud::PolicyVersion>> versions(const std::string& policy) {
    return api_.list_policy_versions(policy, "Custom")
        .or_else([](cloud::Error e) -> cloud::Result<std::vector<cloud::PolicyVersion>> {
          if (e.cls == ErrorClass::kNotFound) return std::vector<cloud::PolicyVersion>{};
          return e;
        });
  }

  cloud::Result<bool> default_is(const std::string& policy, const std::string& doc) {
    return versions(policy).transform([&](const std::vector<cloud::PolicyVersion>& vs) {
      for (const auto& v : vs)
        if (v.is_default) return policies_equivalent(v.document, doc);
      return false;
    });
  }

  cloud::Result<bool> attached(const std::string& role, const std::string& type,
                               const std::string& policy) {
    return api_.list_policies_for_role(role).transform(
        [&](const std::vector<cloud::AttachedPolicy>& l) {
          return std::any_of(l.begin(), l.end(), [&](const auto& a) {
            return a.policy_type == type && a.policy_name == policy;
          });
        });
  }

  cloud::Result<bool> owned_policy(const std::string& policy) {
    return api_.list_tag_resources("policy", {policy})
        .transform([&](const std::vector<cloud::TagResource>& t) {
          return std::any_of(t.begin(), t.end(), [&](const auto& x) {
            return x.key == kManagedByTagKey && x.value == instance_;
          });
        })
        .or_else([](cloud::Error e) -> cloud::Result<bool> {
          // A policy that does not exist is answered NotFound: not created.
          if (e.cls == ErrorClass::kNotFound) return false;
          return e;
        });
  }

  void execute(const Change& c, ChangeResult& r) {
    if (!c.document.empty()) {
      // Never send a document that does not re-parse into what we meant.
      auto verified = verify_written_form(c.document, c.document);
      if (!verified) {
        r.detail = verified.error().message;
        return;
      }
      if (c.object == ObjectKind::kKmsPolicy && c.document.size() > wire::kMaxPolicyDocumentChars) {
        r.detail =
            "document exceeds " + std::to_string(wire::kMaxPolicyDocumentChars) + " characters";
        return;
      }
    }
    if (c.stage == Stage::kShares || c.stage == Stage::kUnshares) {
      execute_share(c, r);
      return;
    }
    switch (c.action) {
      case Action::kCreateRole:
        write_with_recheck(
            r,
            [&]() -> cloud::Result<void> {
              SK_TRY(made,
                     api_.create_role(c.role, c.document,
                                      "Managed by sharekeeper instance " + instance_, tags()));
              made_role_ = std::move(made);
              return {};
            },
            [&] { return role_trust_is(c.role, c.document); });
        return;
      case Action::kUpdateTrustPolicy:
        write_with_recheck(
            r, [&] { return api_.update_role_trust_policy(c.role, c.document); },
            [&] { return role_trust_is(c.role, c.document); });
        return;
      case Action::kCreatePolicy:
        write_with_recheck(
            r,
            [&]() -> cloud::Result<void> {
              SK_TRY(made, api_.create_policy(c.policy_name, c.document,
                                              "KMS permissions for " + c.role +
                                                  ", managed by sharekeeper instance " + instance_,
                                              tags()));
              made_policy_ = std::move(made);
              return {};
            },
            [&]() -> cloud::Result<bool> {
              SK_TRY(mine, owned_policy(c.policy_name));
              if (!mine) return false;
              SK_TRY(same, default_is(c.policy_name, c.document));
              if (same) return true;
              // Ours (e.g. created before a crash) but stale: give it the intended default version.
              ++writes_;
              return api_.create_policy_version(c.policy_name, c.document, true, true)
                  .transform([](const cloud::PolicyVersion&) { return true; });
            });
        return;
      case Action::kCreatePolicyVersion:
        write_with_recheck(
            r,
            [&]() -> cloud::Result<void> {
              SK_TRY(made, api_.create_policy_version(c.policy_name, c.document, true, false));
              made_version_ = std::move(made);
              return {};
            },
            [&]() -> cloud::Result<bool> {
              SK_TRY(vs, versions(c.policy_name));
              for (const auto& v : vs) {
                if (!policies_equivalent(v.document, c.document)) continue;
                if (v.is_default) return true;
                // The version was created but not made default: finish it rather than add a
                // duplicate.
                ++writes_;
                return api_.set_default_policy_version(c.policy_name, v.version_id).transform([] {
                  return true;
                });
              }
              return false;
            });
        return;
      case Action::kDeletePolicyVersion:
        write_with_recheck(
            r,
            [&] {
              return api_.delete_policy_version(c.policy_name, c.version_id)
                  .or_else([](const cloud::Error& e) -> cloud::Result<void> {
                    if (e.cls == ErrorClass::kNotFound) return {};  // already gone
                    return e;
                  });
            },
            [&] {
              return versions(c.policy_name).transform([&](const auto& vs) {
                return std::none_of(vs.begin(), vs.end(),
                                    [&](const auto& v) { return v.version_id == c.version_id; });
              });
            });
        return;
      case Action::kAttachPolicy:
        write_with_recheck(
            r, [&] { return api_.attach_policy_to_role(c.policy_type, c.policy_name, c.role); },
            [&] { return attached(c.role, c.policy_type, c.policy_name); });
        return;
      case Action::kDetachPolicy:
        write_with_recheck(
            r, [&] { return api_.detach_policy_from_role(c.policy_type, c.policy_name, c.role); },
            [&] {
              return attached(c.role, c.policy_type, c.policy_name).transform([](bool a) {
                return !a;
              });
            });
        return;
      default:
        return;
    }
  }

  cloud::CloudApi& api_;
  std::string instance_;
  AccountObservation* predicted_;
  bool predictable_ = true;
  std::set<std::string> sharing_regions_;
  // What the current change's write answered (the prediction uses it).
  std::optional<cloud::Role> made_role_;
  std::optional<cloud::Policy> made_policy_;
  std::optional<cloud::PolicyVersion> made_version_;
  int writes_ = 0;
  std::map<std::pair<std::string, std::string>, std::string> created_shares_;  // (region, name)
};

bool shares_an_item(const Items& a, const Items& b) {
  auto any_in = [](const auto& xs, const auto& ys) {
    return std::any_of(xs.begin(), xs.end(), [&](const auto& x) {
      return std::find(ys.begin(), ys.end(), x) != ys.end();
    });
  };
  return any_in(a.principals, b.principals) || any_in(a.kms_resources, b.kms_resources) ||
         any_in(a.share_resources, b.share_resources);
}

// True when `residual` still carries part of an applied change: same object and a shared item, or
// the same item-less change (attach/detach/delete version). New work (e.g. the next batch of
// revocations under the per-cycle cap) does not count.
bool still_differs(const Plan& residual, const ApplyResult& r) {
  for (const auto& a : r.accounts) {
    for (const auto& cr : a.results) {
      if (!cr.ok) continue;
      const Change& c = cr.change;
      for (const auto& ra : residual.accounts) {
        if (ra.account != c.account) continue;
        for (const auto& x : ra.changes) {
          if (x.role != c.role || x.policy_name != c.policy_name || x.image_id != c.image_id ||
              x.resource_share_name != c.resource_share_name)
            continue;
          bool itemless = c.added.empty() && c.removed.empty();
          if (itemless && x.action == c.action) return true;
          if (shares_an_item(c.added, x.added) || shares_an_item(c.removed, x.removed)) return true;
        }
      }
    }
  }
  // Resource Sharing is asynchronous: wait (bounded) while our associations settle.
  return residual.has_errors() ||
         std::any_of(residual.accounts.begin(), residual.accounts.end(),
                     [](const AccountPlan& a) { return a.shares_settling > 0; });
}

}  // namespace

bool ApplyResult::converged() const {
  return failures() == 0 && !residual.has_changes() && !residual.has_errors();
}

int ApplyResult::writes() const {
  int n = 0;
  for (const auto& a : accounts) n += a.writes;
  return n;
}

int ApplyResult::failures() const {
  int n = 0;
  for (const auto& a : accounts)
    for (const auto& c : a.results)
      if (!c.ok) ++n;
  return n;
}

namespace {

// How verification learns an account's state after its writes.
enum class Verify {
  kPredicted,  // the writes' answers say it all: no call
  kSharing,    // predicted, and its regions' Resource Sharing listings are read (asynchronous)
  kFull,       // observed again
};

struct AccountVerify {
  Verify how = Verify::kFull;
  AccountObservation predicted;
  std::set<std::string> regions;  // kSharing
};

ApplyResult run_apply(const config::DesiredState& desired, const Observation* observed,
                      const Plan& p, const ClientFor& client_for, const ApplyOptions& options) {
  support::Clock& clock = options.clock ? *options.clock : *support::SystemClock::shared();
  ApplyResult result;
  result.accounts.resize(p.accounts.size());
  std::vector<AccountVerify> verify(p.accounts.size());
  const int parallel = options.max_parallel_accounts > 0 ? options.max_parallel_accounts
                                                         : account_workers(p.accounts.size());
  const auto workers = static_cast<std::size_t>(parallel);
  support::parallel_for(p.accounts.size(), workers, [&](std::size_t i) {
    const AccountPlan& ap = p.accounts[i];
    AccountApplyResult& out = result.accounts[i];
    AccountVerify& v = verify[i];
    out.account = ap.account;
    // Only a complete observation is predicted from (an error is always read again).
    const AccountObservation* base = nullptr;
    if (observed != nullptr && ap.error.empty() && !ap.partial)
      if (auto it = observed->accounts.find(ap.account);
          it != observed->accounts.end() && !it->second.fatal_error && !it->second.partial &&
          it->second.share_errors.empty())
        base = &it->second;
    if (base != nullptr) {
      v.predicted = *base;
      v.how = Verify::kPredicted;
    }
    if (!ap.error.empty() || ap.changes.empty()) return;
    const config::Account* account = desired.find_account(ap.account);
    cloud::CloudApi* api = account && client_for ? client_for(*account) : nullptr;
    if (api == nullptr) {
      for (const auto& c : ap.changes) {
        ChangeResult r;
        r.change = c;
        r.detail = "no cloud client for this account";
        out.results.push_back(std::move(r));
      }
      out.failed = static_cast<int>(out.results.size());
      v.how = Verify::kFull;
      return;
    }
    Executor executor(*api, desired.settings.instance_name,
                      v.how == Verify::kPredicted ? &v.predicted : nullptr);
    out = executor.run(ap);
    if (!executor.predictable()) {
      v.how = Verify::kFull;
    } else if (!executor.sharing_regions().empty()) {
      v.how = Verify::kSharing;
      v.regions = executor.sharing_regions();
    }
  });

  if (result.writes() == 0 && result.failures() == 0) {
    result.residual = p;
    return result;
  }
  // Only the accounts this plan covered are re-read (a per-account pass never re-reads the others).
  std::vector<std::string> scope;
  for (const auto& a : p.accounts) scope.push_back(a.account);
  // Re-observe with a bounded, growing wait: RAM is eventually consistent, so a read right after a
  // write may still show the old state. Accounts whose writes all had a definite answer are not
  // read back (their prediction is planned from), except for Resource Sharing, which settles
  // asynchronously; a predicted account whose residual still differs is read back at once.
  auto delay = options.verify_initial_delay;
  int waits = 0;
  for (int round = 1;; ++round) {
    result.verify_rounds = round;
    std::vector<AccountObservation> now(p.accounts.size());
    std::vector<std::size_t> reads;
    for (std::size_t i = 0; i < verify.size(); ++i)
      if (verify[i].how != Verify::kPredicted) reads.push_back(i);
    support::parallel_for(reads.size(), workers, [&](std::size_t k) {
      const std::size_t i = reads[k];
      const config::Account* account = desired.find_account(p.accounts[i].account);
      cloud::CloudApi* api = account && client_for ? client_for(*account) : nullptr;
      AccountObservation& o = now[i];
      if (api == nullptr) {
        o.account = p.accounts[i].account;
        o.uid = account && account->uid ? *account->uid : "";
        o.fatal_error = "no cloud client for account '" + o.account + "'";
        return;
      }
      if (verify[i].how == Verify::kFull) {
        o = observe_account(desired, *account, *api);
      } else {
        AccountObservation base = verify[i].predicted;
        base.calls = 0;
        o = observe_resource_sharing(desired, *account, *api, std::move(base), verify[i].regions);
      }
    });
    Observation combined;
    // The Resource Directory membership does not change within a pass: the one the plan used is
    // kept (without it, as before, it is read again with the accounts).
    for (std::size_t i = 0; i < verify.size(); ++i)
      if (verify[i].how == Verify::kFull && observed != nullptr)
        if (auto it = observed->accounts.find(p.accounts[i].account);
            it != observed->accounts.end())
          now[i].directories = it->second.directories;
    for (std::size_t i = 0; i < verify.size(); ++i) {
      if (verify[i].how == Verify::kPredicted) {
        combined.accounts[p.accounts[i].account] = verify[i].predicted;
      } else {
        if (verify[i].how == Verify::kFull || verify[i].how == Verify::kSharing)
          result.verify_calls += now[i].calls;
        combined.accounts[p.accounts[i].account] = std::move(now[i]);
      }
    }
    if (observed == nullptr) attach_directories(desired, combined, client_for);
    result.residual = plan(desired, combined, scope);
    // A prediction the residual contradicts is not trusted: that account is read back now.
    bool reread = false;
    for (std::size_t i = 0; i < verify.size(); ++i) {
      if (verify[i].how == Verify::kFull) continue;
      for (const auto& ra : result.residual.accounts) {
        if (ra.account != p.accounts[i].account) continue;
        if (!ra.changes.empty() || !ra.error.empty() || ra.partial) {
          verify[i].how = Verify::kFull;
          reread = true;
        }
      }
    }
    if (reread) continue;
    if (!still_differs(result.residual, result)) break;
    if (++waits >= std::max(1, options.verify_attempts)) break;
    clock.sleep_for(delay);
    delay = std::min(delay * 2, options.verify_max_delay);
  }
  return result;
}

}  // namespace

ApplyResult apply(const config::DesiredState& desired, const Plan& p, const ClientFor& client_for,
                  const ApplyOptions& options) {
  return run_apply(desired, nullptr, p, client_for, options);
}

ApplyResult apply(const config::DesiredState& desired, const Observation& observed, const Plan& p,
                  const ClientFor& client_for, const ApplyOptions& options) {
  return run_apply(desired, &observed, p, client_for, options);
}

namespace {

// A share write the cloud refused for good: what the user must do. "" when retrying may succeed.
std::string share_remedy(const Change& c, const cloud::Error& e) {
  if (c.stage != Stage::kShares || e.cls != ErrorClass::kTerminal) return "";
  if (e.is("OperationDeined.FullImage"))
    return "an encrypted image with several disks cannot be shared: share an image of its system "
           "disk only, or its snapshots";
  if (e.is("QuotaExceed.ShareImageUser"))
    return "an image can be shared with at most 50 accounts: share it through a resource directory";
  if (e.is("InvalidOperation.ServiceKeyEncryptedImageUnsupported"))
    return "the image is encrypted with a KMS service key: copy it with a customer master key";
  if (e.is("InvalidParameter.KMSKeyId.CMKNotEnabled")) return "enable the image's KMS key";
  if (e.is("OperationDenied.InvalidImageStatus")) return "a deprecated image cannot be shared";
  if (e.is("InvalidAccount.NotFound") || e.is("InvalidAccount.Forbbiden"))
    return "the target account does not exist, or is the owner: fix the config";
  return "";
}

}  // namespace

std::vector<GrantStatus> grants_after_apply(const ApplyResult& result) {
  std::vector<GrantStatus> grants = result.residual.grants;
  for (const auto& a : result.accounts) {
    for (const auto& c : a.results) {
      if (c.ok || c.skipped) continue;
      std::string why = c.error ? c.error->to_string() : c.detail;
      const std::string remedy = c.error ? share_remedy(c.change, *c.error) : "";
      for (const auto& g : c.change.grants) {
        for (auto& gs : grants) {
          if (gs.share != g.share || gs.target != g.target || gs.state == GrantState::kReady ||
              gs.state == GrantState::kFailed)
            continue;  // the first failure is the cause; later ones follow from it
          gs.state = remedy.empty() ? GrantState::kFailed : GrantState::kBlocked;
          gs.reason = std::string(to_string(c.change.action)) +
                      (remedy.empty() ? " failed: " : " refused: ") + why +
                      (remedy.empty() ? "" : ": " + remedy);
        }
      }
    }
  }
  return grants;
}

}  // namespace sharekeeper::reconcilers
