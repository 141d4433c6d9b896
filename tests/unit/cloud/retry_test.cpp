#include "cloud/retry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sharekeeper::cloud {
namespace {

using std::chrono::milliseconds;

Random fixed(double u) {
  return [u] { return u; };
}

TEST(Retry, BackoffIsFullJitterUnderAnExponentialCeiling) {
  const RetryPolicy p;
  // u = 1 shows the ceiling: 100, 200, 400, ... capped at 20 s.
  EXPECT_EQ(RetryState::backoff(p, false, 1, 1.0), milliseconds(100));
  EXPECT_EQ(RetryState::backoff(p, false, 2, 1.0), milliseconds(200));
  EXPECT_EQ(RetryState::backoff(p, false, 3, 1.0), milliseconds(400));
  EXPECT_EQ(RetryState::backoff(p, false, 20, 1.0), milliseconds(20'000));
  EXPECT_EQ(RetryState::backoff(p, false, 1000, 1.0), milliseconds(20'000));
  // Throttling starts from 500 ms.
  EXPECT_EQ(RetryState::backoff(p, true, 1, 1.0), milliseconds(500));
  EXPECT_EQ(RetryState::backoff(p, true, 2, 1.0), milliseconds(1000));
  // Full jitter: anywhere from zero to the ceiling.
  EXPECT_EQ(RetryState::backoff(p, false, 3, 0.0), milliseconds(0));
  EXPECT_EQ(RetryState::backoff(p, false, 3, 0.5), milliseconds(200));
}

TEST(Retry, RetriesTransientUpToFourAttempts) {
  RetryQuota quota;
  RetryState s(RetryPolicy{}, &quota, fixed(1.0));
  std::vector<milliseconds> delays;
  for (;;) {
    const RetryDecision d = s.on_failure(ErrorClass::kTransient, false);
    if (!d.retry) {
      EXPECT_EQ(d.reason, "attempts exhausted");
      break;
    }
    delays.push_back(d.delay);
  }
  EXPECT_EQ(s.attempts(), 4);
  EXPECT_EQ(delays,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)}));
}

TEST(Retry, ClassDecidesWhetherToRetry) {
  struct Case {
    ErrorClass cls;
    bool read_only;
    bool retry;
  };
  const Case cases[] = {
      {ErrorClass::kTransient, false, true},     {ErrorClass::kThrottled, false, true},
      {ErrorClass::kOutcomeUnknown, true, true}, {ErrorClass::kOutcomeUnknown, false, false},
      {ErrorClass::kTerminal, true, false},      {ErrorClass::kConflict, false, false},
      {ErrorClass::kNotFound, true, false},
  };
  for (const Case& c : cases) {
    RetryState s(RetryPolicy{}, nullptr, fixed(0.5));
    EXPECT_EQ(s.on_failure(c.cls, c.read_only).retry, c.retry)
        << to_string(c.cls) << " read_only=" << c.read_only;
  }
}

TEST(Retry, HonoursRetryAfterUpToTheCap) {
  RetryState s(RetryPolicy{}, nullptr, fixed(0.0));
  EXPECT_EQ(s.on_failure(ErrorClass::kThrottled, false, milliseconds(1500)).delay,
            milliseconds(1500));
  EXPECT_EQ(s.on_failure(ErrorClass::kThrottled, false, milliseconds(60'000)).delay,
            milliseconds(20'000));
  // A retry-after shorter than the jittered backoff does not shorten it.
  RetryState t(RetryPolicy{}, nullptr, fixed(1.0));
  EXPECT_EQ(t.on_failure(ErrorClass::kThrottled, false, milliseconds(10)).delay, milliseconds(500));
}

TEST(Retry, QuotaCostsAndRefunds) {
  RetryQuota q;
  EXPECT_EQ(q.available(), 500);
  EXPECT_EQ(q.acquire(ErrorClass::kTransient), 5);
  EXPECT_EQ(q.acquire(ErrorClass::kOutcomeUnknown), 10);
  EXPECT_EQ(q.available(), 485);
  q.release(15);  // the call that retried succeeded: its cost comes back
  EXPECT_EQ(q.available(), 500);
  q.release(0);  // a first-try success adds 1, never above capacity
  EXPECT_EQ(q.available(), 500);
}

// A storm: every call fails. Once the quota is spent, calls are tried once and no longer retried,
// so load falls back to ~1x instead of 4x.
TEST(Retry, StormDrainsQuotaThenStopsRetrying) {
  RetryQuota q;
  int sends = 0;
  const int calls = 200;
  for (int c = 0; c < calls; ++c) {
    RetryState s(RetryPolicy{}, &q, fixed(0.5));
    ++sends;
    while (s.on_failure(ErrorClass::kTransient, false).retry) ++sends;
  }
  EXPECT_EQ(q.available(), 0);
  EXPECT_EQ(sends, calls + 500 / 5);
  RetryState s(RetryPolicy{}, &q, fixed(0.5));
  EXPECT_EQ(s.on_failure(ErrorClass::kThrottled, false).reason, "retry quota exhausted");
  // Successes refill it one by one.
  for (int i = 0; i < 5; ++i) RetryState(RetryPolicy{}, &q, fixed(0.5)).on_success();
  EXPECT_EQ(q.available(), 5);
  EXPECT_TRUE(
      RetryState(RetryPolicy{}, &q, fixed(0.5)).on_failure(ErrorClass::kTransient, false).retry);
}

TEST(Retry, DefaultRandomStaysInUnitInterval) {
  const Random r = default_random();
  for (int i = 0; i < 1000; ++i) {
    const double u = r();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace sharekeeper::cloud
