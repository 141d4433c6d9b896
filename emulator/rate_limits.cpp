#include "emulator/rate_limits.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sharekeeper::emulator {
namespace {

using nlohmann::json;

double non_negative(const json& body, const char* field, double fallback) {
  if (!body.contains(field)) return fallback;
  const json& v = body[field];
  if (!v.is_number() || v.get<double>() < 0 || !std::isfinite(v.get<double>()))
    throw std::invalid_argument(std::string(field) + " must be a number >= 0");
  return v.get<double>();
}

}  // namespace

RateLimitConfig RateLimitConfig::parse(const json& body) {
  if (!body.is_object()) throw std::invalid_argument("rate limits must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "perSecond" && key != "burst" && key != "products")
      throw std::invalid_argument("unknown field: " + key);
  }
  RateLimitConfig c;
  c.per_second = non_negative(body, "perSecond", 0);
  c.burst = non_negative(body, "burst", 0);
  if (body.contains("products")) {
    const json& products = body["products"];
    if (!products.is_object())
      throw std::invalid_argument("products must be an object of product: calls per second");
    for (const auto& [product, rate] : products.items()) {
      if (product.empty()) throw std::invalid_argument("products: empty product name");
      if (!rate.is_number() || rate.get<double>() < 0 || !std::isfinite(rate.get<double>()))
        throw std::invalid_argument("products." + product + " must be a number >= 0");
      c.products[product] = rate.get<double>();
    }
  }
  return c;
}

json RateLimitConfig::to_json() const {
  json rates = json::object();
  for (const auto& [product, rate] : products) rates[product] = rate;
  return json{{"perSecond", per_second}, {"burst", burst}, {"products", rates}};
}

RateLimits::RateLimits(RateLimitConfig config) : config_(std::move(config)) {}

double RateLimits::rate_of(std::string_view product) const {
  if (auto it = config_.products.find(product); it != config_.products.end()) return it->second;
  return config_.per_second;
}

double RateLimits::burst_of(double rate) const {
  return config_.burst > 0 ? config_.burst : std::max(1.0, rate);
}

bool RateLimits::allow(std::string_view account, std::string_view product,
                       SteadyClock::time_point now, std::chrono::milliseconds* retry_after) {
  std::lock_guard lock(mutex_);
  auto counter = counters_.find(product);
  if (counter == counters_.end())
    counter = counters_.emplace(std::string(product), Counters{}).first;
  auto of_account = by_account_.find(account);
  if (of_account == by_account_.end())
    of_account =
        by_account_.emplace(std::string(account), decltype(by_account_)::mapped_type{}).first;
  auto account_counter = of_account->second.find(product);
  if (account_counter == of_account->second.end())
    account_counter = of_account->second.emplace(std::string(product), Counters{}).first;
  auto count = [&](bool allowed) {
    ++(allowed ? counter->second.allowed : counter->second.throttled);
    ++(allowed ? account_counter->second.allowed : account_counter->second.throttled);
    return allowed;
  };
  const double rate = rate_of(product);
  if (rate <= 0) return count(true);
  const double burst = burst_of(rate);
  std::string key;
  key.reserve(account.size() + product.size() + 1);
  key.append(account).append("/").append(product);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) it = buckets_.emplace(std::move(key), Bucket{burst, now}).first;
  Bucket& bucket = it->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return count(true);
  }
  count(false);
  if (retry_after != nullptr) {
    *retry_after = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::ceil((1.0 - bucket.tokens) / rate * 1000.0)));
  }
  return false;
}

void RateLimits::count_write(std::string_view account, std::string_view product) {
  std::lock_guard lock(mutex_);
  auto of_account = by_account_.find(account);
  if (of_account == by_account_.end()) return;
  auto c = of_account->second.find(product);
  if (c != of_account->second.end()) ++c->second.writes;
  if (auto p = counters_.find(product); p != counters_.end()) ++p->second.writes;
}

bool RateLimits::is_read(std::string_view action) {
  for (std::string_view prefix : {"Get", "List", "Describe", "Query", "Check"})
    if (action.substr(0, prefix.size()) == prefix) return true;
  return false;
}

void RateLimits::configure(RateLimitConfig config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
  buckets_.clear();
}

RateLimitConfig RateLimits::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

json RateLimits::to_json() const {
  std::lock_guard lock(mutex_);
  json out = config_.to_json();
  json counters = json::object();
  for (const auto& [product, c] : counters_)
    counters[product] =
        json{{"allowed", c.allowed}, {"throttled", c.throttled}, {"writes", c.writes}};
  out["calls"] = std::move(counters);
  json accounts = json::object();
  for (const auto& [account, products] : by_account_) {
    json of = json::object();
    for (const auto& [product, c] : products)
      of[product] = json{{"allowed", c.allowed}, {"throttled", c.throttled}, {"writes", c.writes}};
    accounts[account] = std::move(of);
  }
  out["accounts"] = std::move(accounts);
  return out;
}

void RateLimits::reset_counters() {
  std::lock_guard lock(mutex_);
  counters_.clear();
  by_account_.clear();
}

LatencyConfig LatencyConfig::parse(const json& body) {
  if (!body.is_object()) throw std::invalid_argument("latency must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "fixedMs" && key != "jitterMs") throw std::invalid_argument("unknown field: " + key);
  }
  auto ms = [&](const char* field) {
    const double v = non_negative(body, field, 0);
    if (v > 600'000) throw std::invalid_argument(std::string(field) + " must be <= 600000");
    return std::chrono::milliseconds(static_cast<std::int64_t>(v));
  };
  return LatencyConfig{ms("fixedMs"), ms("jitterMs")};
}

json LatencyConfig::to_json() const {
  return json{{"fixedMs", fixed.count()}, {"jitterMs", jitter.count()}};
}

Latency::Latency(LatencyConfig config, std::uint64_t seed) : config_(config), random_(seed) {}

std::chrono::microseconds Latency::next() {
  std::lock_guard lock(mutex_);
  std::chrono::microseconds out = config_.fixed;
  if (config_.jitter.count() > 0) {
    std::uniform_int_distribution<std::int64_t> draw(
        0, std::chrono::microseconds(config_.jitter).count());
    out += std::chrono::microseconds(draw(random_));
  }
  return out;
}

void Latency::configure(LatencyConfig config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

LatencyConfig Latency::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

}  // namespace sharekeeper::emulator
