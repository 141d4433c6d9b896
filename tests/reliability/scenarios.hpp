#pragma once
// The sweep (every fault kind at every call of a pass, in representative worlds) and the seeded
// simulation (random world, config edits and fault rules), as functions the gtests and
// scripts/reliability.sh share. Each returns what it found; nothing here asserts.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "world.hpp"

namespace sharekeeper::reliability {

// A world of the sweep: how the cloud starts, the configs applied (fault-free) before the pass
// under test, an optional out-of-band edit, and the config of the pass under test.
struct SweepWorld {
  std::string name;
  WorldSpec world;
  std::vector<ConfigSpec> setup;
  bool drift = false;  // a person edits the share roles after setup
  ConfigSpec config;
  // Resource Sharing associations take 60 s of emulated time: Associating outlasts apply's
  // verification wait; settle's passes come one daemon interval (5 min) apart.
  bool slow_association = false;
};
const std::vector<SweepWorld>& sweep_worlds();
ConfigSpec full_config();    // two shares, four consumers
ConfigSpec shrunk_config();  // fewer targets and one snapshot less (within maxRevokeFraction)
// With manageShares (the default): images to accounts (image share lists), snapshots to accounts
// (one external: its invitation stays pending) and to a folder, images to a folder and to the
// directory (Resource Sharing).
ConfigSpec share_full_config();
ConfigSpec share_shrunk_config();  // fewer targets, a snapshot and the directory target less
// The share worlds' cloud: the directory, image 0's list empty, image 1 shared with the outsider
// (adopted additively) and `extra_foreign` accounts, a resource share not ours.
WorldSpec share_world(std::vector<std::string> extra_foreign = {});
// The harness options a world runs with.
HarnessOptions harness_options(bool lag, bool slow_association);

enum class FaultKind {
  kThrottle,             // Throttling.User (retried by the client)
  kServerError,          // 503 before the model (a read is retried; a write's outcome is unknown)
  kTimeoutBeforeCommit,  // no answer within the client's deadline, not applied
  kCommitThenTimeout,    // applied, answered after the client's deadline
  kCommitThenReset,      // applied, connection closed without an answer
  kCommitThenError,      // applied, answered 500
  kFailedPage,           // a listing's page refused (403): the observation is partial
  kConsistencyLag,       // created roles and policies invisible for 5 s (the whole pass)
};
const std::vector<FaultKind>& fault_kinds();
const char* to_string(FaultKind k);
// The rule that makes call `index` (1-based, every action) of the pass fail with `kind`.
nlohmann::json fault_rule(FaultKind kind, std::uint64_t index,
                          std::chrono::milliseconds client_timeout);

struct SweepCase {
  std::string world;
  FaultKind kind;
  std::uint64_t index = 0;  // 0: the kind applies to the whole pass (consistency lag)
  // The faulted call comes before the pass's first write (in the fault-free dry pass): a failed
  // listing there leaves the observation partial, so a shrinking pass must send no write at all.
  bool before_first_write = false;
  // The faulted call reads the Resource Directory membership (GetResourceDirectory, ListAccounts):
  // that read decides no write and no revocation (reconcilers/observe_rd.hpp), so the rule above
  // does not apply to it.
  bool membership_read = false;
  std::string name() const;
};

struct Tally {
  int runs = 0;  // cases or seeded runs
  int violations = 0;
  int unconverged = 0;
  std::vector<std::string> failures;  // one line each, with what replays it
  void add(const Tally& t);
};

// The call count N of the world's pass under test, from a fault-free dry pass, and the action of
// each call.
std::vector<std::string> dry_pass_calls(Harness& h, const SweepWorld& w);
// The harness a world's cases run in (by consistency lag and slow association).
using HarnessFor = std::function<Harness&(const SweepWorld&, bool lag)>;
// Every (world, kind, index) case; a failed page only where the call is a listing.
std::vector<SweepCase> sweep_cases(const HarnessFor& harness_for);
// One case, from the world's checkpoint when given (else the world is prepared first).
Tally run_case(Harness& h, const SweepCase& c, const Harness::Checkpoint* prepared = nullptr);
Tally run_sweep(const std::function<bool(const SweepCase&)>& select = {});

// A sweep world brought to the moment before its pass under test (setup configs converged, the
// out-of-band edit made, the pass's config in force).
void prepare(Harness& h, const SweepWorld& w);
const SweepWorld& sweep_world(const std::string& name);

// One seeded simulation: a random world, 4-8 config edits, random fault rules, passes and
// invariants after every step; then faults stop and S3 must hold within 3 passes.
Tally run_seeded(Harness& h, std::uint64_t seed);
std::string replay_command(std::uint64_t seed);

}  // namespace sharekeeper::reliability
