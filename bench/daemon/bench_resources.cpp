// Resident memory and CPU of `sharekeeper run` (a real process) against `sharekeeper-emulator`: at
// start, during the first pass over 1,000 grants (20 sharer accounts x 50 target accounts,
// everything created), idle afterwards, and during a converged pass triggered by POST /reconcile.
// Goal (issue 6): < 30 MB idle.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "daemon_harness.hpp"

using namespace sharekeeper::daemon::testing;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kAccounts = 20;
constexpr int kTargetsPerAccount = 50;

// kB (as /proc reports them) in MB.
double mb(long kb) { return static_cast<double>(kb) / 1024.0; }

struct Sample {
  long rss_kb = 0, hwm_kb = 0;
  double cpu_seconds = 0;
};

Sample sample(pid_t pid) {
  Sample s;
  std::istringstream st(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(st, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::stol(line.substr(6));
  }
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

std::string uid(long long n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016lld", n);
  return b;
}

double success_passes(Daemon& d) {
  const std::string m = d.get("/metrics").body;
  double total = 0;
  std::istringstream in(m);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("sharekeeper_reconcile_total{", 0) == 0 &&
        line.find("result=\"success\"") != std::string::npos)
      total += std::stod(line.substr(line.rfind(' ') + 1));
  return total;
}

// Samples the daemon every 20 ms until `done`; returns (peak RSS kB, CPU seconds, wall seconds).
std::tuple<long, double, double> during(pid_t pid, const std::function<bool()>& done) {
  const Sample s0 = sample(pid);
  const auto t0 = Clock::now();
  long peak = s0.rss_kb;
  while (!done()) {
    peak = std::max(peak, sample(pid).rss_kb);
    std::this_thread::sleep_for(20ms);
    if (Clock::now() - t0 > 300s) throw std::runtime_error("pass did not finish in 300 s");
  }
  const Sample s1 = sample(pid);
  return {std::max(peak, s1.rss_kb), s1.cpu_seconds - s0.cpu_seconds,
          std::chrono::duration<double>(Clock::now() - t0).count()};
}

}  // namespace

int main() {
  TempDir dir;
  nlohmann::json accounts = nlohmann::json::array();
  std::string config = "apiVersion: sharekeeper/v1\nsettings:\n  interval: 1h\naccounts:\n";
  std::string shares = "shares:\n";
  std::map<std::string, std::string> env;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string u = uid(2000000000000000LL + a), n = std::to_string(100 + a);
    const std::string key = "key-bench" + std::string(15 - n.size(), '0') + n;
    const std::string snap = "s-bench" + std::string(13 - n.size(), '0') + n;
    accounts.push_back(
        {{"uid", u},
         {"name", "sharer" + n},
         {"accessKeys",
          {{{"id", "LTAI5tBench000000" + n}, {"secret", "BenchSecret0123456789abcd" + n}}}},
         {"regions",
          {{"cn-hangzhou",
            {{"kmsKeys",
              {{{"keyId", key},
                {"creator", u},
                {"state", "Enabled"},
                {"aliases", nlohmann::json::array()}}}},
             {"snapshots",
              {{{"snapshotId", snap},
                {"encrypted", true},
                {"kmsKeyId", key},
                {"tags", nlohmann::json::object()}}}},
             {"images", nlohmann::json::array()}}}}}});
    config += "  - name: sharer" + n + "\n    uid: \"" + u +
              "\"\n    credentials:\n      source: env\n" + "      accessKeyIdEnv: SK_AK_" + n +
              "\n      accessKeySecretEnv: SK_SK_" + n + "\n";
    env["SK_AK_" + n] = "LTAI5tBench000000" + n;
    env["SK_SK_" + n] = "BenchSecret0123456789abcd" + n;
    shares += "  - name: share" + n + "\n    account: sharer" + n +
              "\n    region: cn-hangzhou\n    snapshots: [" + snap +
              "]\n    to:\n      accounts: [";
    for (int t = 0; t < kTargetsPerAccount; ++t)
      shares += std::string(t ? ", " : "") + "\"" + uid(3000000000000000LL + a * 1000LL + t) + "\"";
    shares += "]\n";
  }
  std::ofstream(dir.path / "seed.json") << nlohmann::json({{"accounts", accounts}}).dump(1);
  write_file_atomic(dir.path / "config.yaml", config + shares);

  Emulator emulator(dir.path, (dir.path / "seed.json").string());
  Daemon daemon(dir.path, emulator.url, {"--log-level", "warn"}, env);
  const pid_t pid = daemon.proc->pid();
  const Sample start = sample(pid);
  std::printf("grants: %d (%d accounts x %d targets)\n", kAccounts * kTargetsPerAccount, kAccounts,
              kTargetsPerAccount);
  std::printf("%-40s RSS %6.1f MB\n", "after start", mb(start.rss_kb));

  auto [peak1, cpu1, wall1] = during(pid, [&] {
    return daemon.get("/readyz").status == 200 && success_passes(daemon) >= kAccounts;
  });
  std::printf("%-40s peak RSS %6.1f MB  CPU %.2f s over %.2f s wall\n",
              "first pass (creates everything)", mb(peak1), cpu1, wall1);
  const auto status = nlohmann::json::parse(daemon.get("/status").body);
  std::printf("%-40s %s\n", "grant states after the first pass", status["summary"].dump().c_str());

  const Sample i0 = sample(pid);
  std::this_thread::sleep_for(
      10s);  // a benchmark measuring idleness, not a test waiting for a condition
  const Sample i1 = sample(pid);
  std::printf("%-40s RSS %6.1f MB  CPU %.3f%% of one core\n", "idle (10 s)", mb(i1.rss_kb),
              100.0 * (i1.cpu_seconds - i0.cpu_seconds) / 10.0);

  const double before = success_passes(daemon);
  daemon.post("/reconcile", true);
  auto [peak2, cpu2, wall2] =
      during(pid, [&] { return success_passes(daemon) >= before + kAccounts; });
  std::printf("%-40s peak RSS %6.1f MB  CPU %.2f s over %.2f s wall\n",
              "converged pass (POST /reconcile)", mb(peak2), cpu2, wall2);
  const auto t0 = Clock::now();
  const auto m = daemon.get("/metrics");
  std::printf("%-40s %.2f ms (%zu bytes)\n", "GET /metrics",
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), m.body.size());
  std::printf("%-40s VmHWM %6.1f MB\n", "peak RSS of the whole run", mb(sample(pid).hwm_kb));
  daemon.proc->signal(SIGTERM);
  daemon.proc->wait(30s);
  return 0;
}
