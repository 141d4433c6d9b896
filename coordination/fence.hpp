#pragma once
// The fence: the one check every cloud request of an account passes before it leaves this process
// (FencedTransport calls it; docs/adr/0005-fencing-writes-with-the-lease-deadline.md). A request
// is admitted only while this replica holds the account's owner key and
//     now + timeout + margin <= lease_deadline,
// where lease_deadline is a local, conservative bound on when etcd can expire our lease (the send
// time of the last successful keepalive plus the TTL it returned), and timeout is the request's
// whole deadline (capped at max_request). So every admitted request has ended, on our side, at
// least `margin` before etcd can delete the owner key and let another replica take the account.
//
// Thread-safe: the coordinator updates it, any number of request threads admit through it.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "coordination/timing.hpp"

namespace sharekeeper::coordination {

// What the ownership machine lets through (OwnershipMachine::fence_state()).
struct FenceState {
  std::uint64_t generation = 0;  // increases whenever `open` shrinks or the lease is replaced
  std::set<std::string> open;    // accounts whose owner key we hold and are not handing over
  std::optional<Time> lease_deadline;
};

class Fence {
 public:
  using Now = std::function<Time()>;
  enum class Verdict { kAdmitted, kNotOwner, kLeaseExpiring };
  struct Admission {
    Verdict verdict = Verdict::kNotOwner;
    Millis timeout{0};     // the deadline the request must be sent with (admitted only)
    Millis lease_left{0};  // lease_deadline - now (0 without a lease)
  };

  // now: the clock lease deadlines are measured on (steady_clock unless a test injects one).
  Fence(Millis margin, Millis max_request, Now now = {});

  void update(FenceState state);
  std::uint64_t generation() const;

  // Admits one request of `account` that wants `requested` as its deadline; an admitted request
  // counts as in flight until finish(account).
  Admission admit(const std::string& account, Millis requested);
  void finish(const std::string& account);

  std::size_t in_flight(const std::string& account) const;
  std::size_t in_flight_total() const;
  // Waits (real time) until no request is in flight; false at the timeout.
  bool wait_all_idle(Millis timeout) const;

  Millis margin() const { return margin_; }
  Millis max_request() const { return max_request_; }

 private:
  const Millis margin_;
  const Millis max_request_;
  Now now_;
  mutable std::mutex mu_;
  mutable std::condition_variable idle_cv_;
  FenceState state_;
  std::map<std::string, std::size_t> in_flight_;
  std::size_t total_ = 0;
};

const char* to_string(Fence::Verdict v);

}  // namespace sharekeeper::coordination
