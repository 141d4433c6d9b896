// bench_converge: how long `sharekeeper apply` takes to converge a large organisation, and how many
// API calls it spends, against `sharekeeper-emulator` with per-account, per-product rate limits and
// a round-trip latency, compared with the physical lower bound those limits allow. Three passes:
// from empty (everything created), converged (nothing to do), and after 5 % of the image grants
// were removed behind sharekeeper's back (drift). Prints figures; asserts nothing. See README.md.
//
// Usage: bench_converge [accounts=200] [shares=50] [targets=3] [cmks=500] [rate=20] [burst=0]
//                       [rtt_ms=30] [jitter_ms=5] [drift=0.05] [folders=1] [daemon=1] [seed=1]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/loader.hpp"
#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "daemon_harness.hpp"
#include "reconcilers/observe.hpp"

using namespace sharekeeper::daemon::testing;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  int accounts = 200;
  int shares = 50;   // per account
  int targets = 3;   // per share
  int cmks = 500;    // over all accounts and regions
  double rate = 20;  // calls per second per account and product (the emulator's --rate-limit)
  double burst = 0;  // 0: the rate
  int rtt_ms = 30;
  int jitter_ms = 5;
  double drift = 0.05;
  bool folders = true;  // every 10th share also goes to an RD folder
  bool daemon = true;   // also measure `sharekeeper run`'s RSS after a pass
  unsigned seed = 1;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "bench_converge: arguments are name=value: %s\n", argv[i]);
      std::exit(2);
    }
    const std::string k = arg.substr(0, eq);
    const double v = std::atof(arg.c_str() + eq + 1);
    if (k == "accounts")
      o.accounts = static_cast<int>(v);
    else if (k == "shares")
      o.shares = static_cast<int>(v);
    else if (k == "targets")
      o.targets = static_cast<int>(v);
    else if (k == "cmks")
      o.cmks = static_cast<int>(v);
    else if (k == "rate")
      o.rate = v;
    else if (k == "burst")
      o.burst = v;
    else if (k == "rtt_ms")
      o.rtt_ms = static_cast<int>(v);
    else if (k == "jitter_ms")
      o.jitter_ms = static_cast<int>(v);
    else if (k == "drift")
      o.drift = v;
    else if (k == "folders")
      o.folders = v != 0;
    else if (k == "daemon")
      o.daemon = v != 0;
    else if (k == "seed")
      o.seed = static_cast<unsigned>(v);
    else {
      std::fprintf(stderr, "bench_converge: unknown argument %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

// prefix + n in `width` digits, zero-padded.
std::string fmt(const std::string& prefix, long long n, std::size_t width) {
  std::string digits = std::to_string(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return prefix + digits;
}

constexpr const char* kRegions[] = {"cn-hangzhou", "cn-shanghai"};
constexpr int kRegionCount = 2;
constexpr int kTargetPool = 1000;  // target accounts, spread over the RD's folders
constexpr int kFolders = 10;
constexpr const char* kRd = "rd-bench1";
constexpr const char* kRoot = "r-bench1";

std::string sharer_uid(int a) { return fmt("", 2000000000000000LL + a, 16); }
std::string target_uid(int t) { return fmt("", 3000000000000000LL + t, 16); }
std::string folder_id(int f) { return fmt("fd-bench", f, 5); }
std::string sharer_name(int a) { return fmt("sharer", a, 4); }
std::string key_id(int a) { return fmt("LTAI5tBenchKey", a, 8); }
std::string secret(int a) { return fmt("BenchConvergeSecret0123456789", a, 8); }

struct Grant {
  int account;
  bool image;
  std::string target;  // account UID
};

struct Org {
  json seed;
  std::string accounts_yaml;
  std::vector<std::string> share_files;  // YAML, each under the 1 MiB file limit
  std::map<std::string, std::string> env;
  std::vector<Grant> account_grants;  // to accounts: what the drift pass breaks
  long grants = 0;
};

Org generate(const Options& o) {
  Org org;
  json accounts = json::array();
  json rd_accounts = json::object();
  json folders = json::array();
  for (int f = 0; f < kFolders; ++f) folders.push_back({{"id", folder_id(f)}, {"parentId", kRoot}});
  for (int t = 0; t < kTargetPool; ++t) {
    rd_accounts[target_uid(t)] = folder_id(t % kFolders);
    accounts.push_back({{"uid", target_uid(t)}, {"name", fmt("target", t, 4)}});
  }
  org.accounts_yaml = "apiVersion: sharekeeper/v1\nsettings:\n  interval: 1h\naccounts:\n";
  long snapshot_no = 0, image_no = 0;
  int key_no = 0;
  std::string shares;
  int shares_in_file = 0;
  auto flush = [&] {
    if (shares_in_file == 0) return;
    org.share_files.push_back("apiVersion: sharekeeper/v1\nshares:\n" + shares);
    shares.clear();
    shares_in_file = 0;
  };
  const int pairs = o.accounts * kRegionCount;
  for (int a = 0; a < o.accounts; ++a) {
    const std::string uid = sharer_uid(a), name = sharer_name(a);
    rd_accounts[uid] = kRoot;
    json regions = json::object();
    std::vector<std::vector<std::string>> keys(kRegionCount);
    for (int r = 0; r < kRegionCount; ++r) {
      // The CMKs spread over (account, region) pairs; every pair has at least one.
      const int pair = a * kRegionCount + r;
      const int count = std::max(1, o.cmks / pairs + (pair < o.cmks % pairs ? 1 : 0));
      json kms = json::array();
      for (int k = 0; k < count; ++k) {
        auto& region_keys = keys[static_cast<std::size_t>(r)];
        region_keys.push_back(fmt("key-bench", key_no++, 15));
        kms.push_back({{"keyId", region_keys.back()}, {"creator", uid}, {"state", "Enabled"}});
      }
      regions[kRegions[r]] = {
          {"kmsKeys", kms}, {"snapshots", json::array()}, {"images", json::array()}};
    }
    for (int s = 0; s < o.shares; ++s) {
      const int r = s % kRegionCount;
      const std::string region = kRegions[r];
      const auto& region_keys = keys[static_cast<std::size_t>(r)];
      const std::string& key =
          region_keys[static_cast<std::size_t>(s / kRegionCount) % region_keys.size()];
      const std::string snapshot = fmt("s-bench", snapshot_no++, 12);
      json& world = regions[region];
      world["snapshots"].push_back(
          {{"snapshotId", snapshot}, {"encrypted", true}, {"kmsKeyId", key}});
      const bool image = s % 4 < 2;  // half the shares are images (on an encrypted snapshot)
      std::string resource = snapshot;
      if (image) {
        resource = fmt("m-bench", image_no++, 12);
        world["images"].push_back({{"imageId", resource}, {"snapshotIds", {snapshot}}});
      }
      std::vector<std::string> to_accounts, to_folders;
      for (int t = 0; t < o.targets; ++t) {
        if (o.folders && t == o.targets - 1 && s % 10 == 9) {
          to_folders.push_back(std::string(kRd) + "/" + kRoot + "/" +
                               folder_id((a + s) % kFolders));
        } else {
          to_accounts.push_back(target_uid((a * 37 + s * 11 + t * 101) % kTargetPool));
          org.account_grants.push_back({a, image, to_accounts.back()});
        }
        ++org.grants;
      }
      shares += "  - name: " + name + fmt("-", s, 2) + "\n    account: " + name +
                "\n    region: " + region + "\n    " + (image ? "images" : "snapshots") + ": [" +
                resource + "]\n    to:\n";
      if (!to_accounts.empty()) {
        shares += "      accounts: [";
        for (std::size_t i = 0; i < to_accounts.size(); ++i)
          shares += (i ? ", \"" : "\"") + to_accounts[i] + "\"";
        shares += "]\n";
      }
      if (!to_folders.empty()) shares += "      folders: [" + to_folders.front() + "]\n";
      if (++shares_in_file == 1000) flush();
    }
    accounts.push_back({{"uid", uid},
                        {"name", name},
                        {"accessKeys", {{{"id", key_id(a)}, {"secret", secret(a)}}}},
                        {"regions", regions}});
    const std::string n = fmt("", a, 4);
    org.accounts_yaml += "  - name: " + name + "\n    uid: \"" + uid +
                         "\"\n    credentials:\n      source: env\n      accessKeyIdEnv: SK_AK_" +
                         n + "\n      accessKeySecretEnv: SK_SK_" + n + "\n";
    org.env["SK_AK_" + n] = key_id(a);
    org.env["SK_SK_" + n] = secret(a);
  }
  flush();
  org.seed = {
      {"accounts", accounts},
      {"resourceDirectory",
       {{"id", kRd}, {"rootFolderId", kRoot}, {"folders", folders}, {"accounts", rd_accounts}}}};
  return org;
}

// Calls per account UID and product, from GET /_emulator/rate-limits.
struct Count {
  long allowed = 0, throttled = 0, writes = 0;
};
using Counts = std::map<std::string, std::map<std::string, Count>>;

Counts counts(std::uint16_t port) {
  const auto r = http_request(port, "GET", "/_emulator/rate-limits");
  Counts out;
  const json body = json::parse(r.body);  // named: a range-for keeps only its last temporary alive
  for (const auto& [uid, products] : body.at("accounts").items())
    for (const auto& [product, c] : products.items())
      out[uid][product] = {c.at("allowed").get<long>(), c.at("throttled").get<long>(),
                           c.at("writes").get<long>()};
  return out;
}

Counts minus(const Counts& after, const Counts& before) {
  Counts out = after;
  for (auto& [uid, products] : out)
    for (auto& [product, c] : products) {
      auto a = before.find(uid);
      if (a == before.end()) continue;
      auto p = a->second.find(product);
      if (p == a->second.end()) continue;
      c.allowed -= p->second.allowed;
      c.throttled -= p->second.throttled;
      c.writes -= p->second.writes;
    }
  return out;
}

struct Run {
  double wall = 0;
  int exit_code = 0;
  long max_rss_kb = 0;
  double cpu = 0;           // apply's user + system CPU seconds
  double emulator_cpu = 0;  // the emulator's, during the pass
  std::string timing;       // apply's "apply timing:" line (where its time went)
};

// A process's user + system CPU seconds (/proc/PID/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i >= 14) ticks += std::atof(f.c_str());
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// `sharekeeper apply --auto-approve` as a process; its wall time and peak RSS (wait4).
Run apply(const fs::path& dir, const std::string& url,
          const std::map<std::string, std::string>& env) {
  std::vector<std::string> args{SK_DAEMON_BIN,
                                "--endpoint-override",
                                url,
                                "--log-level",
                                "debug",  // its "apply timing:" line on stderr
                                "apply",
                                "-c",
                                (dir / "config").string(),
                                "--auto-approve"};
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> av, ev;
  for (auto& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  for (auto& e : envs) ev.push_back(e.data());
  ev.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string out = (dir / "apply.out").string(), err = (dir / "apply.err").string();
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const auto t0 = SteadyClock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, av[0], &fa, nullptr, av.data(), ev.data()) != 0)
    throw std::runtime_error("cannot start sharekeeper apply");
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  Run r;
  r.wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kb = usage.ru_maxrss;
  r.cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::istringstream log(read_file(dir / "apply.err"));
  for (std::string line; std::getline(log, line);)
    if (line.rfind("apply timing: ", 0) == 0) r.timing = line.substr(14);
  return r;
}

struct Figures {
  long calls = 0, throttled = 0;
  double lower_bound = 0, ratio = 0, used = 0, throttled_fraction = 0;
};

// The fewest calls a pass needs, per account and product: the reads of the converged pass (what
// must be looked at once, whatever is to be done) plus the writes this pass made. A second
// observation after the writes (verification) or a retried call is not part of it.
Counts minimum(const Counts& pass, const Counts& converged) {
  Counts out;
  for (const auto& [uid, products] : pass)
    for (const auto& [product, c] : products) out[uid][product].allowed = c.writes;
  for (const auto& [uid, products] : converged)
    for (const auto& [product, c] : products) out[uid][product].allowed += c.allowed - c.writes;
  return out;
}

// Round trips that depend on each other, whatever the client: reading needs the caller's identity,
// then the roles and resources, then what they name (policy versions, disk snapshots, keys);
// writing needs a role before its policy is attached, and a trusted role before an encrypted image
// is shared.
constexpr int kReadDepth = 3;
constexpr int kWriteDepth = 2;

// The lower bound of a pass: an account cannot finish before its busiest product's quota has paid
// for that product's minimum calls (after the burst), nor before its chain of dependent round
// trips (kReadDepth, plus kWriteDepth when it writes); accounts run in
// parallel up to `concurrency`, so the pass cannot end before the slowest account nor before the
// accounts' total time spread over `concurrency` lanes.
Figures figures(const Counts& spent, const Counts& needed, const Counts& writes, double wall,
                const Options& o, int concurrency) {
  Figures f;
  const double burst = o.burst > 0 ? o.burst : std::max(1.0, o.rate);
  const double rtt = o.rtt_ms / 1000.0;
  for (const auto& [uid, products] : spent)
    for (const auto& [product, n] : products) {
      f.calls += n.allowed + n.throttled;
      f.throttled += n.throttled;
    }
  double slowest = 0, total = 0, busiest_calls = 0;
  for (const auto& [uid, products] : needed) {
    double t = 0, busiest = 0;
    for (const auto& [product, n] : products) {
      t = std::max(t, std::max(0.0, static_cast<double>(n.allowed) - burst) / o.rate);
      busiest = std::max(busiest, static_cast<double>(n.allowed));
    }
    if (busiest == 0) continue;
    long wrote = 0;
    if (auto w = writes.find(uid); w != writes.end())
      for (const auto& [product, n] : w->second) wrote += n.writes;
    t = std::max(t, rtt * (kReadDepth + (wrote > 0 ? kWriteDepth : 0)));
    slowest = std::max(slowest, t);
    total += t;
    busiest_calls += busiest;
  }
  f.lower_bound = std::max(slowest, total / std::max(1, concurrency));
  f.ratio = f.lower_bound > 0 ? wall / f.lower_bound : 0;
  // Each account's busiest product quota over the pass, `concurrency` accounts at a time: the
  // fraction of it the calls the pass needed used.
  const double capacity =
      static_cast<double>(std::min<long>(concurrency, static_cast<long>(needed.size()))) *
      (burst + o.rate * wall);
  f.used = capacity > 0 ? busiest_calls / capacity : 0;
  f.throttled_fraction =
      f.calls > 0 ? static_cast<double>(f.throttled) / static_cast<double>(f.calls) : 0;
  return f;
}

void print(const char* pass, const Run& r, const Figures& f) {
  std::printf(
      "%-9s wall %7.2f s  calls %7ld  lower bound %7.2f s  %5.2fx  rate limit used %5.1f%%  "
      "throttled %5.2f%% (%ld)  apply exit %d  peak RSS %.1f MB\n",
      pass, r.wall, f.calls, f.lower_bound, f.ratio, 100 * f.used, 100 * f.throttled_fraction,
      f.throttled, r.exit_code, static_cast<double>(r.max_rss_kb) / 1024.0);
  // Where the time went: CPU of both processes against the wall (2 cores: 2 x wall is all of it),
  // and apply's own phases, verification calls and client-side pacing.
  std::printf(
      "%-9s cpu: apply %.2f s, emulator %.2f s (%.0f%% of %u cores over the wall); %s\n", "", r.cpu,
      r.emulator_cpu,
      100 * (r.cpu + r.emulator_cpu) / (r.wall * std::max(1U, std::thread::hardware_concurrency())),
      std::max(1U, std::thread::hardware_concurrency()), r.timing.c_str());
  std::fflush(stdout);
}

// Removes a random `drift` fraction of the grants to accounts behind sharekeeper's back, the way a
// person would in the console: the target's principal leaves the share role's trust policy
// (UpdateRole), which sharekeeper corrects today (image share permissions are not written until
// `manageShares`, issue 12). Returns the grants broken (a principal serves every grant of the
// account to that target on that role).
int drift(const Org& org, const Options& o, const fs::path& dir, const std::string& url) {
  auto loaded = sharekeeper::config::load((dir / "config").string());
  if (!loaded.ok()) throw std::runtime_error("generated config does not load");
  for (const auto& [k, v] : org.env) ::setenv(k.c_str(), v.c_str(), 1);
  sharekeeper::daemon::GlobalOptions g;
  g.endpoint_override = url;
  sharekeeper::daemon::CloudFactory factory(g);
  std::vector<Grant> grants = org.account_grants;
  std::mt19937 random(o.seed);
  std::shuffle(grants.begin(), grants.end(), random);
  grants.resize(
      std::min(grants.size(), static_cast<std::size_t>(static_cast<double>(org.grants) * o.drift)));
  // (account, role) -> principals to drop
  std::map<std::pair<int, std::string>, std::set<std::string>> drop;
  for (const auto& gr : grants)
    drop[{gr.account, gr.image ? "AliyunECSShareEncryptImageDefaultRole"
                               : "AliyunECSShareEncryptSnapshotDefaultRole"}]
        .insert(gr.target + "@ecs.aliyuncs.com");
  int broken = 0;
  for (const auto& [key, principals] : drop) {
    const auto* account = loaded.state->find_account(sharer_name(key.first));
    auto api = factory.make(*loaded.state, *account).value();
    auto role = api->get_role(key.second);
    if (!role.ok() || !role->has_value()) continue;
    json trust = json::parse((**role).trust_policy, nullptr, false);
    if (!trust.is_object() || !trust.contains("Statement")) continue;
    for (auto& statement : trust["Statement"]) {
      if (!statement.contains("Principal") || !statement["Principal"].contains("Service")) continue;
      json& service = statement["Principal"]["Service"];
      if (!service.is_array()) service = json::array({service});
      json kept = json::array();
      for (const auto& p : service)
        if (!p.is_string() || principals.count(p.get<std::string>()) == 0) kept.push_back(p);
      service = kept;
    }
    if (api->update_role_trust_policy(key.second, trust.dump()).ok()) {
      for (const auto& gr : grants)
        if (gr.account == key.first &&
            (gr.image ? "AliyunECSShareEncryptImageDefaultRole"
                      : "AliyunECSShareEncryptSnapshotDefaultRole") == key.second)
          ++broken;
    }
  }
  return broken;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  TempDir dir;
  if (std::getenv("SK_BENCH_KEEP") != nullptr)
    std::printf("working directory: %s\n", dir.path.c_str());
  const Org org = generate(o);
  fs::create_directories(dir.path / "config");
  std::ofstream(dir.path / "config" / "00-accounts.yaml") << org.accounts_yaml;
  for (std::size_t i = 0; i < org.share_files.size(); ++i)
    std::ofstream(dir.path / "config" / (fmt("shares-", static_cast<long long>(i), 3) + ".yaml"))
        << org.share_files[i];
  std::ofstream(dir.path / "seed.json") << org.seed.dump();

  // The emulator: a process, seeded, with the rate limits and the round trip.
  Process emulator(
      {SK_EMULATOR_BIN, "--listen", "127.0.0.1:0", "--seed", (dir.path / "seed.json").string(),
       "--rate-limit", std::to_string(o.rate), "--rate-limit-burst", std::to_string(o.burst),
       "--latency-ms", std::to_string(o.rtt_ms), "--latency-jitter-ms", std::to_string(o.jitter_ms),
       // A cloud endpoint takes every connection a pass opens (up to lanes x 3 tasks x fan-out).
       "--max-connections", "4096", "--association-delay-ms", "0", "--journal-capacity", "1000"},
      dir.path / "emulator.out", dir.path / "emulator.err");
  if (!eventually([&] { return listening_port(dir.path / "emulator.out").has_value(); }, 120s))
    throw std::runtime_error("emulator did not start: " + read_file(dir.path / "emulator.err"));
  const std::uint16_t port = *listening_port(dir.path / "emulator.out");
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  // What apply runs at once.
  const int concurrency =
      sharekeeper::reconcilers::account_workers(static_cast<std::size_t>(o.accounts));

  std::printf(
      "bench_converge: %d accounts x %d shares x %d targets (%ld grants), %d CMKs, %d regions\n",
      o.accounts, o.shares, o.targets, org.grants, o.cmks, kRegionCount);
  std::printf(
      "emulator: %.0f calls/s per account and product (burst %.0f), RTT %d ms + 0..%d ms jitter\n",
      o.rate, o.burst > 0 ? o.burst : std::max(1.0, o.rate), o.rtt_ms, o.jitter_ms);
  std::fflush(stdout);

  const char* names[] = {"fresh", "converged", "drift"};
  Run runs[3];
  Counts spent[3];
  for (int pass = 0; pass < 3; ++pass) {
    if (pass == 2) {
      const int removed = drift(org, o, dir.path, url);
      std::printf(
          "drift: %d grants broken behind sharekeeper's back (principals removed from trust "
          "policies)\n",
          removed);
    }
    const Counts before = counts(port);
    if (std::getenv("SK_BENCH_KEEP") != nullptr)
      std::printf("%s: %zu accounts counted before\n", names[pass], before.size());
    const double emulator_cpu = cpu_seconds(emulator.pid());
    runs[pass] = apply(dir.path, url, org.env);
    runs[pass].emulator_cpu = cpu_seconds(emulator.pid()) - emulator_cpu;
    spent[pass] = minus(counts(port), before);
    if (runs[pass].exit_code != 0) {
      const std::string out = read_file(dir.path / "apply.out") + read_file(dir.path / "apply.err");
      std::printf("%s: apply did not converge; the end of its output:\n%s\n", names[pass],
                  out.substr(out.size() > 3000 ? out.size() - 3000 : 0).c_str());
    }
  }
  double ratios[3] = {0, 0, 0};
  double used_sum = 0, throttled = 0;
  long calls = 0;
  for (int pass = 0; pass < 3; ++pass) {
    const Figures f = figures(spent[pass], minimum(spent[pass], spent[1]), spent[pass],
                              runs[pass].wall, o, concurrency);
    print(names[pass], runs[pass], f);
    std::map<std::string, double> per_product;
    for (const auto& [uid, products] : spent[pass])
      for (const auto& [product, n] : products)
        per_product[product] += static_cast<double>(n.allowed + n.throttled) / o.accounts;
    std::string line;
    for (const auto& [product, n] : per_product)
      line += "  " + product + " " + std::to_string(std::llround(n));
    std::printf("%-9s calls per account:%s\n", "", line.c_str());
    ratios[pass] = f.ratio;
    if (pass != 1) used_sum += f.used / 2;  // while work remains: the passes that write
    throttled += static_cast<double>(f.throttled);
    calls += f.calls;
  }

  if (o.daemon) {
    // `sharekeeper run` over the same organisation: its RSS once every account had a pass.
    write_file_atomic(dir.path / "token", std::string(kAdminToken) + "\n");
    std::map<std::string, std::string> env = org.env;
    env["TZ"] = "UTC";
    Process run({SK_DAEMON_BIN, "--endpoint-override", url, "--log-level", "warn", "run", "-c",
                 (dir.path / "config").string(), "--listen", "127.0.0.1:0", "--admin-token-file",
                 (dir.path / "token").string()},
                dir.path / "run.out", dir.path / "run.err", env);
    const auto t0 = SteadyClock::now();
    std::optional<std::uint16_t> admin;
    auto passes = [&] {
      if (!admin) admin = listening_port(dir.path / "run.out");
      if (!admin) return 0.0;
      double total = 0;
      std::istringstream in(http_request(*admin, "GET", "/metrics").body);
      std::string line;
      while (std::getline(in, line))
        if (line.rfind("sharekeeper_reconcile_total{", 0) == 0)
          total += std::stod(line.substr(line.rfind(' ') + 1));
      return total;
    };
    if (eventually([&] { return passes() >= o.accounts || !run.running(); }, 600s) &&
        run.running()) {
      long rss = 0, hwm = 0;
      std::istringstream st(read_file("/proc/" + std::to_string(run.pid()) + "/status"));
      std::string line;
      while (std::getline(st, line)) {
        if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
        if (line.rfind("VmHWM:", 0) == 0) hwm = std::stol(line.substr(6));
      }
      std::printf(
          "daemon:   `sharekeeper run` after a pass over %d accounts (%.1f s): RSS %.1f MB, "
          "peak %.1f MB\n",
          o.accounts, std::chrono::duration<double>(SteadyClock::now() - t0).count(),
          static_cast<double>(rss) / 1024.0, static_cast<double>(hwm) / 1024.0);
    } else {
      std::printf("daemon:   no pass over every account within 600 s: %s\n",
                  read_file(dir.path / "run.err").substr(0, 2000).c_str());
    }
    run.signal(SIGTERM);
    run.wait(30s);
  }

  std::printf(
      "converge: %d accounts, %ld grants; fresh %.2fx, converged %.2fx, drift %.2fx of the lower "
      "bound; %.0f%% of the rate limit; %.1f%% throttled\n",
      o.accounts, org.grants, ratios[0], ratios[1], ratios[2], 100 * used_sum,
      calls > 0 ? 100 * throttled / static_cast<double>(calls) : 0.0);
  emulator.signal(SIGTERM);
  emulator.wait(30s);
  if (std::getenv("SK_BENCH_KEEP") != nullptr) {
    const fs::path kept = fs::temp_directory_path() / "sk-converge-kept";
    fs::remove_all(kept);
    fs::copy(dir.path, kept, fs::copy_options::recursive);
    std::printf("kept: %s\n", kept.c_str());
  }
  return 0;
}
