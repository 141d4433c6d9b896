#pragma once
// The emulator's flow control and distance, kept apart from fault injection (faults.hpp):
//
// - RateLimits: a token bucket per (caller account, product), answering `Throttling.User` (HTTP
//   400, "Request was denied due to user flow control.") like the real gateway when a bucket is
//   empty. Each bucket refills at `per_second` and holds up to `burst` tokens; a product may have
//   its own rate. Set by --rate-limit/--rate-limit-burst and POST /_emulator/rate-limits.
// - Latency: a fixed delay plus a uniform jitter added to every API call (a distant region), set
//   by --latency-ms/--latency-jitter-ms and POST /_emulator/latency.
//
// Both are pure decision objects: the caller passes the time (tests use any steady time point, so
// nothing sleeps) and the server does the waiting. Thread-safe: every public method takes the
// object's mutex.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sharekeeper::emulator {

struct RateLimitConfig {
  double per_second = 0;  // calls per second per account and product; 0 = unlimited
  double burst = 0;       // bucket size; 0 = max(1, per_second)
  // Products with their own rate (same burst rule): "ram", "sts", "ecs", "kms", "resourcesharing".
  std::map<std::string, double, std::less<>> products;

  // {"perSecond": N, "burst": N, "products": {"ecs": N, ...}}; throws std::invalid_argument naming
  // the bad field.
  static RateLimitConfig parse(const nlohmann::json& body);
  nlohmann::json to_json() const;
};

class RateLimits {
 public:
  using SteadyClock = std::chrono::steady_clock;
  explicit RateLimits(RateLimitConfig config = {});

  // False when the (account, product) bucket is empty; `retry_after` then says when a token frees
  // up (sent as x-acs-retry-after). Counts every decision for GET /_emulator/rate-limits.
  bool allow(std::string_view account, std::string_view product, SteadyClock::time_point now,
             std::chrono::milliseconds* retry_after = nullptr);

  // Counts an allowed call that changes something (not Get*, List*, Describe*): benchmarks tell
  // the reads a pass needs from the writes it makes.
  void count_write(std::string_view account, std::string_view product);
  static bool is_read(std::string_view action);

  // Replaces the configuration and refills every bucket (POST /_emulator/rate-limits).
  void configure(RateLimitConfig config);
  RateLimitConfig config() const;
  // The configuration plus the calls allowed and throttled since the last reset: per product
  // ("calls") and per account and product ("accounts": {uid: {product: {...}}}), which is what a
  // benchmark needs for its lower bound.
  nlohmann::json to_json() const;
  void reset_counters();

 private:
  struct Bucket {
    double tokens = 0;
    SteadyClock::time_point updated;
  };
  struct Counters {
    std::uint64_t allowed = 0;
    std::uint64_t throttled = 0;
    std::uint64_t writes = 0;  // of `allowed`
  };
  double rate_of(std::string_view product) const;  // mutex held
  double burst_of(double rate) const;              // mutex held

  mutable std::mutex mutex_;
  RateLimitConfig config_;
  std::map<std::string, Bucket, std::less<>> buckets_;     // "account/product"
  std::map<std::string, Counters, std::less<>> counters_;  // by product
  std::map<std::string, std::map<std::string, Counters, std::less<>>, std::less<>> by_account_;
};

struct LatencyConfig {
  std::chrono::milliseconds fixed{0};
  std::chrono::milliseconds jitter{0};  // uniform in [0, jitter] on top of `fixed`

  // {"fixedMs": N, "jitterMs": N}; throws std::invalid_argument naming the bad field.
  static LatencyConfig parse(const nlohmann::json& body);
  nlohmann::json to_json() const;
};

class Latency {
 public:
  explicit Latency(LatencyConfig config = {}, std::uint64_t seed = 1);
  // The delay of one call: fixed + a uniform draw in [0, jitter] (deterministic per seed).
  std::chrono::microseconds next();
  void configure(LatencyConfig config);
  LatencyConfig config() const;

 private:
  mutable std::mutex mutex_;
  LatencyConfig config_;
  std::mt19937_64 random_;
};

}  // namespace sharekeeper::emulator
