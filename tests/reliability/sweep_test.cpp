// The sweep (docs/reliability.md "Sweep"): in each representative world, each fault kind the
// emulator has is injected at call 1, 2, ..., N of the pass under test (N from a fault-free dry
// pass), then faults stop; S1/S2 are checked after every committed write, S3 within 3 passes, S4
// on every output. One deterministic case per (world, kind, call index).
//   SHAREKEEPER_RELIABILITY_CASE=world/kind/index   runs that one case (the replay command)
//   SHAREKEEPER_SWEEP_STRIDE=N   only call indexes 1, 1+N, 1+2N, ... (ctest's quick form; the full
//                                sweep is scripts/reliability.sh), and the failed membership pages
//                                of share-shrinking
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "scenarios.hpp"

namespace sharekeeper::reliability {
namespace {

TEST(ReliabilitySweep, EveryFaultAtEveryCallHoldsTheInvariants) {
  const char* only = std::getenv("SHAREKEEPER_RELIABILITY_CASE");
  const char* stride_env = std::getenv("SHAREKEEPER_SWEEP_STRIDE");
  const std::uint64_t stride = stride_env != nullptr ? std::max(1ULL, std::stoull(stride_env)) : 1;
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, int> per_world;
  const Tally t = run_sweep([&](const SweepCase& c) {
    if (only != nullptr && *only != '\0' && c.name() != only) return false;
    // Always, whatever the stride: a failed membership page while the config shrinks (the full
    // sweep's first finding was the checker's rule for it; S1 must hold and the revocations go on).
    const bool pinned =
        c.kind == FaultKind::kFailedPage && c.membership_read && c.world == "share-shrinking";
    if (!pinned && c.index > 0 && (c.index - 1) % stride != 0) return false;
    ++per_world[c.world + " " + to_string(c.kind)];
    return true;
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (const auto& [k, n] : per_world) std::printf("sweep %s: %d cases\n", k.c_str(), n);
  for (const auto& f : t.failures) std::printf("FAIL %s\n", f.c_str());
  // scripts/reliability.sh reads this line.
  std::printf("RELIABILITY sweep cases=%d violations=%d unconverged=%d seconds=%.1f\n", t.runs,
              t.violations, t.unconverged, seconds);
  EXPECT_GT(t.runs, 0);
  EXPECT_EQ(t.violations, 0);
  EXPECT_EQ(t.unconverged, 0);
}

}  // namespace
}  // namespace sharekeeper::reliability
