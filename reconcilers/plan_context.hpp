#pragma once
// Internal to the planner: the working context its phases share. plan() (plan.cpp) makes one
// AccountContext per account in scope; each phase reads what the earlier ones put there and
// extends it: desired grants fill `roles[].want` and `roles[].facts` and `resolved`, the guards
// fill `roles[].revoke_*`, the per-account phases append changes and notes to `plan`, and the
// grant statuses read it all. A new phase is a function over this context (docs/reconcilers.md,
// "Adding a phase"). Not a public header: tests of the phases include it.
#include <algorithm>
#include <boost/container/flat_set.hpp>
#include <boost/container/small_vector.hpp>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/desired_state.hpp"
#include "config/grant.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "reconcilers/principal.hpp"

namespace sharekeeper::reconcilers::planner {

inline constexpr RoleKind kRoleKinds[] = {RoleKind::kSnapshot, RoleKind::kImage};
inline constexpr const char* kFullAccessPolicy = "AliyunKMSFullAccess";

// What the whole plan reads: the desired state and, per account, its shares and their targets.
struct PlanInputs {
  const config::DesiredState* desired = nullptr;
  const config::Settings* settings = nullptr;
  std::string instance;
  std::map<std::string, std::vector<const config::Share*>> shares_by_account;
  // targets_of() of each share, by the share's index in desired->shares; empty for the shares of
  // accounts outside plan()'s `only` (plan_inputs: nothing reads them).
  std::vector<std::vector<config::GrantTarget>> share_targets;
  const std::vector<config::GrantTarget>& targets(const config::Share& s) const {
    return share_targets[static_cast<std::size_t>(&s - desired->shares.data())];
  }
};

// The grants of one account, numbered: what a role should hold maps to the numbers of the grants
// that need it, and only the few grants a change reports become GrantRefs. At 10,000 shares,
// copying grant names into every item's set dominated the plan time.
using GrantIds = std::vector<int>;
class GrantIndex {
 public:
  int add(const config::Share& share, const config::GrantTarget& target) {
    grants_.emplace_back(&share, &target);
    return static_cast<int>(grants_.size()) - 1;
  }
  // The grants of `ids`, sorted, each once.
  std::vector<GrantRef> refs(const GrantIds& ids) const;
  // The grants that need any of `keys`, by what `by_key` says each key serves.
  template <class Range, class Map>
  std::vector<GrantRef> refs_of(const Range& keys, const Map& by_key) const {
    GrantIds ids;
    for (const auto& k : keys)
      if (auto it = by_key.find(k); it != by_key.end())
        ids.insert(ids.end(), it->second.begin(), it->second.end());
    return refs(ids);
  }

 private:
  std::vector<std::pair<const config::Share*, const config::GrantTarget*>> grants_;
};

// Keys (views into the plan's inputs) to the grants that need them, built by add() in any order
// and read after seal(): one sorted vector instead of a map node and a vector per key. A resource
// share holds a few keys, a selector's share thousands; at 10,000 share entries the maps cost more
// than the rest of the share phases (bench/planner/README.md).
class GrantsByKey {
 public:
  using Item = std::pair<std::string_view, int>;
  void add(std::string_view key, int grant) { items_.emplace_back(key, grant); }
  void reserve(std::size_t n) { items_.reserve(n); }
  // Sorts by key, then grant; each (key, grant) once.
  void seal() {
    std::sort(items_.begin(), items_.end());
    items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
  }
  bool empty() const { return items_.empty(); }
  bool contains(std::string_view key) const {
    auto it = first(key);
    return it != items_.end() && it->first == key;
  }
  // The grants of every key of `keys`, appended to `out`.
  template <class Range>
  void grants_of(const Range& keys, std::vector<int>& out) const {
    for (const auto& k : keys)
      for (auto it = first(k); it != items_.end() && it->first == k; ++it)
        out.push_back(it->second);
  }
  // f(key) for each distinct key, in order.
  template <class F>
  void for_each_key(F&& f) const {
    for (std::size_t i = 0; i < items_.size(); ++i)
      if (i == 0 || items_[i].first != items_[i - 1].first) f(items_[i].first);
  }

 private:
  // A few items inline: most resource shares of ours hold one resource and a few targets.
  using Items = boost::container::small_vector<Item, 4>;
  Items::const_iterator first(std::string_view key) const {
    return std::lower_bound(items_.begin(), items_.end(), key,
                            [](const Item& x, std::string_view k) { return x.first < k; });
  }
  Items items_;
};

// Orders (region, id) keys and compares them with views of the same, so that a lookup builds no
// strings.
struct RegionIdLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const std::string_view ar(a.first), br(b.first);
    if (ar != br) return ar < br;
    return std::string_view(a.second) < std::string_view(b.second);
  }
};
using RegionIdView = std::pair<std::string_view, std::string_view>;

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
};

// What the config wants of one role, and what observe-mode shares ask us to leave alone.
struct RoleWant {
  std::map<Principal, GrantIds> principals;  // principal -> grants needing it
  std::set<Principal> keep_principals;
  std::map<std::string, GrantIds> resources;  // KMS resource -> grants
  std::set<std::string> keep_resources;
  GrantIds full_access_grants;
};

// What the observation says of one role.
struct RoleFacts {
  Presence presence = Presence::kUnknown;
  bool trust_known = false;
  std::string trust_error;
  TrustPrincipals trust;
  // Sorted vectors, not trees: filled once, then looked up for every grant of the account (a
  // hundred principals and a dozen KMS resources a role). Measured at 10,000 shares, one run: the
  // contexts' destruction 6.4 -> 5.4 ms, the lookups no faster within the noise.
  boost::container::flat_set<Principal> principals;
  bool owned = false;           // tagged managed-by=<this instance>
  bool authoritative = false;   // owned, or adopt: authoritative (and not another instance's)
  bool policies_known = false;  // attachments, policy tags and owned policies' versions all read
  std::vector<const ObservedPolicy*> owned_policies;  // attached, ours, sorted by name
  boost::container::flat_set<std::string> resources;  // keys + list resources granted by ours
  // Keys + list resources granted by attached custom policies that are not ours (read, never
  // edited): what they grant is not granted again, and counts as held for the grant's status.
  boost::container::flat_set<std::string> foreign_resources;
  bool full_access_attached = false;
  std::vector<std::string> foreign_attachments;  // "<type> <name>"
};

struct RoleContext {
  RoleKind kind = RoleKind::kSnapshot;
  RoleFacts facts;
  RoleWant want;
  // The guards' verdict: what this plan may remove from the role.
  std::set<Principal> revoke_principals;
  std::set<std::string> revoke_resources;
  // Set by the trust phase: the role exists, or this plan creates it (its policies can be
  // attached).
  bool will_exist = false;
};

inline RoleContext role_context(RoleKind kind) {
  RoleContext r;
  r.kind = kind;
  return r;
}

// settings.manageShares (share_plan.hpp): one image's share permission list.
struct ImageShareContext {
  std::string region;
  std::string image_id;
  bool known = false;             // DescribeImageSharePermission answered
  std::set<std::string> current;  // accounts it is shared with
  bool owned = false;             // tagged managed-by=<this instance>
  bool other_instance = false;    // tagged managed-by=<another instance>
  bool authoritative = false;     // owned, or adopt: authoritative (and not another instance's)
  std::map<std::string, GrantIds> want;  // account UID -> grants needing it
  std::set<std::string> keep;            // accounts of observe-mode or unresolvable grants
  std::string blocked;                   // why nothing is added this pass (the 50-account cap)
  std::set<std::string> revoke;          // the guards' verdict
};

// One resource share of ours: one per (share entry, resource type), named
// "<instance>-<share>-<snapshot|image>" (docs/reconcilers.md "Converging the shares").
struct ResourceShareContext {
  std::string region;
  std::string_view name;   // the key's (the context lives in the node of SharesContext's map)
  std::string_view share;  // the config share entry ("" when it left the config)
  RoleKind kind = RoleKind::kSnapshot;
  bool observe = false;                                    // a mode: observe share: never changed
  bool known = false;                                      // the region's share listings answered
  const ObservedShares::ManagedShare* observed = nullptr;  // nullptr: does not exist
  // Views into the plan's inputs (resolved resources, the shares' targets), which outlive the
  // context: at 10,000 shares, owning copies of every key cost more than the rest of the phase.
  GrantsByKey want_resources;  // resource id -> grants (sealed at the end of plan_share_wants)
  GrantsByKey want_targets;    // target entity id (UID | rd- | folder id) -> grants
  const std::vector<config::GrantTarget>* targets = nullptr;  // the share's (labels of changes)
  std::set<std::string_view, std::less<>>
      keep_resources;                                    // unresolvable: neither added nor removed
  std::set<std::string_view, std::less<>> keep_targets;  // the targets of those resources
  bool need_external = false;  // an account target (may be outside the directory)
  // The observed share next to the wants (the end of plan_share_wants), so that the later phases
  // compare no ids again: the wants in id order, the observed associations in the listing's order.
  std::vector<std::string_view> add_resources, add_targets;          // wanted, not in effect
  std::vector<std::string_view> waiting_resources, waiting_targets;  // wanted, still Disassociating
  std::vector<std::string_view> stale_resources, stale_targets;  // in effect, not wanted or kept
  int in_effect = 0;  // associations Associated or Associating
  int settling =
      0;  // Associating (but external targets, which wait for an invitation) or Disassociating
  std::set<std::string> revoke_resources;  // the guards' verdict
  std::set<std::string> revoke_targets;
};

struct SharesContext {
  bool managed = false;  // settings.manageShares
  std::map<std::pair<std::string, std::string>, ImageShareContext, RegionIdLess>
      images;  // (region, id)
  std::map<std::pair<std::string, std::string>, ResourceShareContext, RegionIdLess>
      resource_shares;  // (region, name)
};

// clang-tidy 14 checks the name of the index (__i0) of the loop the implicit assignment of the
// array `roles` declares.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): see above
struct AccountContext {
  const config::Account* account = nullptr;
  const AccountObservation* obs = nullptr;  // nullptr: not observed
  AccountPlan plan;                         // what the phases produce for this account
  RoleContext roles[2] = {role_context(RoleKind::kSnapshot), role_context(RoleKind::kImage)};
  GrantIndex grants;
  // By share name (views of the config's names, which outlive the plan: no copy of each).
  std::map<std::string_view, std::vector<Resolved>, std::less<>> resolved;
  std::map<std::string, std::string> selector_errors;  // by share name
  SharesContext shares;                                // settings.manageShares
  // settings.manageShares: the number of each share's first grant (its targets' grants follow in
  // the order of in.targets(share)), in the order of in.shares_by_account.
  std::vector<int> first_grant;

  // False when the observation is missing or fatal: nothing is planned for the account.
  bool plannable() const { return obs != nullptr && plan.error.empty(); }
  RoleContext& role(RoleKind k) { return roles[static_cast<int>(k)]; }
  const RoleContext& role(RoleKind k) const { return roles[static_cast<int>(k)]; }
  void note(std::string message) { plan.notes.push_back({plan.account, std::move(message)}); }
  void add(Change c) { plan.changes.push_back(std::move(c)); }
};

// How bad a state is, when several resources (or reasons) of one grant compete: the worst wins.
constexpr int severity(GrantState s) {
  switch (s) {
    case GrantState::kReady:
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

// A change of `role` with the fields every change has.
Change base_change(const std::string& account, RoleKind role, Stage stage, Action action,
                   ObjectKind object);

}  // namespace sharekeeper::reconcilers::planner
