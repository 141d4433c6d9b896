#pragma once
// The daemon's view of one reconcile pass for one sharer account: observe -> plan -> apply ->
// verify, reduced to what the scheduler, metrics, status and audit log need. The production
// implementation (reconcile_runner.cpp) adapts reconcilers/; tests use small fakes. No Beast, no
// prometheus here.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/grant.hpp"

namespace sharekeeper::daemon {

// docs/contract.md §1: a grant is one (share entry, target) pair; its states are the one vocabulary
// of config/grant.hpp, which reconcilers/ computes them in.
using config::GrantState;
using config::kAllGrantStates;
using config::Sharing;
using config::to_string;

// A grant as its metric labels and /status rows name it. Ordered by those labels (so series and
// rows come out in the same order on every scrape).
struct GrantKey {
  std::string account;
  std::string share;
  std::string target_type;  // account | resource_directory | folder (to_string(TargetType))
  std::string target;       // 16-digit UID, rd-id or folder path (bounded by the config)
  static GrantKey of(const std::string& account, const std::string& share,
                     const config::GrantTarget& t) {
    return {account, share, to_string(t.type), t.id};
  }
  // NOLINTNEXTLINE(modernize-use-nullptr): the 0 is in libstdc++'s comparison categories
  friend auto operator<=>(const GrantKey&, const GrantKey&) = default;
};

// Per-resource detail shown only in /status (never in metric labels).
struct ResourceDetail {
  std::string id;  // m-... / s-...
  std::string region;
  GrantState state = GrantState::kReady;
  std::string reason;  // e.g. "service key: copy the resource with a CMK"
  // Whether the resource is actually shared with the grant's target (docs/contract.md §1 item 5),
  // and how (or why not).
  Sharing sharing = Sharing::kUnknown;
  std::string sharing_detail;
  // settings.manageShares: accounts the image is shared with that the config does not name, kept
  // (adopted additively, protected, or another instance's).
  std::vector<std::string> foreign_accounts;
  // The first link of its chain that keeps the target from using it (reconcilers/chain.hpp):
  // its name ("" when every link holds), what was observed, and the remedy.
  std::string blocked_by;
  std::string blocked_observed;
  std::string blocked_remedy;
  friend bool operator==(const ResourceDetail&, const ResourceDetail&) = default;
};

struct GrantReport {
  GrantKey key;
  GrantState state = GrantState::kPending;
  std::string reason;   // why not Ready ("" when Ready with nothing to say)
  std::string message;  // one human line, already redacted
  std::vector<ResourceDetail> resources;
  std::string blocked_by;  // the first resource's blocked_by that is set; "" when usable
};

// One change that apply made; becomes one audit record and a sharekeeper_changes_total increment.
struct AppliedChange {
  std::string
      object;  // trust_policy | kms_policy | attachment | role | image_share | resource_share | tag
  std::string name;       // the object's name (role or policy name; never a secret)
  std::string operation;  // create | update | attach | detach | create_version | delete_version |
                          // tag | share | unshare
  std::string before_digest;  // sha256 of the canonical document before ("" when absent)
  std::string after_digest;   // after ("" when removed)
  // The write calls that made the change take effect, in order, and their Alibaba RequestIds
  // (comma-separated, aligned): usually one; e.g. "SetDefaultPolicyVersion" alone when a
  // CreatePolicyVersion answer was lost and the re-read found the version to finish. Empty when the
  // change was found already in effect (a lost answer, a conflict, a version already gone).
  std::string api_calls;
  std::string request_id;
};

enum class PassResult { kSuccess, kPartial, kError };
const char* to_string(PassResult r);

struct PassOutcome {
  PassResult result = PassResult::kSuccess;
  // A terminal error (bad credentials, wrong account) waits for a config change instead of
  // retrying.
  bool terminal = false;
  std::string error;                  // redacted, one line; "" on success
  bool observation_complete = false;  // every object of the account was read (drives /readyz)
  std::vector<GrantReport> grants;    // every grant of this account in the config
  // sharekeeper_drift_detected_total{object} label -> count of drifted objects found by this pass.
  std::map<std::string, int> drift;
  std::vector<AppliedChange> changes;
  // sharekeeper_revocations_blocked_total{reason} label (the guard) -> count.
  std::map<std::string, int> revocations_blocked;
  // The pass's plan as a JSON document, preferably without indentation (kept per account until
  // the next pass; GET /plan indents it); "" when no plan was made.
  std::string plan_json;
  int changes_planned = 0;
};

// Runs one pass. Implementations are called from the scheduler's worker threads, one pass per
// account at a time; they must be thread-safe across accounts. `stop` becomes true on shutdown:
// finish the call in flight, start no new write.
class AccountRunner {
 public:
  virtual ~AccountRunner() = default;
  virtual PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                               const std::atomic<bool>& stop) = 0;
};

// Every grant the config asks for (share x target), for the given account: the series pre-created
// at zero and the rows /status shows before the first pass ends.
std::vector<GrantKey> grants_of(const config::DesiredState& desired, const std::string& account);

}  // namespace sharekeeper::daemon
