#include "cloud/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "cloud/retry.hpp"

namespace sharekeeper::cloud {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

RateLimiterOptions opts() {
  RateLimiterOptions o;
  o.initial_rate = 10;
  o.min_rate = 1;
  o.max_rate = 20;
  o.burst = 2;
  o.decrease_factor = 0.5;  // round figures for the mechanism tests; the default is 0.85
  return o;
}

TEST(RateLimiter, TotalsCountWhatCallersWaited) {
  support::ManualClock clock;
  const RateLimiterTotals before = rate_limiter_totals();
  RateLimiter rl(opts(), clock.now());
  for (int i = 0; i < 4; ++i) rl.reserve(clock.now());  // 2 from the burst, then 100 + 200 ms
  const RateLimiterTotals after = rate_limiter_totals();
  EXPECT_EQ(after.reservations - before.reservations, 4U);
  EXPECT_EQ(after.waited - before.waited, 2U);
  EXPECT_EQ(after.wait - before.wait, milliseconds(300));
}

TEST(RateLimiter, DefaultsAreTheAssumedQuota) {
  // docs/emulator.md "Rate limits and latency": 20 calls/s, a bucket of one second's worth.
  const RateLimiterOptions o;
  EXPECT_EQ(o.initial_rate, 20.0);
  EXPECT_EQ(o.burst, 20.0);
  EXPECT_EQ(o.decrease_factor, 0.85);
}

TEST(RateLimiter, BurstThenPacedAtTheRate) {
  support::ManualClock clock;
  RateLimiter rl(opts(), clock.now());
  EXPECT_EQ(rl.reserve(clock.now()), nanoseconds::zero());
  EXPECT_EQ(rl.reserve(clock.now()), nanoseconds::zero());
  // Bucket empty: the third waits one token at 10/s, the fourth two.
  EXPECT_EQ(rl.reserve(clock.now()), milliseconds(100));
  EXPECT_EQ(rl.reserve(clock.now()), milliseconds(200));
  clock.advance(milliseconds(200));
  // The two queued reservations used the refill; the next one waits its own 100 ms.
  EXPECT_EQ(rl.reserve(clock.now()), milliseconds(100));
}

TEST(RateLimiter, ThrottlingHalvesOncePerCooldownDownToTheFloor) {
  support::ManualClock clock;
  RateLimiter rl(opts(), clock.now());
  rl.on_throttled(clock.now());
  EXPECT_DOUBLE_EQ(rl.rate(), 5);
  rl.on_throttled(clock.now());  // same burst of throttled answers: ignored
  EXPECT_DOUBLE_EQ(rl.rate(), 5);
  for (int i = 0; i < 10; ++i) {
    clock.advance(seconds(1));
    rl.on_throttled(clock.now());
  }
  EXPECT_DOUBLE_EQ(rl.rate(), 1);  // floor
}

TEST(RateLimiter, ThrottlingDropsSavedTokens) {
  support::ManualClock clock;
  RateLimiter rl(opts(), clock.now());
  rl.on_throttled(clock.now());
  EXPECT_LE(rl.tokens(clock.now()), 0.0);
  EXPECT_EQ(rl.reserve(clock.now()), milliseconds(200));  // 1 token at 5/s
}

TEST(RateLimiter, RecoversAdditivelyUpToTheCeiling) {
  support::ManualClock clock;
  RateLimiter rl(opts(), clock.now());
  rl.on_throttled(clock.now());
  ASSERT_DOUBLE_EQ(rl.rate(), 5);
  clock.advance(seconds(2));
  rl.on_success(clock.now());
  EXPECT_DOUBLE_EQ(rl.rate(), 7);  // +1/s
  clock.advance(milliseconds(500));
  rl.on_success(clock.now());
  EXPECT_DOUBLE_EQ(rl.rate(), 7.5);
  clock.advance(seconds(100));
  rl.on_success(clock.now());
  EXPECT_DOUBLE_EQ(rl.rate(), 20);  // ceiling
}

// A service that throttles above `capacity` requests/s, one answer a second for 120 s: the
// limiter's rate after each second, from the 12th on (the descent from the initial rate left out).
std::vector<double> sawtooth(const RateLimiterOptions& o, double capacity) {
  support::ManualClock clock;
  RateLimiter rl(o, clock.now());
  std::vector<double> rates;
  for (int s = 0; s < 120; ++s) {
    clock.advance(seconds(1));
    if (rl.rate() > capacity)
      rl.on_throttled(clock.now());
    else
      rl.on_success(clock.now());
    if (s > 10) rates.push_back(rl.rate());
  }
  return rates;
}

// Sawtooth: under steady throttling the rate never exceeds what the service accepts for long.
TEST(RateLimiter, AimdConvergesBelowServiceCapacity) {
  RateLimiterOptions o = opts();
  o.initial_rate = 20;
  const double capacity = 8;
  const auto rates = sawtooth(o, capacity);
  EXPECT_LE(*std::max_element(rates.begin(), rates.end()), capacity + 1);
  EXPECT_GE(rates.back(), capacity / 2 - 1);
}

// The default decrease (x0.85, not x0.5): a client that paces at the quota is throttled now and
// then (its bucket and the service's have no slack between them), and halving on each of those
// left a short pass at half the quota for its rest (bench/converge/README.md). Under the same
// sawtooth the default keeps the mean rate near the capacity; halving gives about 6/s.
TEST(RateLimiter, TheDefaultDecreaseKeepsMostOfTheCapacity) {
  const double capacity = 8;
  const auto rates = sawtooth(RateLimiterOptions{}, capacity);
  EXPECT_GE(std::accumulate(rates.begin(), rates.end(), 0.0) / static_cast<double>(rates.size()),
            7.5);
  EXPECT_LE(*std::max_element(rates.begin(), rates.end()), capacity + 1);
}

TEST(RateLimiter, SetKeepsOneLimiterPerProduct) {
  support::ManualClock clock;
  RateLimiterSet set(opts());
  RateLimiterOptions slow = opts();
  slow.initial_rate = 2;
  set.configure("resourcesharing", slow);
  RateLimiter& ram = set.for_product("ram", clock.now());
  EXPECT_EQ(&ram, &set.for_product("ram", clock.now()));
  EXPECT_NE(&ram, &set.for_product("ecs", clock.now()));
  EXPECT_DOUBLE_EQ(set.for_product("resourcesharing", clock.now()).rate(), 2);
  ram.on_throttled(clock.now());
  EXPECT_DOUBLE_EQ(set.for_product("ecs", clock.now()).rate(), 10);  // independent
}

}  // namespace
}  // namespace sharekeeper::cloud
