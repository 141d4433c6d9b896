// Three `sharekeeper run` replicas + sharekeeper-emulator + a real etcd, all processes on loopback
// (issue 15): every account owned by exactly one replica at every sample; a SIGKILLed owner's
// account taken over by a survivor, which corrects drift made in between; etcd stopped: no replica
// writes after its lease would have expired (the emulator's journal, by sequence and by time),
// /healthz stays 200 and /readyz turns 503; etcd back: everything converges again.
#include <gtest/gtest.h>

#include "fleet.hpp"

namespace sharekeeper::coordination::testing {
namespace {

using namespace std::chrono_literals;
using daemon::testing::metric;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SK_REQUIRE_ETCD();
    Fleet::Options o;
    o.accounts = 6;
    o.ttl_seconds = 3;
    o.interval = "2s";
    fleet_ = std::make_unique<Fleet>(dir_.path, o);
    for (const char* n : {"r1", "r2", "r3"}) fleet_->start(n);
  }
  void TearDown() override {
    if (fleet_) {
      fleet_->stop_all();
      EXPECT_EQ(doubles_, 0) << "samples with an account owned by two replicas";
    }
  }

  // Samples until pred(sample) holds (counting doubles on the way) or the timeout passes.
  bool sample_until(const std::function<bool(const Fleet::Sample&)>& pred,
                    std::chrono::milliseconds timeout = 30s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      const auto s = fleet_->sample();
      ++samples_;
      doubles_ += s.doubles;
      if (s.doubles != 0) {
        std::string who;
        for (const auto& [a, r] : s.owners)
          if (r.size() > 1) who += a + " ";
        ADD_FAILURE() << "owned twice: " << who;
      }
      if (pred(s)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  bool converged() {
    return sample_until([&](const Fleet::Sample& s) { return fleet_->settled(s); });
  }
  bool all_ready() {
    for (const auto& n : fleet_->live())
      if (fleet_->replica(n).get("/readyz").status != 200) return false;
    return true;
  }

  daemon::testing::TempDir dir_;
  std::unique_ptr<Fleet> fleet_;
  int samples_ = 0;
  int doubles_ = 0;
};

TEST_F(ReplicasTest, EveryAccountIsOwnedByExactlyOneReplicaAndEachGrantIsServedOnce) {
  ASSERT_TRUE(converged()) << fleet_->logs("r1");
  ASSERT_TRUE(sample_until([&](const Fleet::Sample&) { return all_ready(); }));
  // Keep sampling through a few renewals and passes.
  sample_until([](const Fleet::Sample&) { return false; }, 4s);
  const auto s = fleet_->sample();
  ASSERT_TRUE(fleet_->each_owned_once(s));
  // etcd agrees with what the replicas claim.
  const auto keys = fleet_->etcd_owners();
  for (const auto& [account, who] : s.owners) EXPECT_EQ(keys.at(account), who.front()) << account;

  double owned = 0;
  int grant_series = 0;
  for (const auto& n : fleet_->live()) {
    const std::string m = fleet_->replica(n).get("/metrics").body;
    EXPECT_EQ(metric(m, "sharekeeper_coordination_members"), 3.0) << n;
    EXPECT_GT(
        metric(m, R"(sharekeeper_coordination_lease_renewals_total{result="success"})").value_or(0),
        0)
        << n;
    for (const auto& a : fleet_->accounts()) {
      const auto o = metric(m, "sharekeeper_account_owned{account=\"" + a.name + "\"}");
      const auto g =
          metric(m, "sharekeeper_grant_ready{account=\"" + a.name + "\",share=\"share-" + a.name +
                        "\",target=\"" + kRecipient + "\",target_type=\"account\"}");
      const bool mine = std::find(s.owners.at(a.name).begin(), s.owners.at(a.name).end(), n) !=
                        s.owners.at(a.name).end();
      EXPECT_EQ(o.has_value(), mine) << n << " " << a.name;
      EXPECT_EQ(g.has_value(), mine) << n << " serves the grant of " << a.name;
      if (o) owned += *o;
      if (g) {
        ++grant_series;
        EXPECT_EQ(*g, 1.0) << n << " " << a.name;
      }
    }
    const auto st = json::parse(fleet_->replica(n).get("/status").body);
    EXPECT_EQ(st["coordination"]["backend"], "etcd");
    EXPECT_EQ(st["coordination"]["replica"], n);
    EXPECT_EQ(st["coordination"]["members"], json({"r1", "r2", "r3"}));
    EXPECT_TRUE(daemon::testing::eventually(
        [&] {
          return json::parse(fleet_->replica(n).get("/status").body)["coordination"]["ready"] ==
                 true;
        },
        10s));
  }
  // A Prometheus sum over the replicas counts each account and each grant once.
  EXPECT_EQ(owned, static_cast<double>(fleet_->accounts().size()));
  EXPECT_EQ(grant_series, static_cast<int>(fleet_->accounts().size()));
  EXPECT_GT(samples_, 10);
}

TEST_F(ReplicasTest, ASurvivorTakesOverAKilledOwnersAccountAndCorrectsDriftMadeInBetween) {
  ASSERT_TRUE(converged());
  ASSERT_TRUE(sample_until([&](const Fleet::Sample&) { return all_ready(); }));
  const auto before = fleet_->sample();
  const SharerAccount& x = fleet_->accounts().front();
  const std::string owner = before.owners.at(x.name).front();
  auto console = fleet_->console(x);
  ASSERT_TRUE(Fleet::policy_attached(*console));

  fleet_->kill(owner);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(console->detach_policy_from_role("Custom", kSnapshotPolicy, kSnapshotRole).ok());
  ASSERT_FALSE(Fleet::policy_attached(*console));

  std::string heir;
  ASSERT_TRUE(sample_until(
      [&](const Fleet::Sample& s) {
        auto it = s.owners.find(x.name);
        if (it == s.owners.end()) return false;
        heir = it->second.front();
        return true;
      },
      20s));
  const auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_NE(heir, owner);
  // The dead owner's lease (3 s, renewed every second) expires at most 3 s after the kill; the heir
  // reads every second. Generous for a loaded 2-core machine.
  EXPECT_LT(took, 8s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  EXPECT_GT(took, 1s) << "taken before the dead owner's lease could have expired";
  ASSERT_TRUE(daemon::testing::eventually([&] { return Fleet::policy_attached(*console); }, 20s))
      << fleet_->logs(heir);
  // Everything else is still owned exactly once by the two survivors.
  ASSERT_TRUE(converged());
  const std::string m = fleet_->replica(heir).get("/metrics").body;
  EXPECT_GE(metric(m, "sharekeeper_account_handoffs_total").value_or(0), 1.0);
  EXPECT_EQ(metric(m, "sharekeeper_coordination_members"), 2.0);
}

TEST_F(ReplicasTest, WithEtcdGoneNoReplicaWritesAfterItsLeaseCouldExpireAndAllConvergeWhenBack) {
  ASSERT_TRUE(converged());
  ASSERT_TRUE(sample_until([&](const Fleet::Sample&) { return all_ready(); }));
  const int ttl = fleet_->options().ttl_seconds;
  // Slow every cloud call down so passes last several seconds and are in flight when etcd goes: the
  // fence, not only the scheduler, must hold them back.
  ASSERT_EQ(
      fleet_->emulator_admin("POST", "/_emulator/faults", R"({"action":"*","latencyMs":250})"),
      200);
  for (const auto& a : fleet_->accounts())
    ASSERT_TRUE(
        fleet_->console(a)->detach_policy_from_role("Custom", kSnapshotPolicy, kSnapshotRole).ok());

  fleet_->etcd().kill();
  const auto stopped = std::chrono::steady_clock::now();
  const auto stopped_wall = std::chrono::system_clock::now();
  // Every replica renewed at most TTL/3 before the stop, so every lease deadline is at most one TTL
  // after it. Take the journal's head just after that instant.
  std::this_thread::sleep_until(stopped + std::chrono::seconds(ttl) + 100ms);
  const std::uint64_t head = fleet_->journal_head();
  std::fprintf(stderr, "journal head at the last lease deadline: %llu\n",
               static_cast<unsigned long long>(head));
  // What is still detached now can only be corrected by a write that must not happen yet.
  std::vector<const SharerAccount*> drifted;
  for (const auto& a : fleet_->accounts())
    if (!Fleet::policy_attached(*fleet_->console(a))) drifted.push_back(&a);
  const auto watch_until = std::chrono::steady_clock::now() + std::chrono::seconds(ttl + 1);
  bool ready_seen = false;
  while (std::chrono::steady_clock::now() < watch_until) {
    for (const auto& n : fleet_->live()) {
      EXPECT_EQ(fleet_->replica(n).get("/healthz").status, 200) << n;
      if (fleet_->replica(n).get("/readyz").status == 200) ready_seen = true;
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_FALSE(ready_seen) << "a replica said ready without etcd";
  const auto after = fleet_->journal(head)["requests"];
  int late_writes = 0;
  for (const auto& e : after)
    if (is_daemon_write(e)) {
      ++late_writes;
      ADD_FAILURE() << "a write after every lease expired: " << e.dump();
    }
  EXPECT_EQ(late_writes, 0);
  // How often the fence itself refused a request of a pass already in flight (informational: the
  // scheduler stops starting passes first, so this depends on timing).
  int refused = 0;
  for (const auto& n : fleet_->live()) {
    const std::string logs = fleet_->logs(n);
    for (auto at = logs.find("Coordination.LeaseExpiring"); at != std::string::npos;
         at = logs.find("Coordination.LeaseExpiring", at + 1))
      ++refused;
  }
  std::fprintf(stderr, "fence refusals logged during the outage: %d\n", refused);
  for (const auto* a : drifted)
    EXPECT_FALSE(Fleet::policy_attached(*fleet_->console(*a))) << a->name;
  // The same by the journal's timestamps (whole seconds): no daemon write stamped later than the
  // second in which the last lease could expire.
  const auto bound =
      std::chrono::floor<std::chrono::seconds>(stopped_wall) + std::chrono::seconds(ttl + 1);
  const json whole = fleet_->journal();
  for (const auto& e : whole["requests"]) {
    if (!is_daemon_write(e)) continue;
    std::tm tm{};
    const std::string t = e.value("time", "");
    ASSERT_NE(strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << t;
    const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
    EXPECT_LE(at, bound) << e.dump();
  }

  ASSERT_EQ(fleet_->emulator_admin("DELETE", "/_emulator/faults", ""), 200);
  fleet_->etcd().restart();
  ASSERT_TRUE(converged()) << fleet_->logs("r1");
  for (const auto& a : fleet_->accounts())
    ASSERT_TRUE(daemon::testing::eventually(
        [&] { return Fleet::policy_attached(*fleet_->console(a)); }, 20s))
        << a.name;
  ASSERT_TRUE(sample_until([&](const Fleet::Sample&) { return all_ready(); }));
}

}  // namespace
}  // namespace sharekeeper::coordination::testing

namespace sharekeeper::coordination::testing {
namespace {

// A reload may change anything but the coordination block, which needs a restart.
TEST(ReplicaConfig, AReloadThatChangesCoordinationIsRejectedAndTheReplicaKeepsRunning) {
  SK_REQUIRE_ETCD();
  daemon::testing::TempDir dir;
  Fleet::Options o;
  o.accounts = 2;
  o.ttl_seconds = 3;
  o.interval = "1h";
  Fleet fleet(dir.path, o);
  fleet.start("solo");
  ASSERT_TRUE(daemon::testing::eventually(
      [&] { return fleet.replica("solo").get("/readyz").status == 200; }, 30s));
  const fs::path config = dir.path / "solo" / "config.yaml";
  std::string text = daemon::testing::read_file(config);
  const auto at = text.find("leaseTTL: 3s");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "leaseTTL: 4s");
  write_file_atomic(config, text);
  ASSERT_TRUE(daemon::testing::eventually(
      [&] {
        return daemon::testing::metric(fleet.replica("solo").get("/metrics").body,
                                       R"(sharekeeper_config_reloads_total{result="rejected"})")
                   .value_or(0) >= 1;
      },
      20s));
  const auto st = json::parse(fleet.replica("solo").get("/status").body);
  const std::string diag = st["config"]["lastReload"]["diagnostics"].dump();
  EXPECT_NE(diag.find("settings.coordination cannot change while sharekeeper runs"),
            std::string::npos)
      << diag;
  EXPECT_NE(diag.find("config.yaml:5:3"), std::string::npos) << diag;  // the coordination key
  // Still running and ready (polled: at a 3 s TTL a renewal delayed by a loaded machine can make
  // it not ready for a moment).
  EXPECT_TRUE(daemon::testing::eventually(
      [&] { return fleet.replica("solo").get("/readyz").status == 200; }, 10s));
  EXPECT_EQ(st["coordination"]["owned"].size(), 2u);
}

TEST(ReplicaCli, RunOnceWithCoordinationAndABadReplicaIdAreRefused) {
  daemon::testing::TempDir dir;
  const auto accounts = sharer_accounts(1);
  write_file_atomic(dir.path / "config.yaml",
                    fleet_config(accounts, "http://127.0.0.1:1", 3, "1h"));
  auto run = [&](std::vector<std::string> extra, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{
        SK_DAEMON_BIN, "run", "-c", (dir.path / "config.yaml").string(), "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon::testing::Process p(argv, dir.path / "out", dir.path / "err", env);
    const auto rc = p.wait(20s);
    return std::make_pair(rc.value_or(-1), daemon::testing::read_file(dir.path / "err"));
  };
  auto [rc, err] = run({"--once"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("run --once cannot be used with settings.coordination"), std::string::npos)
      << err;
  std::tie(rc, err) = run({"--replica-id", "bad/id"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("--replica-id must be"), std::string::npos) << err;
  // The id may come from the environment too (systemd: SHAREKEEPER_REPLICA_ID=%H).
  std::tie(rc, err) = run({}, {{"SHAREKEEPER_REPLICA_ID", "bad id"}});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("--replica-id must be"), std::string::npos) << err;
}

}  // namespace
}  // namespace sharekeeper::coordination::testing
