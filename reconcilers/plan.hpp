#pragma once
// Plan: a PURE function desired x observed -> Plan (no I/O, no clock). The plan is a value: a
// fixed, sorted list of changes per account, each with its stage, reason and the grants it serves;
// the revocations the guards blocked; notes (foreign principals/attachments, missing
// disk-encryption role); and the status of every grant computed from the observation.
//
// Stages (DESIGN.md §2 "add before remove"): 1 roles and trust additions, 2 policies and versions,
// 3 attachments, 4 removals (trust narrowing, policy versions that drop keys, detaches).
//
// Thread-safety: plan() touches only its arguments.
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "reconcilers/grant_status.hpp"
#include "reconcilers/observe.hpp"

namespace sharekeeper::reconcilers {

enum class Stage { kRoles = 1, kPolicies = 2, kAttachments = 3, kRemovals = 4 };

enum class Action {
  kCreateRole,           // CreateRole with trust document and managed-by tag
  kUpdateTrustPolicy,    // UpdateRole NewAssumeRolePolicyDocument
  kCreatePolicy,         // CreatePolicy with document and managed-by tag
  kCreatePolicyVersion,  // CreatePolicyVersion SetAsDefault=true
  kDeletePolicyVersion,  // DeletePolicyVersion (oldest non-default, when 5 exist)
  kAttachPolicy,         // AttachPolicyToRole
  kDetachPolicy,         // DetachPolicyFromRole (only policies we own)
};
const char* to_string(Action a);

// What kind of object a change or drift concerns (also the sharekeeper_drift_detected_total label).
enum class ObjectKind { kRole, kTrustPolicy, kKmsPolicy, kAttachment };
const char* to_string(ObjectKind k);  // "role" | "trust_policy" | "kms_policy" | "attachment"

struct Change {
  std::string account;  // config account name
  Stage stage = Stage::kRoles;
  Action action = Action::kCreateRole;
  ObjectKind object = ObjectKind::kRole;
  std::string role;                  // role name (trust, attach, detach, create role)
  std::string policy_name;           // policy changes and attachments
  std::string policy_type;           // "Custom" | "System"
  std::string version_id;            // kDeletePolicyVersion
  std::string document;              // exact JSON to send (trust or policy document); "" otherwise
  std::vector<std::string> added;    // principal labels / key ARNs / list resources added
  std::vector<std::string> removed;  // ... removed (each one is a revocation)
  std::string reason;  // "missing", "drifted: ...", "not in config", "rotation: 5 versions", ...
  std::vector<std::string> grants;  // "<share> -> <target label>" this change serves, sorted
  bool is_revocation() const { return !removed.empty() || action == Action::kDetachPolicy; }
};

// One revocation a guard (or ownership rule) kept in place. Visible in every rendering of the plan.
struct BlockedRevocation {
  std::string account;
  std::string
      object;  // "role <name> trust policy" | "policy <name>" | "attachment <policy> -> <role>"
  std::string item;   // principal label / key ARN
  std::string guard;  // "prune disabled" | "partial observation" | "max revoke fraction" |
                      // "empty config" | "max revocations per cycle"
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
  std::vector<BlockedRevocation> blocked;  // sorted
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
