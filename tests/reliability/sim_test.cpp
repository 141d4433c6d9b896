// The seeded simulation (docs/reliability.md "Seeded simulation"): each run draws a world, a
// sequence of config edits (grow, shrink, empty, invalid, reorder, new) and fault rules from its
// seed, runs passes through the real client against the in-process emulator in simulated time,
// and checks the invariants after every write and every pass. A failure prints its seed and the
// command that replays it.
//   SHAREKEEPER_SIM_RUNS (default 50)  SHAREKEEPER_SIM_SEED (default 1: seeds S, S+1, ...)
//   SHAREKEEPER_SIM_MINUTES            stop after this long (0: no limit)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "scenarios.hpp"

namespace sharekeeper::reliability {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoull(v) : fallback;
}

TEST(ReliabilitySimulation, SeededRunsHoldTheInvariants) {
  const std::uint64_t runs = env_or("SHAREKEEPER_SIM_RUNS", 50);
  const std::uint64_t first = env_or("SHAREKEEPER_SIM_SEED", 1);
  const double minutes = static_cast<double>(env_or("SHAREKEEPER_SIM_MINUTES", 0));
  Harness plain;
  Harness lagged(harness_options(true, false));
  Harness slow(harness_options(false, true));
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  Tally total;
  for (std::uint64_t seed = first; seed < first + runs; ++seed) {
    if (minutes > 0 && elapsed() > minutes * 60) break;
    // One run in four has eventual consistency (created objects invisible for 5 s), one in eight
    // Resource Sharing associations that stay Associating for 60 s.
    Harness& h = seed % 4 == 0 ? lagged : (seed % 8 == 2 ? slow : plain);
    Tally t = run_seeded(h, seed);
    for (const auto& f : t.failures) std::printf("FAIL %s\n", f.c_str());
    total.add(t);
  }
  const double seconds = elapsed();
  std::printf(
      "RELIABILITY sim runs=%d violations=%d unconverged=%d seconds=%.1f runs_per_minute=%.0f\n",
      total.runs, total.violations, total.unconverged, seconds,
      seconds > 0 ? total.runs * 60.0 / seconds : 0.0);
  EXPECT_GT(total.runs, 0);
  EXPECT_EQ(total.violations, 0);
  EXPECT_EQ(total.unconverged, 0);
}

}  // namespace
}  // namespace sharekeeper::reliability
