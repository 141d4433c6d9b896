// /metrics with 10,000 grant series (plus their one-hot state series): serialize() time and the
// full loopback GET latency through the daemon's Beast server. Goal (issue 6): scrape under 20 ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../../tests/unit/daemon/support/http_client.hpp"
#include "daemon/http_server.hpp"
#include "daemon/metrics.hpp"

using namespace sharekeeper::daemon;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void report(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-34s p50 %7.2f ms   p90 %7.2f ms   p99 %7.2f ms   max %7.2f ms  (n=%zu)\n", what,
              v[v.size() / 2], v[v.size() * 9 / 10], v[v.size() * 99 / 100], v.back(), v.size());
}

}  // namespace

int main(int argc, char** argv) {
  const int grants = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 50;
  Metrics metrics("bench");
  std::vector<std::string> accounts;
  std::vector<GrantKey> keys;
  std::vector<GrantReport> reports;
  for (int a = 0; a < 100; ++a) accounts.push_back("account-" + std::to_string(a));
  for (int i = 0; i < grants; ++i) {
    char uid[17];
    std::snprintf(uid, sizeof uid, "%016d", 1000000 + i);
    GrantKey k{accounts[static_cast<std::size_t>(i % 100)], "share-" + std::to_string(i / 10),
               "account", uid};
    keys.push_back(k);
    reports.push_back({k, i % 7 == 0 ? GrantState::kPending : GrantState::kReady, "", "", {}, ""});
  }
  const auto t0 = Clock::now();
  metrics.set_config(accounts, keys, "bench-revision");
  metrics.publish_grants(reports, std::chrono::system_clock::now());
  std::printf("set_config + publish_grants for %d grants: %.1f ms\n", grants,
              ms(Clock::now() - t0));

  std::vector<double> ser;
  std::size_t bytes = 0, lines = 0;
  for (int i = 0; i < rounds; ++i) {
    const auto s0 = Clock::now();
    const std::string text = metrics.serialize();
    ser.push_back(ms(Clock::now() - s0));
    bytes = text.size();
    lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  std::printf("exposition: %zu bytes, %zu lines\n", bytes, lines);
  report("Metrics::serialize()", ser);
  {
    // The same accounts without grants: what prometheus-cpp's TextSerializer part costs alone.
    Metrics accounts_only("bench");
    accounts_only.set_config(accounts, {}, "bench-revision");
    std::vector<double> acc;
    for (int i = 0; i < rounds; ++i) {
      const auto a0 = Clock::now();
      const std::string text = accounts_only.serialize();
      acc.push_back(ms(Clock::now() - a0));
    }
    report("  of which accounts-only part", acc);
  }

  AdminHandlers h;
  h.metrics = [&] { return metrics.serialize(); };
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  HttpServer server(o, std::make_shared<HttpRouter>(h, std::nullopt));
  const auto port = server.start();
  std::vector<double> get;
  for (int i = 0; i < rounds; ++i) {
    const auto g0 = Clock::now();
    const auto r = sharekeeper::daemon::testing::http_request(port, "GET", "/metrics");
    get.push_back(ms(Clock::now() - g0));
    if (r.status != 200 || r.body.size() != bytes) {
      std::fprintf(stderr, "bad response: %d, %zu bytes\n", r.status, r.body.size());
      return 1;
    }
  }
  report("GET /metrics over loopback", get);
  server.stop();
  return 0;
}
