// The chain of links of one resource for one target (chain.hpp), from the observation.
#include "reconcilers/chain.hpp"

#include <algorithm>

#include "config/formats.hpp"
#include "reconcilers/desired_grants.hpp"
#include "reconcilers/grant_status_plan.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/observe_rd.hpp"
#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace planner {
namespace {

// The snapshots that carry the resource's data: itself, or the image's disks (views into the
// observation and the status, which outlive the builder).
struct Disks {
  bool image = false;
  std::vector<const std::string*> ids;
};

// A customer master key the resource's disks are encrypted with: its id as the snapshot names it,
// and what the observation says of it (nullptr: not observed).
struct Cmk {
  const std::string* id = nullptr;
  const ObservedKey* key = nullptr;
};

// An account target beyond its own UID: through the directory it is a member of, or a folder at
// or above its own (StringLike "<path>*" against its folder path), when the membership was read
// (observe_rd.hpp). kUnknown when only a directory not read could tell.
enum class Admission { kNo, kYes, kUnknown };
Admission admits_member(const RoleFacts& f, const std::string& uid, const Directories* d,
                        std::string* via) {
  bool unknown = false;
  for (const Principal& p : f.principals) {
    if (p.kind != PrincipalKind::kResourceDirectory && p.kind != PrincipalKind::kFolder) continue;
    const std::string rd = p.id.substr(0, p.id.find('/'));
    std::string path;
    switch (membership_of(d, rd, uid, &path)) {
      case Membership::kUnknown:
        unknown = true;
        break;
      case Membership::kNotMember:
        break;
      case Membership::kMember:
        if (p.kind == PrincipalKind::kResourceDirectory ||
            path.compare(0, p.id.size(), p.id) == 0) {
          *via = p.label() + " (the account is in " + path + ")";
          return Admission::kYes;
        }
        break;
    }
  }
  return unknown ? Admission::kUnknown : Admission::kNo;
}

// A folder target is admitted by its own path, a folder above it (StringLike "<path>*") or its
// directory; an RD target by its id; an account by its UID (through its directory: admits_member).
bool admits(const RoleFacts& f, const config::GrantTarget& t) {
  switch (t.type) {
    case TargetType::kAccount:
      return f.principals.count({PrincipalKind::kAccount, t.id}) != 0U;
    case TargetType::kResourceDirectory:
      return f.principals.count({PrincipalKind::kResourceDirectory, t.id}) != 0U;
    case TargetType::kFolder: {
      const std::string rd = t.id.substr(0, t.id.find('/'));
      if (f.principals.count({PrincipalKind::kResourceDirectory, rd}) != 0U) return true;
      return std::any_of(f.principals.begin(), f.principals.end(), [&](const Principal& p) {
        return p.kind == PrincipalKind::kFolder && t.id.compare(0, p.id.size(), p.id) == 0;
      });
    }
  }
  return false;
}

const std::string& role_str(RoleKind kind) {
  static const std::string kSnapshot(role_name(RoleKind::kSnapshot));
  static const std::string kImage(role_name(RoleKind::kImage));
  return kind == RoleKind::kImage ? kImage : kSnapshot;
}

std::string joined(const std::vector<Cmk>& items) {
  std::string out;
  for (const auto& i : items) out.append(out.empty() ? "" : ", ").append(*i.id);
  return out;
}

class ChainBuilder {
 public:
  ChainBuilder(const AccountObservation& obs, const RoleFacts& facts, const ResourceStatus& rs,
               const config::GrantTarget& target, bool detail)
      : obs_(obs), facts_(facts), rs_(rs), target_(target), detail_(detail) {
    kind_ = rs.resource_id.rfind("m-", 0) == 0 ? RoleKind::kImage : RoleKind::kSnapshot;
    if (auto it = obs.regions.find(rs.region); it != obs.regions.end()) region_ = &it->second;
  }

  Chain run() {
    chain_.resource_id = rs_.resource_id;
    chain_.region = rs_.region;
    chain_.links.resize(std::size(kAllLinks));
    for (std::size_t i = 0; i < std::size(kAllLinks); ++i) chain_.links[i].link = kAllLinks[i];
    judge();
    return std::move(chain_);
  }

  // The same resource's chain for another target: `links` were built for it (without detail), so
  // only the links that depend on the target are judged again: the trust policy (when the links
  // before it let it be judged) and the share.
  std::vector<ChainLink> retarget(std::vector<ChainLink> links) {
    chain_.links = std::move(links);
    if (at(Link::kShareRole).state == LinkState::kHeld) {
      at(Link::kTrust) = {Link::kTrust, LinkState::kUnknown, "", ""};
      trust();
    }
    at(Link::kShare) = {Link::kShare, LinkState::kUnknown, "", ""};
    share();
    fill_unchecked();
    return std::move(chain_.links);
  }

 private:
  void judge() {
    // Each step returns false when the links after it cannot be judged.
    if (resource() && encryption()) {
      key();
      disk_role();
      if (share_role()) trust();
      kms_policy();
    }
    share();
    fill_unchecked();
  }

  void fill_unchecked() {
    for (auto& l : chain_.links)
      if (l.state == LinkState::kUnknown && l.observed.empty())
        l.observed = "not checked: an earlier link is broken or unknown";
  }

  ChainLink& at(Link l) { return chain_.links[static_cast<std::size_t>(l)]; }
  // A held link: its text is only built when the chain is wanted in detail (a Ready grant's
  // chains are not shown, and 20,000 grants would pay for strings nobody reads).
  template <class Text>
  void held(Link l, Text observed) {
    ChainLink& x = at(l);
    x.state = LinkState::kHeld;
    if (detail_) x.observed = observed();
  }
  void set(Link l, LinkState s, std::string observed, std::string remedy = "") {
    ChainLink& x = at(l);
    x.state = s;
    x.observed = std::move(observed);
    x.remedy = std::move(remedy);
  }
  std::string where() const { return " in " + rs_.region + " of account " + obs_.uid; }

  bool resource() {
    const bool image = kind_ == RoleKind::kImage;
    auto what = [&] { return std::string(image ? "image " : "snapshot ") + rs_.resource_id; };
    Presence p = Presence::kUnknown;
    if (region_ != nullptr) {
      if (image) {
        if (auto it = region_->images.find(rs_.resource_id); it != region_->images.end()) {
          p = it->second.presence;
          if (p == Presence::kPresent) {
            disks_.image = true;
            for (const auto& d : it->second.image.disks)
              if (!d.snapshot_id.empty()) disks_.ids.push_back(&d.snapshot_id);
          }
        }
      } else if (auto it = region_->snapshots.find(rs_.resource_id);
                 it != region_->snapshots.end()) {
        p = it->second.presence;
        if (p == Presence::kPresent) {
          disks_.ids.push_back(&rs_.resource_id);
          self_ = &it->second;
        }
      }
    }
    if (p == Presence::kPresent) {
      held(Link::kResource, [&] {
        return what() + " exists" + where() +
               (image ? " (" + std::to_string(disks_.ids.size()) + " disk snapshot(s))" : "");
      });
      return true;
    }
    if (p == Presence::kAbsent) {
      set(Link::kResource, LinkState::kBroken, what() + " does not exist" + where(),
          "check the id and region (or the account's credentials), or remove it from the config");
    } else {
      set(Link::kResource, LinkState::kUnknown, what() + " could not be observed" + where(),
          "see the failed calls of the account; run again");
    }
    return false;
  }

  bool encryption() {
    std::vector<std::string> plain;
    std::string service;
    std::string unknown;
    for (const std::string* id : disks_.ids) {
      const ObservedSnapshot* s = self_;
      if (s == nullptr)
        if (auto it = region_->snapshots.find(*id); it != region_->snapshots.end()) s = &it->second;
      if (s == nullptr || s->presence != Presence::kPresent) {
        if (unknown.empty()) unknown = *id;
        continue;
      }
      if (!s->snapshot.encrypted || s->snapshot.kms_key_id.empty()) {
        plain.push_back(*id);
        continue;
      }
      const ObservedKey* k = nullptr;
      if (auto it = region_->keys.find(s->snapshot.kms_key_id); it != region_->keys.end())
        k = &it->second;
      if (k != nullptr && k->presence == Presence::kPresent && k->service_key) {
        if (service.empty()) service = *id + " (key " + k->key_id + ")";
        continue;
      }
      const std::string& key_id = s->snapshot.kms_key_id;
      if (std::none_of(cmks_.begin(), cmks_.end(), [&](const Cmk& c) { return *c.id == key_id; }))
        cmks_.push_back({&key_id, k});
    }
    if (!service.empty()) {
      set(Link::kEncryption, LinkState::kBroken,
          "snapshot " + service +
              " is encrypted with a KMS service key (alias/acs/ecs), which "
              "cannot be shared",
          "copy it with a customer master key (ECS CopySnapshot with Encrypted=true and "
          "KMSKeyId=<CMK>, or an image from the copy) and share the copy");
      return false;
    }
    if (!unknown.empty()) {
      set(Link::kEncryption, LinkState::kUnknown, "disk snapshot " + unknown + " could not be read",
          "see the failed calls of the account; run again");
      return false;
    }
    if (cmks_.empty()) {
      held(Link::kEncryption, [] { return "unencrypted: no key, role or KMS grant needed"; });
      for (Link l :
           {Link::kKey, Link::kDiskEncryptRole, Link::kShareRole, Link::kTrust, Link::kKmsPolicy})
        set(l, LinkState::kNotNeeded, "unencrypted");
      return false;
    }
    held(Link::kEncryption,
         [&] { return "encrypted with customer master key(s) " + joined(cmks_); });
    return true;
  }

  void key() {
    for (const Cmk& c : cmks_) {
      const std::string& id = *c.id;
      const ObservedKey* k = c.key;
      if (k == nullptr || k->presence == Presence::kUnknown) {
        set(Link::kKey, LinkState::kUnknown, "key " + id + " could not be described",
            "see the failed calls of the account; run again");
        return;
      }
      if (k->presence == Presence::kAbsent) {
        set(Link::kKey, LinkState::kBroken, "key " + id + " does not exist" + where(),
            "the data under it cannot be decrypted: share a copy made with an existing CMK");
        return;
      }
      const std::string& state = k->meta.key_state;
      if (state != "Enabled") {
        set(Link::kKey, LinkState::kBroken, "key " + id + " is " + state,
            state == "Disabled"          ? "enable it: KMS EnableKey KeyId=" + id
            : state == "PendingDeletion" ? "cancel its deletion: KMS CancelKeyDeletion KeyId=" + id
                                         : "bring key " + id + " back to Enabled");
        return;
      }
    }
    held(Link::kKey, [&] { return "key(s) " + joined(cmks_) + " Enabled"; });
  }

  void disk_role() {
    static const std::string kName(wire::kDiskEncryptRole);
    const ObservedRole& r = obs_.disk_role;
    switch (r.presence) {
      case Presence::kUnknown:
        set(Link::kDiskEncryptRole, LinkState::kUnknown, "role " + kName + " could not be read",
            "see the failed calls of the account; run again");
        return;
      case Presence::kAbsent:
        set(Link::kDiskEncryptRole, LinkState::kBroken,
            "role " + kName + " does not exist in account " + obs_.uid +
                ": ECS may not use the account's CMKs",
            "authorise ECS to use KMS once in the console, or set settings.manageDiskEncryptRole: "
            "true and apply");
        return;
      case Presence::kPresent:
        break;
    }
    const bool attached =
        std::any_of(r.attached.begin(), r.attached.end(), [](const cloud::AttachedPolicy& p) {
          return p.policy_type == "System" && p.policy_name == wire::kDiskEncryptRolePolicy;
        });
    if (r.attachments_known && !attached) {
      set(Link::kDiskEncryptRole, LinkState::kBroken,
          "role " + kName + " exists without System policy " +
              std::string(wire::kDiskEncryptRolePolicy),
          "attach it: RAM AttachPolicyToRole PolicyType=System PolicyName=" +
              std::string(wire::kDiskEncryptRolePolicy) + " RoleName=" + kName);
      return;
    }
    held(Link::kDiskEncryptRole, [&] { return "role " + kName + " exists"; });
  }

  bool share_role() {
    const std::string& name = role_str(kind_);
    switch (facts_.presence) {
      case Presence::kUnknown:
        set(Link::kShareRole, LinkState::kUnknown, "role " + name + " could not be read",
            "see the failed calls of the account; run again");
        return false;
      case Presence::kAbsent:
        set(Link::kShareRole, LinkState::kBroken, "role " + name + " does not exist",
            "add a share of this resource with this target to the config and apply (sharekeeper "
            "creates the role)");
        return false;
      case Presence::kPresent:
        break;
    }
    held(Link::kShareRole, [&] { return "role " + name + " exists"; });
    return true;
  }

  void trust() {
    const std::string& name = role_str(kind_);
    if (!facts_.trust_known) {
      set(Link::kTrust, LinkState::kUnknown,
          "trust policy of " + name + " is unreadable: " + facts_.trust_error,
          "fix the trust policy's JSON");
      return;
    }
    if (admits(facts_, target_)) {
      held(Link::kTrust, [&] { return "trust policy of " + name + " admits " + label(target_); });
      return;
    }
    const std::string who = label(target_);
    std::string has = std::to_string(facts_.principals.size()) + " principal(s)";
    if (target_.type == TargetType::kAccount && by_directory()) {
      std::string via;
      switch (admits_member(facts_, target_.id, obs_.directories.get(), &via)) {
        case Admission::kYes:
          held(Link::kTrust,
               [&] { return "trust policy of " + name + " admits " + who + " through " + via; });
          return;
        case Admission::kUnknown:
          // The account may be admitted through its directory or folder, whose membership was
          // not read (no grant names it, its management account is not in the config, or a call
          // failed), so this cannot be told.
          set(Link::kTrust, LinkState::kUnknown,
              "trust policy of " + name + " does not name " + who +
                  ", but admits a resource directory or folder the account may belong to (its "
                  "place in the directory is not observed" +
                  directory_why() + ")",
              "explain with --target set to the account's folder path or resource directory, or "
              "add the directory's management account to the config");
          return;
        case Admission::kNo:
          break;  // not a member, or not below any trusted folder: broken, below
      }
    }
    set(Link::kTrust, LinkState::kBroken,
        "trust policy of " + name + " does not admit " + who + " (it has " + has + ")",
        "add the target to a share of this resource in the config and apply (sharekeeper adds "
        "the principal to the trust policy)");
  }

  void kms_policy() {
    if (facts_.presence != Presence::kPresent) {
      set(Link::kKmsPolicy, LinkState::kUnknown, "no share role to hold a KMS policy");
      return;
    }
    const std::string& name = role_str(kind_);
    auto granted = [&](const std::string& r) {
      return facts_.resources.count(r) != 0U || facts_.foreign_resources.count(r) != 0U;
    };
    bool foreign = false;
    const std::string listing = list_resource(rs_.region, obs_.uid);
    std::string built;  // the ARN of a key the observation has no metadata for
    for (const Cmk& c : cmks_) {
      const bool known = c.key != nullptr && !c.key->arn.empty();
      if (!known) built = "acs:kms:" + rs_.region + ":" + obs_.uid + ":key/" + *c.id;
      const std::string& arn = known ? c.key->arn : built;
      if (!granted(arn) || !granted(listing)) {
        if (!facts_.policies_known) {
          set(Link::kKmsPolicy, LinkState::kUnknown,
              "the policies attached to " + name + " could not all be read",
              "see the failed calls of the account; run again");
          return;
        }
        set(Link::kKmsPolicy, LinkState::kBroken,
            "no policy attached to " + name + " allows " +
                (granted(arn) ? "kms:List* on " + listing : "the key actions on " + arn),
            "add a share of this resource to the config and apply (sharekeeper attaches a KMS "
            "policy allowing kms:DescribeKey, Encrypt, Decrypt, GenerateDataKey, TagResource and "
            "UntagResource on the key and kms:List* on " +
                listing + ")");
        return;
      }
      foreign = foreign || facts_.resources.count(arn) == 0U;
    }
    held(Link::kKmsPolicy, [&] {
      return std::string("an attached policy ") + (foreign ? "(not sharekeeper's) " : "of ours ") +
             "grants the key actions and kms:List* for every key";
    });
  }

  void share() {
    const std::string& d = rs_.sharing_detail;
    switch (rs_.sharing) {
      case Sharing::kShared:
        held(Link::kShare, [&] { return "shared: " + d; });
        return;
      case Sharing::kPending:
        set(Link::kShare, LinkState::kBroken, "not yet: " + d,
            d.find("external") != std::string::npos
                ? "the target account must accept the resource share invitation "
                  "(AcceptResourceShareInvitation); then wait for the association"
                : "wait for the association to finish; run again");
        return;
      case Sharing::kNotShared:
        if (target_.type == TargetType::kAccount && shared_with_a_directory() &&
            !directories_known()) {
          set(Link::kShare, LinkState::kUnknown,
              "not shared with " + label(target_) +
                  " directly, but with a resource directory or folder the account may belong to "
                  "(its place in the directory is not observed)",
              "explain with --target set to the account's folder path or resource directory");
          return;
        }
        set(Link::kShare, LinkState::kBroken, "not shared: " + d,
            kind_ == RoleKind::kImage && target_.type == TargetType::kAccount
                ? "share it: ECS ModifyImageSharePermission AddAccount.1=" + target_.id +
                      " (sharekeeper does it with settings.manageShares)"
                : "associate the resource and the target with a resource share (Resource "
                  "Sharing; sharekeeper does it with settings.manageShares)");
        return;
      case Sharing::kUnknown:
        set(Link::kShare, LinkState::kUnknown, "the share listings were not read",
            "see the failed calls (sharing report) of the account; run again");
        return;
    }
  }

  // The role trusts a directory or folder (which an account target may be under).
  bool by_directory() const {
    return std::any_of(facts_.principals.begin(), facts_.principals.end(), [](const Principal& p) {
      return p.kind == PrincipalKind::kResourceDirectory || p.kind == PrincipalKind::kFolder;
    });
  }
  // Every directory membership of the observation was read (and there is one): an account not
  // reached through the directory or folder a resource share targets is then really not reached.
  bool directories_known() const {
    const Directories* d = obs_.directories.get();
    if (d == nullptr || d->by_id.empty()) return false;
    return std::all_of(d->by_id.begin(), d->by_id.end(),
                       [](const auto& kv) { return kv.second.known; });
  }
  // Why a directory's membership is unknown ("" when none was asked for).
  std::string directory_why() const {
    const Directories* d = obs_.directories.get();
    if (d == nullptr) return "";
    for (const auto& [id, m] : d->by_id)
      if (!m.known) return ": " + m.why_unknown;
    return "";
  }
  // The resource is associated (or being associated) with a directory or folder.
  bool shared_with_a_directory() const {
    if (region_ == nullptr) return false;
    auto it = region_->shares.resource_targets.find(rs_.resource_id);
    if (it == region_->shares.resource_targets.end()) return false;
    return std::any_of(it->second.begin(), it->second.end(), [](const auto& kv) {
      return !config::format::is_account_uid(kv.first) &&
             ObservedShares::Association::rank(kv.second.status) >= 3;
    });
  }

  const AccountObservation& obs_;
  const RoleFacts& facts_;
  const ResourceStatus& rs_;
  const config::GrantTarget& target_;
  const ObservedRegion* region_ = nullptr;
  RoleKind kind_ = RoleKind::kSnapshot;
  Disks disks_;
  const ObservedSnapshot* self_ = nullptr;  // a snapshot resource, once found
  std::vector<Cmk> cmks_;
  Chain chain_;
  bool detail_ = true;
};

}  // namespace

Chain build_chain(const AccountObservation& obs, const RoleFacts& facts, const ResourceStatus& rs,
                  const config::GrantTarget& target, bool detail) {
  return ChainBuilder(obs, facts, rs, target, detail).run();
}

std::vector<ChainLink> retarget_chain(std::vector<ChainLink> links, const AccountObservation& obs,
                                      const RoleFacts& facts, const ResourceStatus& rs,
                                      const config::GrantTarget& target) {
  return ChainBuilder(obs, facts, rs, target, /*detail=*/false).retarget(std::move(links));
}

}  // namespace planner

const char* to_string(Link l) {
  switch (l) {
    case Link::kResource:
      return "resource";
    case Link::kEncryption:
      return "encryption";
    case Link::kKey:
      return "key";
    case Link::kDiskEncryptRole:
      return "disk-encrypt-role";
    case Link::kShareRole:
      return "share-role";
    case Link::kTrust:
      return "trust";
    case Link::kKmsPolicy:
      return "kms-policy";
    case Link::kShare:
      return "share";
  }
  return "unknown";
}

const char* to_string(LinkState s) {
  switch (s) {
    case LinkState::kHeld:
      return "held";
    case LinkState::kBroken:
      return "broken";
    case LinkState::kUnknown:
      return "unknown";
    case LinkState::kNotNeeded:
      return "not needed";
  }
  return "unknown";
}

const ChainLink* blocking_link(const std::vector<ChainLink>& links) {
  for (const auto& l : links)
    if (l.state == LinkState::kBroken) return &l;
  for (const auto& l : links)
    if (l.state == LinkState::kUnknown) return &l;
  return nullptr;
}

const ChainLink* Chain::blocked_by() const { return blocking_link(links); }

bool Chain::broken() const {
  return std::any_of(links.begin(), links.end(),
                     [](const ChainLink& l) { return l.state == LinkState::kBroken; });
}

Chain explain_chain(const AccountObservation& obs, const config::Account& account,
                    const std::string& instance, const std::string& region,
                    const std::string& resource_id, const config::GrantTarget& target) {
  const RoleKind kind = resource_id.rfind("m-", 0) == 0 ? RoleKind::kImage : RoleKind::kSnapshot;
  const planner::RoleFacts facts = planner::role_facts(obs.role(kind), obs, account, instance);
  ResourceStatus rs;
  rs.resource_id = resource_id;
  rs.region = region;
  planner::judge_sharing(planner::sharing_lookup(obs, rs), kind, target, rs);
  return planner::build_chain(obs, facts, rs, target, /*detail=*/true);
}

}  // namespace sharekeeper::reconcilers
