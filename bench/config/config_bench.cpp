// Load + validate time and peak RSS for a large config: 10,000 shares x 10 target accounts (100,000
// grants) over 100 sharer accounts, split into files under 1 MiB in a temporary directory. Prints a
// table; the goal is under 200 ms wall and under 100 MB. Usage: config_bench [SHARES] [ITERATIONS]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "config/yaml_tree.hpp"

namespace fs = std::filesystem;
using sharekeeper::config::load;

namespace {

std::string uid(long long n) { return std::to_string(1000000000000000LL + n); }

std::string id(char prefix, int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c-bp1%016d", prefix, n);
  return buf;
}

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
          static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3);
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int shares = argc > 1 ? std::atoi(argv[1]) : 10000;
  int iterations = argc > 2 ? std::atoi(argv[2]) : 5;
  constexpr int kTargets = 10, kAccounts = 100, kSharesPerFile = 1000;
  const char* regions[] = {"cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"};

  std::string tmpl = (fs::temp_directory_path() / "sk-config-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return 1;
  fs::path dir = tmpl;
  {
    std::ofstream a(dir / "00-accounts.yaml");
    a << "apiVersion: sharekeeper/v1\nsettings:\n  interval: 5m\n  prune: true\naccounts:\n";
    for (int i = 0; i < kAccounts; ++i)
      a << "  - name: account-" << i << "\n    uid: \"" << uid(i) << "\"\n    credentials:\n"
        << "      source: assumeRole\n      roleArn: acs:ram::" << uid(i) << ":role/sharekeeper\n"
        << "      from: default\n";
  }
  std::uintmax_t bytes = 0;
  int files = 0;
  for (int f = 0; f * kSharesPerFile < shares; ++f) {
    char name[32];
    std::snprintf(name, sizeof name, "shares-%03d.yaml", f);
    std::ofstream out(dir / name);
    out << "apiVersion: sharekeeper/v1\nshares:\n";
    for (int s = f * kSharesPerFile; s < std::min(shares, (f + 1) * kSharesPerFile); ++s) {
      int acct = s % kAccounts;
      out << "  - name: share-" << s << "\n    account: account-" << acct
          << "\n    region: " << regions[s % 4] << "\n    images: [" << id('m', s)
          << "]\n    snapshots: [" << id('s', s) << "]\n    to:\n      accounts:\n";
      for (int t = 0; t < kTargets; ++t)
        out << "        - \"" << uid(kAccounts + (s + t * 7) % 5000) << "\"\n";
    }
    ++files;
  }
  for (const auto& e : fs::directory_iterator(dir)) bytes += fs::file_size(e.path());

  std::vector<double> ms, cpu;
  std::size_t grants = 0, diags = 0;
  bool ok = true;
  for (int i = 0; i < iterations; ++i) {
    double c0 = cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    auto r = load(dir);
    auto t1 = std::chrono::steady_clock::now();
    cpu.push_back(cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    ok = ok && r.ok();
    diags = r.diagnostics.size();
    if (r.ok()) grants = sharekeeper::config::grant_count(*r.state);
    if (!r.ok())
      for (std::size_t k = 0; k < std::min<std::size_t>(5, r.diagnostics.size()); ++k)
        std::fprintf(stderr, "%s\n",
                     sharekeeper::config::format_diagnostic(r.diagnostics[k]).c_str());
  }
  long load_peak_kb = peak_rss_kb();  // before the breakdown below, which keeps every tree alive
  // Where the time goes: yaml-cpp's parser (with our event handler building the tree), one thread.
  auto read = sharekeeper::config::read_sources(dir);
  double p0 = cpu_ms();
  std::vector<sharekeeper::config::detail::ParsedYaml> trees;
  for (const auto& src : read.sources)
    trees.push_back(sharekeeper::config::detail::parse_yaml(src.name, src.content));
  double parse_cpu = cpu_ms() - p0;
  std::vector<sharekeeper::config::Diagnostic> sink;
  double c0 = cpu_ms();
  for (std::size_t i = 0; i < trees.size(); ++i)
    sharekeeper::config::detail::check_file(read.sources[i].name, trees[i].root, sink);
  double check_cpu = cpu_ms() - c0;
  double h0 = cpu_ms();
  auto hash = sharekeeper::config::content_hash(read.sources);
  double hash_cpu = cpu_ms() - h0;
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("config_bench: %d shares x %d targets, %d sharer accounts, %d files, %.1f MiB\n",
              shares, kTargets, kAccounts, files + 1,
              static_cast<double>(bytes) / (1024.0 * 1024.0));
  std::printf("  %-28s %s\n", "valid", ok ? "yes" : "NO");
  std::printf("  %-28s %zu\n", "grants", grants);
  std::printf("  %-28s %zu\n", "diagnostics", diags);
  std::printf("  %-28s %.1f ms (min %.1f, max %.1f, %d runs)\n", "load+validate (median)",
              ms[ms.size() / 2], ms.front(), ms.back(), iterations);
  // On a shared machine wall time includes waiting for a core; CPU time is what the loader costs.
  std::printf("  %-28s %.1f ms (min %.1f)\n", "CPU time (median)", cpu[cpu.size() / 2],
              cpu.front());
  std::printf("  %-28s %.1f ms\n", "  YAML parsing (CPU)", parse_cpu);
  std::printf("  %-28s %.1f ms\n", "  per-file schema (CPU)", check_cpu);
  std::printf("  %-28s %.1f ms (%s...)\n", "  content hash (CPU)", hash_cpu,
              hash.substr(0, 8).c_str());
  std::printf("  %-28s %.1f MB\n", "peak RSS (whole process)",
              static_cast<double>(load_peak_kb) / 1024.0);
  std::printf("  %-28s < 200 ms wall, < 100 MB\n", "goal");
  fs::remove_all(dir);
  return ok ? 0 : 1;
}
