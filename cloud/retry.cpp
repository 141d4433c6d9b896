#include "cloud/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace sharekeeper::cloud {

RetryQuota::RetryQuota(Options options) : options_(options), available_(options.capacity) {}

int RetryQuota::acquire(ErrorClass cls) {
  const int cost = cls == ErrorClass::kOutcomeUnknown ? options_.timeout_cost : options_.retry_cost;
  int current = available_.load();
  while (current >= cost) {
    if (available_.compare_exchange_weak(current, current - cost)) return cost;
  }
  return 0;
}

void RetryQuota::release(int acquired_by_call) {
  const int refund = acquired_by_call > 0 ? acquired_by_call : options_.success_refund;
  int current = available_.load();
  int next = 0;
  do {
    next = std::min(options_.capacity, current + refund);
  } while (!available_.compare_exchange_weak(current, next));
}

Random default_random() {
  return [] {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  };
}

RetryState::RetryState(const RetryPolicy& policy, RetryQuota* quota, Random random)
    : policy_(policy), quota_(quota), random_(random ? std::move(random) : default_random()) {}

std::chrono::milliseconds RetryState::backoff(const RetryPolicy& policy, bool throttled, int retry,
                                              double u) {
  const auto base = static_cast<double>((throttled ? policy.throttle_base : policy.base).count());
  const auto cap = static_cast<double>(policy.cap.count());
  const double ceiling = std::min(cap, base * std::ldexp(1.0, std::clamp(retry - 1, 0, 30)));
  const double clamped_u = std::clamp(u, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(ceiling * clamped_u))};
}

RetryDecision RetryState::on_failure(ErrorClass cls, bool read_only,
                                     std::optional<std::chrono::milliseconds> retry_after) {
  RetryDecision d;
  const bool retryable = cls == ErrorClass::kTransient || cls == ErrorClass::kThrottled ||
                         (cls == ErrorClass::kOutcomeUnknown && read_only);
  if (!retryable) {
    d.reason = cls == ErrorClass::kOutcomeUnknown ? "write outcome unknown: re-observe first"
                                                  : "not retryable";
    return d;
  }
  if (attempts_ >= policy_.max_attempts) {
    d.reason = "attempts exhausted";
    return d;
  }
  if (quota_ != nullptr) {
    const int cost = quota_->acquire(cls);
    if (cost == 0) {
      d.reason = "retry quota exhausted";
      return d;
    }
    acquired_ += cost;
  }
  d.delay = backoff(policy_, cls == ErrorClass::kThrottled, attempts_, random_());
  if (retry_after && *retry_after > d.delay) d.delay = std::min(*retry_after, policy_.cap);
  ++attempts_;
  d.retry = true;
  return d;
}

void RetryState::on_success() {
  if (quota_ != nullptr) quota_->release(acquired_);
  acquired_ = 0;
}

}  // namespace sharekeeper::cloud
