// `sharekeeper run` and `sharekeeper-emulator` as real processes on loopback, port 0 (issue 6 "Done
// when"): readiness; grants Ready in metrics and status; drift made through the cloud API corrected
// at the next interval and at once by POST /reconcile (401 without the token); a broken config on
// reload rejected while the grants stay Ready; graceful SIGTERM; no secret in logs, metrics or
// status.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"
#include "daemon_harness.hpp"
#include "emulator_client.hpp"

namespace sharekeeper::daemon::testing {
namespace {

constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";
constexpr const char* kImagePolicy = "sharekeeper-ecs-share-image-kms-1";
const std::string kGrantA =
    R"(sharekeeper_grant_ready{account="prod",share="golden-images",target="1111222233334444",target_type="account"})";
const std::string kGrantB =
    R"(sharekeeper_grant_ready{account="prod",share="golden-images",target="5555666677778888",target_type="account"})";
const std::string kAttachmentDrift =
    R"(sharekeeper_drift_detected_total{account="prod",object="attachment"})";

// A person in the console: the sharer's own signed API calls to the emulator.
std::unique_ptr<cloud::AlibabaClient> console(const std::string& url) {
  return sharekeeper::testing::emulator_client(url, kSharerKeyId, kSharerSecret);
}

bool attached(cloud::CloudApi& api) {
  auto r = api.list_policies_for_role(kImageRole);
  if (!r.ok()) return false;
  for (const auto& p : r.value())
    if (p.policy_name == kImagePolicy) return true;
  return false;
}

class DaemonProcessTest : public ::testing::Test {
 protected:
  void start(const std::string& interval) {
    emulator_ = std::make_unique<Emulator>(dir_.path);
    write_file_atomic(dir_.path / "config.yaml", single_account_config(interval));
    daemon_ = std::make_unique<Daemon>(dir_.path, emulator_->url);
    ASSERT_TRUE(eventually([&] { return daemon_->get("/readyz").status == 200; }))
        << daemon_->logs();
  }
  void TearDown() override {
    if (daemon_ && daemon_->proc->running()) {
      daemon_->proc->signal(SIGTERM);
      daemon_->proc->wait(30s);
    }
  }
  TempDir dir_;
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(DaemonProcessTest, ReadyWithGrantsReadyInMetricsAndStatus) {
  start("5m");
  const std::string m = daemon_->get("/metrics").body;
  EXPECT_EQ(metric(m, kGrantA), 1.0) << m;
  EXPECT_EQ(metric(m, kGrantB), 1.0);
  EXPECT_EQ(metric(m, R"(sharekeeper_reconcile_total{account="prod",result="success"})"), 1.0);
  EXPECT_GT(
      metric(m, R"(sharekeeper_api_requests_total{action="CreateRole",code="OK",product="ram"})")
          .value_or(0),
      0);
  const auto s = nlohmann::json::parse(daemon_->get("/status").body);
  ASSERT_EQ(s["grants"].size(), 2u);
  for (const auto& g : s["grants"]) {
    EXPECT_EQ(g["state"], "Ready") << g.dump();
    // The seed shares nothing; with manageShares (the default) Ready means the RAM/KMS side is
    // complete and the resource is shared with the target, and the status says so per resource.
    ASSERT_FALSE(g["resources"].empty()) << g.dump();
    for (const auto& r : g["resources"]) EXPECT_EQ(r["sharing"], "shared") << g.dump();
  }
  EXPECT_EQ(s["accounts"][0]["lastReconcile"]["result"], "success");
  const auto p = nlohmann::json::parse(daemon_->get("/plan").body);
  EXPECT_TRUE(p["accounts"].contains("prod"));
  EXPECT_EQ(daemon_->get("/healthz").status, 200);
}

TEST_F(DaemonProcessTest, DriftIsCorrectedAtTheNextInterval) {
  start("2s");
  auto api = console(emulator_->url);
  ASSERT_TRUE(attached(*api));
  ASSERT_TRUE(api->detach_policy_from_role("Custom", kImagePolicy, kImageRole).ok());
  ASSERT_FALSE(attached(*api));
  ASSERT_TRUE(eventually([&] { return attached(*api); })) << daemon_->logs();
  ASSERT_TRUE(eventually(
      [&] { return metric(daemon_->get("/metrics").body, kAttachmentDrift).value_or(0) >= 1; }));
  EXPECT_EQ(metric(daemon_->get("/metrics").body, kGrantA), 1.0);
  // Each audit record names its write by the RequestId the emulator journaled for it.
  const auto journal = nlohmann::json::parse(
      http_request(emulator_->port, "GET", "/_emulator/requests?action=AttachPolicyToRole").body);
  std::set<std::string> journaled;
  for (const auto& e : journal.at("requests"))
    if (e.at("code") == "") journaled.insert(e.at("requestId").get<std::string>());
  bool audited = false;
  std::istringstream lines(daemon_->logs());
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("operation":"attach_policy")") == std::string::npos) continue;
    const auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record.at("audit"), "true");
    EXPECT_EQ(record.at("apiCalls"), "AttachPolicyToRole") << line;
    EXPECT_EQ(journaled.count(record.at("requestId").get<std::string>()), 1U) << line << "\n"
                                                                              << journal.dump();
    audited = true;
  }
  EXPECT_TRUE(audited) << daemon_->logs();
}

TEST_F(DaemonProcessTest, PostReconcileCorrectsDriftAtOnceAndNeedsTheToken) {
  start("1h");
  auto api = console(emulator_->url);
  ASSERT_TRUE(api->detach_policy_from_role("Custom", kImagePolicy, kImageRole).ok());
  EXPECT_EQ(daemon_->post("/reconcile", false).status, 401);
  EXPECT_EQ(daemon_->get("/reconcile").status, 405);
  EXPECT_FALSE(attached(*api));  // nothing ran: the interval is an hour
  EXPECT_EQ(daemon_->post("/reconcile?account=prod", true).status, 202);
  ASSERT_TRUE(eventually([&] { return attached(*api); })) << daemon_->logs();
  ASSERT_TRUE(eventually(
      [&] { return metric(daemon_->get("/metrics").body, kAttachmentDrift).value_or(0) >= 1; }));
}

TEST_F(DaemonProcessTest, BrokenConfigOnReloadIsRejectedWhileGrantsStayReady) {
  start("5m");
  write_file_atomic(dir_.path / "config.yaml", "apiVersion: sharekeeper/v1\naccounts: [\n");
  ASSERT_TRUE(eventually([&] {
    return metric(daemon_->get("/metrics").body,
                  R"(sharekeeper_config_reloads_total{result="rejected"})")
               .value_or(0) >= 1;
  })) << daemon_->logs();
  const std::string m = daemon_->get("/metrics").body;
  EXPECT_EQ(metric(m, kGrantA), 1.0);
  EXPECT_EQ(metric(m, kGrantB), 1.0);
  EXPECT_EQ(daemon_->get("/readyz").status, 200);
  const auto s = nlohmann::json::parse(daemon_->get("/status").body);
  EXPECT_EQ(s["config"]["lastReload"]["result"], "rejected");
  EXPECT_FALSE(s["config"]["lastReload"]["diagnostics"].empty());
  EXPECT_NE(daemon_->logs().find("config rejected"), std::string::npos);
  // And SIGHUP with the config fixed brings it back.
  write_file_atomic(dir_.path / "config.yaml", single_account_config("4m"));
  daemon_->proc->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    return metric(daemon_->get("/metrics").body,
                  R"(sharekeeper_config_reloads_total{result="success"})")
               .value_or(0) >= 1;
  }));
}

TEST_F(DaemonProcessTest, SigtermStopsGracefullyWithExitZero) {
  start("5m");
  daemon_->proc->signal(SIGTERM);
  EXPECT_EQ(daemon_->proc->wait(30s), std::optional<int>(0));
  EXPECT_NE(daemon_->logs().find(R"("msg":"stopped")"), std::string::npos);
}

TEST_F(DaemonProcessTest, NoSecretInLogsMetricsStatusOrPlan) {
  start("5m");
  EXPECT_EQ(daemon_->post("/reconcile", true).status, 202);
  ASSERT_TRUE(eventually([&] {
    return metric(daemon_->get("/metrics").body,
                  R"(sharekeeper_reconcile_total{account="prod",result="success"})")
               .value_or(0) >= 2;
  }));
  const std::string everything = daemon_->logs() + read_file(dir_.path / "daemon.out") +
                                 daemon_->get("/metrics").body + daemon_->get("/status").body +
                                 daemon_->get("/plan").body;
  EXPECT_EQ(everything.find(kSharerSecret), std::string::npos);
  EXPECT_EQ(everything.find(kAdminToken), std::string::npos);
  EXPECT_EQ(everything.find("Signature="), std::string::npos);
}

// The credentials belong to another account than the config's uid: a terminal error. The account is
// stalled (no retries hammering the API) until the config changes.
TEST_F(DaemonProcessTest, WrongAccountStallsUntilTheConfigIsFixed) {
  emulator_ = std::make_unique<Emulator>(dir_.path);
  std::string wrong = single_account_config("5m");
  const auto at = wrong.find("\"1234567890123456\"");
  ASSERT_NE(at, std::string::npos);
  wrong.replace(at, 18, "\"1234567890123499\"");
  write_file_atomic(dir_.path / "config.yaml", wrong);
  daemon_ = std::make_unique<Daemon>(dir_.path, emulator_->url);
  nlohmann::json account;
  ASSERT_TRUE(eventually([&] {
    const auto s = nlohmann::json::parse(daemon_->get("/status").body, nullptr, false);
    if (s.is_discarded() || s["accounts"].empty()) return false;
    account = s["accounts"][0];
    return account.value("phase", "") == "stalled";
  })) << daemon_->logs();
  EXPECT_TRUE(account["terminalError"].get<bool>());
  EXPECT_TRUE(account["nextRun"].is_null());
  EXPECT_NE(account["lastReconcile"]["error"].get<std::string>(), "");
  EXPECT_EQ(daemon_->get("/readyz").status, 503);
  EXPECT_EQ(metric(daemon_->get("/metrics").body,
                   R"(sharekeeper_reconcile_total{account="prod",result="error"})"),
            1.0);
  write_file_atomic(dir_.path / "config.yaml", single_account_config("5m"));
  ASSERT_TRUE(eventually([&] { return daemon_->get("/readyz").status == 200; })) << daemon_->logs();
  EXPECT_EQ(metric(daemon_->get("/metrics").body, kGrantA), 1.0);
}

TEST(DaemonProcess, OnceRunsOnePassAndExitsWithApplyCodes) {
  TempDir dir;
  Emulator emulator(dir.path);
  write_file_atomic(dir.path / "config.yaml", single_account_config("5m"));
  Process ok({SK_DAEMON_BIN, "run", "-c", (dir.path / "config.yaml").string(), "--once",
              "--endpoint-override", emulator.url},
             dir.path / "once.out", dir.path / "once.err",
             {{"ALIBABA_CLOUD_ACCESS_KEY_ID", kSharerKeyId},
              {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", kSharerSecret}});
  EXPECT_EQ(ok.wait(60s), std::optional<int>(0)) << read_file(dir.path / "once.err");
  EXPECT_NE(read_file(dir.path / "once.err").find(R"("operation":"create_role")"),
            std::string::npos);
  Process bad({SK_DAEMON_BIN, "run", "-c", (dir.path / "config.yaml").string(), "--once",
               "--endpoint-override", emulator.url},
              dir.path / "bad.out", dir.path / "bad.err",
              {{"ALIBABA_CLOUD_ACCESS_KEY_ID", kSharerKeyId},
               {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong-secret-000000"}});
  EXPECT_EQ(bad.wait(60s), std::optional<int>(1)) << read_file(dir.path / "bad.err");
  EXPECT_EQ(read_file(dir.path / "bad.err").find("wrong-secret-000000"), std::string::npos);
}

}  // namespace
}  // namespace sharekeeper::daemon::testing
