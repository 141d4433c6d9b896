#include "coordination/etcd_coordinator.hpp"

#include <algorithm>

namespace sharekeeper::coordination {

namespace {

bool same(const CoordinationView& a, const CoordinationView& b) {
  return a.members == b.members && a.owned == b.owned && a.schedulable == b.schedulable &&
         a.ready == b.ready && a.reason == b.reason && a.renewals_ok == b.renewals_ok &&
         a.renewals_failed == b.renewals_failed && a.renewals_lost == b.renewals_lost &&
         a.handoffs == b.handoffs;
}

}  // namespace

EtcdCoordinator::EtcdCoordinator(OwnershipOptions options, std::unique_ptr<EtcdClient> client,
                                 std::shared_ptr<Fence> fence, EventSink on_event)
    : client_(std::move(client)),
      fence_(std::move(fence)),
      on_event_(std::move(on_event)),
      machine_(std::move(options)) {
  published_.backend = "etcd";
}

EtcdCoordinator::~EtcdCoordinator() { stop(machine_.timing().ttl); }

void EtcdCoordinator::start(std::function<void()> on_change) {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  on_change_ = std::move(on_change);
  notifier_ = std::thread([this] { notify_loop(); });
  driver_ = std::thread([this] { drive(); });
}

void EtcdCoordinator::stop(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mu_);
    if (!started_) return;
    machine_.request_stop();
    cv_.notify_all();
    // Requests in flight end within max_request; the revoke takes one etcd call.
    if (!finished_cv_.wait_for(lock, timeout, [this] { return finished_; })) {
      abandon_ = true;
      cv_.notify_all();
    }
  }
  if (driver_.joinable()) driver_.join();
  {
    std::lock_guard lock(notify_mu_);
    notify_stop_ = true;
  }
  notify_cv_.notify_all();
  if (notifier_.joinable()) notifier_.join();
  std::lock_guard lock(mu_);
  started_ = false;
}

void EtcdCoordinator::set_accounts(const std::vector<std::string>& accounts) {
  std::lock_guard lock(mu_);
  machine_.set_accounts(std::set<std::string>(accounts.begin(), accounts.end()), lease_clock_now());
  cv_.notify_all();
}

void EtcdCoordinator::pass_started(const std::string& account) {
  std::lock_guard lock(mu_);
  machine_.pass_started(account);
}

void EtcdCoordinator::pass_finished(const std::string& account) {
  std::lock_guard lock(mu_);
  machine_.pass_finished(account);
  cv_.notify_all();  // a drain may be waiting for this pass
}

CoordinationView EtcdCoordinator::view_locked(Time now) const {
  const OwnershipView v = machine_.view(now);
  CoordinationView out;
  out.backend = "etcd";
  out.replica = v.replica;
  out.members = v.members;
  out.owned = v.owned;
  out.schedulable = v.schedulable;
  out.ready = v.ready;
  out.reason = v.reason;
  out.lease_left = v.lease_left;
  out.renewals_ok = v.renewals_ok;
  out.renewals_failed = v.renewals_failed;
  out.renewals_lost = v.renewals_lost;
  out.handoffs = v.acquisitions;
  return out;
}

CoordinationView EtcdCoordinator::view() const {
  std::lock_guard lock(mu_);
  return view_locked(lease_clock_now());
}

void EtcdCoordinator::emit(const std::vector<OwnershipMachine::Event>& events,
                           std::unique_lock<std::mutex>& lock) {
  if (events.empty() || !on_event_) return;
  lock.unlock();
  for (const auto& e : events) on_event_(e);
  lock.lock();
}

void EtcdCoordinator::step_done_locked(Time now) {
  // The fence first: the machine releases a key only after it learns this generation is applied.
  const FenceState f = machine_.fence_state();
  fence_->update(f);
  machine_.fence_applied(f.generation);
  CoordinationView v = view_locked(now);
  if (!same(v, published_)) {
    published_ = std::move(v);
    {
      std::lock_guard nlock(notify_mu_);
      dirty_ = true;
    }
    notify_cv_.notify_all();
  }
}

void EtcdCoordinator::failed(const Action& a, const cloud::Error& e,
                             std::unique_lock<std::mutex>& lock) {
  machine_.on_failure(lease_clock_now(), a.kind, a.account);
  if (failing_[a.kind]) return;
  failing_[a.kind] = true;
  emit({{"etcd_error", a.account, std::string(to_string(a.kind)) + ": " + e.to_string()}}, lock);
}

void EtcdCoordinator::succeeded(Action::Kind k, std::unique_lock<std::mutex>& lock) {
  auto it = failing_.find(k);
  if (it == failing_.end() || !it->second) return;
  it->second = false;
  emit({{"etcd_recovered", "", to_string(k)}}, lock);
}

void EtcdCoordinator::perform(const Action& a, std::unique_lock<std::mutex>& lock) {
  const Time sent = lease_clock_now();
  lock.unlock();
  switch (a.kind) {
    case Action::Kind::kGrant: {
      auto r = client_->grant(a.ttl);
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      machine_.on_granted(sent, r->id, r->ttl);
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kKeepAlive: {
      auto r = client_->keepalive(a.lease);
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      machine_.on_keepalive(sent, a.lease, *r);
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kJoin:
    case Action::Kind::kAcquire: {
      auto r = client_->create_if_absent(a.key, a.value, a.lease);
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      if (a.kind == Action::Kind::kJoin)
        machine_.on_join(lease_clock_now(), *r);
      else
        machine_.on_acquire(lease_clock_now(), a.account, *r);
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kPoll: {
      const KeyLayout& keys = machine_.keys();  // immutable after construction
      auto r = client_->range(keys.range_begin(), keys.range_end());
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      machine_.on_snapshot(sent, r->kvs);
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kRelease: {
      auto r = client_->delete_if_created_at(a.key, a.create_revision);
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      machine_.on_release(lease_clock_now(), a.account);
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kRevoke: {
      auto r = client_->revoke(a.lease);
      lock.lock();
      if (!r.ok()) return failed(a, r.error(), lock);
      machine_.on_revoked();
      return succeeded(a.kind, lock);
    }
    case Action::Kind::kWait:
    case Action::Kind::kDone:
      lock.lock();
      return;
  }
}

void EtcdCoordinator::drive() {
  std::unique_lock lock(mu_);
  const auto idle = [this](const std::string& account) { return fence_->in_flight(account) == 0; };
  while (!abandon_) {
    const Time now = lease_clock_now();
    const Action a = machine_.next(now, idle);
    step_done_locked(now);
    emit(machine_.take_events(), lock);
    if (a.kind == Action::Kind::kDone) break;
    if (a.kind == Action::Kind::kWait) {
      // A relative wait: the condition variable's clock is not the lease clock.
      if (a.until > now) cv_.wait_for(lock, a.until - now);
      continue;
    }
    perform(a, lock);
    step_done_locked(lease_clock_now());
    emit(machine_.take_events(), lock);
  }
  // Whatever happened, nothing more goes out under this replica's name.
  FenceState closed;
  closed.generation = machine_.fence_state().generation + 1;
  fence_->update(closed);
  finished_ = true;
  finished_cv_.notify_all();
  {
    std::lock_guard nlock(notify_mu_);
    dirty_ = true;
  }
  notify_cv_.notify_all();
}

void EtcdCoordinator::notify_loop() {
  std::unique_lock lock(notify_mu_);
  while (true) {
    notify_cv_.wait(lock, [this] { return dirty_ || notify_stop_; });
    if (notify_stop_) return;
    dirty_ = false;
    lock.unlock();
    if (on_change_) on_change_();
    lock.lock();
  }
}

}  // namespace sharekeeper::coordination
