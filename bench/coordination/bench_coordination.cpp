// The figures of issue 15, measured with real processes: `sharekeeper run` replicas, a real etcd
// and sharekeeper-emulator on loopback (tests/integration/coordination/fleet.hpp). Prints; asserts
// nothing (bench/README rule). Modes:
//   spread   [--accounts 200]                   rendezvous spread, computed and in a live fleet
//   takeover [--trials 10] [--ttl 15]            SIGKILL the owner of an account; time until a
//                                                survivor owns it; the killed replica comes back
//   churn    [--minutes 5] [--ttl 3] [--accounts 30] [--seed N]
//                                                kill (SIGKILL or SIGTERM) and restart replicas at
//                                                random; count samples with an account owned twice,
//                                                and overlapping ownership intervals in the logs
//   outage   [--trials 5] [--ttl 3]              kill etcd while passes run; count daemon writes
//   the
//                                                emulator journaled after every lease could expire
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "coordination/fleet.hpp"
#include "coordination/hrw.hpp"

namespace {

using namespace sharekeeper::coordination;
using namespace sharekeeper::coordination::testing;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;

struct Args {
  std::string mode;
  int trials = 0;
  int ttl = 0;
  int accounts = 0;
  double minutes = 5;
  unsigned seed = 0;
};

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Samples until pred holds; counts samples and doubles into the totals.
struct Sampler {
  Fleet& fleet;
  long samples = 0;
  long doubled_samples = 0;
  bool until(const std::function<bool(const Fleet::Sample&)>& pred, Steady::duration timeout,
             Steady::duration every = 50ms) {
    const auto end = Steady::now() + timeout;
    while (Steady::now() < end) {
      const auto s = fleet.sample();
      ++samples;
      if (s.doubles != 0) {
        ++doubled_samples;
        for (const auto& [a, who] : s.owners)
          if (who.size() > 1)
            std::fprintf(stderr, "DOUBLE: %s owned by %zu replicas\n", a.c_str(), who.size());
      }
      if (pred(s)) return true;
      std::this_thread::sleep_for(every);
    }
    return false;
  }
};

Fleet::Options fleet_options(int accounts, int ttl, const std::string& interval) {
  Fleet::Options o;
  o.accounts = accounts;
  o.ttl_seconds = ttl;
  o.interval = interval;
  return o;
}

int spread(const Args& a) {
  const int n = a.accounts > 0 ? a.accounts : 200;
  const auto accounts = sharer_accounts(n);
  const std::vector<std::vector<std::string>> namings = {
      {"r1", "r2", "r3"},
      {"sharekeeper-0", "sharekeeper-1", "sharekeeper-2"},
      {"host-a-4711", "host-b-4712", "host-c-4713"}};
  std::printf("rendezvous hashing, %d accounts (acct-000..) over 3 members:\n", n);
  for (const auto& members : namings) {
    std::map<std::string, int> owned;
    for (const auto& acct : accounts) ++owned[*hrw_owner(acct.name, members)];
    int mx = 0, mn = n;
    std::printf("  ");
    for (const auto& m : members) {
      std::printf("%s=%d ", m.c_str(), owned[m]);
      mx = std::max(mx, owned[m]);
      mn = std::min(mn, owned[m]);
    }
    std::printf(" max/min %d/%d = %.2f\n", mx, mn, static_cast<double>(mx) / mn);
  }
  // A live fleet: three replica processes, real etcd, the emulator with n sharer accounts.
  sharekeeper::daemon::testing::TempDir dir;
  Fleet fleet(dir.path, fleet_options(n, 3, "1h"));
  for (const char* r : {"r1", "r2", "r3"}) fleet.start(r);
  Sampler s{fleet};
  const auto t0 = Steady::now();
  Fleet::Sample last;
  const bool ok = s.until(
      [&](const Fleet::Sample& x) {
        last = x;
        return fleet.settled(x);
      },
      300s, 200ms);
  std::map<std::string, int> owned;
  for (const auto& [acct, who] : last.owners)
    for (const auto& w : who) ++owned[w];
  int mx = 0, mn = n;
  std::printf("live fleet (3 processes, etcd, emulator), %s after %.1f s:\n  ",
              ok ? "settled" : "NOT settled", seconds(Steady::now() - t0));
  for (const char* r : {"r1", "r2", "r3"}) {
    std::printf("%s=%d ", r, owned[r]);
    mx = std::max(mx, owned[r]);
    mn = std::min(mn, owned[r]);
  }
  std::printf(" max/min %d/%d = %.2f; samples %ld, with an account owned twice %ld\n", mx, mn,
              mn ? static_cast<double>(mx) / mn : 0.0, s.samples, s.doubled_samples);
  return ok ? 0 : 1;
}

int takeover(const Args& a) {
  const int ttl = a.ttl > 0 ? a.ttl : 15;
  const int trials = a.trials > 0 ? a.trials : 10;
  sharekeeper::daemon::testing::TempDir dir;
  Fleet fleet(dir.path, fleet_options(a.accounts > 0 ? a.accounts : 6, ttl, "1h"));
  for (const char* r : {"r1", "r2", "r3"}) fleet.start(r);
  Sampler s{fleet};
  const auto settle = std::chrono::seconds(4 * ttl + 60);
  if (!s.until([&](const Fleet::Sample& x) { return fleet.settled(x); }, settle)) {
    std::printf("the fleet did not settle\n");
    return 1;
  }
  std::vector<double> took;
  std::printf("takeover after SIGKILL, lease TTL %d s (renewed every %.1f s), 3 replicas:\n", ttl,
              ttl / 3.0);
  for (int t = 0; t < trials; ++t) {
    const auto& account = fleet.accounts()[static_cast<std::size_t>(t) % fleet.accounts().size()];
    const auto before = fleet.sample();
    const std::string owner = before.owners.at(account.name).front();
    fleet.kill(owner, SIGKILL);
    const auto killed = Steady::now();
    std::string heir;
    const bool ok = s.until(
        [&](const Fleet::Sample& x) {
          auto it = x.owners.find(account.name);
          if (it == x.owners.end()) return false;
          heir = it->second.front();
          return true;
        },
        std::chrono::seconds(3 * ttl + 20), 20ms);
    const double dt = seconds(Steady::now() - killed);
    std::printf("  trial %2d: %s owned by %s, killed; %s after %.2f s (%.2f TTL)\n", t + 1,
                account.name.c_str(), owner.c_str(),
                ok ? ("taken by " + heir).c_str() : "NOT taken", dt, dt / ttl);
    if (ok) took.push_back(dt);
    fleet.start(owner);
    if (!s.until([&](const Fleet::Sample& x) { return fleet.settled(x); }, settle)) {
      std::printf("  the fleet did not settle after the restart\n");
      return 1;
    }
  }
  std::printf(
      "takeover: median %.2f s = %.2f x TTL (min %.2f, max %.2f, %zu of %d trials); "
      "samples %ld, with an account owned twice %ld\n",
      median(took), median(took) / ttl, *std::min_element(took.begin(), took.end()),
      *std::max_element(took.begin(), took.end()), took.size(), trials, s.samples,
      s.doubled_samples);
  return 0;
}

// ---- churn: the logs of every replica process give exact ownership intervals.

Wall::time_point parse_ts(const std::string& ts) {
  std::tm tm{};
  const char* rest = strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  int ms = 0;
  if (rest != nullptr && *rest == '.') ms = std::atoi(rest + 1);
  return Wall::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

struct Interval {
  std::string replica;  // process instance
  Wall::time_point from, to;
};

// account -> intervals during which a replica process's fence could be open for it: from
// "acquired" to the first of closing / lost / lease_lost / revoked / the process's end.
std::map<std::string, std::vector<Interval>> intervals(const fs::path& log, const std::string& who,
                                                       Wall::time_point end) {
  std::map<std::string, std::vector<Interval>> out;
  std::map<std::string, Wall::time_point> open;
  std::ifstream in(log);
  std::string line;
  Wall::time_point last = end;
  while (std::getline(in, line)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("msg", "") != "coordination") continue;
    const std::string ev = j.value("event", "");
    const std::string acct = j.value("account", "");
    const auto at = parse_ts(j.value("ts", ""));
    last = at;
    if (ev == "acquired" && open.count(acct) == 0) {
      open[acct] = at;
    } else if ((ev == "closing" || ev == "lost") && open.count(acct)) {
      out[acct].push_back({who, open[acct], at});
      open.erase(acct);
    } else if (ev == "lease_lost" || ev == "revoked") {
      for (const auto& [a, from] : open) out[a].push_back({who, from, at});
      open.clear();
    }
  }
  for (const auto& [a, from] : open) out[a].push_back({who, from, std::max(end, last)});
  return out;
}

int churn(const Args& a) {
  const int ttl = a.ttl > 0 ? a.ttl : 3;
  const auto duration = std::chrono::duration<double>(a.minutes * 60);
  std::mt19937 rng(a.seed != 0 ? a.seed : std::random_device{}());
  sharekeeper::daemon::testing::TempDir dir;
  Fleet fleet(dir.path, fleet_options(a.accounts > 0 ? a.accounts : 30, ttl, "2s"));
  const std::vector<std::string> names{"r1", "r2", "r3"};
  for (const auto& r : names) fleet.start(r);
  Sampler s{fleet};
  if (!s.until([&](const Fleet::Sample& x) { return fleet.settled(x); }, 120s)) {
    std::printf("the fleet did not settle\n");
    return 1;
  }
  // Per process instance: its log and when it ended (SIGKILL: the kill; SIGTERM: its exit).
  struct Instance {
    fs::path log;
    std::string replica;
    Wall::time_point ended;
  };
  std::vector<Instance> ended;
  std::map<std::string, int> generation;
  std::map<std::string, Steady::time_point> down_until;
  int sigkills = 0, sigterms = 0, restarts = 0;
  const auto start = Steady::now();
  auto next_event = start + std::chrono::seconds(std::uniform_int_distribution<int>(3, 12)(rng));
  while (Steady::now() - start < duration) {
    s.until([](const Fleet::Sample&) { return true; }, 1s, 0ms);  // one sample
    std::this_thread::sleep_for(100ms);
    const auto now = Steady::now();
    for (auto it = down_until.begin(); it != down_until.end();) {
      if (now >= it->second) {
        fleet.start(it->first);
        ++restarts;
        it = down_until.erase(it);
      } else {
        ++it;
      }
    }
    if (now < next_event) continue;
    next_event = now + std::chrono::seconds(std::uniform_int_distribution<int>(3, 12)(rng));
    auto live = fleet.live();
    if (live.size() < 2) continue;  // keep one replica up
    const std::string victim =
        live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng)];
    const bool graceful = std::uniform_int_distribution<int>(0, 9)(rng) < 3;
    const fs::path log = fleet.dir() / victim / "daemon.err";
    fleet.kill(victim, graceful ? SIGTERM : SIGKILL);
    ended.push_back({log, victim, Wall::now()});
    // Preserve the log under a unique name now (a restart would move it too).
    const fs::path kept =
        fleet.dir() / victim / ("ended." + std::to_string(++generation[victim]) + ".err");
    fs::copy_file(log, kept);
    ended.back().log = kept;
    (graceful ? sigterms : sigkills)++;
    std::printf("%7.1f s: %s %s\n", seconds(now - start), graceful ? "SIGTERM" : "SIGKILL",
                victim.c_str());
    std::fflush(stdout);
    down_until[victim] =
        now + std::chrono::milliseconds(std::uniform_int_distribution<int>(500, 10000)(rng));
  }
  for (const auto& [r, at] : down_until) {
    fleet.start(r);
    ++restarts;
  }
  const bool settled = s.until([&](const Fleet::Sample& x) { return fleet.settled(x); }, 120s);
  const auto live = fleet.live();
  fleet.stop_all();
  const auto finished = Wall::now();
  // Every instance's intervals; the live ones ended at stop_all().
  std::map<std::string, std::vector<Interval>> all;
  int instance = 0;
  auto add = [&](const fs::path& log, const std::string& who, Wall::time_point end) {
    for (auto& [acct, v] : intervals(log, who + "#" + std::to_string(++instance), end))
      all[acct].insert(all[acct].end(), v.begin(), v.end());
  };
  for (const auto& e : ended) add(e.log, e.replica, e.ended);
  for (const auto& r : live) add(fleet.dir() / r / "daemon.err", r, finished);
  int overlaps = 0;
  double closest = 1e9;
  long intervals_total = 0;
  for (auto& [acct, v] : all) {
    std::sort(v.begin(), v.end(),
              [](const Interval& x, const Interval& y) { return x.from < y.from; });
    intervals_total += static_cast<long>(v.size());
    for (std::size_t i = 1; i < v.size(); ++i) {
      const double gap = std::chrono::duration<double>(v[i].from - v[i - 1].to).count();
      closest = std::min(closest, gap);
      if (gap < 0) {
        ++overlaps;
        std::printf("OVERLAP %s: %s until +%.3f s, %s from then\n", acct.c_str(),
                    v[i - 1].replica.c_str(), -gap, v[i].replica.c_str());
      }
    }
  }
  std::printf(
      "churn %.1f min, lease TTL %d s, %zu accounts, 3 replicas: %d SIGKILL + %d SIGTERM, %d "
      "restarts; %s at the end\n"
      "  samples %ld, samples with an account owned by two replicas: %ld\n"
      "  ownership intervals from the logs: %ld, overlapping: %d, smallest gap between two "
      "owners: %.3f s\n",
      a.minutes, ttl, fleet.accounts().size(), sigkills, sigterms, restarts,
      settled ? "settled" : "NOT settled", s.samples, s.doubled_samples, intervals_total, overlaps,
      closest);
  return 0;
}

int outage(const Args& a) {
  const int ttl = a.ttl > 0 ? a.ttl : 3;
  const int trials = a.trials > 0 ? a.trials : 5;
  sharekeeper::daemon::testing::TempDir dir;
  Fleet fleet(dir.path, fleet_options(a.accounts > 0 ? a.accounts : 6, ttl, "2s"));
  for (const char* r : {"r1", "r2", "r3"}) fleet.start(r);
  Sampler s{fleet};
  std::mt19937 rng(a.seed != 0 ? a.seed : std::random_device{}());
  long late = 0, writes_before = 0;
  int refused_total = 0;
  std::map<std::string, std::size_t> log_seen;
  for (int t = 0; t < trials; ++t) {
    if (!s.until([&](const Fleet::Sample& x) { return fleet.settled(x); }, 120s)) {
      std::printf("the fleet did not settle\n");
      return 1;
    }
    const std::uint64_t start_head = fleet.journal_head();
    fleet.emulator_admin("POST", "/_emulator/faults", R"({"action":"*","latencyMs":250})");
    for (const auto& acct : fleet.accounts())
      (void)fleet.console(acct)->detach_policy_from_role("Custom", kSnapshotPolicy, kSnapshotRole);
    // Stop etcd at a random point of the passes.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 2000)(rng)));
    fleet.etcd().kill();
    const auto stopped = Steady::now();
    std::this_thread::sleep_until(stopped + std::chrono::seconds(ttl) + 100ms);
    const std::uint64_t head = fleet.journal_head();
    std::this_thread::sleep_until(stopped + std::chrono::seconds(3 * ttl));
    long n = 0, before = 0;
    const json after = fleet.journal(start_head);
    for (const auto& e : after["requests"]) {
      if (!is_daemon_write(e)) continue;
      if (e.value("seq", std::uint64_t{0}) > head)
        ++n;
      else
        ++before;
    }
    int refused = 0;
    for (const auto& r : fleet.live()) {
      const std::string logs = fleet.logs(r);
      for (auto at = logs.find("Coordination.LeaseExpiring", log_seen[r]); at != std::string::npos;
           at = logs.find("Coordination.LeaseExpiring", at + 1))
        ++refused;
      log_seen[r] = logs.size();
    }
    std::printf(
        "  outage %d: daemon writes in the lease's last moments %ld, after every lease "
        "could expire %ld; fence refusals %d\n",
        t + 1, before, n, refused);
    late += n;
    writes_before += before;
    refused_total += refused;
    fleet.emulator_admin("DELETE", "/_emulator/faults", "");
    fleet.etcd().restart();
  }
  std::printf(
      "outage x%d, lease TTL %d s: daemon writes journaled after every lease could expire: "
      "%ld (before: %ld); requests refused by the fence: %d; samples %ld, doubles %ld\n",
      trials, ttl, late, writes_before, refused_total, s.samples, s.doubled_samples);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_coordination spread|takeover|churn|outage [--trials N] "
                 "[--ttl S] [--accounts N] [--minutes M] [--seed N]\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--trials")
      a.trials = std::stoi(v);
    else if (k == "--ttl")
      a.ttl = std::stoi(v);
    else if (k == "--accounts")
      a.accounts = std::stoi(v);
    else if (k == "--minutes")
      a.minutes = std::stod(v);
    else if (k == "--seed")
      a.seed = static_cast<unsigned>(std::stoul(v));
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!etcd_binary()) {
    std::fprintf(stderr, "etcd is not installed (apt-get install etcd-server)\n");
    return 2;
  }
  if (a.mode == "spread") return spread(a);
  if (a.mode == "takeover") return takeover(a);
  if (a.mode == "churn") return churn(a);
  if (a.mode == "outage") return outage(a);
  std::fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
  return 2;
}
