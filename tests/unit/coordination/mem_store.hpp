#pragma once
// A model of the etcd semantics the ownership machine relies on, on a manual clock, for the
// machine's unit tests (the real etcd is exercised in tests/integration/coordination): leases
// expire at grant/renew time + TTL, keys bound to a lease vanish with it, create-if-absent and
// delete-if-created-at are atomic, every write bumps the revision. It can be "down" (every call
// fails and, as with a real cluster without a leader, no lease expires) or unreachable from one
// replica only (a partition: the others still see expiries).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "coordination/fence.hpp"
#include "coordination/ownership.hpp"

namespace sharekeeper::coordination::testing {

using namespace std::chrono_literals;

struct MemStore {
  struct LeaseRec {
    Time expiry;
    std::chrono::seconds ttl;
  };
  std::int64_t revision = 1;
  std::int64_t next_lease = 1000;
  std::map<std::int64_t, LeaseRec> leases;
  std::map<std::string, KeyValue> kv;
  bool down = false;
  Time down_since{};

  void set_down(bool d, Time now) {
    if (d && !down) down_since = now;
    // A cluster that comes back refreshes every lease (etcd's lessor Promote): nothing expires for
    // the time it was down.
    if (!d && down)
      for (auto& [id, l] : leases) l.expiry = std::max(l.expiry, now + l.ttl);
    down = d;
  }

  void expire(Time now) {
    if (down) return;
    for (auto it = leases.begin(); it != leases.end();) {
      if (it->second.expiry <= now) {
        for (auto k = kv.begin(); k != kv.end();)
          k = k->second.lease == it->first ? kv.erase(k) : std::next(k);
        ++revision;
        it = leases.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::int64_t grant(Time now, std::chrono::seconds ttl) {
    const std::int64_t id = next_lease++;
    leases[id] = {now + ttl, ttl};
    return id;
  }
  std::chrono::seconds keepalive(Time now, std::int64_t id) {
    auto it = leases.find(id);
    if (it == leases.end()) return 0s;
    it->second.expiry = now + it->second.ttl;
    return it->second.ttl;
  }
  std::optional<CreateResult> create(const std::string& key, const std::string& value,
                                     std::int64_t lease) {
    auto it = kv.find(key);
    CreateResult r;
    if (it != kv.end()) {
      r.existing = it->second;
      return r;
    }
    if (lease != 0 && leases.count(lease) == 0) return std::nullopt;  // "lease not found"
    ++revision;
    kv[key] = KeyValue{key, value, revision, revision, lease};
    r.created = true;
    r.revision = revision;
    return r;
  }
  bool delete_if(const std::string& key, std::int64_t create_revision) {
    auto it = kv.find(key);
    if (it == kv.end() || it->second.create_revision != create_revision) return false;
    kv.erase(it);
    ++revision;
    return true;
  }
  std::vector<KeyValue> range(const std::string& begin, const std::string& end) const {
    std::vector<KeyValue> out;
    for (const auto& [k, v] : kv)
      if (k >= begin && k < end) out.push_back(v);
    return out;
  }
  std::optional<Time> expiry(std::int64_t lease) const {
    auto it = leases.find(lease);
    if (it == leases.end()) return std::nullopt;
    return it->second.expiry;
  }
  // Which lease holds `key` (0: nobody).
  std::int64_t holder(const std::string& key) const {
    auto it = kv.find(key);
    return it == kv.end() ? 0 : it->second.lease;
  }
};

// One replica: the machine, its fence on the shared manual clock, and a driver like
// EtcdCoordinator's that runs every action against the store at once.
struct Replica {
  Replica(std::string id, const std::string& prefix, const Time* clock,
          std::chrono::seconds ttl = 15s)
      : machine(OwnershipOptions{id, prefix, ttl, 1000ms, 500ms, 0ms}),
        fence(std::make_shared<Fence>(machine.timing().margin, machine.timing().max_request,
                                      [clock] { return *clock; })),
        name(std::move(id)) {}

  OwnershipMachine machine;
  std::shared_ptr<Fence> fence;
  std::string name;
  bool alive = true;           // false: SIGKILLed (never driven again)
  bool partitioned = false;    // every call fails, the store stays up for the others
  std::set<std::string> busy;  // accounts with a request in flight (not idle)

  void apply_fence() {
    const FenceState f = machine.fence_state();
    fence->update(f);
    machine.fence_applied(f.generation);
  }

  // Runs actions until the machine waits. Returns the actions performed.
  std::vector<Action::Kind> step(MemStore& s, Time now) {
    std::vector<Action::Kind> done;
    if (!alive) return done;
    s.expire(now);
    const auto idle = [this](const std::string& a) { return busy.count(a) == 0; };
    for (int i = 0; i < 10000; ++i) {
      const Action a = machine.next(now, idle);
      apply_fence();
      if (a.kind == Action::Kind::kWait && a.until > now) return done;
      if (a.kind == Action::Kind::kWait) continue;
      if (a.kind == Action::Kind::kDone) return done;
      done.push_back(a.kind);
      if (s.down || partitioned) {
        machine.on_failure(now, a.kind, a.account);
        apply_fence();
        continue;
      }
      switch (a.kind) {
        case Action::Kind::kGrant: {
          const auto id = s.grant(now, a.ttl);
          machine.on_granted(now, id, a.ttl);
          break;
        }
        case Action::Kind::kKeepAlive:
          machine.on_keepalive(now, a.lease, s.keepalive(now, a.lease));
          break;
        case Action::Kind::kJoin:
        case Action::Kind::kAcquire: {
          auto r = s.create(a.key, a.value, a.lease);
          if (!r)
            machine.on_failure(now, a.kind, a.account);
          else if (a.kind == Action::Kind::kJoin)
            machine.on_join(now, *r);
          else
            machine.on_acquire(now, a.account, *r);
          break;
        }
        case Action::Kind::kPoll:
          machine.on_snapshot(now,
                              s.range(machine.keys().range_begin(), machine.keys().range_end()));
          break;
        case Action::Kind::kRelease:
          s.delete_if(a.key, a.create_revision);
          machine.on_release(now, a.account);
          break;
        case Action::Kind::kRevoke:
          for (auto k = s.kv.begin(); k != s.kv.end();)
            k = k->second.lease == a.lease ? s.kv.erase(k) : std::next(k);
          s.leases.erase(a.lease);
          machine.on_revoked();
          break;
        default:
          break;
      }
      apply_fence();
    }
    ADD_FAILURE() << name << ": the machine never settled";
    return done;
  }

  bool admits(const std::string& account, Millis timeout = 1000ms) {
    const auto a = fence->admit(account, timeout);
    if (a.verdict == Fence::Verdict::kAdmitted) fence->finish(account);
    return a.verdict == Fence::Verdict::kAdmitted;
  }
};

}  // namespace sharekeeper::coordination::testing
