#include "daemon/scheduler.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "config/desired_state.hpp"
#include "support/memory.hpp"

namespace sharekeeper::daemon {

namespace {

Millis scale(Millis d, double factor) {
  return Millis(static_cast<Millis::rep>(std::llround(static_cast<double>(d.count()) * factor)));
}

}  // namespace

const char* to_string(AccountSchedule::Phase p) {
  switch (p) {
    case AccountSchedule::Phase::kWaiting:
      return "waiting";
    case AccountSchedule::Phase::kRunning:
      return "running";
    case AccountSchedule::Phase::kStalled:
      return "stalled";
  }
  return "unknown";
}

AccountSchedule::AccountSchedule(SchedulePolicy policy, SteadyTime now)
    : policy_(policy), next_run_(now) {}

std::optional<SteadyTime> AccountSchedule::next_run() const {
  if (phase_ != Phase::kWaiting) return std::nullopt;
  return next_run_;
}

void AccountSchedule::start(SteadyTime now) {
  assert(due(now));
  (void)now;
  phase_ = Phase::kRunning;
  rerun_ = false;
}

void AccountSchedule::finish(SteadyTime now, PassResult result, bool terminal, double random01) {
  assert(phase_ == Phase::kRunning);
  random01 = std::clamp(random01, 0.0, 1.0);
  if (result == PassResult::kSuccess) {
    failures_ = 0;
    last_delay_ = scale(policy_.interval, 1.0 + policy_.jitter * random01);
  } else {
    ++failures_;
    if (terminal && !rerun_) {
      // Bad credentials or the wrong account will not fix themselves: hammering the API would only
      // add audit noise and throttling, so wait for a human (config change or POST /reconcile).
      phase_ = Phase::kStalled;
      last_delay_ = Millis(0);
      return;
    }
    // base * 2^(n-1), computed in double so a long failure streak cannot overflow.
    const double exp = std::min(30, failures_ - 1);
    const double raw = static_cast<double>(policy_.backoff_base.count()) * std::pow(2.0, exp);
    const Millis capped(
        static_cast<Millis::rep>(std::min(raw, static_cast<double>(policy_.backoff_cap.count()))));
    last_delay_ = scale(capped, 0.5 + 0.5 * random01);
  }
  phase_ = Phase::kWaiting;
  next_run_ = rerun_ ? now : now + last_delay_;
  if (rerun_) last_delay_ = Millis(0);
  rerun_ = false;
}

void AccountSchedule::trigger(SteadyTime now) {
  switch (phase_) {
    case Phase::kRunning:
      rerun_ = true;
      break;
    case Phase::kWaiting:
      next_run_ = std::min(next_run_, now);
      break;
    case Phase::kStalled:
      phase_ = Phase::kWaiting;
      next_run_ = now;
      break;
  }
}

void AccountSchedule::config_changed(SteadyTime now, SchedulePolicy policy) {
  policy_ = policy;
  failures_ = 0;
  if (phase_ == Phase::kRunning) {
    rerun_ = true;
    return;
  }
  phase_ = Phase::kWaiting;
  next_run_ = now;
}

// ---------------------------------------------------------------------------------------------------------

Scheduler::Scheduler(AccountRunner& runner, Options options, OnStarted on_started,
                     OnFinished on_finished)
    : runner_(runner),
      options_(std::move(options)),
      on_started_(std::move(on_started)),
      on_finished_(std::move(on_finished)),
      rng_(options_.seed) {
  options_.max_concurrency = std::max(1, options_.max_concurrency);
  if (!options_.clock) options_.clock = support::SystemClock::shared();
}

Scheduler::~Scheduler() { stop(std::chrono::hours(1)); }

SchedulePolicy Scheduler::policy_for(const config::DesiredState& d) const {
  SchedulePolicy p;
  p.interval = std::chrono::duration_cast<Millis>(d.settings.interval);
  p.jitter = d.settings.jitter;
  p.backoff_base = options_.backoff_base;
  p.backoff_cap = options_.backoff_cap;
  return p;
}

void Scheduler::update_config(std::shared_ptr<const config::DesiredState> desired, bool changed) {
  assert(desired);
  {
    std::lock_guard lock(mu_);
    const auto now = options_.clock->now();
    const SchedulePolicy policy = policy_for(*desired);
    const bool first = desired_ == nullptr;
    desired_ = std::move(desired);
    if (first || changed) ++generation_;
    // Accounts that left the config stop being scheduled; a pass in flight for one of them finishes
    // and is reported stale.
    for (auto it = schedules_.begin(); it != schedules_.end();) {
      if (desired_->find_account(it->first) == nullptr)
        it = schedules_.erase(it);
      else
        ++it;
    }
    for (const auto& a : desired_->accounts) {
      auto it = schedules_.find(a.name);
      if (it == schedules_.end())
        schedules_.emplace(a.name, AccountSchedule(policy, now));
      else if (first || changed)
        it->second.config_changed(now, policy);
    }
    poke_locked();
  }
  cv_coord_.notify_all();
}

bool Scheduler::trigger(const std::optional<std::string>& account) {
  {
    std::lock_guard lock(mu_);
    const auto now = options_.clock->now();
    if (account) {
      auto it = schedules_.find(*account);
      if (it == schedules_.end()) return false;
      it->second.trigger(now);
    } else {
      for (auto& [name, s] : schedules_) s.trigger(now);
    }
    poke_locked();
  }
  cv_coord_.notify_all();
  return true;
}

void Scheduler::set_eligible(std::optional<std::set<std::string>> accounts) {
  {
    std::lock_guard lock(mu_);
    const auto now = options_.clock->now();
    if (accounts) {
      for (const auto& name : *accounts) {
        const bool was = !eligible_ || eligible_->count(name) != 0;
        auto it = schedules_.find(name);
        // A pass refused while the account was not writable (the fence's terminal error) stalled
        // it; eligible again, it runs. A waiting schedule keeps its time (a due one runs now
        // anyway).
        if (!was && it != schedules_.end() &&
            it->second.phase() == AccountSchedule::Phase::kStalled)
          it->second.trigger(now);
      }
    }
    eligible_ = std::move(accounts);
    poke_locked();
  }
  cv_coord_.notify_all();
}

void Scheduler::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  workers_alive_ = options_.max_concurrency;
  for (int i = 0; i < options_.max_concurrency; ++i)
    workers_.emplace_back([this] { worker_loop(); });
  coordinator_ = std::thread([this] { coordinator_loop(); });
}

bool Scheduler::stop(Millis deadline) {
  {
    std::lock_guard lock(mu_);
    if (!started_) return true;
    stop_ = true;
    poke_locked();
  }
  cv_coord_.notify_all();
  cv_work_.notify_all();
  bool in_time = false;
  {
    std::unique_lock lock(mu_);
    in_time = options_.clock->wait_until(lock, cv_done_, options_.clock->now() + deadline,
                                         [this] { return workers_alive_ == 0; });
  }
  if (coordinator_.joinable()) coordinator_.join();
  for (auto& w : workers_) {
    if (!w.joinable()) continue;
    // A worker stuck in a cloud call past the deadline is abandoned; the process is about to exit.
    if (in_time)
      w.join();
    else
      w.detach();
  }
  workers_.clear();
  std::lock_guard lock(mu_);
  started_ = false;
  return in_time;
}

std::optional<std::chrono::system_clock::time_point> Scheduler::to_wall(
    std::optional<SteadyTime> t) const {
  if (!t) return std::nullopt;
  return options_.clock->to_wall(*t);
}

std::vector<Scheduler::AccountView> Scheduler::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<AccountView> out;
  for (const auto& [name, s] : schedules_)
    out.push_back({name, s.phase(), to_wall(s.next_run()), s.consecutive_failures()});
  return out;
}

void Scheduler::coordinator_loop() {
  // Wake at least this often so /healthz sees a heartbeat even when every account waits for
  // minutes.
  constexpr Millis kMaxSleep{1000};
  std::unique_lock lock(mu_);
  while (!stop_) {
    heartbeat_.fetch_add(1);
    const auto now = options_.clock->now();
    SteadyTime wake = now + kMaxSleep;
    for (auto& [name, s] : schedules_) {
      if (running_ + static_cast<int>(queue_.size()) >= options_.max_concurrency) break;
      if (s.due(now) && (!eligible_ || eligible_->count(name) != 0)) {
        s.start(now);
        queue_.push_back(name);
        cv_work_.notify_one();
      }
    }
    // Due accounts left waiting because every worker is busy do not shorten the sleep (that would
    // spin): a finishing worker notifies cv_coord_.
    for (const auto& [name, s] : schedules_)
      if (auto n = s.next_run(); n && *n > now) wake = std::min(wake, *n);
    const std::uint64_t seen = events_;
    options_.clock->wait_until(lock, cv_coord_, wake,
                               [this, seen] { return stop_ || events_ != seen; });
  }
}

void Scheduler::worker_loop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    const std::string account = queue_.front();
    queue_.pop_front();
    if (schedules_.find(account) == schedules_.end()) continue;  // left the config while queued
    ++running_;
    auto desired = desired_;
    const auto generation = generation_;
    lock.unlock();

    if (on_started_) on_started_(account);
    PassReport report;
    report.account = account;
    report.started = options_.clock->wall_now();
    const auto t0 = options_.clock->now();
    report.outcome = runner_.run_pass(*desired, account, stop_);
    report.duration = options_.clock->now() - t0;
    report.finished = options_.clock->wall_now();

    lock.lock();
    --running_;
    auto it = schedules_.find(account);
    report.stale = generation != generation_ || it == schedules_.end();
    if (it != schedules_.end()) {
      const double r = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      it->second.finish(options_.clock->now(), report.outcome.result, report.outcome.terminal, r);
      report.phase = it->second.phase();
      report.next_run = to_wall(it->second.next_run());
    }
    poke_locked();
    const bool idle = running_ == 0 && queue_.empty();
    lock.unlock();
    cv_coord_.notify_all();
    if (on_finished_) on_finished_(report);
    if (idle) support::release_free_memory();  // the last pass running: its working memory is free
    lock.lock();
  }
  --workers_alive_;
  lock.unlock();
  cv_done_.notify_all();
}

}  // namespace sharekeeper::daemon
