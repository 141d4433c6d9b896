// The emulator's flow control (per account and product token buckets) and emulated distance, as
// decision objects on explicit time points: nothing sleeps.
#include "emulator/rate_limits.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sharekeeper::emulator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
const auto t0 = RateLimits::SteadyClock::time_point{} + std::chrono::hours(1);

TEST(RateLimitsTest, OneBucketPerAccountAndProduct) {
  RateLimits limits(RateLimitConfig{2, 0, {}});
  EXPECT_TRUE(limits.allow("a", "ecs", t0));
  EXPECT_TRUE(limits.allow("a", "ecs", t0));
  milliseconds retry{0};
  EXPECT_FALSE(limits.allow("a", "ecs", t0, &retry));
  EXPECT_EQ(retry, milliseconds(500));
  EXPECT_TRUE(limits.allow("a", "ram", t0));  // another product of the same account
  EXPECT_TRUE(limits.allow("b", "ecs", t0));  // another account
  EXPECT_TRUE(limits.allow("a", "ecs", t0 + milliseconds(500)));
  EXPECT_FALSE(limits.allow("a", "ecs", t0 + milliseconds(500)));
  // The bucket holds `burst` (default: the rate) however long the account was idle.
  EXPECT_TRUE(limits.allow("a", "ecs", t0 + seconds(10)));
  EXPECT_TRUE(limits.allow("a", "ecs", t0 + seconds(10)));
  EXPECT_FALSE(limits.allow("a", "ecs", t0 + seconds(10)));
}

TEST(RateLimitsTest, SustainedRateIsTheRefillRate) {
  // 20 calls a second offered 100 a second for 10 s: the burst plus 20 per second get through.
  RateLimits limits(RateLimitConfig{20, 20, {}});
  int allowed = 0;
  for (int i = 0; i < 1000; ++i)
    if (limits.allow("a", "ecs", t0 + milliseconds(10 * i))) ++allowed;
  EXPECT_GE(allowed, 20 + 199);
  EXPECT_LE(allowed, 20 + 200);
  const auto calls = limits.to_json().at("calls").at("ecs");
  EXPECT_EQ(calls.at("allowed").get<int>(), allowed);
  EXPECT_EQ(calls.at("throttled").get<int>(), 1000 - allowed);
  EXPECT_EQ(limits.to_json().at("accounts").at("a").at("ecs"), calls);
  limits.count_write("a", "ecs");
  EXPECT_EQ(limits.to_json().at("accounts").at("a").at("ecs").at("writes"), 1);
  EXPECT_TRUE(RateLimits::is_read("DescribeImages"));
  EXPECT_TRUE(RateLimits::is_read("ListTagResources"));
  EXPECT_FALSE(RateLimits::is_read("ModifyImageSharePermission"));
  EXPECT_FALSE(RateLimits::is_read("CreateRole"));
  limits.reset_counters();
  EXPECT_TRUE(limits.to_json().at("accounts").empty());
}

TEST(RateLimitsTest, ProductRatesBurstAndUnlimited) {
  RateLimits limits(RateLimitConfig{1, 3, {{"ram", 0}, {"kms", 10}}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.allow("a", "ecs", t0));
  EXPECT_FALSE(limits.allow("a", "ecs", t0));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limits.allow("a", "ram", t0));  // 0: unlimited
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limits.allow("a", "kms", t0));    // the burst is shared
  EXPECT_FALSE(limits.allow("a", "kms", t0));
  EXPECT_TRUE(limits.allow("a", "kms", t0 + milliseconds(100)));  // refilled at its own 10/s

  limits.configure(RateLimitConfig{});  // unlimited again, buckets forgotten
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limits.allow("a", "ecs", t0));
  RateLimits unlimited;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(unlimited.allow("a", "ecs", t0));
}

TEST(RateLimitsTest, ParsesAndRefusesConfigs) {
  const auto c = RateLimitConfig::parse(
      nlohmann::json::parse(R"({"perSecond": 20, "burst": 40, "products": {"ecs": 10}})"));
  EXPECT_EQ(c.per_second, 20);
  EXPECT_EQ(c.burst, 40);
  EXPECT_EQ(c.products.at("ecs"), 10);
  EXPECT_EQ(RateLimitConfig::parse(c.to_json()).to_json(), c.to_json());
  for (const char* bad : {R"({"perSecond": -1})", R"({"persecond": 1})", R"({"burst": "x"})",
                          R"({"products": {"ecs": -2}})", R"({"products": [1]})", "[]"}) {
    EXPECT_THROW(RateLimitConfig::parse(nlohmann::json::parse(bad)), std::invalid_argument) << bad;
  }
}

TEST(LatencyTest, FixedPlusUniformJitterDeterministicPerSeed) {
  Latency a(LatencyConfig{milliseconds(30), milliseconds(10)}, 7);
  Latency b(LatencyConfig{milliseconds(30), milliseconds(10)}, 7);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto d = a.next();
    EXPECT_EQ(d, b.next());
    EXPECT_GE(d, milliseconds(30));
    EXPECT_LE(d, milliseconds(40));
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 100u);  // really drawn, not a constant
  a.configure(LatencyConfig{milliseconds(5), milliseconds(0)});
  EXPECT_EQ(a.next(), milliseconds(5));
  EXPECT_EQ(
      LatencyConfig::parse(nlohmann::json::parse(R"({"fixedMs": 30, "jitterMs": 5})")).to_json(),
      (nlohmann::json{{"fixedMs", 30}, {"jitterMs", 5}}));
  EXPECT_THROW(LatencyConfig::parse(nlohmann::json::parse(R"({"fixedMs": -1})")),
               std::invalid_argument);
  EXPECT_THROW(LatencyConfig::parse(nlohmann::json::parse(R"({"fixedMs": 700000})")),
               std::invalid_argument);
  EXPECT_THROW(LatencyConfig::parse(nlohmann::json::parse(R"({"rtt": 1})")), std::invalid_argument);
}

}  // namespace
}  // namespace sharekeeper::emulator
