// deploy/: the alert rules pass `promtool check rules` and their own `promtool test rules` cases,
// and every sharekeeper_* name the rules and the Grafana dashboard query is one the daemon exports;
// the Dockerfile installs every Debian package whose shared library the binary links.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "daemon/metrics.hpp"

namespace sharekeeper::daemon {
namespace {

const std::string kDeploy = std::string(SHAREKEEPER_SOURCE_DIR) + "/deploy";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::pair<int, std::string> run(const std::string& cmd) {
  // One file per test and process: ctest -j2 runs these tests (and the ci and asan trees) at once.
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string out = ::testing::TempDir() + "/sk_deploy_" +
                          (info != nullptr ? info->name() : "cmd") + "_" +
                          std::to_string(::getpid()) + ".out";
  const int rc = std::system(("( " + cmd + " ) > " + out + " 2>&1").c_str());
  return {WEXITSTATUS(rc), read(out)};
}

bool have_promtool() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

// Every metric name in the exposition, with the _bucket/_sum/_count series of histograms.
std::set<std::string> exported_names() {
  Metrics m("0");
  m.set_config({"prod"}, {{"prod", "s", "account", "1111222233334444"}}, "r");
  m.observe_api_call("ram", "GetRole", "OK", 0.1);
  m.count_change("prod", "attach_policy");
  m.set_coordination({"prod"}, {});  // the series of settings.coordination
  std::set<std::string> names;
  std::istringstream in(m.serialize());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return names;
}

std::set<std::string> referenced_names(const std::string& text) {
  std::set<std::string> out;
  const std::regex re("sharekeeper_[a-z_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    out.insert(it->str());
  return out;
}

TEST(Deploy, AlertRulesPassPromtoolCheck) {
  ASSERT_TRUE(have_promtool()) << "promtool (Debian package prometheus) is required";
  auto [rc, out] = run("promtool check rules " + kDeploy + "/prometheus/sharekeeper-alerts.yaml");
  EXPECT_EQ(rc, 0) << out;
}

TEST(Deploy, AlertRulesPassTheirPromtoolUnitTests) {
  ASSERT_TRUE(have_promtool()) << "promtool (Debian package prometheus) is required";
  auto [rc, out] =
      run("cd " + kDeploy + "/prometheus && promtool test rules sharekeeper-alerts.test.yaml");
  EXPECT_EQ(rc, 0) << out;
}

TEST(Deploy, RulesAndDashboardQueryOnlyExportedMetrics) {
  const auto exported = exported_names();
  const std::string rules = read(kDeploy + "/prometheus/sharekeeper-alerts.yaml");
  ASSERT_FALSE(rules.empty());
  for (const auto& n : referenced_names(rules))
    EXPECT_TRUE(exported.count(n)) << "alert rules use " << n;

  const auto dash = nlohmann::json::parse(read(kDeploy + "/grafana/sharekeeper-dashboard.json"));
  std::string exprs;
  for (const auto& p : dash["panels"])
    for (const auto& t : p["targets"]) exprs += t["expr"].get<std::string>() + "\n";
  for (const auto& a : dash["annotations"]["list"]) exprs += a.value("expr", "") + "\n";
  const auto used = referenced_names(exprs);
  for (const auto& n : used) EXPECT_TRUE(exported.count(n)) << "dashboard uses " << n;
  // The panels the issue asks for: readiness by share and target, drift, API errors and throttling,
  // reconcile duration.
  for (const char* n :
       {"sharekeeper_grant_ready", "sharekeeper_drift_detected_total",
        "sharekeeper_api_requests_total", "sharekeeper_reconcile_duration_seconds_bucket"})
    EXPECT_TRUE(used.count(n)) << n;
  EXPECT_NE(exprs.find("Throttling"), std::string::npos);
}

TEST(Deploy, SystemdUnitCarriesTheHardeningOfReliability45) {
  const std::string unit = read(kDeploy + "/systemd/sharekeeper.service");
  ASSERT_FALSE(unit.empty());
  for (const char* d : {"DynamicUser=yes",
                        "NoNewPrivileges=yes",
                        "CapabilityBoundingSet=\n",
                        "ProtectSystem=strict",
                        "ProtectHome=yes",
                        "PrivateTmp=yes",
                        "PrivateDevices=yes",
                        "ProtectKernelTunables=yes",
                        "ProtectKernelModules=yes",
                        "ProtectKernelLogs=yes",
                        "ProtectControlGroups=yes",
                        "ProtectClock=yes",
                        "ProtectHostname=yes",
                        "ProtectProc=invisible",
                        "ProcSubset=pid",
                        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                        "RestrictNamespaces=yes",
                        "RestrictRealtime=yes",
                        "RestrictSUIDSGID=yes",
                        "LockPersonality=yes",
                        "MemoryDenyWriteExecute=yes",
                        "SystemCallArchitectures=native",
                        "SystemCallFilter=@system-service",
                        "SystemCallFilter=~@privileged @resources",
                        "UMask=0077",
                        "LoadCredentialEncrypted=admin-token:",
                        "Environment=TZ=UTC",
                        "Restart=on-failure"})
    EXPECT_NE(unit.find(d), std::string::npos) << d;
  EXPECT_NE(unit.find("--admin-token-file ${CREDENTIALS_DIRECTORY}/admin-token"),
            std::string::npos);
}

#ifdef SK_DAEMON_BIN
TEST(Deploy, DockerfileInstallsEveryLibraryTheBinaryLinks) {
  if (std::system("command -v dpkg >/dev/null 2>&1 && command -v ldd >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "needs dpkg and ldd (Debian)";
  // Library path -> the package that ships it (dpkg knows some under /lib, some under /usr/lib).
  const auto [rc, out] =
      run("ldd " + std::string(SK_DAEMON_BIN) + " > ldd.out.$$ && " +
          "{ grep -q 'not found' ldd.out.$$ && echo 'unresolved: a library ldd cannot find'; "
          "for l in $(awk '/=> \\//{print $3}' ldd.out.$$); do dpkg -S \"$l\" 2>/dev/null || "
          "dpkg -S \"$(realpath \"$l\")\" 2>/dev/null || echo \"unpackaged $l\"; "
          "done | cut -d: -f1 | sort -u; }; rc=$?; rm -f ldd.out.$$; exit $rc");
  ASSERT_EQ(rc, 0) << out;
  const std::string dockerfile = read(std::string(SHAREKEEPER_SOURCE_DIR) + "/Dockerfile");
  const auto runtime = dockerfile.find("FROM debian:12-slim");
  ASSERT_NE(runtime, std::string::npos);
  std::set<std::string> words;  // of the runtime stage, comments left out
  std::istringstream stage(dockerfile.substr(runtime));
  for (std::string line; std::getline(stage, line);) {
    if (line.find_first_not_of(' ') != std::string::npos &&
        line[line.find_first_not_of(' ')] == '#')
      continue;
    std::istringstream ws(line);
    for (std::string w; ws >> w;) words.insert(w);
  }
  std::istringstream packages(out);
  int checked = 0;
  for (std::string p; std::getline(packages, p);) {
    // In every Debian image already; sanitizer runtimes only in the ASan test build.
    if (p == "libc6" || p == "libgcc-s1" || p.rfind("libasan", 0) == 0 ||
        p.rfind("libubsan", 0) == 0 || p.rfind("liblsan", 0) == 0 || p.rfind("libtsan", 0) == 0)
      continue;
    EXPECT_EQ(words.count(p), 1U) << "the Dockerfile's runtime stage does not install " << p;
    ++checked;
  }
  EXPECT_GE(checked, 5) << out;  // libstdc++6, libssl3, libyaml-cpp0.7, prometheus-cpp, spdlog, ...
}
#endif

}  // namespace
}  // namespace sharekeeper::daemon
