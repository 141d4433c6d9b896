#pragma once
// The ownership state machine (sans-I/O, the way Boost.MySQL splits protocol from I/O). It says
// what to do next against the store (grant a lease, renew it, join, read the keys, take or hand
// back an account) and learns from the results it is told; it never does I/O and never reads a
// clock, so tests drive it step by step on a manual clock. EtcdCoordinator is the thin threaded
// driver.
//
// Keys (KeyLayout): <prefix>/members/<replica> and <prefix>/owners/<account>, both bound to the
// replica's lease, so etcd deletes them when the lease expires.
//
// The protocol (docs/adr/0005-fencing-writes-with-the-lease-deadline.md):
//  - a replica holds one lease, renewed every TTL/3; a fresh lease waits `quarantine` (TTL+margin)
//    before it joins, so any replica that held accounts under a lease etcd forgot (data loss, a
//    rebuilt cluster) has passed its own lease deadline before we can take them;
//  - members are the member keys; each account's wanted owner is the rendezvous-hash winner over
//    the members (hrw.hpp);
//  - the wanted owner creates the owner key with a transaction that succeeds only if the key does
//    not exist (create_revision == 0), bound to its lease;
//  - a holder that is no longer wanted drains: no new pass, the pass in flight finishes (or is
//    abandoned after drain_timeout), the fence closes, requests in flight end, and only then does
//    it delete its key (compared on its create revision), so the next owner can create it;
//  - a lost lease (keepalive says it is gone) drops every account at once; an unreachable etcd
//    lets the lease deadline pass, which closes the fence on its own.
//
// Not thread-safe: the driver serializes every call.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordination/fence.hpp"
#include "coordination/timing.hpp"

namespace sharekeeper::coordination {

// One key as the store returned it.
struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t lease = 0;
};

struct KeyLayout {
  std::string prefix;  // "/sharekeeper/<instance>", no trailing '/'
  std::string member(const std::string& replica) const { return prefix + "/members/" + replica; }
  std::string owner(const std::string& account) const { return prefix + "/owners/" + account; }
  // [range_begin, range_end) holds every key of this deployment.
  std::string range_begin() const { return prefix + "/"; }
  std::string range_end() const { return prefix + "0"; }  // '0' follows '/' in ASCII
};

struct OwnershipOptions {
  std::string replica;  // this replica's id (the member key's name)
  std::string prefix;
  std::chrono::seconds ttl{15};
  Millis poll_interval{1000};  // how often members and owner keys are read
  Millis retry_interval{500};  // after a failed store call
  Millis drain_timeout{0};     // 0: ttl. A pass still running this long after the handover began
                               // is abandoned (the fence closes under it)
};

// What the driver must do next.
struct Action {
  enum class Kind {
    kWait,       // nothing until `until` (or until an input arrives)
    kGrant,      // grant a lease of `ttl`
    kKeepAlive,  // renew `lease`
    kJoin,       // create `key` (the member key) with `value`, bound to `lease`, if absent
    kPoll,       // read every key in [range_begin, range_end)
    kAcquire,    // create `key` (owner of `account`) with `value`, bound to `lease`, if absent
    kRelease,    // delete `key` (owner of `account`) if its create revision is `create_revision`
    kRevoke,     // revoke `lease` (deletes every key bound to it): the last action of a stop
    kDone,       // stopped
  };
  Kind kind = Kind::kWait;
  Time until{};
  std::chrono::seconds ttl{0};
  std::int64_t lease = 0;
  std::string key;
  std::string value;
  std::string account;
  std::int64_t create_revision = 0;
};
const char* to_string(Action::Kind k);

// The answer to a create-if-absent transaction.
struct CreateResult {
  bool created = false;
  std::int64_t revision = 0;         // the create revision when created
  std::optional<KeyValue> existing;  // the key that was there instead
};

enum class AccountPhase {
  kFree,      // we hold no key for it
  kOwned,     // we hold the key; passes may run
  kDraining,  // we hold the key but another member is wanted: the pass in flight may finish
  kClosing,   // the fence is closed; the key is deleted once requests in flight end
};
const char* to_string(AccountPhase p);

// What the daemon sees.
struct OwnershipView {
  std::string replica;
  bool member = false;                // our member key exists under our lease
  std::vector<std::string> members;   // from the last successful read, sorted
  std::set<std::string> owned;        // we hold the key and our lease has not run out locally
  std::set<std::string> schedulable;  // owned, not handing over, and the lease has write budget
  bool ready = false;                 // member, with write budget, and a recent read
  std::string reason;                 // why not ready ("" when ready)
  std::optional<Millis> lease_left;
  std::uint64_t renewals_ok = 0, renewals_failed = 0, renewals_lost = 0;
  std::uint64_t acquisitions = 0;  // owner keys this replica created (handoffs to it)
};

class OwnershipMachine {
 public:
  using IdleFn = std::function<bool(const std::string& account)>;
  struct Event {
    std::string kind;  // acquired | released | lost | lease_lost | lease_granted | joined | ...
    std::string account;
    std::string detail;
  };

  explicit OwnershipMachine(OwnershipOptions options);

  const Timing& timing() const { return timing_; }
  const KeyLayout& keys() const { return keys_; }

  // ---- inputs from the daemon
  void set_accounts(const std::set<std::string>& accounts, Time now);
  void pass_started(const std::string& account);
  void pass_finished(const std::string& account);
  // Hand everything back and revoke the lease; next() returns kDone at the end.
  void request_stop();
  // The driver applied fence_state() with this generation to the Fence.
  void fence_applied(std::uint64_t generation);

  // ---- what next; idle(account): no request of the account is in flight behind the fence.
  Action next(Time now, const IdleFn& idle);

  // ---- results (sent: when the request was sent, the only time that bounds the lease safely)
  void on_granted(Time sent, std::int64_t lease, std::chrono::seconds ttl);
  void on_keepalive(Time sent, std::int64_t lease, std::chrono::seconds ttl);  // ttl 0: lease gone
  void on_join(Time now, const CreateResult& r);
  void on_snapshot(Time sent, const std::vector<KeyValue>& kvs);
  void on_acquire(Time now, const std::string& account, const CreateResult& r);
  void on_release(Time now, const std::string& account);
  void on_revoked();
  // A store call failed (unreachable, timeout, error answer); `what` is the action that failed.
  void on_failure(Time now, Action::Kind what, const std::string& account = {});

  // ---- outputs
  FenceState fence_state() const;
  OwnershipView view(Time now) const;
  AccountPhase phase(const std::string& account) const;
  std::optional<std::int64_t> lease_id() const;
  std::optional<Time> lease_deadline() const;
  // Events since the last call (for logs).
  std::vector<Event> take_events();
  // Bumped whenever view() may have changed for a reason other than time.
  std::uint64_t version() const { return version_; }
  bool stopped() const { return done_; }

 private:
  struct Lease {
    std::int64_t id = 0;
    std::chrono::seconds ttl{0};
    Time deadline{};  // conservative: send time of the last successful renewal + ttl
  };
  struct AccountState {
    AccountPhase phase = AccountPhase::kFree;
    std::int64_t create_revision = 0;
    Time draining_since{};
    std::uint64_t closed_generation = 0;  // the fence generation that closed it
    Time retry_at{};
  };

  bool wanted(const std::string& account) const;
  void drop_all(const std::string& why);
  void close(const std::string& account, AccountState& st);
  void changed() { ++version_; }
  void event(std::string kind, std::string account = {}, std::string detail = {});
  bool writable(Time now) const;

  OwnershipOptions options_;
  Timing timing_;
  KeyLayout keys_;

  std::set<std::string> accounts_;  // in the config
  std::set<std::string> running_;   // passes in flight
  std::map<std::string, AccountState> states_;
  std::set<std::string> candidates_;  // free and wanted at the last read: try to acquire

  std::optional<Lease> lease_;
  Time next_grant_{};
  Time next_renew_{};
  Time join_after_{};
  Time next_join_{};
  bool member_ = false;
  std::string conflict_;  // another process holds our member key

  std::vector<std::string> members_;
  std::optional<Time> last_read_;
  Time next_poll_{};

  std::uint64_t generation_ = 1;
  std::uint64_t applied_generation_ = 0;
  bool stopping_ = false;
  bool revoke_sent_ = false;
  bool done_ = false;

  std::uint64_t version_ = 0;
  std::uint64_t renewals_ok_ = 0, renewals_failed_ = 0, renewals_lost_ = 0, acquisitions_ = 0;
  std::vector<Event> events_;
};

}  // namespace sharekeeper::coordination
