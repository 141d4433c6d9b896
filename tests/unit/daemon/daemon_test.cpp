// The whole daemon in-process: a fake config loader (a tiny line format) and a fake runner, the
// real scheduler, HTTP server, metrics, status, watcher and reload path, over loopback port 0.
#include "daemon/daemon.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "config/desired_state.hpp"
#include "daemon/logging.hpp"
#include "support/daemon_wait.hpp"
#include "support/http_client.hpp"

namespace sharekeeper::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;
using testing::http_request;
using testing::metric;

const std::string kToken = "0123456789abcdef0123456789abcdef-token";
const std::string kCanary = "CANARYsecretVALUE0123456789";

// "account NAME" / "share NAME ACCOUNT UID" / "broken" lines.
LoadedConfig fake_load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string content = ss.str();
  auto d = std::make_shared<config::DesiredState>();
  d->settings.interval = 1h;
  std::istringstream lines(content);
  std::string word;
  while (lines >> word) {
    if (word == "broken") return {nullptr, {path + ":1:1: error: broken on purpose"}};
    if (word == "account") {
      config::Account a;
      lines >> a.name;
      d->accounts.push_back(a);
    } else if (word == "share") {
      config::Share s;
      std::string uid;
      lines >> s.name >> s.account >> uid;
      s.to.accounts.push_back(uid);
      d->shares.push_back(s);
    }
  }
  d->content_hash = std::to_string(std::hash<std::string>{}(content));
  d->revision = d->content_hash.substr(0, 8);
  return {d, {}};
}

// Every grant Ready unless `drifted`; each pass counts. A canary secret appears in nothing it
// returns.
class FakeRunner : public AccountRunner {
 public:
  PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                       const std::atomic<bool>&) override {
    std::lock_guard lock(mu);
    ++passes[account];
    PassOutcome o;
    o.observation_complete = true;
    o.plan_json = R"({"changes":[]})";
    for (const auto& k : grants_of(desired, account))
      o.grants.push_back({k, GrantState::kReady, "", "", {}, ""});
    if (drifted) {
      o.drift["trust_policy"] = 1;
      o.changes.push_back({"trust_policy", "AliyunECSShareEncryptImageDefaultRole",
                           "update_trust_policy", "aa", "bb", "UpdateRole", "REQ-1"});
      drifted = false;
    }
    return o;
  }
  int passes_of(const std::string& a) {
    std::lock_guard lock(mu);
    return passes[a];
  }
  std::mutex mu;
  std::map<std::string, int> passes;
  bool drifted = false;
};

struct Env {
  Env() {
    dir = fs::temp_directory_path() /
          ("sk_daemon_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    config = dir / "config.txt";
    write("account prod\nshare golden prod 1111222233334444\nshare golden prod 5555666677778888\n");
    log::init("json", "debug", std::make_shared<spdlog::sinks::ostream_sink_mt>(logs));
  }
  ~Env() { fs::remove_all(dir); }
  void write(const std::string& s) {
    std::ofstream(dir / ".tmp") << s;
    fs::rename(dir / ".tmp", config);  // atomic replace, like an editor or git checkout
  }
  DaemonOptions options() {
    DaemonOptions o;
    o.config_path = config.string();
    o.http.listen = "127.0.0.1:0";
    o.admin_token = AdminToken(kToken);
    o.watch_debounce = 20ms;
    o.shutdown_timeout = 10s;
    return o;
  }
  fs::path dir, config;
  std::ostringstream logs;
  static inline int counter = 0;
};

const std::string kReady1 =
    R"(sharekeeper_grant_ready{account="prod",share="golden",target="1111222233334444",target_type="account"})";

TEST(Daemon, BecomesReadyAndPublishesGrants) {
  Env env;
  FakeRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }));
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  const auto m = http_request(port, "GET", "/metrics");
  EXPECT_EQ(metric(m.body, kReady1), 1) << m.body;
  const auto s = nlohmann::json::parse(http_request(port, "GET", "/status").body);
  ASSERT_EQ(s["grants"].size(), 2u);
  EXPECT_EQ(s["grants"][0]["state"], "Ready");
  EXPECT_EQ(s["accounts"][0]["phase"], "waiting");
  EXPECT_FALSE(s["accounts"][0]["nextRun"].is_null());
  const auto p = nlohmann::json::parse(http_request(port, "GET", "/plan").body);
  EXPECT_TRUE(p["accounts"]["prod"].contains("changes"));
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
}

TEST(Daemon, PostReconcileNeedsTheTokenAndRunsAPass) {
  Env env;
  FakeRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] { return runner.passes_of("prod") == 1; }));
  EXPECT_EQ(http_request(port, "POST", "/reconcile").status, 401);
  EXPECT_EQ(
      http_request(port, "GET", "/reconcile", "Authorization: Bearer " + kToken + "\r\n").status,
      405);
  runner.drifted = true;
  EXPECT_EQ(http_request(port, "POST", "/reconcile?account=prod",
                         "Authorization: Bearer " + kToken + "\r\n")
                .status,
            202);
  EXPECT_EQ(http_request(port, "POST", "/reconcile?account=nope",
                         "Authorization: Bearer " + kToken + "\r\n")
                .status,
            404);
  ASSERT_TRUE(eventually([&] { return runner.passes_of("prod") == 2; }));
  ASSERT_TRUE(eventually([&] {
    const auto m = http_request(port, "GET", "/metrics").body;
    return metric(m,
                  R"(sharekeeper_changes_total{account="prod",operation="update_trust_policy"})") ==
               1 &&
           metric(m, R"(sharekeeper_drift_detected_total{account="prod",object="trust_policy"})") ==
               1;
  }));
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
  const std::string logs = env.logs.str();
  EXPECT_NE(logs.find(R"("audit":"true")"), std::string::npos);
  EXPECT_NE(logs.find(R"("requestId":"REQ-1")"), std::string::npos);
  EXPECT_EQ(logs.find(kToken), std::string::npos) << "the admin token must never be logged";
}

TEST(Daemon, BrokenConfigOnReloadIsRejectedAndTheLastGoodKeepsRunning) {
  Env env;
  FakeRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }));
  env.write("broken\n");  // seen by inotify
  ASSERT_TRUE(eventually([&] {
    return metric(http_request(port, "GET", "/metrics").body,
                  R"(sharekeeper_config_reloads_total{result="rejected"})") >= 1;
  }));
  const auto m = http_request(port, "GET", "/metrics").body;
  EXPECT_EQ(metric(m, kReady1), 1);
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 200);
  const auto s = nlohmann::json::parse(http_request(port, "GET", "/status").body);
  EXPECT_EQ(s["config"]["lastReload"]["result"], "rejected");
  EXPECT_NE(
      s["config"]["lastReload"]["diagnostics"][0].get<std::string>().find("broken on purpose"),
      std::string::npos);
  EXPECT_EQ(s["grants"][0]["state"], "Ready");
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
}

TEST(Daemon, ValidReloadRemovesGrantSeriesAndAddsNewOnes) {
  Env env;
  FakeRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] { return runner.passes_of("prod") == 1; }));
  env.write(
      "account prod\naccount dev\nshare golden prod 1111222233334444\nshare base dev "
      "9999888877776666\n");
  ASSERT_TRUE(
      eventually([&] { return runner.passes_of("dev") >= 1 && runner.passes_of("prod") >= 2; }));
  ASSERT_TRUE(eventually([&] {
    const auto m = http_request(port, "GET", "/metrics").body;
    return m.find("5555666677778888") == std::string::npos &&
           metric(
               m,
               R"(sharekeeper_grant_ready{account="dev",share="base",target="9999888877776666",target_type="account"})") ==
               1;
  }));
  EXPECT_EQ(metric(http_request(port, "GET", "/metrics").body,
                   R"(sharekeeper_config_reloads_total{result="success"})"),
            1);
  EXPECT_EQ(d.reload("test"), "unchanged");
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
}

TEST(Daemon, InvalidInitialConfigDoesNotStart) {
  Env env;
  env.write("broken\n");
  FakeRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  try {
    d.start();
    FAIL() << "started with an invalid config";
  } catch (const StartupError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
  }
}

// A pass stuck in a cloud call never blocks /healthz or /metrics.
class StuckRunner : public AccountRunner {
 public:
  PassOutcome run_pass(const config::DesiredState&, const std::string&,
                       const std::atomic<bool>& stop) override {
    std::unique_lock lock(mu);
    entered = true;
    // The stop flag is a plain atomic (no notification): poll it, as a real call's deadline would.
    while (!release && !stop.load()) cv.wait_for(lock, 10ms);
    return {};
  }
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
};

TEST(Daemon, StuckPassDoesNotBlockHealthOrMetrics) {
  Env env;
  StuckRunner runner;
  Metrics metrics("test");
  Daemon d(env.options(), fake_load, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(runner.mu);
    return runner.entered;
  }));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/metrics").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/status").status, 200);
  EXPECT_EQ(http_request(port, "GET", "/readyz").status, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());  // the stop flag lets the stuck pass end
}

}  // namespace
}  // namespace sharekeeper::daemon
