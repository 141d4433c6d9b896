#pragma once
// Planner phase 3b — KMS policies: the resources a role should be granted on (what the config
// wants plus what it holds and may not lose yet) are split across as many custom policies
// "<instance>-ecs-share-<kind>-kms-<n>" as the 6,144-character limit needs; each of those names is
// slotted (who holds it), then created, attached, given a new default version (rotating the oldest
// when five exist), or left alone; our policies no longer needed are detached; AliyunKMSFullAccess
// is attached for opted-in service-key shares. Internal to the planner; pure.
#include <set>
#include <string>
#include <vector>

#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// Who holds the name of one of our KMS policies: what may be written under it this pass.
enum class Slot {
  kOurs,             // attached to the role and tagged ours: a new version when it differs
  kOursDetached,     // ours but not attached (someone detached it): re-attach, then as kOurs
  kForeignAttached,  // attached but not ours: noted, never touched
  kUnknown,          // its tags could not be read: nothing is written under the name
  kFree,             // nobody's: create it and attach it
};
const char* to_string(Slot s);

// What the KMS phase of one role reads.
struct KmsRoleInputs {
  std::string account;   // config account name (the changes')
  std::string instance;  // settings.instanceName (policy names, ownership)
  RoleKind kind = RoleKind::kSnapshot;
  const ObservedRole* observed = nullptr;                           // its attachments
  const std::map<std::string, ObservedPolicy>* policies = nullptr;  // the account's policies
  const RoleFacts* facts = nullptr;
  const RoleWant* want = nullptr;
  const std::set<std::string>* revoke = nullptr;  // resources the guards let go
  const GrantIndex* grants = nullptr;
};

struct KmsPlan {
  std::vector<Change> changes;     // unsorted: plan() orders every change of the account
  std::vector<std::string> notes;  // messages
};

// Which slot `name` is in for the role.
Slot slot_of(const std::string& name, const KmsRoleInputs& in);

// The KMS policy changes of one role whose policies were all read and that exists (or is created
// by this plan).
KmsPlan plan_kms_policies(const KmsRoleInputs& in);

// The phase: plan_kms_policies for each role of a plannable account that qualifies.
void plan_kms_phase(AccountContext& a, const PlanInputs& in);

// Oldest non-default version: by creation date, then by version number (v2 < v10).
std::string oldest_non_default(const std::vector<cloud::PolicyVersion>& versions);

}  // namespace sharekeeper::reconcilers::planner
