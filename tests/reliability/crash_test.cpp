// The crash-point sweep (docs/reliability.md "Crash points"): the `sharekeeper apply` PROCESS is
// SIGKILLed right after its k-th write is committed, for every k of a fresh apply and of a
// shrinking apply, then `apply` runs again and must converge (`plan --detailed-exitcode` 0). The
// emulator runs in this test process: its commit observer sees the k-th committed write and kills
// the child before the answer is written, so the process dies not knowing whether its write
// happened. S1/S2 are checked after every committed write of every process; S4 over the processes'
// output.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "../integration/daemon_harness.hpp"
#include "scenarios.hpp"

namespace sharekeeper::reliability {
namespace {

namespace dt = daemon::testing;
using namespace std::chrono_literals;

struct ProcessRun {
  std::optional<int> exit_code;
  std::string output;
};

class CrashSweep {
 public:
  CrashSweep() { config_path_ = dir_.path / "sharekeeper.yaml"; }

  // One `sharekeeper` process against the harness's emulator; killed after its `kill_at`-th write
  // (0: never).
  ProcessRun run(const std::vector<std::string>& args, int kill_at) {
    std::atomic<pid_t> pid{0};
    const int base = h_.writes();
    h_.on_write([&pid, base, kill_at](int n, const std::string&) {
      if (kill_at == 0 || n - base != kill_at) return;
      pid_t p = 0;
      while ((p = pid.load()) == 0) std::this_thread::yield();
      ::kill(p, SIGKILL);  // before the emulator writes the answer
    });
    std::vector<std::string> argv = {SK_DAEMON_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"-c", "", "--endpoint-override", "", "--log-format", "json"})
      argv.push_back(a);
    argv[argv.size() - 5] = config_path_.string();
    argv[argv.size() - 3] = h_.emulator().url();
    ProcessRun out;
    {
      dt::Process proc(argv, dir_.path / "out", dir_.path / "err",
                       {{"SK_REL_KEY_ID", kAccessKeyId}, {"SK_REL_KEY_SECRET", kCanarySecret}});
      pid = proc.pid();
      out.exit_code = proc.wait(120s);
    }
    h_.on_write({});
    out.output = dt::read_file(dir_.path / "out") + dt::read_file(dir_.path / "err");
    h_.checker().check_output(out.output, "sharekeeper " + args[0] + " output");
    return out;
  }

  void prepare_world(const SweepWorld& w) {
    prepare(h_, w);
    dt::write_file_atomic(config_path_, config_yaml(w.config));
  }

  Harness h_;
  dt::TempDir dir_;
  std::filesystem::path config_path_;
};

TEST(ReliabilityCrash, KilledAfterEveryWriteThenAppliedAgainConverges) {
  CrashSweep s;
  int points = 0;
  int violations = 0;
  int unconverged = 0;
  for (const char* world : {"fresh", "shrinking", "share-fresh", "share-shrinking"}) {
    const SweepWorld& w = sweep_world(world);
    s.prepare_world(w);
    const int before = s.h_.writes();
    const ProcessRun dry = s.run({"apply", "--auto-approve"}, 0);
    ASSERT_EQ(dry.exit_code, 0) << dry.output;
    const int k_max = s.h_.writes() - before;
    std::printf("crash %s: %d writes in the apply\n", world, k_max);
    ASSERT_GT(k_max, 0) << dry.output;
    for (int k = 1; k <= k_max; ++k) {
      const std::string name = std::string(world) + "/kill-after-write-" + std::to_string(k);
      s.prepare_world(w);
      const ProcessRun killed = s.run({"apply", "--auto-approve"}, k);
      EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << name << "\n" << killed.output;
      const ProcessRun again = s.run({"apply", "--auto-approve"}, 0);
      const ProcessRun plan = s.run({"plan", "--detailed-exitcode"}, 0);
      ++points;
      if (again.exit_code != 0 || plan.exit_code != 0) {
        ++unconverged;
        std::printf("FAIL %s: apply again exit %d, plan exit %d\n%s\n%s\n", name.c_str(),
                    again.exit_code.value_or(-1), plan.exit_code.value_or(-1), again.output.c_str(),
                    plan.output.c_str());
      }
      for (const auto& v : s.h_.checker().violations()) {
        ++violations;
        std::printf("FAIL %s: %s\n", name.c_str(), v.c_str());
      }
    }
  }
  std::printf("RELIABILITY crash points=%d violations=%d unconverged=%d\n", points, violations,
              unconverged);
  EXPECT_EQ(violations, 0);
  EXPECT_EQ(unconverged, 0);
}

}  // namespace
}  // namespace sharekeeper::reliability
