// Issue 11, the reload side: the real daemon (scheduler, HTTP, metrics, status, watcher) with the
// real config loader over a config directory. A *.yaml entry that cannot be read (dangling or
// looping symlink, FIFO, device, directory) rejects the reload, the last good config keeps running
// with all its grants, and sharekeeper_config_reloads_total{result="rejected"} counts it; a reload
// that removes shares or targets is logged and counted, and with --confirm-shrink held until
// POST /config/confirm-shrink names its revision.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "config/desired_state.hpp"
#include "daemon/config_loader.hpp"
#include "daemon/daemon.hpp"
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

constexpr const char* kAccounts =
    "apiVersion: sharekeeper/v1\n"
    "settings: {interval: 1h}\n"
    "accounts: [{name: prod, uid: \"1234567890123456\"}]\n";
constexpr const char* kShareA =
    "apiVersion: sharekeeper/v1\n"
    "shares:\n"
    "  - {name: a, account: prod, region: cn-hangzhou, images: [m-bp1aaaaaaaaaaaaaaaaa],\n"
    "     to: {accounts: [\"1111222233334444\"]}}\n";
constexpr const char* kShareB =
    "apiVersion: sharekeeper/v1\n"
    "shares:\n"
    "  - {name: b, account: prod, region: cn-hangzhou, images: [m-bp1bbbbbbbbbbbbbbbbb],\n"
    "     to: {accounts: [\"5555666677778888\"], resourceDirectory: rd-abc123}}\n";

const std::string kGrantB =
    R"(sharekeeper_grant_ready{account="prod",share="b",target="5555666677778888",target_type="account"})";
const std::string kRejected = R"(sharekeeper_config_reloads_total{result="rejected"})";

// Every grant Ready; counts passes.
class ReadyRunner : public AccountRunner {
 public:
  PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                       const std::atomic<bool>&) override {
    PassOutcome o;
    o.observation_complete = true;
    o.plan_json = R"({"changes":[]})";
    for (const auto& k : grants_of(desired, account))
      o.grants.push_back({k, GrantState::kReady, "", "", {}, ""});
    ++passes;
    return o;
  }
  std::atomic<int> passes{0};
};

struct Env {
  explicit Env(bool confirm_shrink = false, bool watch = false) {
    dir = fs::temp_directory_path() /
          ("sk_reload_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    write("accounts.yaml", kAccounts);
    write("a.yaml", kShareA);
    write("b.yaml", kShareB);
    log::init("json", "debug", capture);
    DaemonOptions o;
    o.config_path = dir.string();
    o.http.listen = "127.0.0.1:0";
    o.admin_token = AdminToken(kToken);
    o.watch_config = watch;
    o.watch_debounce = 20ms;
    o.shutdown_timeout = 10s;
    o.confirm_shrink = confirm_shrink;
    daemon = std::make_unique<Daemon>(o, load_config, runner, metrics);
    port = daemon->start();
    EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/readyz").status == 200; }));
  }
  ~Env() {
    daemon->request_stop();
    daemon->run_until_stopped();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir / ".tmp") << content;
    fs::rename(dir / ".tmp", dir / name);
  }
  std::string metrics_text() { return http_request(port, "GET", "/metrics").body; }
  nlohmann::json status() {
    return nlohmann::json::parse(http_request(port, "GET", "/status").body);
  }
  // SIGHUP's path, under a deadline: a loader that blocks (on a FIFO) fails the test instead of
  // hanging it, and is unblocked by opening the FIFO's other end.
  std::string reload_bounded(const fs::path& fifo = {}) {
    auto pending = std::async(std::launch::async, [&] { return daemon->reload("SIGHUP"); });
    if (pending.wait_for(10s) != std::future_status::ready) {
      const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) ::close(w);
      pending.wait();
      ADD_FAILURE() << "the reload blocked";
      return "blocked";
    }
    return pending.get();
  }

  // The daemon's threads log while the test reads: the text is read under the sink's own mutex
  // (an ostringstream read beside spdlog's writes was a data race, ThreadSanitizer).
  struct LogCapture : spdlog::sinks::base_sink<std::mutex> {
    std::string text() {
      std::lock_guard lock(mutex_);
      return text_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      spdlog::memory_buf_t formatted;
      formatter_->format(msg, formatted);
      text_.append(formatted.data(), formatted.size());
    }
    void flush_() override {}

   private:
    std::string text_;
  };
  std::string logs() { return capture->text(); }

  fs::path dir;
  std::shared_ptr<LogCapture> capture = std::make_shared<LogCapture>();
  ReadyRunner runner;
  Metrics metrics{"test"};
  std::unique_ptr<Daemon> daemon;
  std::uint16_t port = 0;
  static inline int counter = 0;
};

struct Breakage {
  const char* name;
  std::function<void(const fs::path& b)> make;
};

class UnreadableEntryOnReload : public ::testing::TestWithParam<Breakage> {};

TEST_P(UnreadableEntryOnReload, IsRejectedAndTheLastGoodConfigKeepsItsGrants) {
  Env env;
  ASSERT_EQ(metric(env.metrics_text(), kGrantB), 1) << "share b is running";
  const fs::path b = env.dir / "b.yaml";
  fs::remove(b);
  GetParam().make(b);
  EXPECT_EQ(env.reload_bounded(b), "rejected");
  const std::string m = env.metrics_text();
  EXPECT_EQ(metric(m, kRejected), 1);
  EXPECT_EQ(metric(m, R"(sharekeeper_config_last_reload_successful)"), 0);
  EXPECT_EQ(metric(m, kGrantB), 1) << "the last good config keeps share b";
  const auto s = env.status();
  EXPECT_EQ(s["config"]["lastReload"]["result"], "rejected");
  const std::string first = s["config"]["lastReload"]["diagnostics"].at(0).get<std::string>();
  EXPECT_EQ(first.rfind(b.string() + ": error: cannot read: ", 0), 0u) << first;
  EXPECT_EQ(s["grants"].size(), 3u);
  // Fixed again: the same bytes as the running config.
  fs::remove_all(b);
  env.write("b.yaml", kShareB);
  EXPECT_EQ(env.reload_bounded(), "unchanged");
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, UnreadableEntryOnReload,
    ::testing::Values(
        Breakage{"DanglingSymlink",
                 [](const fs::path& b) { fs::create_symlink("..data/b.yaml", b); }},
        Breakage{"SymlinkLoop", [](const fs::path& b) { fs::create_symlink("b.yaml", b); }},
        Breakage{"Fifo", [](const fs::path& b) { ASSERT_EQ(::mkfifo(b.c_str(), 0600), 0); }},
        Breakage{"SymlinkToADevice", [](const fs::path& b) { fs::create_symlink("/dev/zero", b); }},
        Breakage{"Directory", [](const fs::path& b) { fs::create_directory(b); }}),
    [](const ::testing::TestParamInfo<Breakage>& i) { return std::string(i.param.name); });

// The reported sequence, through inotify: a git-sync/ConfigMap swap leaves b.yaml dangling.
TEST(ConfigReload, DanglingSymlinkSeenByTheWatcherIsRejected) {
  Env env(false, /*watch=*/true);
  const fs::path b = env.dir / "b.yaml";
  fs::create_symlink("..2024_01_01/b.yaml", env.dir / ".b.link");
  fs::rename(env.dir / ".b.link", b);  // atomic, as the swap is
  ASSERT_TRUE(eventually([&] { return metric(env.metrics_text(), kRejected) >= 1; })) << env.logs();
  EXPECT_EQ(metric(env.metrics_text(), kGrantB), 1);
  EXPECT_EQ(metric(env.metrics_text(), R"(sharekeeper_config_shrinks_total{result="applied"})"), 0);
}

// Removing a file on purpose is a valid config that shrinks: applied (no --confirm-shrink), but
// never silently.
TEST(ConfigReload, ShrinkingReloadIsLoggedAndCounted) {
  Env env;
  fs::remove(env.dir / "b.yaml");
  EXPECT_EQ(env.reload_bounded(), "success");
  const std::string m = env.metrics_text();
  EXPECT_EQ(metric(m, R"(sharekeeper_config_shrinks_total{result="applied"})"), 1);
  EXPECT_EQ(metric(m, R"(sharekeeper_config_shrinks_total{result="held"})"), 0);
  EXPECT_EQ(metric(m, kGrantB), -1) << "series of the removed share are gone";
  bool warned = false;
  std::istringstream lines(env.logs());
  for (std::string line; std::getline(lines, line);) {
    if (line.find("config reload removes shares or targets") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["level"], "warn");
    EXPECT_EQ(j["sharesRemoved"], "b (account prod)");
    EXPECT_EQ(j["grantsRemoved"], "2");
    warned = true;
  }
  EXPECT_TRUE(warned) << env.logs();
  // Growing again is not a shrink.
  env.write("b.yaml", kShareB);
  EXPECT_EQ(env.reload_bounded(), "success");
  EXPECT_EQ(metric(env.metrics_text(), R"(sharekeeper_config_shrinks_total{result="applied"})"), 1);
}

TEST(ConfigReload, WithConfirmShrinkAShrinkingReloadWaitsForItsRevision) {
  Env env(/*confirm_shrink=*/true);
  // A target leaves share b (the resource directory), and share a goes.
  env.write("b.yaml",
            std::string(kShareB).replace(std::string(kShareB).find(", resourceDirectory"),
                                         std::string(", resourceDirectory: rd-abc123").size(), ""));
  fs::remove(env.dir / "a.yaml");
  EXPECT_EQ(env.reload_bounded(), "held");
  std::string m = env.metrics_text();
  EXPECT_EQ(metric(m, R"(sharekeeper_config_shrinks_total{result="held"})"), 1);
  EXPECT_EQ(metric(m, kRejected), 1);
  EXPECT_EQ(metric(m, kGrantB), 1);
  EXPECT_EQ(env.status()["grants"].size(), 3u) << "nothing was removed yet";
  const auto lines = env.status()["config"]["lastReload"];
  EXPECT_EQ(lines["result"], "held");
  const std::string head = lines["diagnostics"].at(0);
  EXPECT_NE(head.find("removes 1 share(s) and 1 target(s) (2 grant(s))"), std::string::npos)
      << head;
  EXPECT_EQ(lines["diagnostics"].at(1), "share removed: a (account prod)");
  EXPECT_EQ(lines["diagnostics"].at(2), "target removed: b -> resource_directory:rd-abc123");
  const std::string revision = head.substr(head.rfind("revision=") + 9);

  const std::string auth = "Authorization: Bearer " + kToken + "\r\n";
  EXPECT_EQ(http_request(env.port, "POST", "/config/confirm-shrink?revision=" + revision).status,
            401);
  EXPECT_EQ(http_request(env.port, "POST", "/config/confirm-shrink?revision=nope", auth).status,
            409);
  // Held again on the next reload (same content), still not installed.
  EXPECT_EQ(env.reload_bounded(), "held");
  EXPECT_EQ(metric(env.metrics_text(), kGrantB), 1);
  const auto ok =
      http_request(env.port, "POST", "/config/confirm-shrink?revision=" + revision, auth);
  EXPECT_EQ(ok.status, 200) << ok.body;
  m = env.metrics_text();
  EXPECT_EQ(metric(m, R"(sharekeeper_config_shrinks_total{result="confirmed"})"), 1);
  EXPECT_EQ(metric(m, R"(sharekeeper_config_reloads_total{result="success"})"), 1);
  EXPECT_EQ(metric(m, R"(sharekeeper_config_last_reload_successful)"), 1);
  EXPECT_EQ(env.status()["grants"].size(), 1u);
  EXPECT_EQ(env.status()["config"]["revision"], revision);
  EXPECT_EQ(
      http_request(env.port, "POST", "/config/confirm-shrink?revision=" + revision, auth).status,
      404)
      << "nothing is held any more";
  EXPECT_EQ(env.reload_bounded(), "unchanged");
}

// A held shrink is dropped when the files change again: the newer config is judged on its own.
TEST(ConfigReload, AHeldShrinkIsReplacedByTheNextConfig) {
  Env env(/*confirm_shrink=*/true);
  fs::remove(env.dir / "b.yaml");
  EXPECT_EQ(env.reload_bounded(), "held");
  env.write("b.yaml", kShareB);  // restored: no shrink any more
  EXPECT_EQ(env.reload_bounded(), "unchanged");
  EXPECT_EQ(http_request(env.port, "POST", "/config/confirm-shrink?revision=x",
                         "Authorization: Bearer " + kToken + "\r\n")
                .status,
            404);
}

TEST(ConfigShrink, ListsRemovedSharesAndTargets) {
  config::DesiredState before, after;
  before.accounts.resize(2);
  before.accounts[0].name = "dev";
  before.accounts[1].name = "prod";
  after.accounts = before.accounts;
  config::Share a;
  a.name = "a";
  a.account = "prod";
  a.to.accounts = {"1111222233334444", "5555666677778888"};
  a.to.folders = {"rd-abc123/r-ab12cd/fd-0123456789"};
  config::Share b = a;
  b.name = "b";
  before.shares = {a, b};
  config::Share a2 = a;
  a2.to.accounts = {"5555666677778888", "9999888877776666"};  // one target out, one in
  a2.to.folders.clear();
  after.shares = {a2};
  const ConfigShrink s = config_shrink(before, after);
  EXPECT_EQ(s.shares_removed, std::vector<std::string>{"b (account prod)"});
  EXPECT_EQ(s.targets_removed,
            (std::vector<std::string>{"a -> account:1111222233334444",
                                      "a -> folder:rd-abc123/r-ab12cd/fd-0123456789"}));
  EXPECT_EQ(s.grants, 5u);  // b's three and a's two
  config::DesiredState grown = before;
  config::Share c = a;
  c.name = "c";
  grown.shares.push_back(c);
  grown.shares[0].to.accounts.push_back("9999888877776666");
  EXPECT_TRUE(config_shrink(before, grown).empty()) << "growing is not shrinking";
  // A share moved to another account takes its grants away from the first one.
  config::Share moved = a2;
  moved.account = "dev";
  config::DesiredState other = after;
  other.shares = {moved};
  const ConfigShrink m = config_shrink(after, other);
  EXPECT_EQ(m.grants, 2u);
  EXPECT_EQ(m.targets_removed.size(), 2u);
}

}  // namespace
}  // namespace sharekeeper::daemon
