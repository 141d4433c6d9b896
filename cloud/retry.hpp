#pragma once
// Retry decisions as a small state machine (no sleeping inside): exponential backoff with full
// jitter, x-acs-retry-after honoured, and a shared retry quota modelled on the AWS SDK's standard
// mode so a storm of failures cannot multiply the load (docs/failure-matrix.md §0.1, §6).
//
// Thread-safety: RetryQuota and SystemClock are thread-safe; RetryState belongs to one call;
// ManualClock is thread-safe (tests share it with the client under test).
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "cloud/result.hpp"

namespace sharekeeper::cloud {

// Time source and sleeper, injectable so tests never sleep.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  // Wall clock, for x-acs-date / Timestamp.
  virtual std::chrono::system_clock::time_point wall_now() = 0;
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::now();
  }
  void sleep_for(std::chrono::nanoseconds d) override;
};

// A clock that moves only when told to; sleep_for() advances it and records the total slept.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(
      std::chrono::system_clock::time_point wall = std::chrono::system_clock::time_point{
          std::chrono::seconds{1'700'000'000}});
  std::chrono::steady_clock::time_point now() override;
  std::chrono::system_clock::time_point wall_now() override;
  void sleep_for(std::chrono::nanoseconds d) override;
  void advance(std::chrono::nanoseconds d);
  std::chrono::nanoseconds slept() const;

 private:
  mutable std::mutex mu_;
  std::chrono::nanoseconds offset_{0};
  std::chrono::nanoseconds slept_{0};
  std::chrono::system_clock::time_point wall_;
};

struct RetryPolicy {
  int max_attempts = 4;  // first try included
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds throttle_base{500};  // throttling waits longer from the start
  std::chrono::milliseconds cap{20'000};
};

// The AWS "retry quota": a bucket that retries draw from and successes refill. When it is empty,
// calls still run once but are not retried, so a failing dependency sees at most ~1x the normal
// load.
class RetryQuota {
 public:
  struct Options {
    int capacity = 500;
    int retry_cost = 5;
    int timeout_cost = 10;   // timeouts are likelier to mean an overloaded server
    int success_refund = 1;  // a success that needed no retry
  };
  RetryQuota() : RetryQuota(Options{}) {}
  explicit RetryQuota(Options options);
  // Takes the cost of one retry after an error of class `cls`; 0 when the quota cannot pay.
  int acquire(ErrorClass cls);
  // A success: refunds what this call's retries took, or success_refund if it needed none.
  void release(int acquired_by_call);
  int available() const { return available_.load(); }
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::atomic<int> available_;
};

// Uniform random number in [0, 1), injectable for deterministic jitter in tests.
using Random = std::function<double()>;
Random default_random();

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  std::string reason;  // why not ("not retryable", "attempts exhausted", "retry quota exhausted")
};

// One call's retry state. After each failed attempt the caller asks on_failure() what to do.
class RetryState {
 public:
  RetryState(const RetryPolicy& policy, RetryQuota* quota, Random random);
  // `read_only`: the action changes nothing, so an unknown outcome can be retried safely.
  // `retry_after`: the server's x-acs-retry-after (the SDK reads it as milliseconds).
  RetryDecision on_failure(ErrorClass cls, bool read_only,
                           std::optional<std::chrono::milliseconds> retry_after = std::nullopt);
  void on_success();
  int attempts() const { return attempts_; }

  // Full jitter: uniform in [0, min(cap, base * 2^(retry-1))], retry counted from 1.
  static std::chrono::milliseconds backoff(const RetryPolicy& policy, bool throttled, int retry,
                                           double u);

 private:
  RetryPolicy policy_;
  RetryQuota* quota_;
  Random random_;
  int attempts_ = 1;
  int acquired_ = 0;
};

}  // namespace sharekeeper::cloud
