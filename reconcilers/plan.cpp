// plan(): the composition of the planner's phases over per-account working contexts
// (plan_context.hpp). Each phase lives in its own unit with its own tests.
#include "reconcilers/plan.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "reconcilers/desired_grants.hpp"
#include "reconcilers/disk_encrypt_plan.hpp"
#include "reconcilers/grant_status_plan.hpp"
#include "reconcilers/guards.hpp"
#include "reconcilers/kms_plan.hpp"
#include "reconcilers/plan_context.hpp"
#include "reconcilers/share_plan.hpp"
#include "reconcilers/trust_plan.hpp"

namespace sharekeeper::reconcilers {
namespace planner {

Change base_change(const std::string& account, RoleKind role, Stage stage, Action action,
                   ObjectKind object) {
  Change c;
  c.account = account;
  c.stage = stage;
  c.action = action;
  c.object = object;
  c.role = role_name(role);
  return c;
}

std::vector<GrantRef> GrantIndex::refs(const GrantIds& ids) const {
  std::vector<GrantRef> out;
  out.reserve(ids.size());
  for (int id : ids) {
    const auto& [share, target] = grants_[static_cast<std::size_t>(id)];
    out.push_back({share->name, *target});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// The per-account phases after the guards, in order. Each reads the context and appends changes
// and notes; plan() then orders the changes by stage (the shares' changes go to stages 4 and 5,
// between the attachments and the removals).
using AccountPhase = void (*)(AccountContext&, const PlanInputs&);
constexpr AccountPhase kAccountPhases[] = {&plan_account_notes, &plan_disk_encrypt_role,
                                           &plan_trust_policies, &plan_kms_phase, &plan_shares};

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
    case Action::kTagImage:
      return 7;
    case Action::kCreateResourceShare:
      return 8;
    case Action::kUpdateResourceShare:
      return 9;
    case Action::kModifyImageShare:
      return 10;
    case Action::kAssociateResourceShare:
      return 11;
    case Action::kDisassociateResourceShare:
      return 12;
  }
  return 13;
}

// With `only`, the targets of the other accounts' shares stay empty: nothing of a plan reads them
// (every reader goes through shares_by_account of an account in scope), and the daemon plans one
// account of the whole config a pass, where expanding every share's targets cost each of its 64
// workers the organisation's 30,000 targets a pass (issue 14).
PlanInputs plan_inputs(const config::DesiredState& desired, const std::vector<std::string>& only) {
  PlanInputs in;
  in.desired = &desired;
  in.settings = &desired.settings;
  in.instance = desired.settings.instance_name;
  in.share_targets.resize(desired.shares.size());
  for (std::size_t i = 0; i < desired.shares.size(); ++i) {
    const auto& share = desired.shares[i];
    in.shares_by_account[share.account].push_back(&share);
    if (only.empty() || std::find(only.begin(), only.end(), share.account) != only.end())
      in.share_targets[i] = config::targets_of(share);
  }
  return in;
}

// One context per account in scope, sorted by name (whatever the config's order), with what the
// observation says of its identity and errors.
std::vector<AccountContext> start_accounts(const config::DesiredState& desired,
                                           const Observation& observed,
                                           const std::vector<std::string>& only) {
  std::vector<AccountContext> out;
  out.reserve(desired.accounts.size());
  for (const auto& account : desired.accounts) {
    if (!only.empty() && std::find(only.begin(), only.end(), account.name) == only.end()) continue;
    AccountContext a;
    a.account = &account;
    a.plan.account = account.name;
    a.plan.uid = account.uid.value_or("");
    auto it = observed.accounts.find(account.name);
    if (it == observed.accounts.end()) {
      a.plan.error = "account was not observed";
    } else {
      a.obs = &it->second;
      if (!a.obs->uid.empty()) a.plan.uid = a.obs->uid;
      a.plan.partial = a.obs->partial;
      for (const auto& e : a.obs->errors) a.plan.observation_errors.push_back(e.to_string());
      for (const auto& e : a.obs->share_errors) a.plan.sharing_errors.push_back(e.to_string());
      if (a.obs->fatal_error) a.plan.error = *a.obs->fatal_error;
    }
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const AccountContext& a, const AccountContext& b) {
    return a.plan.account < b.plan.account;
  });
  return out;
}

// Phase 2 over every account at once (maxRevokeFraction counts across the plan): the allowed
// removals go to their roles, the blocked ones to the plan.
void guard_removals(std::vector<AccountContext>& accounts, const config::DesiredState& desired,
                    Plan& p) {
  std::vector<Candidate> candidates;
  int in_place = 0;
  for (auto& a : accounts) {
    if (!a.plannable()) continue;
    Removals r = removal_candidates(a);
    share_removal_candidates(a, r);
    in_place += r.in_place;
    std::move(r.candidates.begin(), r.candidates.end(), std::back_inserter(candidates));
  }
  GuardOutcome g = apply_guards(std::move(candidates), in_place, GuardSettings::of(desired));
  for (auto& rev : g.allowed) {
    auto a = std::find_if(accounts.begin(), accounts.end(),
                          [&](const AccountContext& x) { return x.plan.account == rev.account; });
    RoleContext& role = a->role(rev.role);
    if (rev.object == ObjectKind::kImageShare || rev.object == ObjectKind::kResourceShare) {
      allow_share_revocation(*a, rev);
    } else if (rev.object == ObjectKind::kTrustPolicy) {
      role.revoke_principals.insert(std::move(rev.principal));
    } else {
      role.revoke_resources.insert(std::move(rev.kms_resource));
    }
  }
  p.summary.revocations = static_cast<int>(g.allowed.size());
  p.blocked = std::move(g.blocked);
  p.summary.blocked_revocations = static_cast<int>(p.blocked.size());
  p.summary.grants_in_place = in_place;
}

// The account's changes in execution order, counted into the summary; its notes sorted, each once.
void finish_account(AccountPlan& ap, PlanSummary& summary) {
  std::stable_sort(ap.changes.begin(), ap.changes.end(), [](const Change& a, const Change& b) {
    const int oa = action_order(a.action), ob = action_order(b.action);
    return std::tie(a.stage, oa, a.role, a.policy_name, a.version_id, a.region, a.image_id,
                    a.resource_share_name) < std::tie(b.stage, ob, b.role, b.policy_name,
                                                      b.version_id, b.region, b.image_id,
                                                      b.resource_share_name);
  });
  for (const auto& c : ap.changes) {
    switch (c.action) {
      case Action::kCreateRole:
      case Action::kCreatePolicy:
      case Action::kAttachPolicy:
        ++summary.add;
        break;
      case Action::kUpdateTrustPolicy:
      case Action::kCreatePolicyVersion:
        ++summary.change;
        break;
      case Action::kDeletePolicyVersion:
      case Action::kDetachPolicy:
      case Action::kDisassociateResourceShare:
        ++summary.remove;
        break;
      case Action::kTagImage:
      case Action::kCreateResourceShare:
      case Action::kAssociateResourceShare:
        ++summary.add;
        break;
      case Action::kUpdateResourceShare:
        ++summary.change;
        break;
      case Action::kModifyImageShare:
        ++(c.removed.empty() ? summary.add : summary.remove);
        break;
    }
  }
  std::sort(ap.notes.begin(), ap.notes.end(),
            [](const Note& a, const Note& b) { return a.message < b.message; });
  ap.notes.erase(std::unique(ap.notes.begin(), ap.notes.end(),
                             [](const Note& a, const Note& b) { return a.message == b.message; }),
                 ap.notes.end());
}

}  // namespace
}  // namespace planner

// Target types in the order of their labels' prefixes (account < folder < rd).
static int label_rank(TargetType t) {
  switch (t) {
    case TargetType::kAccount:
      return 0;
    case TargetType::kFolder:
      return 1;
    case TargetType::kResourceDirectory:
      return 2;
  }
  return 3;
}

bool operator<(const GrantRef& a, const GrantRef& b) {
  return std::forward_as_tuple(a.share, label_rank(a.target.type), a.target.id) <
         std::forward_as_tuple(b.share, label_rank(b.target.type), b.target.id);
}

std::string GrantRef::label() const { return share + " -> " + reconcilers::label(target); }

std::vector<std::string> Items::labels() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (const auto& p : principals) out.push_back(p.label());
  out.insert(out.end(), kms_resources.begin(), kms_resources.end());
  out.insert(out.end(), share_resources.begin(), share_resources.end());
  return out;
}

std::string Revocation::object_label() const {
  switch (object) {
    case ObjectKind::kImageShare:
      return "image " + share_object + " share permission";
    case ObjectKind::kResourceShare:
      return "resource share " + share_object;
    case ObjectKind::kKmsPolicy:
      return "KMS policies of " + std::string(role_name(role));
    default:
      return "role " + std::string(role_name(role)) + " trust policy";
  }
}

std::string Revocation::item_label() const {
  switch (object) {
    case ObjectKind::kKmsPolicy:
      return kms_resource;
    case ObjectKind::kResourceShare:
      return share_resource.empty() ? principal.label() : share_resource;
    default:
      return principal.label();
  }
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
    case Action::kTagImage:
      return "TagResources";
    case Action::kModifyImageShare:
      return "ModifyImageSharePermission";
    case Action::kCreateResourceShare:
      return "CreateResourceShare";
    case Action::kUpdateResourceShare:
      return "UpdateResourceShare";
    case Action::kAssociateResourceShare:
      return "AssociateResourceShare";
    case Action::kDisassociateResourceShare:
      return "DisassociateResourceShare";
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
    case ObjectKind::kImageShare:
      return "image_share";
    case ObjectKind::kResourceShare:
      return "resource_share";
  }
  return "unknown";
}

const char* to_string(Guard g) {
  switch (g) {
    case Guard::kPartialObservation:
      return "partial observation";
    case Guard::kPruneDisabled:
      return "prune disabled";
    case Guard::kEmptyConfig:
      return "empty config";
    case Guard::kMaxRevokeFraction:
      return "max revoke fraction";
    case Guard::kMaxRevocationsPerCycle:
      return "max revocations per cycle";
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
  using namespace planner;
  const PlanInputs in = plan_inputs(desired, only);
  std::vector<AccountContext> accounts = start_accounts(desired, observed, only);
  Plan p;
  p.instance = in.instance;
  p.revision = desired.revision;

  // 1. What each role should hold, what it must keep, and what it holds.
  for (auto& a : accounts) {
    if (!a.plannable()) continue;
    plan_desired_grants(a, in);
    plan_share_wants(a, in);  // settings.manageShares
  }
  // 2. Removal candidates, and the guards' verdicts.
  guard_removals(accounts, desired, p);
  // 3. Per account: the changes.
  for (auto& a : accounts) {
    if (!a.plannable()) continue;
    for (AccountPhase phase : kAccountPhases) phase(a, in);
    finish_account(a.plan, p.summary);
  }
  // 4. Grant status, from the observation.
  std::map<std::string, const AccountContext*> by_name;
  for (const auto& a : accounts) by_name[a.plan.account] = &a;
  p.grants = grant_statuses(by_name, in, only);

  p.accounts.reserve(accounts.size());
  for (auto& a : accounts) p.accounts.push_back(std::move(a.plan));
  return p;
}

}  // namespace sharekeeper::reconcilers
