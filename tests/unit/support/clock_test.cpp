// support::Clock: the manual clock moves only when told, and wakes the waiters whose deadline it
// reaches; waits end on events, never on real time.
#include "support/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sharekeeper::support {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, MovesOnlyWhenToldAndSleepingAdvancesIt) {
  ManualClock clock(WallTime{std::chrono::seconds{1'000}});
  const auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(5s);
  EXPECT_EQ(clock.now() - t0, 5s);
  EXPECT_EQ(clock.wall_now(), WallTime{std::chrono::seconds{1'005}});
  clock.sleep_for(2s);
  clock.sleep_for(-1s);  // a negative pause is no pause
  EXPECT_EQ(clock.now() - t0, 7s);
  EXPECT_EQ(clock.slept(), 2s);
  EXPECT_EQ(clock.to_wall(clock.now() + 10s), WallTime{std::chrono::seconds{1'017}});
}

TEST(ManualClock, WaitReturnsAtOnceWhenThePredicateHoldsOrTheDeadlinePassed) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_TRUE(clock.wait_until(lock, cv, clock.now() + 1h, [] { return true; }));
  EXPECT_FALSE(clock.wait_until(lock, cv, clock.now(), [] { return false; }));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, AdvancePastTheDeadlineWakesTheWaiter) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  const auto deadline = clock.now() + 10s;
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.wait_until(lock, cv, deadline, [] { return false; }) ? 1 : 0;
  });
  // Wait for the event "the waiter is registered", then step time: not far enough, then past it.
  ASSERT_TRUE(clock.await_blocked(1));
  // Not far enough: the waiter wakes, sees the time and blocks again (a block after the move).
  const auto n = clock.advance(9s);
  ASSERT_TRUE(clock.await_blocked(n + 1));
  EXPECT_EQ(result.load(), -1);
  clock.advance(1s);
  waiter.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, ANotifiedPredicateEndsTheWaitWithoutMovingTime) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  std::atomic<int> result{-1};
  std::thread waiter([&] {
    std::unique_lock lock(mu);
    result = clock.wait_until(lock, cv, clock.now() + 1h, [&] { return ready; }) ? 1 : 0;
  });
  ASSERT_TRUE(clock.await_blocked(1));
  {
    std::lock_guard lock(mu);
    ready = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_EQ(result.load(), 1);
}

TEST(SystemClock, WaitUntilAPastDeadlineReturnsThePredicate) {
  SystemClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  EXPECT_FALSE(clock.wait_until(lock, cv, clock.now() - 1s, [] { return false; }));
  EXPECT_TRUE(clock.wait_until(lock, cv, clock.now() - 1s, [] { return true; }));
  EXPECT_LE(clock.wall_now() - std::chrono::system_clock::now(), 1s);
}

}  // namespace
}  // namespace sharekeeper::support
