#pragma once
// Plan: a PURE function desired x observed -> Plan (no I/O, no clock). The plan is a value: a
// fixed, sorted list of changes per account, each with its stage, reason and the grants it serves;
// the revocations the guards blocked; notes (foreign principals/attachments, missing
// disk-encryption role); and the status of every grant computed from the observation.
//
// Stages (docs/contract.md §2 "add before remove"): 1 roles and trust additions, 2 policies and versions,
// 3 attachments, 4 shares (settings.manageShares: image share permissions and Resource Sharing,
// once the role trusts the target and its keys are granted), 5 unshares (before any trust or key
// is revoked), 6 removals (trust narrowing, policy versions that drop keys, detaches).
//
// How it is built: plan.cpp composes phases over a per-account working context
// (plan_context.hpp): desired grants (desired_grants.hpp), removal candidates and the guards
// (guards.hpp), then per account trust policies (trust_plan.hpp), KMS policies (kms_plan.hpp) and
// the shares themselves (share_plan.hpp), and finally the grant statuses (grant_status_plan.hpp).
// docs/reconcilers.md says how to add one.
//
// Thread-safety: plan() touches only its arguments.
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "config/grant.hpp"
#include "reconcilers/grant_status.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/principal.hpp"

namespace sharekeeper::reconcilers {

// Execution order is the numeric order (apply runs stage by stage); the number is also what plans
// show. A stage added later takes its place in this list and renumbers the ones after it.
enum class Stage {
  kRoles = 1,
  kPolicies = 2,
  kAttachments = 3,
  kShares = 4,
  kUnshares = 5,
  kRemovals = 6
};

enum class Action {
  kCreateRole,           // CreateRole with trust document and managed-by tag
  kUpdateTrustPolicy,    // UpdateRole NewAssumeRolePolicyDocument
  kCreatePolicy,         // CreatePolicy with document and managed-by tag
  kCreatePolicyVersion,  // CreatePolicyVersion SetAsDefault=true
  kDeletePolicyVersion,  // DeletePolicyVersion (oldest non-default, when 5 exist)
  kAttachPolicy,         // AttachPolicyToRole
  kDetachPolicy,         // DetachPolicyFromRole (only policies we own)
  // settings.manageShares (share_plan.hpp):
  kTagImage,                   // ECS TagResources managed-by on an image first shared by us
  kModifyImageShare,           // ModifyImageSharePermission, at most 10 accounts added or removed
  kCreateResourceShare,        // CreateResourceShare (tagged), at most 5 resources and 5 targets
  kUpdateResourceShare,        // UpdateResourceShare AllowExternalTargets=true
  kAssociateResourceShare,     // AssociateResourceShare, at most 5 resources and 5 targets
  kDisassociateResourceShare,  // DisassociateResourceShare, at most 5 resources and 5 targets
};
const char* to_string(Action a);

// What kind of object a change, a drift or a blocked revocation concerns. to_string() is also the
// sharekeeper_drift_detected_total{object} label and the audit record's object.
enum class ObjectKind { kRole, kTrustPolicy, kKmsPolicy, kAttachment, kImageShare, kResourceShare };
// "role" | "trust_policy" | "kms_policy" | "attachment" | "image_share" | "resource_share"
const char* to_string(ObjectKind k);

// The safety guards that can keep a revocation in place (docs/contract.md §2), in the order they
// are tried. The daemon maps each to its sharekeeper_revocations_blocked_total{reason} label.
enum class Guard {
  kPartialObservation,
  kPruneDisabled,
  kEmptyConfig,
  kMaxRevokeFraction,
  kMaxRevocationsPerCycle,
};
inline constexpr Guard kAllGuards[] = {Guard::kPartialObservation, Guard::kPruneDisabled,
                                       Guard::kEmptyConfig, Guard::kMaxRevokeFraction,
                                       Guard::kMaxRevocationsPerCycle};
// As plans show it: "partial observation" | "prune disabled" | "empty config" |
// "max revoke fraction" | "max revocations per cycle".
const char* to_string(Guard g);

// What a change adds to or removes from a role: trust principals (role and trust changes), or
// resources of its KMS policies (key ARNs "acs:kms:<region>:<uid>:key/<id>" and the region
// listings "acs:kms:<region>:<uid>:key" that kms:List* needs); for share changes, the targets
// (principals: accounts, directories, folders) and the resources (snapshot and image ids) of a
// resource share, or the accounts of an image's share permission. Each list sorted.
struct Items {
  std::vector<Principal> principals;
  std::vector<std::string> kms_resources;
  std::vector<std::string> share_resources;  // s-... | m-... (Resource Sharing changes)
  bool empty() const {
    return principals.empty() && kms_resources.empty() && share_resources.empty();
  }
  std::size_t size() const {
    return principals.size() + kms_resources.size() + share_resources.size();
  }
  // The principals' labels, then the KMS resources, then the share resources.
  std::vector<std::string> labels() const;
  friend bool operator==(const Items&, const Items&) = default;
};

// One grant (share entry x target) a change serves.
struct GrantRef {
  std::string share;
  config::GrantTarget target;
  std::string label() const;  // "<share> -> <target label>"
  // In the order of their labels (share, then account < folder < rd), as plans list them.
  friend bool operator<(const GrantRef& a, const GrantRef& b);
  friend bool operator==(const GrantRef&, const GrantRef&) = default;
};

struct Change {
  std::string account;  // config account name
  Stage stage = Stage::kRoles;
  Action action = Action::kCreateRole;
  ObjectKind object = ObjectKind::kRole;
  std::string role;         // role name (trust, attach, detach, create role)
  std::string policy_name;  // policy changes and attachments
  std::string policy_type;  // "Custom" | "System"
  std::string version_id;   // kDeletePolicyVersion
  std::string document;     // exact JSON to send (trust or policy document); "" otherwise
  // Share changes (settings.manageShares): where, and which image or resource share.
  std::string region;
  std::string image_id;             // kTagImage, kModifyImageShare
  std::string resource_share_name;  // Resource Sharing changes: ours, "<instance>-<share>-<kind>"
  std::string resource_share_id;    // "" when the share is created by this plan
  bool allow_external_targets = false;  // kCreateResourceShare
  Items added;
  Items removed;       // each one is a revocation
  std::string reason;  // "missing", "drifted: ...", "not in config", "rotation: 5 versions", ...
  std::vector<GrantRef> grants;  // the grants this change serves, sorted
  bool is_revocation() const { return !removed.empty() || action == Action::kDetachPolicy; }
};

// One revocation: a principal out of a role's trust policy, a resource out of its KMS policies, an
// account out of an image's share permission, or a target or resource out of a resource share of
// ours (an unshare).
struct Revocation {
  std::string account;
  RoleKind role = RoleKind::kSnapshot;
  // kTrustPolicy | kKmsPolicy | kImageShare | kResourceShare
  ObjectKind object = ObjectKind::kTrustPolicy;
  Principal principal;         // kTrustPolicy; kImageShare; kResourceShare when a target goes
  std::string kms_resource;    // kKmsPolicy
  std::string region;          // kImageShare | kResourceShare
  std::string share_object;    // the image id, or the resource share's name
  std::string share_resource;  // kResourceShare when a resource goes (s-... | m-...)
  // "role <name> trust policy" | "KMS policies of <name>" | "image <id> share permission" |
  // "resource share <name>".
  std::string object_label() const;
  // The principal's label or the resource.
  std::string item_label() const;
};

// One revocation a guard kept in place. Visible in every rendering of the plan.
struct BlockedRevocation : Revocation {
  Guard guard = Guard::kPruneDisabled;
  std::string detail;
};

struct Note {
  std::string account;
  std::string message;  // "foreign attachment: ...", "adopted role: ...",
                        // "AliyunECSDiskEncryptDefaultRole missing"
};

struct AccountPlan {
  std::string account;
  std::string uid;
  std::string error;  // fatal observation error ("" when none): nothing planned
  bool partial = false;
  std::vector<std::string> observation_errors;  // redacted Error::to_string() of failed calls
  // Failed calls of the sharing report (ObservedShares): resources' `sharing` stays unknown;
  // nothing else is affected.
  std::vector<std::string> sharing_errors;
  std::vector<Change> changes;  // in execution order: by stage, then object, then name
  std::vector<Note> notes;      // sorted
  // settings.manageShares: pairs of our resource shares still Associating or Disassociating (not
  // counting external targets, which wait for their invitation): apply keeps polling for them.
  int shares_settling = 0;
};

struct PlanSummary {
  int add = 0;          // creations (roles, policies, attachments)
  int change = 0;       // updates (trust, policy versions)
  int remove = 0;       // detaches and version deletions
  int revocations = 0;  // principals/keys/attachments removed by this plan
  int blocked_revocations = 0;
  int grants_in_place = 0;  // principals + keys currently granted in objects we own
};

struct Plan {
  std::string instance;
  std::string revision;
  std::vector<AccountPlan> accounts;       // sorted by account name
  std::vector<BlockedRevocation> blocked;  // sorted by (account, object, item)
  std::vector<GrantStatus> grants;         // sorted by (share, target)
  PlanSummary summary;

  bool has_changes() const;
  bool has_errors() const;  // a fatal or partial account observation
};

// Builds the plan. Accounts absent from `observed` are reported with a fatal error. With `only`
// non-empty, plans just those accounts (their changes and the grants of their shares; the guards
// count within them) — what a per-account scheduler calls with a one-account observation.
Plan plan(const config::DesiredState& desired, const Observation& observed,
          const std::vector<std::string>& only = {});

// The policy name for the n-th (1-based) KMS policy of a role:
// "<instance>-ecs-share-<kind>-kms-<n>", with characters RAM does not allow in policy names
// replaced by '-'.
std::string kms_policy_name(const std::string& instance, RoleKind kind, int n);

}  // namespace sharekeeper::reconcilers
