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
};
const std::vector<SweepWorld>& sweep_worlds();
ConfigSpec full_config();    // two shares, four consumers
ConfigSpec shrunk_config();  // fewer targets and one snapshot less (within maxRevokeFraction)

enum class FaultKind {
  kThrottle,            // Throttling.User (retried by the client)
  kServerError,         // 503 before the model (a read is retried; a write's outcome is unknown)
  kTimeoutBeforeCommit, // no answer within the client's deadline, not applied
  kCommitThenTimeout,   // applied, answered after the client's deadline
  kCommitThenReset,     // applied, connection closed without an answer
  kCommitThenError,     // applied, answered 500
  kFailedPage,          // a listing's page refused (403): the observation is partial
  kConsistencyLag,      // created roles and policies invisible for 5 s (the whole pass)
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
// Every (world, kind, index) case; a failed page only where the call is a listing.
std::vector<SweepCase> sweep_cases(Harness& plain, Harness& lagged);
Tally run_case(Harness& h, const SweepCase& c);
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
