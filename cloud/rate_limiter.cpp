#include "cloud/rate_limiter.hpp"

#include <algorithm>
#include <atomic>

namespace sharekeeper::cloud {
namespace {

std::atomic<std::uint64_t> g_reservations{0};
std::atomic<std::uint64_t> g_waited{0};
std::atomic<std::int64_t> g_wait_ns{0};

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

RateLimiter::RateLimiter(RateLimiterOptions options, TimePoint now)
    : options_(options),
      rate_(std::clamp(options.initial_rate, options.min_rate, options.max_rate)),
      tokens_(options.burst),
      last_refill_(now),
      last_decrease_(now),
      last_increase_(now) {}

void RateLimiter::refill(TimePoint now) {
  if (now > last_refill_) {
    tokens_ = std::min(options_.burst, tokens_ + seconds(now - last_refill_) * rate_);
    last_refill_ = now;
  }
}

std::chrono::nanoseconds RateLimiter::reserve(TimePoint now) {
  std::lock_guard lock(mu_);
  refill(now);
  tokens_ -= 1.0;
  g_reservations.fetch_add(1, std::memory_order_relaxed);
  if (tokens_ >= 0.0) return std::chrono::nanoseconds::zero();
  const auto wait = static_cast<std::int64_t>(-tokens_ / rate_ * 1e9);
  g_waited.fetch_add(1, std::memory_order_relaxed);
  g_wait_ns.fetch_add(wait, std::memory_order_relaxed);
  return std::chrono::nanoseconds{wait};
}

RateLimiterTotals rate_limiter_totals() {
  RateLimiterTotals t;
  t.reservations = g_reservations.load(std::memory_order_relaxed);
  t.waited = g_waited.load(std::memory_order_relaxed);
  t.wait = std::chrono::nanoseconds{g_wait_ns.load(std::memory_order_relaxed)};
  return t;
}

void RateLimiter::on_throttled(TimePoint now) {
  std::lock_guard lock(mu_);
  if (decreased_once_ && now - last_decrease_ < options_.decrease_cooldown) return;
  refill(now);  // tokens earned at the old rate are kept
  rate_ = std::max(options_.min_rate, rate_ * options_.decrease_factor);
  // Drop saved-up tokens: the service just said the current pace is too fast.
  tokens_ = std::min(tokens_, 0.0);
  decreased_once_ = true;
  last_decrease_ = now;
  last_increase_ = now;
}

void RateLimiter::on_success(TimePoint now) {
  std::lock_guard lock(mu_);
  if (now <= last_increase_) return;
  refill(now);
  rate_ = std::min(options_.max_rate,
                   rate_ + options_.increase_per_second * seconds(now - last_increase_));
  last_increase_ = now;
}

double RateLimiter::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

double RateLimiter::tokens(TimePoint now) {
  std::lock_guard lock(mu_);
  refill(now);
  return tokens_;
}

void RateLimiterSet::configure(std::string_view product, RateLimiterOptions options) {
  std::lock_guard lock(mu_);
  per_product_.insert_or_assign(std::string(product), options);
}

RateLimiter& RateLimiterSet::for_product(std::string_view product, RateLimiter::TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = limiters_.find(product);
  if (it == limiters_.end()) {
    auto o = per_product_.find(product);
    const RateLimiterOptions& options = o != per_product_.end() ? o->second : defaults_;
    it = limiters_.emplace(std::string(product), std::make_unique<RateLimiter>(options, now)).first;
  }
  return *it->second;
}

}  // namespace sharekeeper::cloud
