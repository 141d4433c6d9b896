#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace sharekeeper::daemon {
namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

GrantKey g(std::string share, std::string target) {
  return {"prod", std::move(share), "account", std::move(target)};
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, PreCreatesEverySeriesAtZero) {
  Metrics m("1.2.3");
  m.set_config({"prod"}, {g("golden", "1111222233334444")}, "abc123");
  const std::string t = m.serialize();
  EXPECT_TRUE(has_line(t, R"(sharekeeper_build_info{version="1.2.3"} 1)")) << t;
  EXPECT_TRUE(has_line(t, R"(sharekeeper_config_info{revision="abc123"} 1)"));
  EXPECT_TRUE(has_line(
      t,
      R"(sharekeeper_grant_ready{account="prod",share="golden",target="1111222233334444",target_type="account"} 0)"));
  for (const char* s : {"Ready", "Pending", "Blocked", "Failed", "Observed"})
    EXPECT_NE(t.find(std::string("state=\"") + s + "\""), std::string::npos) << s;
  for (const char* r : {"success", "error", "partial"})
    EXPECT_TRUE(has_line(
        t, std::string(R"(sharekeeper_reconcile_total{account="prod",result=")") + r + "\"} 0"));
  for (const char* o :
       {"trust_policy", "kms_policy", "attachment", "image_share", "resource_share"})
    EXPECT_TRUE(has_line(
        t,
        std::string(R"(sharekeeper_drift_detected_total{account="prod",object=")") + o + "\"} 0"));
  for (const char* r : {"success", "rejected", "unchanged"})
    EXPECT_TRUE(
        has_line(t, std::string(R"(sharekeeper_config_reloads_total{result=")") + r + "\"} 0"));
  EXPECT_TRUE(
      has_line(t, R"(sharekeeper_last_successful_reconcile_timestamp_seconds{account="prod"} 0)"));
  EXPECT_TRUE(has_line(t, R"(sharekeeper_reconcile_duration_seconds_count{account="prod"} 0)"));
  EXPECT_TRUE(
      has_line(t, R"(sharekeeper_revocations_blocked_total{reason="partial_observation"} 0)"));
}

TEST(Metrics, PublishesGrantStateOneHotAndReadyTimestamp) {
  Metrics m("1");
  m.set_config({"prod"}, {g("golden", "1111222233334444"), g("golden", "5555666677778888")}, "r1");
  m.publish_grants(
      {{g("golden", "1111222233334444"), GrantState::kReady, "", "", {}, ""},
       {g("golden", "5555666677778888"), GrantState::kBlocked, "service_key", "", {}, ""}},
      kNow);
  const std::string t = m.serialize();
  const std::string a = R"(account="prod",share="golden",)";
  EXPECT_TRUE(has_line(
      t, "sharekeeper_grant_ready{" + a + R"(target="1111222233334444",target_type="account"} 1)"));
  EXPECT_TRUE(has_line(
      t, "sharekeeper_grant_ready{" + a + R"(target="5555666677778888",target_type="account"} 0)"));
  EXPECT_TRUE(
      has_line(t, "sharekeeper_grant_state{" + a +
                      R"(state="Blocked",target="5555666677778888",target_type="account"} 1)"));
  EXPECT_TRUE(
      has_line(t, "sharekeeper_grant_state{" + a +
                      R"(state="Ready",target="5555666677778888",target_type="account"} 0)"));
  EXPECT_TRUE(has_line(t, "sharekeeper_grant_last_ready_timestamp_seconds{" + a +
                              R"(target="1111222233334444",target_type="account"} 1800000000)"));
}

TEST(Metrics, GrantSeriesAreDeletedWhenTheGrantLeavesTheConfig) {
  Metrics m("1");
  m.set_config({"prod", "dev"}, {g("golden", "1111222233334444"), g("old", "5555666677778888")},
               "r1");
  m.count_change("dev", "create_role");
  m.set_config({"prod"}, {g("golden", "1111222233334444")}, "r2");
  // A stale pass reporting the removed grant must not bring its series back.
  m.publish_grants({{g("old", "5555666677778888"), GrantState::kReady, "", "", {}, ""}}, kNow);
  m.observe_pass("dev", PassResult::kSuccess, 1.0, kNow);
  const std::string t = m.serialize();
  EXPECT_EQ(t.find("share=\"old\""), std::string::npos) << t;
  EXPECT_EQ(t.find("account=\"dev\""), std::string::npos);
  EXPECT_EQ(t.find("revision=\"r1\""), std::string::npos);
  EXPECT_NE(t.find("revision=\"r2\""), std::string::npos);
}

TEST(Metrics, PassApiAndReloadCounters) {
  Metrics m("1");
  m.set_config({"prod"}, {}, "r1");
  m.observe_pass("prod", PassResult::kSuccess, 2.0, kNow);
  m.observe_pass("prod", PassResult::kPartial, 1.0, kNow);
  m.count_drift("prod", "trust_policy", 2);
  m.count_change("prod", "update_trust_policy");
  m.count_revocations_blocked("max_revoke_fraction", 3);
  m.observe_api_call("ram", "GetRole", "OK", 0.02);
  m.observe_api_call("ram", "GetRole", "Throttling.User", 0.03);
  m.count_config_reload("rejected");
  m.count_config_reload("bogus");  // ignored, never a new series
  const std::string t = m.serialize();
  EXPECT_TRUE(has_line(t, R"(sharekeeper_reconcile_total{account="prod",result="success"} 1)"));
  EXPECT_TRUE(has_line(t, R"(sharekeeper_reconcile_total{account="prod",result="partial"} 1)"));
  EXPECT_TRUE(has_line(
      t, R"(sharekeeper_last_successful_reconcile_timestamp_seconds{account="prod"} 1800000000)"));
  EXPECT_TRUE(
      has_line(t, R"(sharekeeper_drift_detected_total{account="prod",object="trust_policy"} 2)"));
  EXPECT_TRUE(has_line(
      t, R"(sharekeeper_changes_total{account="prod",operation="update_trust_policy"} 1)"));
  EXPECT_TRUE(
      has_line(t, R"(sharekeeper_revocations_blocked_total{reason="max_revoke_fraction"} 3)"));
  EXPECT_TRUE(
      has_line(t, R"(sharekeeper_api_requests_total{action="GetRole",code="OK",product="ram"} 1)"));
  EXPECT_TRUE(has_line(
      t,
      R"(sharekeeper_api_requests_total{action="GetRole",code="Throttling.User",product="ram"} 1)"));
  EXPECT_TRUE(has_line(t, R"(sharekeeper_api_request_duration_seconds_count{product="ram"} 2)"));
  EXPECT_TRUE(has_line(t, R"(sharekeeper_config_reloads_total{result="rejected"} 1)"));
  EXPECT_TRUE(has_line(t, "sharekeeper_config_last_reload_successful 0"));
  EXPECT_EQ(t.find("bogus"), std::string::npos);
  m.count_config_reload("rejected");
  EXPECT_TRUE(has_line(m.serialize(), "sharekeeper_config_last_reload_successful 0"));
  m.count_config_reload("unchanged");
  EXPECT_TRUE(has_line(m.serialize(), "sharekeeper_config_last_reload_successful 1"));
}

TEST(Metrics, LabelValuesFromOutsideAreBounded) {
  Metrics m("1");
  m.observe_api_call("ram", "GetRole", "Weird code with spaces https://x?Signature=abc", 0.01);
  m.observe_api_call("ram", std::string(200, 'A'), "OK", 0.01);
  const std::string t = m.serialize();
  EXPECT_EQ(t.find("Signature"), std::string::npos);
  EXPECT_NE(t.find(R"(code="other")"), std::string::npos);
  EXPECT_NE(t.find(R"(action="other")"), std::string::npos);
}

TEST(Metrics, ExpositionPassesPromtoolCheckMetrics) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0)
      << "promtool (Debian package prometheus, installed by scripts/install-deps.sh) is required";
  Metrics m("0.1.0");
  m.set_config({"prod"}, {g("golden", "1111222233334444")}, "abc");
  m.publish_grants({{g("golden", "1111222233334444"), GrantState::kReady, "", "", {}, ""}}, kNow);
  m.observe_pass("prod", PassResult::kSuccess, 3.0, kNow);
  m.observe_api_call("ecs", "DescribeImages", "OK", 0.2);
  m.count_change("prod", "attach_policy");
  const auto path = std::filesystem::temp_directory_path() /
                    ("sk_metrics_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << m.serialize();
  const std::string cmd =
      "promtool check metrics < " + path.string() + " > " + path.string() + ".out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream out(path.string() + ".out");
  const std::string output((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << output;
  EXPECT_EQ(output, "") << output;  // no lint warnings either
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + ".out");
}

}  // namespace
}  // namespace sharekeeper::daemon
