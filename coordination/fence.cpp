#include "coordination/fence.hpp"

#include <algorithm>
#include <cassert>
#include <ctime>

namespace sharekeeper::coordination {

Time lease_clock_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return Time(std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

Timing timing_for(std::chrono::seconds ttl) {
  Timing t;
  t.ttl = std::chrono::duration_cast<Millis>(ttl);
  t.renew_every = t.ttl / 3;
  t.margin = std::max(Millis(100), t.ttl / 10);
  t.max_request = t.ttl / 3;
  t.etcd_timeout = std::clamp(t.ttl / 5, Millis(500), Millis(5000));
  t.quarantine = t.ttl + t.margin;
  return t;
}

const char* to_string(Fence::Verdict v) {
  switch (v) {
    case Fence::Verdict::kAdmitted:
      return "admitted";
    case Fence::Verdict::kNotOwner:
      return "not_owner";
    case Fence::Verdict::kLeaseExpiring:
      return "lease_expiring";
  }
  return "unknown";
}

Fence::Fence(Millis margin, Millis max_request, Now now)
    : margin_(margin), max_request_(max_request), now_(std::move(now)) {
  if (!now_) now_ = [] { return lease_clock_now(); };
}

void Fence::update(FenceState state) {
  std::lock_guard lock(mu_);
  state_ = std::move(state);
}

std::uint64_t Fence::generation() const {
  std::lock_guard lock(mu_);
  return state_.generation;
}

Fence::Admission Fence::admit(const std::string& account, Millis requested) {
  std::lock_guard lock(mu_);
  Admission a;
  a.timeout = std::min(requested, max_request_);
  // The clock is read under the lock, after the state: a concurrent update() can only make the
  // check stricter (a shorter open set) or looser with a newer, still conservative deadline.
  const Time now = now_();
  if (state_.lease_deadline)
    a.lease_left =
        std::max(Millis(0), std::chrono::duration_cast<Millis>(*state_.lease_deadline - now));
  if (state_.open.count(account) == 0) {
    a.verdict = Verdict::kNotOwner;
    return a;
  }
  if (!state_.lease_deadline || now + a.timeout + margin_ > *state_.lease_deadline) {
    a.verdict = Verdict::kLeaseExpiring;
    return a;
  }
  a.verdict = Verdict::kAdmitted;
  ++in_flight_[account];
  ++total_;
  return a;
}

void Fence::finish(const std::string& account) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(account);
  assert(it != in_flight_.end() && it->second > 0 && total_ > 0);
  if (--it->second == 0) in_flight_.erase(it);
  if (--total_ == 0) idle_cv_.notify_all();
}

std::size_t Fence::in_flight(const std::string& account) const {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(account);
  return it == in_flight_.end() ? 0 : it->second;
}

std::size_t Fence::in_flight_total() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool Fence::wait_all_idle(Millis timeout) const {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return total_ == 0; });
}

}  // namespace sharekeeper::coordination
