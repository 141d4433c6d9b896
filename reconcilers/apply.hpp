#pragma once
// Apply: executes a Plan stage by stage (roles and trust additions, policies and versions,
// attachments, then removals), idempotently, with bounded concurrency across accounts; then
// re-observes with a bounded wait for RAM's eventual consistency and reports what still differs
// from the plan.
//
// Rules:
//  - a write whose outcome is unknown (cloud::ErrorClass::kOutcomeUnknown) is re-observed before it
//  is
//    retried (once); if the re-read shows the effect, it counts as done;
//  - "already exists / attached / detached" are success (the CloudApi contract);
//  - when any write of an account fails, that account's removal stage is skipped (never remove
//  after a
//    failed add);
//  - an account with a fatal observation error is not touched.
//
// Thread-safety: apply() is reentrant; it calls each account's CloudApi from one thread at a time.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cloud/request_ids.hpp"
#include "cloud/result.hpp"
#include "config/desired_state.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"
#include "support/clock.hpp"

namespace sharekeeper::reconcilers {

struct ApplyOptions {
  int max_parallel_accounts = 0;  // 0: account_workers() of the plan's accounts
  // Verification: re-observe and re-plan up to this many times until nothing differs, sleeping
  // initial_delay, 2x, 4x, ... (capped at max_delay) between attempts.
  int verify_attempts = 5;
  std::chrono::milliseconds verify_initial_delay{1000};
  std::chrono::milliseconds verify_max_delay{8000};
  // Sleeps through it, so tests never sleep (a support::ManualClock, or one that moves the
  // emulator's clock). Default: support::SystemClock::shared().
  std::shared_ptr<support::Clock> clock;
};

struct ChangeResult {
  Change change;
  bool ok = false;
  bool skipped = false;      // not attempted (earlier failure in the account)
  bool re_observed = false;  // outcome was unknown and the effect was checked by re-reading
  std::optional<cloud::Error> error;
  std::string detail;  // human text for skipped/failed
  // The successful write calls this change made, in order, with their RequestIds (for the audit
  // record): usually one; a follow-up (SetDefaultPolicyVersion, CreatePolicyVersion) when a re-read
  // after a lost answer finished the change; none when the change was found already in effect.
  std::vector<cloud::CallRecord> writes;
};

struct AccountApplyResult {
  std::string account;
  std::vector<ChangeResult> results;  // in execution order
  int writes = 0;                     // CloudApi write calls made
  int failed = 0;
};

struct ApplyResult {
  std::vector<AccountApplyResult> accounts;  // sorted by account name
  Plan residual;  // plan(desired, re-observation) after the verification wait: what still differs
  int verify_rounds = 0;
  int verify_calls = 0;    // CloudApi calls the verification made (the re-reads)
  bool converged() const;  // every write ok and the residual plan has no changes and no errors
  int writes() const;
  int failures() const;
};

// Applies `p` (built from `desired` and an observation of the same accounts). Verification
// re-observes every account of the plan.
ApplyResult apply(const config::DesiredState& desired, const Plan& p, const ClientFor& client_for,
                  const ApplyOptions& options = {});

// Applies `p`, planned from `observed`. Verification reads back only what the writes' answers do
// not tell (docs/reconcilers.md, "Verification"): an account whose every write was answered with a
// success is planned from `observed` with those writes carried in (no call), apart from the
// Resource Sharing listings of the regions it shared in (asynchronous); an account with a failed
// write, one whose outcome was re-read, or an observation error is observed again, and so is a
// predicted one whose residual still differs.
ApplyResult apply(const config::DesiredState& desired, const Observation& observed, const Plan& p,
                  const ClientFor& client_for, const ApplyOptions& options = {});

// Grant statuses after an apply: the residual plan's statuses, with Failed (and the error) for
// grants a failed write served.
std::vector<GrantStatus> grants_after_apply(const ApplyResult& result);

}  // namespace sharekeeper::reconcilers
