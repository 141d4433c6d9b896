#include "daemon/scheduler.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/desired_state.hpp"
#include "support/clock.hpp"

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

// ---- the driver, on a ManualClock: time moves only when a test advances it, and every wait is for
// an event (a report, the coordinator blocking again), bounded by a generous real deadline that
// only a failing test reaches. Nothing sleeps.

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
    if (clock && pass_takes > 0s) clock->advance(pass_takes);
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
  std::shared_ptr<support::ManualClock> clock;  // when set, each pass "takes" pass_takes
  std::chrono::seconds pass_takes{0};
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
  std::size_t count() {
    std::lock_guard lock(mu);
    return reports.size();
  }
};

// A scheduler on its own manual clock.
struct Driven {
  explicit Driven(FakeRunner& runner, Scheduler::Options o = {})
      : clock(std::make_shared<support::ManualClock>()),
        scheduler(runner, with_clock(std::move(o), clock), nullptr,
                  [this](const PassReport& r) { collector.add(r); }) {}
  static Scheduler::Options with_clock(Scheduler::Options o,
                                       std::shared_ptr<support::ManualClock> c) {
    o.clock = std::move(c);
    o.seed = 7;
    return o;
  }
  // Moves time and waits until the coordinator has looked at it and blocked again (so whatever
  // became due has been started: its schedule is kRunning).
  void advance(std::chrono::nanoseconds d) {
    const auto n = clock->advance(d);
    ASSERT_TRUE(clock->await_blocked(n + 1)) << "the coordinator did not go back to waiting";
  }
  AccountSchedule::Phase phase(const std::string& account) {
    for (const auto& v : scheduler.snapshot())
      if (v.account == account) return v.phase;
    ADD_FAILURE() << "no account " << account;
    return AccountSchedule::Phase::kStalled;
  }
  std::shared_ptr<support::ManualClock> clock;
  Collector collector;
  Scheduler scheduler;
};

TEST(Scheduler, RunsEveryAccountOnceAtStartThenWaitsForTheInterval) {
  FakeRunner runner;
  Driven d(runner);
  d.scheduler.update_config(desired_with({"a", "b", "c"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  ASSERT_TRUE(d.collector.wait_for_count(3));
  const auto wall = d.clock->wall_now();
  for (const auto& r : d.collector.reports) {
    ASSERT_TRUE(r.next_run.has_value());
    // interval 1 h, jitter 10 %: due in [60, 66) minutes, on the scheduler's clock.
    EXPECT_GE(*r.next_run, wall + 60min);
    EXPECT_LT(*r.next_run, wall + 66min);
  }
  d.advance(59min);
  EXPECT_EQ(d.phase("a"), AccountSchedule::Phase::kWaiting);
  EXPECT_EQ(d.collector.count(), 3u);
  d.advance(7min);
  ASSERT_TRUE(d.collector.wait_for_count(6));
  EXPECT_TRUE(d.scheduler.stop(5s));
  EXPECT_EQ(runner.calls, (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 2}}));
}

TEST(Scheduler, AFailedPassRetriesAfterTheBackoffNotTheInterval) {
  FakeRunner runner;
  runner.fail = true;
  Scheduler::Options o;
  o.backoff_base = 10s;
  Driven d(runner, o);
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  ASSERT_TRUE(d.collector.wait_for_count(1));
  // First failure: base 10 s with equal jitter, so [5, 10) s; never at once.
  ASSERT_TRUE(d.collector.reports[0].next_run.has_value());
  EXPECT_GE(*d.collector.reports[0].next_run, d.clock->wall_now() + 5s);
  d.advance(4900ms);
  EXPECT_EQ(d.phase("a"), AccountSchedule::Phase::kWaiting);
  d.advance(5100ms);
  ASSERT_TRUE(d.collector.wait_for_count(2));
  EXPECT_EQ(d.collector.reports[1].outcome.result, PassResult::kError);
  EXPECT_TRUE(d.scheduler.stop(5s));
}

TEST(Scheduler, ReportsThePassDurationOnItsClock) {
  FakeRunner runner;
  Driven d(runner);
  runner.clock = d.clock;
  runner.pass_takes = 3s;
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  ASSERT_TRUE(d.collector.wait_for_count(1));
  EXPECT_EQ(d.collector.reports[0].duration, 3s);
  EXPECT_EQ(d.collector.reports[0].finished - d.collector.reports[0].started, 3s);
  EXPECT_TRUE(d.scheduler.stop(5s));
}

TEST(Scheduler, BoundsConcurrencyAcrossAccounts) {
  FakeRunner runner;
  runner.hold = true;
  Scheduler::Options o;
  o.max_concurrency = 2;
  Driven d(runner, o);
  d.scheduler.update_config(desired_with({"a", "b", "c", "d", "e"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 2; }));
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(d.collector.wait_for_count(5));
  EXPECT_TRUE(d.scheduler.stop(5s));
  EXPECT_EQ(runner.max_concurrent, 2);
}

TEST(Scheduler, DueAccountsWaitingForAWorkerDoNotSpinTheCoordinator) {
  FakeRunner runner;
  runner.hold = true;
  Scheduler::Options o;
  o.max_concurrency = 1;
  Driven d(runner, o);
  d.scheduler.update_config(desired_with({"a", "b", "c"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  // b and c are due but no worker is free. A coordinator that spun on them would never block (its
  // deadline would always be "now"); a sleeping one blocks, and wakes once per second of clock
  // time for its heartbeat, each wake one loop.
  ASSERT_TRUE(d.clock->await_blocked(1));
  const auto h0 = d.scheduler.heartbeat();
  for (int i = 0; i < 5; ++i) d.advance(1s);
  EXPECT_EQ(d.scheduler.heartbeat() - h0, 5u);
  {
    std::lock_guard lock(runner.mu);
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(d.collector.wait_for_count(3));
  EXPECT_TRUE(d.scheduler.stop(5s));
}

TEST(Scheduler, TriggerRunsOneAccountAgainAndRejectsUnknownNames) {
  FakeRunner runner;
  Driven d(runner);
  d.scheduler.update_config(desired_with({"a", "b"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  ASSERT_TRUE(d.collector.wait_for_count(2));
  EXPECT_FALSE(d.scheduler.trigger(std::string("nope")));
  EXPECT_TRUE(d.scheduler.trigger(std::string("b")));
  ASSERT_TRUE(d.collector.wait_for_count(3));
  EXPECT_TRUE(d.scheduler.stop(5s));
  EXPECT_EQ(runner.calls["a"], 1);
  EXPECT_EQ(runner.calls["b"], 2);
}

TEST(Scheduler, TerminalFailureStallsUntilANewConfig) {
  FakeRunner runner;
  runner.fail = true;
  runner.terminal = true;
  Driven d(runner);
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  ASSERT_TRUE(d.collector.wait_for_count(1));
  EXPECT_EQ(d.collector.reports[0].phase, AccountSchedule::Phase::kStalled);
  EXPECT_FALSE(d.collector.reports[0].next_run.has_value());
  // Stalled means stalled: hours of clock time start nothing.
  d.advance(std::chrono::hours(3));
  EXPECT_EQ(d.collector.count(), 1u);
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), false);  // unchanged
  EXPECT_EQ(d.phase("a"), AccountSchedule::Phase::kStalled);
  runner.fail = false;
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  ASSERT_TRUE(d.collector.wait_for_count(2));
  EXPECT_TRUE(d.scheduler.stop(5s));
  EXPECT_EQ(d.collector.reports[1].outcome.result, PassResult::kSuccess);
}

TEST(Scheduler, AccountRemovedDuringAPassIsReportedStale) {
  FakeRunner runner;
  runner.hold = true;
  Driven d(runner);
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  d.scheduler.update_config(desired_with({"b"}, std::chrono::hours(1)), true);
  {
    std::lock_guard lock(runner.mu);
    runner.hold = false;
    runner.cv.notify_all();
  }
  ASSERT_TRUE(d.collector.wait_for_count(2));
  EXPECT_TRUE(d.scheduler.stop(5s));
  for (const auto& r : d.collector.reports) EXPECT_EQ(r.stale, r.account == "a") << r.account;
}

TEST(Scheduler, StopWaitsForThePassInFlight) {
  FakeRunner runner;
  runner.hold = true;
  Driven d(runner);
  d.scheduler.update_config(desired_with({"a"}, std::chrono::hours(1)), true);
  d.scheduler.start();
  {
    std::unique_lock lock(runner.mu);
    ASSERT_TRUE(runner.cv.wait_for(lock, 20s, [&] { return runner.concurrent == 1; }));
  }
  std::thread release([&] {
    std::unique_lock lock(runner.mu);
    // Released only once stop() has raised the flag, so the pass is truly in flight during stop.
    while (!d.scheduler.stopping()) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    runner.hold = false;
    runner.cv.notify_all();
  });
  EXPECT_TRUE(d.scheduler.stop(20s));
  release.join();
  EXPECT_EQ(d.collector.count(), 1u);
}

}  // namespace
}  // namespace sharekeeper::daemon
