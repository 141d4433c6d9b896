// End to end: a real Prometheus server (Debian package `prometheus`) scrapes `sharekeeper run`
// (against the emulator) on loopback every second; its HTTP API must then answer
// sharekeeper_grant_ready for every grant of the config. Polls, never sleeps a fixed time.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "../integration/daemon_harness.hpp"

namespace sharekeeper::daemon::testing {
namespace {

// A free loopback port for Prometheus' own listener (it cannot report a port-0 binding).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string find_prometheus() {
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"})
    if (fs::exists(p)) return p;
  return "";
}

TEST(DaemonPrometheusE2E, PrometheusScrapesGrantReadiness) {
  const std::string prometheus = find_prometheus();
  ASSERT_FALSE(prometheus.empty())
      << "the `prometheus` package is required (scripts/install-deps.sh installs it)";
  TempDir dir;
  Emulator emulator(dir.path);
  write_file_atomic(dir.path / "config.yaml", single_account_config("5m"));
  Daemon daemon(dir.path, emulator.url);
  ASSERT_TRUE(eventually([&] { return daemon.get("/readyz").status == 200; })) << daemon.logs();

  const std::uint16_t prom_port = free_port();
  write_file_atomic(dir.path / "prometheus.yml",
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "rule_files: ['" +
                        std::string(SHAREKEEPER_SOURCE_DIR) +
                        "/deploy/prometheus/sharekeeper-alerts.yaml']\n"
                        "scrape_configs:\n  - job_name: sharekeeper\n    static_configs:\n"
                        "      - targets: ['127.0.0.1:" +
                        std::to_string(daemon.port) + "']\n");
  fs::create_directories(dir.path / "tsdb");
  Process prom({prometheus, "--config.file=" + (dir.path / "prometheus.yml").string(),
                "--storage.tsdb.path=" + (dir.path / "tsdb").string(),
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
               dir.path / "prom.out", dir.path / "prom.err");

  nlohmann::json result;
  const bool seen = eventually(
      [&] {
        const auto r =
            http_request(prom_port, "GET", "/api/v1/query?query=sharekeeper_grant_ready");
        if (r.status != 200) return false;
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (j.is_discarded() || j["status"] != "success" || j["data"]["result"].size() < 2)
          return false;
        result = j["data"]["result"];
        return true;
      },
      60s);
  ASSERT_TRUE(seen) << read_file(dir.path / "prom.err");
  std::set<std::string> targets;
  for (const auto& s : result) {
    EXPECT_EQ(s["metric"]["account"], "prod");
    EXPECT_EQ(s["metric"]["share"], "golden-images");
    EXPECT_EQ(s["metric"]["job"], "sharekeeper");
    EXPECT_EQ(s["value"][1], "1") << s.dump();
    targets.insert(s["metric"]["target"].get<std::string>());
  }
  EXPECT_EQ(targets, (std::set<std::string>{"1111222233334444", "5555666677778888"}));

  // The alert rules load and evaluate against the live series: none fires for a healthy daemon.
  const auto rules = http_request(prom_port, "GET", "/api/v1/rules");
  ASSERT_EQ(rules.status, 200);
  const auto rj = nlohmann::json::parse(rules.body);
  ASSERT_FALSE(rj["data"]["groups"].empty()) << rules.body;
  const auto alerts = nlohmann::json::parse(http_request(prom_port, "GET", "/api/v1/alerts").body);
  for (const auto& a : alerts["data"]["alerts"]) EXPECT_NE(a["state"], "firing") << a.dump();

  prom.signal(SIGTERM);
  EXPECT_TRUE(prom.wait(30s).has_value());
  daemon.proc->signal(SIGTERM);
  EXPECT_EQ(daemon.proc->wait(30s), std::optional<int>(0));
}

}  // namespace
}  // namespace sharekeeper::daemon::testing
