// The daemon with a coordinator (settings.coordination), in-process: only owned accounts run and
// are served in /metrics and /status, readiness follows coordination and the owned accounts, an
// account handed away loses its series, the pass hooks reach the coordinator, and shutdown stops it
// after the passes. The coordinator here is a small scripted fake of the interface; the etcd one is
// tested against a real etcd in tests/integration/coordination. Also the scheduler's eligibility,
// the coordination metrics (promtool-clean) and the /status section on their own.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "config/desired_state.hpp"
#include "coordination/coordinator.hpp"
#include "daemon/daemon.hpp"
#include "daemon/logging.hpp"
#include "support/http_client.hpp"

namespace sharekeeper::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::http_request;

// Three accounts, one grant each.
LoadedConfig three_accounts(const std::string&) {
  auto d = std::make_shared<config::DesiredState>();
  d->settings.interval = 1h;
  for (const char* n : {"a", "b", "c"}) {
    config::Account acct;
    acct.name = n;
    d->accounts.push_back(acct);
    config::Share s;
    s.name = std::string("share-") + n;
    s.account = n;
    s.to.accounts.push_back("1111222233334444");
    d->shares.push_back(s);
  }
  d->content_hash = "h";
  d->revision = "r";
  return {d, {}};
}

class CountingRunner : public AccountRunner {
 public:
  PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                       const std::atomic<bool>&) override {
    std::lock_guard lock(mu);
    ++passes[account];
    PassOutcome o;
    o.observation_complete = true;
    for (const auto& k : grants_of(desired, account))
      o.grants.push_back({k, GrantState::kReady, "", "", {}, ""});
    return o;
  }
  int passes_of(const std::string& a) {
    std::lock_guard lock(mu);
    return passes[a];
  }
  std::mutex mu;
  std::map<std::string, int> passes;
};

// The test says what is owned; the daemon hears about it through on_change, as from the real one.
class ScriptedCoordinator : public coordination::Coordinator {
 public:
  void start(std::function<void()> on_change) override {
    std::lock_guard lock(mu);
    on_change_ = std::move(on_change);
    started = true;
  }
  void stop(std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    stopped_after_passes = true;
  }
  void set_accounts(const std::vector<std::string>& a) override {
    std::lock_guard lock(mu);
    accounts = a;
  }
  void pass_started(const std::string& a) override {
    std::lock_guard lock(mu);
    ++started_passes[a];
  }
  void pass_finished(const std::string& a) override {
    std::lock_guard lock(mu);
    ++finished_passes[a];
  }
  coordination::CoordinationView view() const override {
    std::lock_guard lock(mu);
    return v;
  }
  void own(std::set<std::string> owned, bool ready = true) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu);
      v.backend = "etcd";
      v.replica = "r1";
      v.members = {"r1", "r2"};
      v.owned = owned;
      v.schedulable = owned;
      v.ready = ready;
      v.reason = ready ? "" : "no etcd lease (is etcd reachable?)";
      v.renewals_ok += 3;
      v.handoffs += owned.size();
      notify = on_change_;
    }
    if (notify) notify();
  }
  mutable std::mutex mu;
  coordination::CoordinationView v;
  std::function<void()> on_change_;
  std::vector<std::string> accounts;
  std::map<std::string, int> started_passes, finished_passes;
  bool started = false, stopped_after_passes = false;
};

template <class Pred>
bool eventually(Pred p) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(10ms);  // polling a condition, bounded by the deadline
  }
  return false;
}

std::optional<double> metric(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

std::string grant(const std::string& a) {
  return "sharekeeper_grant_ready{account=\"" + a + "\",share=\"share-" + a +
         "\",target=\"1111222233334444\",target_type=\"account\"}";
}

DaemonOptions options(std::shared_ptr<ScriptedCoordinator> c) {
  DaemonOptions o;
  o.config_path = "/nonexistent/config";
  o.http.listen = "127.0.0.1:0";
  o.watch_config = false;
  o.shutdown_timeout = 10s;
  o.coordinator = [c](const config::DesiredState&) { return c; };
  return o;
}

TEST(DaemonCoordination, OnlyOwnedAccountsRunAndAreServed) {
  std::ostringstream logs;
  log::init("json", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(logs));
  auto c = std::make_shared<ScriptedCoordinator>();
  CountingRunner runner;
  Metrics metrics("test");
  Daemon d(options(c), three_accounts, runner, metrics);
  const auto port = d.start();
  EXPECT_TRUE(c->started);
  EXPECT_EQ(c->accounts, (std::vector<std::string>{"a", "b", "c"}));
  // Nothing owned yet: no pass, no grant series, not ready, but alive.
  auto r = http_request(port, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("coordination"), std::string::npos) << r.body;
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  EXPECT_FALSE(metric(http_request(port, "GET", "/metrics").body, grant("a")).has_value());

  c->own({"a"});
  ASSERT_TRUE(eventually([&] { return runner.passes_of("a") == 1; })) << runner.passes_of("a");
  ASSERT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }));
  EXPECT_EQ(runner.passes_of("b"), 0);
  EXPECT_EQ(runner.passes_of("c"), 0);
  const std::string m = http_request(port, "GET", "/metrics").body;
  EXPECT_EQ(metric(m, grant("a")), 1.0) << m;
  EXPECT_FALSE(metric(m, grant("b")).has_value());
  EXPECT_EQ(metric(m, R"(sharekeeper_account_owned{account="a"})"), 1.0);
  EXPECT_FALSE(metric(m, R"(sharekeeper_account_owned{account="b"})").has_value());
  EXPECT_EQ(metric(m, "sharekeeper_coordination_members"), 2.0);
  EXPECT_EQ(metric(m, R"(sharekeeper_coordination_lease_renewals_total{result="success"})"), 3.0);
  EXPECT_EQ(metric(m, "sharekeeper_account_handoffs_total"), 1.0);
  EXPECT_EQ(metric(m, "sharekeeper_coordination_ready"), 1.0);
  EXPECT_FALSE(
      metric(m, R"(sharekeeper_reconcile_total{account="b",result="success"})").has_value());
  const auto s = json::parse(http_request(port, "GET", "/status").body);
  EXPECT_EQ(s["coordination"]["backend"], "etcd");
  EXPECT_EQ(s["coordination"]["replica"], "r1");
  EXPECT_EQ(s["coordination"]["members"], json({"r1", "r2"}));
  EXPECT_EQ(s["coordination"]["owned"], json({"a"}));
  for (const auto& row : s["accounts"]) EXPECT_EQ(row["owned"], row["name"] == "a") << row.dump();
  {
    std::lock_guard lock(c->mu);
    EXPECT_EQ(c->started_passes["a"], 1);
    EXPECT_EQ(c->finished_passes["a"], 1);
  }

  // a moves to another replica, b comes here: a's series go, b runs at once.
  c->own({"b"});
  ASSERT_TRUE(eventually([&] { return runner.passes_of("b") == 1; }));
  ASSERT_TRUE(eventually([&] {
    const std::string m2 = http_request(port, "GET", "/metrics").body;
    return !metric(m2, grant("a")).has_value() && metric(m2, grant("b")) == 1.0 &&
           !metric(m2, R"(sharekeeper_account_owned{account="a"})").has_value();
  }));
  EXPECT_EQ(runner.passes_of("a"), 1);
  // Coordination not ready (etcd gone): not ready, still alive.
  c->own({"b"}, false);
  r = http_request(port, "GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("is etcd reachable"), std::string::npos) << r.body;
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
  EXPECT_EQ(metric(http_request(port, "GET", "/metrics").body, "sharekeeper_coordination_ready"),
            0.0);

  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
  EXPECT_TRUE(c->stopped_after_passes);
  EXPECT_NE(logs.str().find(R"("msg":"account owned")"), std::string::npos) << logs.str();
}

TEST(DaemonCoordination, WithoutACoordinatorEveryAccountRunsAsBefore) {
  std::ostringstream logs;
  log::init("json", "info", std::make_shared<spdlog::sinks::ostream_sink_mt>(logs));
  CountingRunner runner;
  Metrics metrics("test");
  DaemonOptions o = options(nullptr);
  o.coordinator = [](const config::DesiredState&) { return nullptr; };
  Daemon d(o, three_accounts, runner, metrics);
  const auto port = d.start();
  ASSERT_TRUE(eventually([&] {
    return runner.passes_of("a") == 1 && runner.passes_of("b") == 1 && runner.passes_of("c") == 1;
  }));
  ASSERT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }));
  const std::string m = http_request(port, "GET", "/metrics").body;
  EXPECT_EQ(m.find("sharekeeper_account_owned"), std::string::npos);
  EXPECT_EQ(m.find("sharekeeper_coordination_"), std::string::npos);
  EXPECT_FALSE(json::parse(http_request(port, "GET", "/status").body).contains("coordination"));
  d.request_stop();
  EXPECT_TRUE(d.run_until_stopped());
}

TEST(CoordinationMetrics, OwnedSeriesFollowTheSetAndCountersOnlyAdvance) {
  Metrics m("0.1.0");
  Metrics::CoordinationCounts c;
  c.members = 3;
  c.renewals_ok = 10;
  c.renewals_failed = 2;
  c.handoffs = 4;
  m.set_coordination({"a", "b"}, c);
  std::string t = m.serialize();
  EXPECT_EQ(metric(t, R"(sharekeeper_account_owned{account="a"})"), 1.0);
  EXPECT_EQ(metric(t, R"(sharekeeper_account_owned{account="b"})"), 1.0);
  EXPECT_EQ(metric(t, R"(sharekeeper_coordination_lease_renewals_total{result="failure"})"), 2.0);
  EXPECT_EQ(metric(t, R"(sharekeeper_coordination_lease_renewals_total{result="lost"})"), 0.0);
  c.renewals_ok = 12;
  c.renewals_lost = 1;
  c.members = 2;
  m.set_coordination({"b"}, c);
  t = m.serialize();
  EXPECT_FALSE(metric(t, R"(sharekeeper_account_owned{account="a"})").has_value());
  EXPECT_EQ(metric(t, R"(sharekeeper_coordination_lease_renewals_total{result="success"})"), 12.0);
  EXPECT_EQ(metric(t, R"(sharekeeper_coordination_lease_renewals_total{result="lost"})"), 1.0);
  EXPECT_EQ(metric(t, "sharekeeper_coordination_members"), 2.0);
  EXPECT_EQ(metric(t, "sharekeeper_account_handoffs_total"), 4.0);

  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0)
      << "promtool (Debian package prometheus, installed by scripts/install-deps.sh) is required";
  const auto path =
      fs::temp_directory_path() / ("sk_coord_metrics_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << t;
  const int rc = std::system(
      ("promtool check metrics < " + path.string() + " > " + path.string() + ".out 2>&1").c_str());
  std::ifstream out(path.string() + ".out");
  const std::string lint((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << lint;
  EXPECT_EQ(lint, "");
  fs::remove(path);
  fs::remove(path.string() + ".out");
}

TEST(CoordinationStatus, ReadinessLooksOnlyAtOwnedAccounts) {
  StatusStore s;
  auto d = three_accounts("").state;
  s.set_config(*d, std::chrono::system_clock::now());
  CoordinationStatus c;
  c.backend = "etcd";
  c.replica = "r2";
  c.members = {"r1", "r2"};
  c.owned = {"b"};
  c.ready = true;
  c.lease_remaining_seconds = 12.5;
  s.set_coordination(c);
  EXPECT_FALSE(s.readiness().ready);
  PassReport r;
  r.account = "b";
  r.outcome.observation_complete = true;
  r.finished = std::chrono::system_clock::now();
  s.pass_finished(r);
  EXPECT_TRUE(s.readiness().ready) << s.readiness().reason;  // a and c are another replica's
  const auto j = json::parse(s.status_json({}));
  EXPECT_EQ(j["coordination"]["owned"], json({"b"}));
  EXPECT_EQ(j["coordination"]["leaseRemainingSeconds"], 12.5);
  EXPECT_EQ(j["coordination"]["replica"], "r2");
}

TEST(SchedulerEligibility, OnlyEligibleAccountsStartAndADueOneRunsWhenEligible) {
  CountingRunner runner;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> done;
  Scheduler s(runner, {}, nullptr, [&](const PassReport& r) {
    std::lock_guard lock(mu);
    done.push_back(r.account);
    cv.notify_all();
  });
  s.set_eligible(std::set<std::string>{"a"});
  s.update_config(three_accounts("").state, true);
  s.start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return done.size() == 1; }));
  }
  // b and c were due at the same instant as a and are still not run.
  EXPECT_EQ(runner.passes_of("b"), 0);
  EXPECT_EQ(runner.passes_of("c"), 0);
  s.set_eligible(std::set<std::string>{"a", "c"});
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return done.size() == 2; }));
    EXPECT_EQ(done.back(), "c");
  }
  EXPECT_EQ(runner.passes_of("a"), 1);  // already owned: waits for its interval
  EXPECT_TRUE(s.stop(5s));
}

}  // namespace
}  // namespace sharekeeper::daemon
