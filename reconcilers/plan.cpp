#include "reconcilers/plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <tuple>

#include "reconcilers/policy_document.hpp"
#include "support/wire.hpp"

namespace sharekeeper::reconcilers {
namespace {

constexpr RoleKind kKinds[] = {RoleKind::kSnapshot, RoleKind::kImage};
constexpr const char* kFullAccessPolicy = "AliyunKMSFullAccess";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> to_vec(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

std::vector<GrantTarget> targets_of(const config::Share& s) {
  std::vector<GrantTarget> out;
  for (const auto& a : s.to.accounts) out.push_back({TargetType::kAccount, a});
  if (s.to.resource_directory)
    out.push_back({TargetType::kResourceDirectory, *s.to.resource_directory});
  for (const auto& f : s.to.folders) out.push_back({TargetType::kFolder, f});
  std::sort(out.begin(), out.end());
  return out;
}

std::string grant_label(const std::string& share, const GrantTarget& t) {
  return share + " -> " + t.label();
}

int severity(GrantState s) {
  switch (s) {
    case GrantState::kReady:
      return 0;
    case GrantState::kObserved:
      return 0;
    case GrantState::kPending:
      return 1;
    case GrantState::kBlocked:
      return 2;
    case GrantState::kFailed:
      return 3;
  }
  return 0;
}

// One resource of a share, resolved against the observation.
struct Resolved {
  RoleKind kind = RoleKind::kSnapshot;
  ResourceStatus status;
  bool needs_role = false;         // its targets (and CMKs) belong in the role's documents
  bool needs_full_access = false;  // service key with allowServiceKeyShares
  // Blocked or unobservable: its targets and keys get a grant state instead of a change, so they
  // are neither added nor removed (a vanished resource or a disabled key never triggers a
  // revocation).
  bool keep = false;
  std::vector<const ObservedKey*> cmks;  // CMKs whose ARNs belong in the KMS policy
  // What the role's attached policies still lack for this resource ("" when nothing): the same for
  // every target, so computed once.
  std::string items_unmet;
};

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

std::vector<Resolved> resolve_share(const config::Share& share, const AccountObservation& o,
                                    bool allow_service_keys, std::string* selector_error) {
  std::vector<Resolved> out;
  static const ObservedRegion kEmpty;
  auto rit = o.regions.find(share.region);
  const ObservedRegion& region = rit == o.regions.end() ? kEmpty : rit->second;

  // Named ids are sorted and unique (DesiredState contract); only selectors need merging.
  std::vector<std::string> merged_snapshots;
  std::vector<std::string> merged_images;
  const std::vector<std::string>* snapshots_ptr = &share.snapshots;
  const std::vector<std::string>* images_ptr = &share.images;
  if (!share.selector_tags.empty()) {
    merged_snapshots = share.snapshots;
    merged_images = share.images;
    snapshots_ptr = &merged_snapshots;
    images_ptr = &merged_images;
    std::string key = selector_key(share.selector_tags);
    auto si = region.selected_snapshots.find(key);
    auto ii = region.selected_images.find(key);
    if (si == region.selected_snapshots.end() || ii == region.selected_images.end()) {
      *selector_error = "could not list the resources selected by {" + key + "}";
    }
    auto merge = [](std::vector<std::string>& into, const std::vector<std::string>& more) {
      into.insert(into.end(), more.begin(), more.end());
      std::sort(into.begin(), into.end());
      into.erase(std::unique(into.begin(), into.end()), into.end());
    };
    if (si != region.selected_snapshots.end()) merge(merged_snapshots, si->second);
    if (ii != region.selected_images.end()) merge(merged_images, ii->second);
  }
  const std::vector<std::string>& snapshots = *snapshots_ptr;
  const std::vector<std::string>& images = *images_ptr;
  for (const auto& id : snapshots) {
    Resolved r;
    r.kind = RoleKind::kSnapshot;
    r.status.resource_id = id;
    r.status.region = share.region;
    bool enc = false;
    fold_snapshot(region, id, "", allow_service_keys, r, enc);
    if (!enc && r.status.state == GrantState::kReady)
      r.status.reason = "unencrypted: no RAM grant needed";
    out.push_back(std::move(r));
  }
  for (const auto& id : images) {
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
          fold_snapshot(region, d.snapshot_id, " (a disk of image " + id + ")", allow_service_keys,
                        r, enc);
      if (!enc && r.status.state == GrantState::kReady)
        r.status.reason = "unencrypted: no RAM grant needed";
    }
    // One blocked disk blocks the whole image: nothing of it is added, nothing removed.
    if (r.keep) {
      r.needs_role = false;
      r.needs_full_access = false;
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const Resolved& a, const Resolved& b) {
    return a.status.resource_id < b.status.resource_id;
  });
  return out;
}

std::string list_resource(const std::string& region, const std::string& uid) {
  return "acs:kms:" + region + ":" + uid + ":key";
}

// What the config wants of one role, and what observe-mode shares ask us to leave alone.
// Grants are indices into AccountWork::grant_names: at 10,000 shares, copying the grant strings
// into every item's set dominated the plan time, and only changes ever need the names.
using GrantIds = std::vector<int>;
struct RoleWant {
  std::map<std::string, GrantIds> principals;  // label -> grants
  std::set<std::string> keep_principals;
  std::map<std::string, GrantIds> items;  // key ARN or list resource -> grants
  std::set<std::string> keep_items;
  GrantIds full_access_grants;
};

// What the observation says of one role.
struct RoleFacts {
  Presence presence = Presence::kUnknown;
  bool trust_known = false;
  std::string trust_error;
  TrustPrincipals trust;
  std::set<std::string> labels;
  bool owned = false;           // tagged managed-by=<this instance>
  bool authoritative = false;   // owned, or adopt: authoritative (and not another instance's)
  bool policies_known = false;  // attachments, policy tags and owned policies' versions all read
  std::vector<const ObservedPolicy*> owned_policies;  // attached, ours, sorted by name
  std::set<std::string> items;  // keys + list resources granted by our attached policies
  bool full_access_attached = false;
  std::vector<std::string> foreign_attachments;
};

RoleFacts role_facts(const ObservedRole& role, const AccountObservation& o,
                     const config::Account& account, const std::string& instance) {
  RoleFacts f;
  f.presence = role.presence;
  if (role.presence != Presence::kPresent) {
    f.policies_known = role.presence == Presence::kAbsent;
    f.trust_known = role.presence == Presence::kAbsent;
    return f;
  }
  std::string err;
  auto tp = parse_trust_policy(role.role.trust_policy, &err);
  if (tp) {
    f.trust_known = true;
    f.trust = *tp;
    auto labels = principal_labels(*tp);
    f.labels.insert(labels.begin(), labels.end());
  } else {
    f.trust_error = err;
  }
  f.owned = role.tags_known && role.managed_by == instance;
  bool other_instance = !role.managed_by.empty() && role.managed_by != instance;
  f.authoritative = role.tags_known && !other_instance &&
                    (f.owned || account.adopt == config::AdoptMode::kAuthoritative);
  f.policies_known = role.attachments_known;
  for (const auto& a : role.attached) {
    if (a.policy_type == "System" && lower(a.policy_name) == lower(kFullAccessPolicy)) {
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
          f.items.insert(c->key_arns.begin(), c->key_arns.end());
          f.items.insert(c->list_resources.begin(), c->list_resources.end());
        }
        continue;
      }
    }
    f.foreign_attachments.push_back(a.policy_type + " " + a.policy_name);
  }
  return f;
}

// A removal the plan would like to make, before the guards decide.
struct Candidate {
  std::string account;
  int kind = 0;        // RoleKind index
  bool trust = true;   // trust principal, else KMS policy item
  std::string object;  // for BlockedRevocation
  std::string item;
  bool partial = false;
  bool allowed = false;
  std::string guard;
  std::string detail;
  auto key() const { return std::tie(account, object, item); }
};

// Within a stage: roles, then trust, then policies (a rotation's version deletion before the
// version it makes room for), then attachments, then detaches.
int action_order(Action a) {
  switch (a) {
    case Action::kCreateRole:
      return 0;
    case Action::kUpdateTrustPolicy:
      return 1;
    case Action::kCreatePolicy:
      return 2;
    case Action::kDeletePolicyVersion:
      return 3;
    case Action::kCreatePolicyVersion:
      return 4;
    case Action::kAttachPolicy:
      return 5;
    case Action::kDetachPolicy:
      return 6;
  }
  return 7;
}

// Oldest non-default version: by creation date, then by version number (v2 < v10).
std::string oldest_non_default(const std::vector<cloud::PolicyVersion>& versions) {
  const cloud::PolicyVersion* best = nullptr;
  auto num = [](const std::string& v) {
    try {
      return std::stol(v.substr(1));
    } catch (...) {
      return 0L;
    }
  };
  for (const auto& v : versions) {
    if (v.is_default) continue;
    if (best == nullptr || std::make_tuple(v.create_date, num(v.version_id)) <
                               std::make_tuple(best->create_date, num(best->version_id)))
      best = &v;
  }
  return best ? best->version_id : "";
}

struct AccountWork {
  const config::Account* account = nullptr;
  const AccountObservation* obs = nullptr;
  AccountPlan ap;
  RoleWant want[2];
  // (share, target) of each GrantIds index; the "<share> -> <target>" text is built only for the
  // few grants a change reports.
  std::vector<std::pair<const config::Share*, const GrantTarget*>> grant_refs;
  RoleFacts facts[2];
  std::map<std::string, std::vector<Resolved>> resolved;  // by share name
  std::map<std::string, std::string> selector_errors;     // by share name
};

// GrantTarget::label() into a reused buffer (the grant loop runs once per grant).
void label_into(const GrantTarget& t, std::string& out) {
  switch (t.type) {
    case TargetType::kAccount:
      out.assign("account:");
      break;
    case TargetType::kResourceDirectory:
      out.assign("rd:");
      break;
    case TargetType::kFolder:
      out.assign("folder:");
      break;
  }
  out.append(t.id);
}

// What the observation knows about one resource's sharing, looked up once per share (a share's
// resources are judged for each of its targets).
struct SharingLookup {
  const ObservedShares* shares = nullptr;                    // nullptr: the region was not observed
  const std::vector<std::string>* image_accounts = nullptr;  // nullptr: not listed
  const std::map<std::string, ObservedShares::Association, std::less<>>* pairs = nullptr;
};

SharingLookup sharing_lookup(const AccountObservation& obs, const ResourceStatus& rs) {
  SharingLookup l;
  auto reg = obs.regions.find(rs.region);
  if (reg == obs.regions.end()) return l;
  l.shares = &reg->second.shares;
  if (auto it = l.shares->image_accounts.find(rs.resource_id); it != l.shares->image_accounts.end())
    l.image_accounts = &it->second;
  if (auto it = l.shares->resource_targets.find(rs.resource_id);
      it != l.shares->resource_targets.end())
    l.pairs = &it->second;
  return l;
}

// Whether the resource is actually shared with the target (reported, never planned from).
void judge_sharing(const SharingLookup& l, RoleKind kind, const GrantTarget& target,
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
  // directory. An account's place in the directory is not observed: only direct shares count.
  const ObservedShares::Association* a = nullptr;
  std::string_view via;
  if (l.pairs != nullptr) {
    const auto& by_target = *l.pairs;
    auto best = [&](std::string_view id) {
      auto t = by_target.find(id);
      if (t == by_target.end()) return;
      if (a == nullptr || ObservedShares::Association::rank(t->second.status) >
                              ObservedShares::Association::rank(a->status)) {
        a = &t->second;
        via = id;
      }
    };
    if (target.type == TargetType::kFolder) {
      std::string_view path = target.id;
      while (!path.empty()) {
        const auto slash = path.find('/');
        best(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
      }
    } else {
      best(target.id);
    }
  }
  if (a == nullptr) {
    rs.sharing = Sharing::kNotShared;
    rs.sharing_detail =
        image_to_account ? "not in the image's share permissions nor a resource share"
        : target.type == TargetType::kAccount
            ? "in no resource share with this account (directory membership is not resolved)"
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

std::string items_unmet(const Resolved& r, const RoleFacts& f, RoleKind kind,
                        const std::string& uid) {
  if (r.needs_full_access && !f.full_access_attached)
    return std::string(kFullAccessPolicy) + " is not attached to " + role_name(kind);
  for (const ObservedKey* k : r.cmks) {
    if (f.items.count(k->arn) == 0U)
      return "no attached KMS policy of ours allows key " + k->key_id;
    if (f.items.count(list_resource(k->region, uid)) == 0U)
      return "no attached KMS policy of ours allows kms:List* in " + k->region;
  }
  return "";
}

std::string unmet_requirement(const Resolved& r, const RoleFacts& f, RoleKind kind,
                              const std::string& target_label) {
  if (f.presence == Presence::kUnknown)
    return "could not observe role " + std::string(role_name(kind));
  if (f.presence == Presence::kAbsent)
    return "role " + std::string(role_name(kind)) + " does not exist";
  if (!f.trust_known) return "trust policy of " + std::string(role_name(kind)) + " is unreadable";
  if (f.labels.count(target_label) == 0U)
    return "trust policy of " + std::string(role_name(kind)) + " lacks " + target_label;
  return r.items_unmet;
}

}  // namespace

std::string GrantTarget::label() const {
  switch (type) {
    case TargetType::kAccount:
      return "account:" + id;
    case TargetType::kResourceDirectory:
      return "rd:" + id;
    case TargetType::kFolder:
      return "folder:" + id;
  }
  return id;
}

const char* to_string(GrantState s) {
  switch (s) {
    case GrantState::kReady:
      return "Ready";
    case GrantState::kPending:
      return "Pending";
    case GrantState::kBlocked:
      return "Blocked";
    case GrantState::kFailed:
      return "Failed";
    case GrantState::kObserved:
      return "Observed";
  }
  return "Unknown";
}

const char* to_string(Sharing s) {
  switch (s) {
    case Sharing::kUnknown:
      return "unknown";
    case Sharing::kShared:
      return "shared";
    case Sharing::kPending:
      return "pending";
    case Sharing::kNotShared:
      return "not_shared";
  }
  return "unknown";
}

const char* to_string(TargetType t) {
  switch (t) {
    case TargetType::kAccount:
      return "account";
    case TargetType::kResourceDirectory:
      return "resource_directory";
    case TargetType::kFolder:
      return "folder";
  }
  return "unknown";
}

const char* to_string(Action a) {
  switch (a) {
    case Action::kCreateRole:
      return "CreateRole";
    case Action::kUpdateTrustPolicy:
      return "UpdateRole";
    case Action::kCreatePolicy:
      return "CreatePolicy";
    case Action::kCreatePolicyVersion:
      return "CreatePolicyVersion";
    case Action::kDeletePolicyVersion:
      return "DeletePolicyVersion";
    case Action::kAttachPolicy:
      return "AttachPolicyToRole";
    case Action::kDetachPolicy:
      return "DetachPolicyFromRole";
  }
  return "Unknown";
}

const char* to_string(ObjectKind k) {
  switch (k) {
    case ObjectKind::kRole:
      return "role";
    case ObjectKind::kTrustPolicy:
      return "trust_policy";
    case ObjectKind::kKmsPolicy:
      return "kms_policy";
    case ObjectKind::kAttachment:
      return "attachment";
  }
  return "unknown";
}

bool Plan::has_changes() const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [](const AccountPlan& a) { return !a.changes.empty(); });
}

bool Plan::has_errors() const {
  return std::any_of(accounts.begin(), accounts.end(),
                     [](const AccountPlan& a) { return !a.error.empty() || a.partial; });
}

std::string kms_policy_name(const std::string& instance, RoleKind kind, int n) {
  std::string safe;
  for (char c : instance)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  return safe + "-ecs-share-" + role_short(kind) + "-kms-" + std::to_string(n);
}

Plan plan(const config::DesiredState& desired, const Observation& observed,
          const std::vector<std::string>& only) {
  auto in_scope = [&](const std::string& account) {
    return only.empty() || std::find(only.begin(), only.end(), account) != only.end();
  };
  const auto& settings = desired.settings;
  const std::string& instance = settings.instance_name;
  Plan p;
  p.instance = instance;
  p.revision = desired.revision;

  std::vector<AccountWork> work;
  work.reserve(desired.accounts.size());
  for (const auto& account : desired.accounts) {
    if (!in_scope(account.name)) continue;
    AccountWork w;
    w.account = &account;
    w.ap.account = account.name;
    w.ap.uid = account.uid.value_or("");
    auto it = observed.accounts.find(account.name);
    if (it == observed.accounts.end()) {
      w.ap.error = "account was not observed";
    } else {
      w.obs = &it->second;
      if (!w.obs->uid.empty()) w.ap.uid = w.obs->uid;
      w.ap.partial = w.obs->partial;
      for (const auto& e : w.obs->errors) w.ap.observation_errors.push_back(e.to_string());
      for (const auto& e : w.obs->share_errors) w.ap.sharing_errors.push_back(e.to_string());
      if (w.obs->fatal_error) w.ap.error = *w.obs->fatal_error;
    }
    work.push_back(std::move(w));
  }

  // ---- 1. What each role should hold (from enforce shares) and what to leave alone (observe
  // shares).
  std::map<std::string, std::vector<const config::Share*>> shares_by_account;
  std::map<const config::Share*, std::vector<GrantTarget>> share_targets;
  for (const auto& share : desired.shares) {
    shares_by_account[share.account].push_back(&share);
    share_targets[&share] = targets_of(share);
  }
  for (auto& w : work) {
    if (!w.ap.error.empty()) continue;
    const AccountObservation& o = *w.obs;
    for (RoleKind kind : kKinds)
      w.facts[static_cast<int>(kind)] = role_facts(o.role(kind), o, *w.account, instance);
    for (const config::Share* sp : shares_by_account[w.account->name]) {
      const config::Share& share = *sp;
      std::string sel_err;
      auto res = resolve_share(share, o, settings.allow_service_key_shares, &sel_err);
      if (!sel_err.empty()) w.selector_errors[share.name] = sel_err;
      for (auto& r : res)
        if (r.needs_role)
          r.items_unmet = items_unmet(r, w.facts[static_cast<int>(r.kind)], r.kind, o.uid);
      std::vector<std::string> labels;
      GrantIds grants;
      for (const auto& t : share_targets[sp]) {
        labels.push_back(t.label());
        grants.push_back(static_cast<int>(w.grant_refs.size()));
        w.grant_refs.emplace_back(sp, &t);
      }
      for (const auto& r : res) {
        if (!r.needs_role && !r.keep) continue;
        RoleWant& want = w.want[static_cast<int>(r.kind)];
        bool keep_only = r.keep || share.mode == config::ShareMode::kObserve;
        if (keep_only) {
          want.keep_principals.insert(labels.begin(), labels.end());
          for (const ObservedKey* k : r.cmks) {
            want.keep_items.insert(k->arn);
            want.keep_items.insert(list_resource(k->region, o.uid));
          }
          continue;
        }
        for (std::size_t i = 0; i < labels.size(); ++i)
          want.principals[labels[i]].push_back(grants[i]);
        for (const ObservedKey* k : r.cmks) {
          auto& by_key = want.items[k->arn];
          auto& by_listing = want.items[list_resource(k->region, o.uid)];
          by_key.insert(by_key.end(), grants.begin(), grants.end());
          by_listing.insert(by_listing.end(), grants.begin(), grants.end());
        }
        if (r.needs_full_access)
          want.full_access_grants.insert(want.full_access_grants.end(), grants.begin(),
                                         grants.end());
      }
      w.resolved[share.name] = std::move(res);
    }
  }

  // ---- 2. Removal candidates, then the guards decide which may happen.
  std::vector<Candidate> candidates;
  int in_place = 0;
  for (auto& w : work) {
    if (!w.ap.error.empty()) continue;
    std::set<std::string> protected_labels;
    for (const auto& pp : w.account->protected_principals)
      protected_labels.insert(protected_principal_label(pp));
    for (RoleKind kind : kKinds) {
      int ki = static_cast<int>(kind);
      const RoleFacts& f = w.facts[ki];
      const RoleWant& want = w.want[ki];
      if (f.presence != Presence::kPresent) continue;
      std::string rn = role_name(kind);
      if (f.trust_known) {
        if (f.authoritative) in_place += static_cast<int>(f.labels.size());
        for (const auto& label : f.labels) {
          if (want.principals.count(label) != 0U || want.keep_principals.count(label) != 0U)
            continue;
          if (protected_labels.count(label) != 0U) {
            w.ap.notes.push_back(
                {w.ap.account, "protected principal kept in " + rn + ": " + label});
            continue;
          }
          if (!f.authoritative) {
            w.ap.notes.push_back(
                {w.ap.account,
                 "foreign principal kept in " + rn + " (role adopted additively" +
                     (f.owned || f.presence != Presence::kPresent ||
                              w.obs->role(kind).managed_by.empty()
                          ? std::string("")
                          : ", managed by instance '" + w.obs->role(kind).managed_by + "'") +
                     "): " + label});
            continue;
          }
          Candidate c;
          c.account = w.ap.account;
          c.kind = ki;
          c.trust = true;
          c.object = "role " + rn + " trust policy";
          c.item = label;
          c.partial = w.ap.partial;
          candidates.push_back(c);
        }
      }
      if (f.policies_known) {
        in_place += static_cast<int>(f.items.size());
        for (const auto& item : f.items) {
          if (want.items.count(item) != 0U || want.keep_items.count(item) != 0U) continue;
          Candidate c;
          c.account = w.ap.account;
          c.kind = ki;
          c.trust = false;
          c.object = "KMS policies of " + rn;
          c.item = item;
          c.partial = w.ap.partial;
          candidates.push_back(c);
        }
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.key() < b.key(); });
  auto block = [](Candidate& c, const std::string& guard, const std::string& detail) {
    c.allowed = false;
    c.guard = guard;
    c.detail = detail;
  };
  std::vector<Candidate*> open;
  for (auto& c : candidates) {
    if (c.partial) {
      block(c, "partial observation",
            "a call failed while observing this account; no revocation this cycle");
    } else if (!settings.prune) {
      block(c, "prune disabled", "settings.prune is false");
    } else if (desired.shares.empty() && !settings.allow_mass_revoke) {
      block(c, "empty config",
            "the config has no shares; set allowMassRevoke to revoke everything");
    } else {
      open.push_back(&c);
    }
  }
  if (!open.empty() && !settings.allow_mass_revoke &&
      static_cast<double>(open.size()) >
          settings.max_revoke_fraction * static_cast<double>(in_place)) {
    std::string detail = std::to_string(open.size()) + " of " + std::to_string(in_place) +
                         " grants in place exceeds maxRevokeFraction " +
                         std::to_string(settings.max_revoke_fraction);
    for (auto* c : open) block(*c, "max revoke fraction", detail);
    open.clear();
  }
  int budget = settings.max_revocations_per_cycle;
  for (auto* c : open) {
    if (budget > 0) {
      c->allowed = true;
      --budget;
    } else {
      block(*c, "max revocations per cycle",
            "at most " + std::to_string(settings.max_revocations_per_cycle) +
                " revocations per cycle");
    }
  }
  for (const auto& c : candidates) {
    if (c.allowed) {
      ++p.summary.revocations;
    } else {
      p.blocked.push_back({c.account, c.object, c.item, c.guard, c.detail});
    }
  }
  p.summary.blocked_revocations = static_cast<int>(p.blocked.size());
  p.summary.grants_in_place = in_place;

  // ---- 3. Changes, with the guards' verdicts applied.
  for (auto& w : work) {
    if (!w.ap.error.empty()) continue;
    const AccountObservation& o = *w.obs;
    std::vector<Change>& changes = w.ap.changes;
    if (o.disk_encrypt_role == Presence::kAbsent)
      w.ap.notes.push_back(
          {w.ap.account, std::string(wire::kDiskEncryptRole) +
                             " does not exist: ECS cannot use this account's CMKs until it is "
                             "authorised (console); sharekeeper does not create it"});
    for (RoleKind kind : kKinds) {
      int ki = static_cast<int>(kind);
      const RoleFacts& f = w.facts[ki];
      const RoleWant& want = w.want[ki];
      std::string rn = role_name(kind);
      std::set<std::string> allowed_removals;
      for (const auto& c : candidates)
        if (c.allowed && c.account == w.ap.account && c.kind == ki) allowed_removals.insert(c.item);
      auto names_of = [&](const GrantIds& ids) {
        std::set<std::string> g;
        for (int id : ids) {
          const auto& [share_ptr, target_ptr] = w.grant_refs[static_cast<std::size_t>(id)];
          g.insert(grant_label(share_ptr->name, *target_ptr));
        }
        return to_vec(g);
      };
      auto grants_of = [&](const std::vector<std::string>& labels,
                           const std::map<std::string, GrantIds>& m) {
        GrantIds ids;
        for (const auto& l : labels)
          if (auto it = m.find(l); it != m.end())
            ids.insert(ids.end(), it->second.begin(), it->second.end());
        return names_of(ids);
      };
      auto base = [&](Stage st, Action a, ObjectKind obj) {
        Change c;
        c.account = w.ap.account;
        c.stage = st;
        c.action = a;
        c.object = obj;
        c.role = rn;
        return c;
      };

      if (f.presence == Presence::kUnknown)
        continue;  // could not read the role: touch nothing of it
      for (const auto& fa : f.foreign_attachments) {
        bool ours_needed =
            fa == std::string("System ") + kFullAccessPolicy && !want.full_access_grants.empty();
        if (!ours_needed)
          w.ap.notes.push_back({w.ap.account, "foreign attachment on " + rn + ": " + fa +
                                                  " (reported, never detached)"});
      }

      // Trust policy.
      bool role_will_exist = f.presence == Presence::kPresent;
      if (f.presence == Presence::kAbsent) {
        if (!want.principals.empty()) {
          TrustPrincipals tp;
          std::vector<std::string> labels;
          for (const auto& [label, g] : want.principals) labels.push_back(label);
          for (const auto& l : labels) {
            if (l.rfind("account:", 0) == 0) tp.accounts.push_back(l.substr(8));
            if (l.rfind("rd:", 0) == 0) tp.rds.push_back(l.substr(3));
            if (l.rfind("folder:", 0) == 0) tp.folders.push_back(l.substr(7));
          }
          Change c = base(Stage::kRoles, Action::kCreateRole, ObjectKind::kRole);
          c.document = build_trust_policy(tp);
          c.added = labels;
          c.reason = "missing: role does not exist";
          c.grants = grants_of(labels, want.principals);
          changes.push_back(c);
          role_will_exist = true;
        }
      } else if (f.trust_known) {
        std::set<std::string> adds, removes;
        for (const auto& [label, g] : want.principals)
          if (f.labels.count(label) == 0U) adds.insert(label);
        for (const auto& label : f.labels)
          if (allowed_removals.count(label) != 0U) removes.insert(label);
        auto build = [&](bool with_removals) {
          TrustPrincipals tp;
          std::set<std::string> labels = f.labels;
          labels.insert(adds.begin(), adds.end());
          if (with_removals)
            for (const auto& r : removes) labels.erase(r);
          for (const auto& l : labels) {
            if (l.rfind("account:", 0) == 0) tp.accounts.push_back(l.substr(8));
            if (l.rfind("rd:", 0) == 0) tp.rds.push_back(l.substr(3));
            if (l.rfind("folder:", 0) == 0) tp.folders.push_back(l.substr(7));
            if (l.rfind("foreign:", 0) == 0) tp.foreign.push_back(l.substr(8));
          }
          return build_trust_policy(tp);
        };
        if (!adds.empty()) {
          Change c = base(Stage::kRoles, Action::kUpdateTrustPolicy, ObjectKind::kTrustPolicy);
          c.document = build(false);
          c.added = to_vec(adds);
          c.reason = "drifted: trust policy lacks " + std::to_string(adds.size()) + " principal(s)";
          c.grants = grants_of(c.added, want.principals);
          changes.push_back(c);
        }
        if (!removes.empty()) {
          Change c = base(Stage::kRemovals, Action::kUpdateTrustPolicy, ObjectKind::kTrustPolicy);
          c.document = build(true);
          c.removed = to_vec(removes);
          c.reason = "not in config: " + std::to_string(removes.size()) + " principal(s)";
          changes.push_back(c);
        }
      } else {
        w.ap.notes.push_back({w.ap.account, "trust policy of " + rn + " is unreadable (" +
                                                f.trust_error + "); not changed"});
      }

      // KMS policies and attachments. Only when every attached policy was read: otherwise a rewrite
      // could drop keys we did not see.
      if (!f.policies_known || !role_will_exist) continue;
      std::set<std::string> final_items;
      for (const auto& [item, g] : want.items) final_items.insert(item);
      for (const auto& item : f.items)
        if (allowed_removals.count(item) == 0U) final_items.insert(item);
      KmsPolicyContent content;
      for (const auto& item : final_items) {
        if (item.find(":key/") != std::string::npos) {
          content.key_arns.push_back(item);
        } else {
          content.list_resources.push_back(item);
        }
      }
      auto parts = split_kms_policy(content, wire::kMaxPolicyDocumentChars);
      if (parts.size() > 5)
        w.ap.notes.push_back(
            {w.ap.account, rn + " needs " + std::to_string(parts.size()) +
                               " KMS policies; RAM allows 5 custom policies per role"});
      std::map<std::string, const ObservedPolicy*> owned;
      for (const auto* op : f.owned_policies) owned[op->name] = op;
      // Who holds the name of each of our KMS policies, decided once for both passes below.
      enum class Slot { kOurs, kOursDetached, kForeignAttached, kUnknown, kFree };
      auto slot_of = [&](const std::string& name) {
        if (owned.count(name) != 0U) return Slot::kOurs;
        if (std::any_of(o.role(kind).attached.begin(), o.role(kind).attached.end(),
                        [&](const auto& a) { return a.policy_name == name; }))
          return Slot::kForeignAttached;
        auto pit = o.policies.find(name);
        if (pit == o.policies.end()) return Slot::kFree;
        if (pit->second.managed_by == instance && pit->second.versions_known)
          return Slot::kOursDetached;
        return pit->second.tags_known ? Slot::kFree : Slot::kUnknown;
      };
      std::vector<Slot> slots;
      // Items whose part cannot be written this pass (a policy not ours holds our name, or its
      // ownership is unknown): no other part may drop them, or moving keys between parts would
      // revoke them without any guard seeing it.
      std::set<std::string> unwritten;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        slots.push_back(slot_of(kms_policy_name(instance, kind, static_cast<int>(i + 1))));
        if (slots.back() == Slot::kForeignAttached || slots.back() == Slot::kUnknown) {
          unwritten.insert(parts[i].key_arns.begin(), parts[i].key_arns.end());
          unwritten.insert(parts[i].list_resources.begin(), parts[i].list_resources.end());
        }
      }
      std::set<std::string> desired_names;
      for (std::size_t i = 0; i < parts.size(); ++i) {
        std::string name = kms_policy_name(instance, kind, static_cast<int>(i + 1));
        desired_names.insert(name);
        std::string doc = build_kms_policy(parts[i]);
        std::set<std::string> part_items(parts[i].key_arns.begin(), parts[i].key_arns.end());
        part_items.insert(parts[i].list_resources.begin(), parts[i].list_resources.end());
        const ObservedPolicy* op = nullptr;
        const bool attached_here = slots[i] == Slot::kOurs;
        switch (slots[i]) {
          case Slot::kOurs:
            op = owned.at(name);
            break;
          case Slot::kOursDetached:
            op = &o.policies.at(name);  // ours, but someone detached it
            break;
          case Slot::kForeignAttached:
            w.ap.notes.push_back({w.ap.account, "policy " + name + " is attached to " + rn +
                                                    " but not managed by instance '" + instance +
                                                    "'; not touched"});
            continue;
          case Slot::kUnknown:
            continue;  // could not tell whether it is ours
          case Slot::kFree: {
            Change c = base(Stage::kPolicies, Action::kCreatePolicy, ObjectKind::kKmsPolicy);
            c.policy_name = name;
            c.policy_type = "Custom";
            c.document = doc;
            c.added = to_vec(part_items);
            c.reason = "missing: policy does not exist";
            c.grants = grants_of(c.added, want.items);
            changes.push_back(c);
            Change a = base(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment);
            a.policy_name = name;
            a.policy_type = "Custom";
            a.reason = "missing: policy not attached";
            a.grants = c.grants;
            changes.push_back(a);
            continue;
          }
        }
        if (!attached_here) {
          Change a = base(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment);
          a.policy_name = name;
          a.policy_type = "Custom";
          a.added = to_vec(part_items);
          a.reason = "drifted: policy is not attached to the role";
          a.grants = grants_of(a.added, want.items);
          changes.push_back(a);
        }
        if (policies_equivalent(op->default_document, doc)) continue;
        std::set<std::string> old_items;
        if (auto oc = parse_kms_policy(op->default_document)) {
          old_items.insert(oc->key_arns.begin(), oc->key_arns.end());
          old_items.insert(oc->list_resources.begin(), oc->list_resources.end());
        }
        std::vector<std::string> added, dropped;
        std::set_difference(part_items.begin(), part_items.end(), old_items.begin(),
                            old_items.end(), std::back_inserter(added));
        std::set_difference(old_items.begin(), old_items.end(), part_items.begin(),
                            part_items.end(), std::back_inserter(dropped));
        if (std::any_of(dropped.begin(), dropped.end(),
                        [&](const std::string& d) { return unwritten.count(d) != 0U; })) {
          w.ap.notes.push_back({w.ap.account, "policy " + name +
                                                  " not rebalanced: it would drop keys whose new "
                                                  "policy cannot be written this pass"});
          continue;
        }
        // A version that drops keys from an attached policy narrows: it waits for the removal
        // stage, after every widening write. An unattached policy grants nothing yet.
        Stage st = dropped.empty() || !attached_here ? Stage::kPolicies : Stage::kRemovals;
        if (op->versions.size() >= wire::kMaxPolicyVersions) {
          Change d = base(st, Action::kDeletePolicyVersion, ObjectKind::kKmsPolicy);
          d.policy_name = name;
          d.policy_type = "Custom";
          d.version_id = oldest_non_default(op->versions);
          d.reason = "rotation: " + name + " has " + std::to_string(op->versions.size()) +
                     " versions; deleting the oldest non-default one";
          changes.push_back(d);
        }
        Change c = base(st, Action::kCreatePolicyVersion, ObjectKind::kKmsPolicy);
        c.policy_name = name;
        c.policy_type = "Custom";
        c.document = doc;
        c.added = added;
        // Keys moved to another of our policies are not revocations; only those leaving every
        // policy are.
        if (attached_here)
          for (const auto& d : dropped)
            if (final_items.count(d) == 0U) c.removed.push_back(d);
        if (!added.empty() && !dropped.empty()) {
          c.reason = "drifted: " + std::to_string(added.size()) + " key/resource(s) missing, " +
                     std::to_string(dropped.size()) + " extra";
        } else if (!added.empty()) {
          c.reason =
              "drifted: " + std::to_string(added.size()) + " key/resource(s) missing from policy";
        } else if (!dropped.empty()) {
          c.reason = c.removed.empty()
                         ? "rebalanced: keys moved between policies"
                         : "not in config: " + std::to_string(dropped.size()) + " key/resource(s)";
        } else {
          c.reason = "drifted: document differs from the stable form";
        }
        c.grants = grants_of(added, want.items);
        changes.push_back(c);
      }
      for (const auto& [name, op] : owned) {
        if (desired_names.count(name) != 0U) continue;
        Change c = base(Stage::kRemovals, Action::kDetachPolicy, ObjectKind::kAttachment);
        c.policy_name = name;
        c.policy_type = "Custom";
        if (auto oc = parse_kms_policy(op->default_document)) {
          for (const auto& k : oc->key_arns)
            if (final_items.count(k) == 0U) c.removed.push_back(k);
          for (const auto& k : oc->list_resources)
            if (final_items.count(k) == 0U) c.removed.push_back(k);
        }
        c.reason = "not in config: policy no longer needed";
        changes.push_back(c);
      }
      if (!want.full_access_grants.empty() && !f.full_access_attached) {
        Change a = base(Stage::kAttachments, Action::kAttachPolicy, ObjectKind::kAttachment);
        a.policy_name = kFullAccessPolicy;
        a.policy_type = "System";
        a.reason =
            "allowServiceKeyShares: service-key resources need " + std::string(kFullAccessPolicy);
        a.grants = names_of(want.full_access_grants);
        changes.push_back(a);
      }
    }
    std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
      return std::make_tuple(static_cast<int>(a.stage), action_order(a.action), a.role,
                             a.policy_name, a.version_id) <
             std::make_tuple(static_cast<int>(b.stage), action_order(b.action), b.role,
                             b.policy_name, b.version_id);
    });
    for (const auto& c : changes) {
      switch (c.action) {
        case Action::kCreateRole:
        case Action::kCreatePolicy:
        case Action::kAttachPolicy:
          ++p.summary.add;
          break;
        case Action::kUpdateTrustPolicy:
        case Action::kCreatePolicyVersion:
          ++p.summary.change;
          break;
        case Action::kDeletePolicyVersion:
        case Action::kDetachPolicy:
          ++p.summary.remove;
          break;
      }
    }
    std::sort(w.ap.notes.begin(), w.ap.notes.end(),
              [](const Note& a, const Note& b) { return a.message < b.message; });
    w.ap.notes.erase(
        std::unique(w.ap.notes.begin(), w.ap.notes.end(),
                    [](const Note& a, const Note& b) { return a.message == b.message; }),
        w.ap.notes.end());
  }

  // ---- 4. Grant status, from the observation.
  std::map<std::string, const AccountWork*> work_by_account;
  for (const auto& x : work) work_by_account[x.account->name] = &x;
  std::size_t grant_count = 0;
  for (const auto& [share_ptr, targets] : share_targets) grant_count += targets.size();
  p.grants.reserve(grant_count);
  for (const auto& share : desired.shares) {
    if (!in_scope(share.account)) continue;
    auto wit = work_by_account.find(share.account);
    const AccountWork* w = wit == work_by_account.end() ? nullptr : wit->second;
    // Once per share, for each of its targets below: its resolved resources and their sharing data.
    const std::vector<Resolved>* resolved = nullptr;
    std::vector<SharingLookup> sharing;
    if (w != nullptr && w->obs != nullptr)
      if (auto rit = w->resolved.find(share.name); rit != w->resolved.end()) {
        resolved = &rit->second;
        sharing.reserve(resolved->size());
        for (const auto& r : *resolved) sharing.push_back(sharing_lookup(*w->obs, r.status));
      }
    std::string target_label;  // reused: one buffer for every target of the share
    for (const auto& t : share_targets[&share]) {
      label_into(t, target_label);
      GrantStatus g;
      g.share = share.name;
      g.account = share.account;
      g.target = t;
      if (w == nullptr) {
        g.state = GrantState::kFailed;
        g.reason = "unknown account '" + share.account + "'";
        p.grants.push_back(std::move(g));
        continue;
      }
      if (!w->ap.error.empty()) {
        g.state = GrantState::kFailed;
        g.reason = w->ap.error;
        p.grants.push_back(std::move(g));
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
      if (auto se = w->selector_errors.find(share.name); se != w->selector_errors.end())
        consider(GrantState::kFailed, se->second);
      bool any_needs_role = false;
      if (resolved != nullptr) {
        g.resources.reserve(resolved->size());
        for (std::size_t i = 0; i < resolved->size(); ++i) {
          const Resolved& r = (*resolved)[i];
          g.resources.push_back(r.status);
          judge_sharing(sharing[i], r.kind, t, g.resources.back());
          consider(r.status.state, r.status.reason);
          if (!r.needs_role || r.status.state != GrantState::kReady) continue;
          any_needs_role = true;
          int ki = static_cast<int>(r.kind);
          std::string unmet = unmet_requirement(r, w->facts[ki], r.kind, target_label);
          if (!unmet.empty()) {
            auto& rs = g.resources.back();
            rs.state = w->facts[ki].presence == Presence::kUnknown ? GrantState::kFailed
                                                                   : GrantState::kPending;
            rs.reason = unmet;
            consider(rs.state, unmet);
          }
        }
      }
      if (share.mode == config::ShareMode::kObserve) {
        g.state = GrantState::kObserved;
        g.reason = worst == GrantState::kReady
                       ? "observe mode: in sync"
                       : "observe mode: " + std::string(to_string(worst)) + ": " + why;
      } else {
        g.state = worst;
        g.reason = why;
        if (worst == GrantState::kReady) {
          if (g.resources.empty()) {
            g.reason = "no resources matched";
          } else if (!any_needs_role) {
            g.reason = "unencrypted: no RAM grant needed";
          }
        }
      }
      p.grants.push_back(std::move(g));
    }
  }
  // Shares come sorted by name (DesiredState contract) and targets sorted, so this is usually a
  // linear check.
  auto by_grant = [](const GrantStatus& a, const GrantStatus& b) {
    return std::tie(a.share, a.target) < std::tie(b.share, b.target);
  };
  if (!std::is_sorted(p.grants.begin(), p.grants.end(), by_grant))
    std::sort(p.grants.begin(), p.grants.end(), by_grant);
  for (auto& w : work) p.accounts.push_back(std::move(w.ap));
  return p;
}

}  // namespace sharekeeper::reconcilers
