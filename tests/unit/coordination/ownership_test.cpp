// The ownership machine (sans-I/O) on a manual clock: join, split, leave, handoff, drain, lease
// lost, etcd unreachable or down, stop, config changes, conflicts. Every 100 ms step checks the
// safety invariant of docs/adr/0005: a replica's fence admits a request for an account only while
// that replica's lease holds the account's owner key in the store and the request, with its
// deadline and the margin, ends before the store can expire the lease.
#include "coordination/ownership.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "coordination/hrw.hpp"
#include "mem_store.hpp"

namespace sharekeeper::coordination {
namespace {

using namespace std::chrono_literals;
using testing::MemStore;
using testing::Replica;

const std::string kPrefix = "/sharekeeper/test";

std::set<std::string> accounts(int n) {
  std::set<std::string> out;
  for (int i = 0; i < n; ++i) out.insert("acct-" + std::to_string(i));
  return out;
}

class OwnershipTest : public ::testing::Test {
 protected:
  Replica& add(const std::string& name, const std::set<std::string>& accts,
               std::chrono::seconds ttl = 15s) {
    replicas_.push_back(std::make_unique<Replica>(name, kPrefix, &now_, ttl));
    replicas_.back()->machine.set_accounts(accts, now_);
    return *replicas_.back();
  }

  // Advances the clock in steps, drives every live replica, checks the invariant after each step.
  void run_for(Millis d, Millis step = 100ms) {
    const Time end = now_ + d;
    while (now_ < end) {
      now_ += step;
      store_.expire(now_);
      for (auto& r : replicas_) r->step(store_, now_);
      check_invariant();
    }
  }
  // Runs until pred() holds (at most `limit`); returns how long it took.
  std::optional<Millis> run_until(const std::function<bool()>& pred, Millis limit = 120s) {
    const Time start = now_;
    while (now_ - start < limit) {
      if (pred()) return std::chrono::duration_cast<Millis>(now_ - start);
      run_for(100ms);
    }
    return pred() ? std::optional<Millis>(std::chrono::duration_cast<Millis>(now_ - start))
                  : std::nullopt;
  }

  void check_invariant() {
    for (auto& r : replicas_) {
      if (!r->alive) continue;
      const auto lease = r->machine.lease_id();
      for (const auto& a : all_) {
        if (exempt_.count(a) != 0) continue;
        const Millis tau = r->fence->max_request();
        if (!r->admits(a, tau)) continue;
        ++admissions_;
        ASSERT_TRUE(lease.has_value()) << r->name << " admits " << a << " without a lease";
        ASSERT_EQ(store_.holder(r->machine.keys().owner(a)), *lease)
            << r->name << " admits " << a << " but does not hold its owner key";
        const auto expiry = store_.expiry(*lease);
        ASSERT_TRUE(expiry.has_value());
        ASSERT_LE(now_ + tau + r->fence->margin(), *expiry)
            << r->name << " admits a request of " << a << " that could outlive its lease";
      }
    }
  }

  // account -> the replicas whose fence admits it now.
  std::map<std::string, std::vector<std::string>> admitting() {
    std::map<std::string, std::vector<std::string>> out;
    for (auto& r : replicas_)
      if (r->alive)
        for (const auto& a : all_)
          if (r->admits(a)) out[a].push_back(r->name);
    return out;
  }
  bool each_admitted_by_exactly_one() {
    auto m = admitting();
    for (const auto& a : all_)
      if (m[a].size() != 1) return false;
    return true;
  }
  std::vector<std::string> live_names() const {
    std::vector<std::string> out;
    for (const auto& r : replicas_)
      if (r->alive) out.push_back(r->name);
    std::sort(out.begin(), out.end());
    return out;
  }

  Time now_ = Time{} + std::chrono::hours(1000);
  MemStore store_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::set<std::string> all_;
  std::set<std::string> exempt_;
  std::uint64_t admissions_ = 0;
};

TEST_F(OwnershipTest, AFreshLeaseWaitsOutTheQuarantineThenOwnsEverything) {
  all_ = accounts(5);
  Replica& a = add("a", all_);
  run_for(1s);
  EXPECT_TRUE(a.machine.lease_id().has_value());
  EXPECT_FALSE(a.machine.view(now_).member);
  EXPECT_FALSE(a.machine.view(now_).ready);
  EXPECT_NE(a.machine.view(now_).reason.find("joining"), std::string::npos);
  EXPECT_TRUE(admitting().empty());
  // The quarantine is TTL + margin (16.5 s) from the grant.
  run_for(14s);
  EXPECT_FALSE(a.machine.view(now_).member);
  auto took = run_until([&] { return a.machine.view(now_).owned == all_; });
  ASSERT_TRUE(took.has_value());
  EXPECT_LE(*took, 3s);
  const auto v = a.machine.view(now_);
  EXPECT_TRUE(v.ready) << v.reason;
  EXPECT_EQ(v.members, std::vector<std::string>{"a"});
  EXPECT_EQ(v.schedulable, all_);
  EXPECT_EQ(v.acquisitions, 5u);
  EXPECT_TRUE(each_admitted_by_exactly_one());
  // Renewals every TTL/3 keep it that way.
  run_for(60s);
  EXPECT_TRUE(each_admitted_by_exactly_one());
  EXPECT_GE(a.machine.view(now_).renewals_ok, 11u);
  EXPECT_GT(admissions_, 0u);
}

TEST_F(OwnershipTest, AccountsSplitByRendezvousHashingAndEachIsOwnedOnce) {
  all_ = accounts(30);
  add("a", all_);
  add("b", all_);
  add("c", all_);
  ASSERT_TRUE(run_until([&] { return each_admitted_by_exactly_one(); }));
  run_for(5s);  // settle: early joiners hand over to later ones through drains
  const auto who = admitting();
  const std::vector<std::string> members{"a", "b", "c"};
  for (const auto& acct : all_) {
    ASSERT_EQ(who.at(acct).size(), 1u) << acct;
    EXPECT_EQ(who.at(acct).front(), *hrw_owner(acct, members)) << acct;
  }
  for (auto& r : replicas_) EXPECT_EQ(r->machine.view(now_).members, members);
}

TEST_F(OwnershipTest, AKilledReplicasAccountsMoveOnlyAfterItsLeaseExpires) {
  all_ = accounts(12);
  Replica& a = add("a", all_);
  add("b", all_);
  ASSERT_TRUE(run_until([&] {
    return each_admitted_by_exactly_one() && admitting() == admitting() &&
           a.machine.view(now_).owned.size() > 0 && a.machine.view(now_).owned.size() < 12;
  }));
  run_for(3s);
  const std::set<std::string> of_a = a.machine.view(now_).owned;
  const std::int64_t lease_a = *a.machine.lease_id();
  const Time expiry = *store_.expiry(lease_a);
  a.alive = false;  // SIGKILL: never renews, never releases
  const Time killed = now_;
  Replica& b = *replicas_[1];
  auto took = run_until([&] { return b.machine.view(now_).owned == all_; });
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(now_, expiry) << "b took a's accounts before a's lease expired";
  // At most one TTL after the kill (a's last renewal came before it), plus b's next read.
  EXPECT_LE(now_ - killed, 15s + 1100ms);
  EXPECT_GE(b.machine.view(now_).acquisitions, of_a.size());
}

TEST_F(OwnershipTest, AJoiningReplicaTakesItsShareThroughADrainThatWaitsForThePass) {
  all_ = accounts(20);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  // The account b will win once it joins: a is reconciling it right now.
  std::string x;
  for (const auto& acct : all_)
    if (*hrw_owner(acct, {"a", "b"}) == "b") x = acct;
  ASSERT_FALSE(x.empty());
  a.machine.pass_started(x);
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return b.machine.view(now_).member; }));
  run_for(10s);
  // b owns its other accounts already; x stays with a while its pass runs, and a's fence is still
  // open for it (the pass may finish its writes).
  EXPECT_EQ(a.machine.phase(x), AccountPhase::kDraining);
  EXPECT_TRUE(a.admits(x));
  EXPECT_EQ(b.machine.phase(x), AccountPhase::kFree);
  EXPECT_EQ(admitting()[x], std::vector<std::string>{"a"});
  // a does not schedule new passes for it.
  EXPECT_EQ(a.machine.view(now_).schedulable.count(x), 0u);
  EXPECT_EQ(a.machine.view(now_).owned.count(x), 1u);
  a.machine.pass_finished(x);
  ASSERT_TRUE(run_until([&] { return b.machine.phase(x) == AccountPhase::kOwned; }, 3s));
  EXPECT_FALSE(a.admits(x));
  EXPECT_TRUE(each_admitted_by_exactly_one());
}

TEST_F(OwnershipTest, APassThatOutlivesTheDrainTimeoutIsAbandoned) {
  all_ = accounts(20);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  std::string x;
  for (const auto& acct : all_)
    if (*hrw_owner(acct, {"a", "b"}) == "b") x = acct;
  a.machine.pass_started(x);  // and it never finishes
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.phase(x) == AccountPhase::kDraining; }));
  const Time began = now_;
  ASSERT_TRUE(run_until([&] { return b.machine.phase(x) == AccountPhase::kOwned; }, 30s));
  // drain_timeout defaults to the TTL.
  EXPECT_GE(now_ - began, 14900ms);
  EXPECT_LE(now_ - began, 17s);
  EXPECT_FALSE(a.admits(x));
}

TEST_F(OwnershipTest, AnOwnerKeyIsDeletedOnlyAfterTheRequestsInFlightEnd) {
  all_ = accounts(20);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  std::string x;
  for (const auto& acct : all_)
    if (*hrw_owner(acct, {"a", "b"}) == "b") x = acct;
  a.busy.insert(x);  // a request admitted earlier is still running
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.phase(x) == AccountPhase::kClosing; }));
  // Closed: nothing new goes out, but the key stays while the old request runs.
  EXPECT_FALSE(a.admits(x));
  run_for(5s);
  EXPECT_EQ(a.machine.phase(x), AccountPhase::kClosing);
  EXPECT_NE(store_.holder(a.machine.keys().owner(x)), 0);
  EXPECT_EQ(b.machine.phase(x), AccountPhase::kFree);
  a.busy.erase(x);
  ASSERT_TRUE(run_until([&] { return b.machine.phase(x) == AccountPhase::kOwned; }, 3s));
}

TEST_F(OwnershipTest, ALostLeaseDropsEveryAccountAtOnceAndRejoinsAfterTheQuarantine) {
  all_ = accounts(6);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  // a stalls longer than its TTL (SIGSTOP, a long pause): etcd expires the lease and its keys.
  const auto old = *a.machine.lease_id();
  a.alive = false;
  run_for(20s);
  EXPECT_FALSE(store_.expiry(old).has_value());
  a.alive = true;
  // Its own deadline passed as well: nothing is admitted even before it learns the lease is gone.
  EXPECT_TRUE(admitting().empty());
  ASSERT_TRUE(run_until([&] { return a.machine.lease_id() != old; }, 6s));
  EXPECT_EQ(a.machine.view(now_).renewals_lost, 1u);
  EXPECT_TRUE(a.machine.view(now_).owned.empty());
  EXPECT_TRUE(admitting().empty());
  // A new lease: quarantined again, then everything back.
  auto took = run_until([&] { return a.machine.view(now_).owned == all_; });
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, 15s);
}

TEST_F(OwnershipTest, AnUnreachableEtcdClosesTheFenceBeforeTheLeaseCanExpire) {
  all_ = accounts(10);
  Replica& a = add("a", all_);
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return each_admitted_by_exactly_one(); }));
  run_for(5s);
  const std::set<std::string> of_a = a.machine.view(now_).owned;
  ASSERT_FALSE(of_a.empty());
  const std::int64_t lease_a = *a.machine.lease_id();
  a.partitioned = true;  // a cannot reach etcd; b can
  const Time cut = now_;
  const Time expiry = *store_.expiry(lease_a);
  // The invariant (checked every step) is the point; also look at the timeline.
  std::optional<Time> closed, taken;
  while (now_ - cut < 40s) {
    run_for(100ms);
    if (!closed && !a.admits(*of_a.begin(), a.fence->max_request())) closed = now_;
    if (!taken && b.machine.view(now_).owned == all_) taken = now_;
  }
  ASSERT_TRUE(closed && taken);
  EXPECT_LT(*closed, expiry);
  EXPECT_LE(*closed - 100ms + a.fence->max_request() + a.fence->margin(), expiry);
  EXPECT_GE(*taken, expiry);
  EXPECT_FALSE(a.machine.view(now_).ready);
  EXPECT_GT(a.machine.view(now_).renewals_failed, 0u);
  // The partition heals: a learns its lease is gone, rejoins, and takes its share back by drains.
  a.partitioned = false;
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).renewals_lost == 1; }, 2s));
  EXPECT_FALSE(a.machine.view(now_).member);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).member; }, 30s));
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == of_a; }, 10s))
      << a.machine.view(now_).owned.size() << " of " << of_a.size() << "; b owns "
      << b.machine.view(now_).owned.size();
  EXPECT_TRUE(each_admitted_by_exactly_one());
  EXPECT_EQ(a.machine.view(now_).renewals_lost, 1u);
}

TEST_F(OwnershipTest, WhenEtcdIsDownNobodyWritesAndEverythingResumesWhenItIsBack) {
  all_ = accounts(10);
  Replica& a = add("a", all_);
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return each_admitted_by_exactly_one(); }));
  run_for(3s);
  const auto before = admitting();
  store_.set_down(true, now_);
  const Time down = now_;
  // Within one TTL every fence is closed (here: at lease deadline - max_request - margin).
  ASSERT_TRUE(run_until([&] { return admitting().empty(); }, 15s));
  EXPECT_LE(now_ - down, 15s);
  EXPECT_FALSE(a.machine.view(now_).ready);
  EXPECT_FALSE(b.machine.view(now_).ready);
  run_for(30s);
  EXPECT_TRUE(admitting().empty());
  store_.set_down(false, now_);
  // The leases survived (etcd refreshes them on recovery): the same owners, no handoff.
  ASSERT_TRUE(run_until([&] { return each_admitted_by_exactly_one(); }, 3s));
  EXPECT_EQ(admitting(), before);
  EXPECT_EQ(a.machine.view(now_).renewals_lost + b.machine.view(now_).renewals_lost, 0u);
  EXPECT_TRUE(a.machine.view(now_).ready) << a.machine.view(now_).reason;
}

TEST_F(OwnershipTest, AnAccountLeavingTheConfigIsDrainedAndReleased) {
  all_ = accounts(4);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  auto fewer = all_;
  fewer.erase("acct-0");
  a.machine.set_accounts(fewer, now_);
  ASSERT_TRUE(run_until([&] { return store_.holder(a.machine.keys().owner("acct-0")) == 0; }, 3s));
  EXPECT_EQ(a.machine.view(now_).owned, fewer);
  EXPECT_FALSE(a.admits("acct-0"));
}

TEST_F(OwnershipTest, AGracefulStopRevokesTheLeaseAndTheOthersTakeOverAtOnce) {
  all_ = accounts(10);
  Replica& a = add("a", all_);
  Replica& b = add("b", all_);
  ASSERT_TRUE(run_until([&] { return each_admitted_by_exactly_one(); }));
  run_for(3s);
  ASSERT_FALSE(a.machine.view(now_).owned.empty());
  a.machine.request_stop();
  a.busy.insert(*a.machine.view(now_).owned.begin());
  run_for(2s);
  EXPECT_FALSE(a.machine.stopped()) << "revoked while a request was in flight";
  EXPECT_TRUE(a.machine.view(now_).schedulable.empty());
  a.busy.clear();
  ASSERT_TRUE(run_until([&] { return a.machine.stopped(); }, 1s));
  EXPECT_FALSE(a.machine.lease_id().has_value());
  auto took = run_until([&] { return b.machine.view(now_).owned == all_; }, 5s);
  ASSERT_TRUE(took.has_value());
  EXPECT_LE(*took, 1200ms);  // b's next read, not a's TTL
}

TEST_F(OwnershipTest, TwoProcessesWithOneReplicaIdNeverShareAnAccount) {
  all_ = accounts(6);
  Replica& a = add("same", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  Replica& twin = add("same", all_);
  run_for(30s);
  EXPECT_FALSE(twin.machine.view(now_).member);
  EXPECT_FALSE(twin.machine.view(now_).ready);
  EXPECT_NE(twin.machine.view(now_).reason.find("in use by another process"), std::string::npos);
  EXPECT_TRUE(twin.machine.view(now_).owned.empty());
  EXPECT_EQ(a.machine.view(now_).owned, all_);
}

TEST_F(OwnershipTest, AnOwnerKeyDeletedFromOutsideClosesTheFenceAtTheNextRead) {
  all_ = accounts(3);
  Replica& a = add("a", all_);
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).owned == all_; }));
  store_.kv.erase(a.machine.keys().owner("acct-1"));
  // Someone else grabs it in the meantime (an operator's etcdctl put, another fleet...). Until a's
  // next read its fence still admits acct-1: the limit ADR 0005 states (owner keys belong to
  // sharekeeper), so the invariant is not checked for it here.
  const auto other = store_.grant(now_, 60s);
  ASSERT_TRUE(store_.create(a.machine.keys().owner("acct-1"), "intruder", other)->created);
  exempt_.insert("acct-1");
  run_for(1100ms);
  EXPECT_EQ(a.machine.phase("acct-1"), AccountPhase::kFree);
  EXPECT_FALSE(a.admits("acct-1"));
  EXPECT_EQ(a.machine.view(now_).owned.count("acct-1"), 0u);
}

TEST_F(OwnershipTest, AnAcquireWhoseAnswerWasLostIsAdoptedFromTheNextRead) {
  all_ = accounts(1);
  Replica& a = add("a", {});
  ASSERT_TRUE(run_until([&] { return a.machine.view(now_).member; }));
  // The txn committed but its answer never came back (timeout after send).
  ASSERT_TRUE(store_.create(a.machine.keys().owner("acct-0"), "a", *a.machine.lease_id())->created);
  a.machine.on_failure(now_, Action::Kind::kAcquire, "acct-0");
  a.machine.set_accounts(all_, now_);
  ASSERT_TRUE(run_until([&] { return a.machine.phase("acct-0") == AccountPhase::kOwned; }, 2s));
  EXPECT_TRUE(a.admits("acct-0"));
}

TEST(OwnershipTiming, EveryDurationFollowsTheTtl) {
  const Timing t = timing_for(15s);
  EXPECT_EQ(t.renew_every, 5000ms);
  EXPECT_EQ(t.margin, 1500ms);
  EXPECT_EQ(t.max_request, 5000ms);
  EXPECT_EQ(t.etcd_timeout, 3000ms);
  EXPECT_EQ(t.quarantine, 16500ms);
  // The write budget survives a renewal period with room for a slow keepalive (ADR 0005):
  // ttl - renew_every - (max_request + margin) > 0.
  for (int s = 3; s <= 300; ++s) {
    const Timing u = timing_for(std::chrono::seconds(s));
    EXPECT_GT(u.ttl - u.renew_every - u.max_request - u.margin, u.ttl / 5) << s;
  }
}

}  // namespace
}  // namespace sharekeeper::coordination
