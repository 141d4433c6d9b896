// Fault rules (parsing, matching, nth/probability/times, latency stacking, determinism), the
// per-account rate limiter with an injected clock, and the request journal's bounds.
#include "emulator/faults.hpp"

#include <gtest/gtest.h>

#include "emulator/journal.hpp"

namespace sharekeeper::emulator {
namespace {

using nlohmann::json;

FaultRule parse(const char* text) { return FaultInjector::parse_rule(json::parse(text)); }

TEST(FaultsTest, ParsesARuleWithDefaults) {
  const FaultRule rule = parse(R"({"action":"CreateRole","code":"Throttling.User"})");
  EXPECT_EQ(rule.action, "CreateRole");
  EXPECT_EQ(rule.status, 400);
  EXPECT_FALSE(rule.message.empty());
  EXPECT_FALSE(rule.after_commit);
  EXPECT_EQ(parse(R"({"code":"ServiceUnavailable"})").status, 503);
  EXPECT_EQ(parse(R"({"code":"EntityNotExist.Role"})").status, 404);
  EXPECT_EQ(parse(R"({"status":503})").code, "ServiceUnavailable");
  EXPECT_EQ(parse(R"({"status":500})").code, "InternalError");
  EXPECT_EQ(parse(R"({"latencyMs":250})").latency, std::chrono::milliseconds(250));
  EXPECT_EQ(parse(R"({"code":"X","status":418,"message":"m"})").message, "m");
}

TEST(FaultsTest, RejectsRulesThatAreWrongOrDoNothing) {
  for (const char* bad : {
           R"([])",                                      // not an object
           R"({"action":"A"})",                          // does nothing
           R"({"action":"A","code":"X","nht":2})",       // typo'd field
           R"({"action":"","code":"X"})",                // empty action
           R"({"code":"X","probability":1.5})",          // probability out of range
           R"({"code":"X","probability":0.5,"nth":2})",  // both
           R"({"code":"X","nth":0})",                    // nth is 1-based
           R"({"code":"X","status":200})",               // not an error status
           R"({"code":"X","drop":true})",                // drop and code
           R"({"latencyMs":10,"retryAfterMs":5})",       // retry-after without an error
           R"({"latencyMs":-1})",                        // negative latency
           R"({"code":7})",                              // wrong type
       }) {
    EXPECT_THROW(FaultInjector::parse_rule(json::parse(bad)), std::invalid_argument) << bad;
  }
}

TEST(FaultsTest, AddIsAllOrNothing) {
  FaultInjector faults;
  EXPECT_THROW(faults.add(json::parse(R"([{"code":"X"},{"action":"A"}])")), std::invalid_argument);
  EXPECT_TRUE(faults.to_json().at("rules").empty());
  const auto ids = faults.add(json::parse(R"({"rules":[{"code":"X"},{"latencyMs":5}]})"));
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1, 2}));
  faults.clear();
  EXPECT_TRUE(faults.to_json().at("rules").empty());
}

TEST(FaultsTest, NthFiresOnceOnTheNthMatchingCall) {
  FaultInjector faults;
  faults.add(json::parse(R"({"action":"CreateRole","nth":3,"code":"InternalError"})"));
  std::vector<bool> fired;
  for (int i = 0; i < 5; ++i) {
    faults.decide("ram", "GetRole", "1");  // other actions do not count
    fired.push_back(faults.decide("ram", "CreateRole", "1").fail);
  }
  EXPECT_EQ(fired, (std::vector<bool>{false, false, true, false, false}));
  const json rule = faults.to_json().at("rules")[0];
  EXPECT_EQ(rule.at("matched"), 5);
  EXPECT_EQ(rule.at("fired"), 1);
}

TEST(FaultsTest, FiltersOnProductAndAccount) {
  FaultInjector faults;
  faults.add(json::parse(R"({"product":"ecs","account":"111","code":"Forbidden.RAM"})"));
  EXPECT_FALSE(faults.decide("ram", "TagResources", "111").fail);
  EXPECT_FALSE(faults.decide("ecs", "TagResources", "222").fail);
  const FaultDecision d = faults.decide("ecs", "TagResources", "111");
  EXPECT_TRUE(d.fail);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.rule_id, 1u);
}

TEST(FaultsTest, TimesBoundsHowOftenARuleFires) {
  FaultInjector faults;
  faults.add(json::parse(R"({"code":"ServiceUnavailable","times":2})"));
  int failures = 0;
  for (int i = 0; i < 10; ++i) failures += faults.decide("ram", "GetRole", "1").fail ? 1 : 0;
  EXPECT_EQ(failures, 2);
}

TEST(FaultsTest, ProbabilityIsDeterministicForASeed) {
  auto run = [](std::uint64_t seed) {
    FaultInjector faults(seed);
    faults.add(json::parse(R"({"probability":0.3,"code":"Throttling.User"})"));
    std::vector<bool> out;
    for (int i = 0; i < 200; ++i) out.push_back(faults.decide("ram", "GetRole", "1").fail);
    return out;
  };
  const auto a = run(42), b = run(42), c = run(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const auto fired = std::count(a.begin(), a.end(), true);
  EXPECT_GT(fired, 20);  // 0.3 * 200 = 60 expected; a seeded draw, so no flakiness
  EXPECT_LT(fired, 100);

  FaultInjector never(1), always(1);
  never.add(json::parse(R"({"probability":0,"code":"X"})"));
  always.add(json::parse(R"({"probability":1,"code":"X"})"));
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(never.decide("ram", "GetRole", "1").fail);
    EXPECT_TRUE(always.decide("ram", "GetRole", "1").fail);
  }
}

TEST(FaultsTest, LatencyStacksAndTheFirstErrorWins) {
  FaultInjector faults;
  faults.add(json::parse(R"({"latencyMs":100})"));
  faults.add(
      json::parse(R"({"action":"CreateRole","latencyMs":50,"code":"A","afterCommit":true})"));
  faults.add(json::parse(R"({"action":"CreateRole","code":"B"})"));
  const FaultDecision d = faults.decide("ram", "CreateRole", "1");
  EXPECT_EQ(d.latency, std::chrono::milliseconds(100));
  EXPECT_EQ(d.latency_after, std::chrono::milliseconds(50));
  EXPECT_EQ(d.code, "A");
  EXPECT_TRUE(d.after_commit);
  const FaultDecision other = faults.decide("ram", "GetRole", "1");
  EXPECT_EQ(other.latency, std::chrono::milliseconds(100));
  EXPECT_FALSE(other.fail);
  const json rules = faults.to_json().at("rules");
  // Rules after the one that decided are not evaluated, so their nth counters do not move.
  EXPECT_EQ(rules[2].at("matched"), 0);
  EXPECT_EQ(rules[2].at("fired"), 0);
}

TEST(FaultsTest, DropRule) {
  FaultInjector faults;
  faults.add(json::parse(R"({"action":"ModifyImageSharePermission","drop":true,"afterCommit":true,
                             "latencyMs":30000})"));
  const FaultDecision d = faults.decide("ecs", "ModifyImageSharePermission", "1");
  EXPECT_TRUE(d.drop);
  EXPECT_FALSE(d.fail);
  EXPECT_TRUE(d.after_commit);
  EXPECT_EQ(d.latency_after, std::chrono::seconds(30));
  EXPECT_EQ(d.latency, std::chrono::seconds(0));
}

TEST(FaultsTest, LateAnswerAfterCommitAndRetryAfter) {
  FaultInjector faults;
  faults.add(json::parse(R"({"action":"CreateRole","latencyMs":20000,"afterCommit":true})"));
  faults.add(json::parse(R"({"action":"GetRole","code":"Throttling.User","retryAfterMs":250})"));
  const FaultDecision late = faults.decide("ram", "CreateRole", "1");
  EXPECT_FALSE(late.fail);
  EXPECT_FALSE(late.drop);
  EXPECT_EQ(late.latency_after, std::chrono::seconds(20));
  const FaultDecision throttled = faults.decide("ram", "GetRole", "1");
  EXPECT_TRUE(throttled.fail);
  EXPECT_EQ(throttled.retry_after, std::chrono::milliseconds(250));
  EXPECT_EQ(faults.to_json().at("rules")[1].at("retryAfterMs"), 250);
}

TEST(JournalTest, KeepsTheNewestEntriesAndFilters) {
  Journal journal(3);
  for (int i = 0; i < 5; ++i) {
    JournalEntry e;
    e.action = i % 2 == 0 ? "GetRole" : "CreateRole";
    e.status = 200;
    journal.record(e);
  }
  const auto entries = journal.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries.front().seq, 3u);
  EXPECT_EQ(entries.back().seq, 5u);
  EXPECT_EQ(journal.to_json(0, "GetRole").at("requests").size(), 2u);
  EXPECT_EQ(journal.to_json(4).at("requests").size(), 1u);
  journal.clear();
  EXPECT_TRUE(journal.entries().empty());
}

}  // namespace
}  // namespace sharekeeper::emulator
