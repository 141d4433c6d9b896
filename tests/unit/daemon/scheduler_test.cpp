#include "daemon/scheduler.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/desired_state.hpp"

namespace sharekeeper::daemon {
namespace {

using namespace std::chrono_literals;

SchedulePolicy policy() {
  SchedulePolicy p;
  p.interval = 60s;
  p.jitter = 0.1;
  p.backoff_base = 5s;
  p.backoff_cap = 40s;
  return p;
}

TEST(AccountSchedule, FirstPassIsDueImmediately) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  EXPECT_TRUE(s.due(t0));
  EXPECT_EQ(s.phase(), AccountSchedule::Phase::kWaiting);
}

TEST(AccountSchedule, SuccessWaitsIntervalWithJitter) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  EXPECT_EQ(s.phase(), AccountSchedule::Phase::kRunning);
  EXPECT_FALSE(s.next_run().has_value());
  s.finish(t0 + 2s, PassResult::kSuccess, false, 0.0);
  EXPECT_EQ(*s.next_run(), t0 + 2s + 60s);
  s.start(t0 + 62s);
  s.finish(t0 + 62s, PassResult::kSuccess, false, 0.5);
  EXPECT_EQ(*s.next_run(), t0 + 62s + 63s);  // 60 s * (1 + 0.1 * 0.5)
  EXPECT_FALSE(s.due(t0 + 62s + 62s));
  EXPECT_TRUE(s.due(t0 + 62s + 63s));
}

TEST(AccountSchedule, FailuresBackOffExponentiallyUpToTheCap) {
  SteadyTime t{};
  AccountSchedule s(policy(), t);
  std::vector<Millis> delays;
  for (int i = 0; i < 6; ++i) {
    s.start(t);
    // random01 close to 1 gives the upper end of the equal-jitter window [0.5, 1) x delay.
    s.finish(t, PassResult::kError, false, 1.0);
    delays.push_back(s.last_delay());
    t = *s.next_run();
  }
  EXPECT_EQ(delays, (std::vector<Millis>{5s, 10s, 20s, 40s, 40s, 40s}));
  EXPECT_EQ(s.consecutive_failures(), 6);
  s.start(t);
  s.finish(t, PassResult::kSuccess, false, 0.0);
  EXPECT_EQ(s.consecutive_failures(), 0);
  EXPECT_EQ(s.last_delay(), 60s);
}

TEST(AccountSchedule, BackoffJitterNeverRetriesImmediately) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.finish(t0, PassResult::kPartial, false, 0.0);
  EXPECT_EQ(s.last_delay(), 2500ms);  // half of the 5 s base
}

TEST(AccountSchedule, TerminalErrorStallsUntilConfigChange) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.finish(t0, PassResult::kError, true, 0.3);
  EXPECT_EQ(s.phase(), AccountSchedule::Phase::kStalled);
  EXPECT_FALSE(s.next_run().has_value());
  EXPECT_FALSE(s.due(t0 + std::chrono::hours(24)));
  s.config_changed(t0 + 1h, policy());
  EXPECT_TRUE(s.due(t0 + 1h));
  EXPECT_EQ(s.consecutive_failures(), 0);
}

TEST(AccountSchedule, TriggerWakesAStalledAccount) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.finish(t0, PassResult::kError, true, 0.3);
  s.trigger(t0 + 5s);
  EXPECT_TRUE(s.due(t0 + 5s));
}

TEST(AccountSchedule, TriggerWhileWaitingRunsNow) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.finish(t0, PassResult::kSuccess, false, 0.0);
  EXPECT_FALSE(s.due(t0 + 1s));
  s.trigger(t0 + 1s);
  EXPECT_TRUE(s.due(t0 + 1s));
}

TEST(AccountSchedule, TriggerWhileRunningRunsAgainRightAfter) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.trigger(t0 + 1s);
  s.finish(t0 + 3s, PassResult::kSuccess, false, 0.0);
  EXPECT_EQ(*s.next_run(), t0 + 3s);
  s.start(t0 + 3s);
  s.finish(t0 + 4s, PassResult::kSuccess, false, 0.0);
  EXPECT_EQ(*s.next_run(), t0 + 64s);  // the re-run request was consumed
}

TEST(AccountSchedule, ConfigChangeWhileRunningRerunsEvenAfterTerminalError) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  s.start(t0);
  s.config_changed(t0 + 1s, policy());
  s.finish(t0 + 2s, PassResult::kError, true, 0.0);
  EXPECT_EQ(s.phase(), AccountSchedule::Phase::kWaiting);
  EXPECT_TRUE(s.due(t0 + 2s));
}

TEST(AccountSchedule, ConfigChangeTakesTheNewInterval) {
  const SteadyTime t0{};
  AccountSchedule s(policy(), t0);
  auto p = policy();
  p.interval = 10s;
  p.jitter = 0;
  s.config_changed(t0, p);
  s.start(t0);
  s.finish(t0, PassResult::kSuccess, false, 0.9);
  EXPECT_EQ(*s.next_run(), t0 + 10s);
}

// ---- the driver, with a fake runner; waits on conditions with a generous deadline, never fixed
// sleeps.

class FakeRunner : public AccountRunner {
 public:
  PassOutcome run_pass(const config::DesiredState&, const std::string& account,
                       const std::atomic<bool>&) override {
    std::unique_lock lock(mu);
    ++calls[account];
    ++concurrent;
    max_concurrent = std::max(max_concurrent, concurrent);
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
    --concurrent;
    PassOutcome o;
    o.result = fail ? PassResult::kError : PassResult::kSuccess;
    o.terminal = terminal;
    o.observation_complete = !fail;
    return o;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> calls;
  int concurrent = 0, max_concurrent = 0;
  bool hold = false, fail = false, terminal = false;
};

std::shared_ptr<config::DesiredState> desired_with(std::vector<std::string> names,
                                                   std::chrono::seconds interval) {
  auto d = std::make_shared<config::DesiredState>();
  d->settings.interval = interval;
  for (auto& n : names) {
    config::Account a;
    a.name = n;
    d->accounts.push_back(a);
  }
  return d;
}

struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<PassReport> reports;
  void add(const PassReport& r) {
    std::lock_guard lock(mu);
    reports.push_back(r);
    cv.notify_all();
  }
  bool wait_for_count(std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 20s, [&] { return reports.size() >= n; });
  }
};

TEST(Scheduler, RunsEveryAccountOnceAtStartThenWaitsForTheInterval) {
  FakeRunner runner;
  Collector c;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a", "b", "c"}, std::chrono::hours(1)), true);
  s.start();
  ASSERT_TRUE(c.wait_for_count(3));
  EXPECT_TRUE(s.stop(5s));
  EXPECT_EQ(runner.calls, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
  for (const auto& r : c.reports) {
    ASSERT_TRUE(r.next_run.has_value());
    EXPECT_GT(*r.next_run, std::chrono::system_clock::now() + std::chrono::minutes(59));
  }
}

TEST(Scheduler, BoundsConcurrencyAcrossAccounts) {
  FakeRunner runner;
  runner.hold = true;
  Collector c;
  Scheduler::Options o;
  o.max_concurrency = 2;
  Scheduler s(runner, o, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a", "b", "c", "d", "e"}, std::chrono::hours(1)), true);
  s.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 2; }));
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(c.wait_for_count(5));
  EXPECT_TRUE(s.stop(5s));
  EXPECT_EQ(runner.max_concurrent, 2);
}

TEST(Scheduler, DueAccountsWaitingForAWorkerDoNotSpinTheCoordinator) {
  FakeRunner runner;
  runner.hold = true;
  Collector c;
  Scheduler::Options o;
  o.max_concurrency = 1;
  Scheduler s(runner, o, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a", "b", "c"}, std::chrono::hours(1)), true);
  s.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  // Absence of busy-waiting can only be observed over some real time: a spinning coordinator ticks
  // thousands of times in 300 ms, a sleeping one at most a few (it wakes once a second).
  const auto h0 = s.heartbeat();
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(s.heartbeat() - h0, 3u);
  {
    std::lock_guard lock(runner.mu);
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(c.wait_for_count(3));
  EXPECT_TRUE(s.stop(5s));
}

TEST(Scheduler, TriggerRunsOneAccountAgainAndRejectsUnknownNames) {
  FakeRunner runner;
  Collector c;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a", "b"}, std::chrono::hours(1)), true);
  s.start();
  ASSERT_TRUE(c.wait_for_count(2));
  EXPECT_FALSE(s.trigger(std::string("nope")));
  EXPECT_TRUE(s.trigger(std::string("b")));
  ASSERT_TRUE(c.wait_for_count(3));
  EXPECT_TRUE(s.stop(5s));
  EXPECT_EQ(runner.calls["a"], 1);
  EXPECT_EQ(runner.calls["b"], 2);
}

TEST(Scheduler, TerminalFailureStallsUntilANewConfig) {
  FakeRunner runner;
  runner.fail = true;
  runner.terminal = true;
  Collector c;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  s.start();
  ASSERT_TRUE(c.wait_for_count(1));
  EXPECT_EQ(c.reports[0].phase, AccountSchedule::Phase::kStalled);
  EXPECT_FALSE(c.reports[0].next_run.has_value());
  s.update_config(desired_with({"a"}, std::chrono::hours(1)), false);  // unchanged: still stalled
  auto view = s.snapshot();
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0].phase, AccountSchedule::Phase::kStalled);
  runner.fail = false;
  s.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  ASSERT_TRUE(c.wait_for_count(2));
  EXPECT_TRUE(s.stop(5s));
  EXPECT_EQ(c.reports[1].outcome.result, PassResult::kSuccess);
}

TEST(Scheduler, AccountRemovedDuringAPassIsReportedStale) {
  FakeRunner runner;
  runner.hold = true;
  Collector c;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  s.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  s.update_config(desired_with({"b"}, std::chrono::hours(1)), true);
  {
    std::lock_guard lock(runner.mu);
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(c.wait_for_count(2));
  EXPECT_TRUE(s.stop(5s));
  for (const auto& r : c.reports) EXPECT_EQ(r.stale, r.account == "a") << r.account;
}

TEST(Scheduler, StopWaitsForThePassInFlight) {
  FakeRunner runner;
  runner.hold = true;
  Collector c;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) { c.add(r); });
  s.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  s.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  std::thread release([&] {
    std::unique_lock lock(runner.mu);
    // Released only once stop() has raised the flag, so the pass is truly in flight during stop.
    while (!s.stopping()) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    runner.hold = false;
    runner.cv.notify_all();
  });
  EXPECT_TRUE(s.stop(20s));
  release.join();
  EXPECT_EQ(c.reports.size(), 1u);
}

}  // namespace
}  // namespace sharekeeper::daemon
