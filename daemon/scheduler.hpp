#pragma once
// When each sharer account reconciles. Two layers, Boost.MySQL's sans-I/O way:
//  - AccountSchedule: a small state machine that only *decides* (run now? when next?) from the
//  times and
//    outcomes it is told; no clock, no threads, so tests step it without sleeping;
//  - Scheduler: the thin driver that owns the threads, sleeps until the earliest decision and runs
//  passes
//    on a bounded worker pool (never on the HTTP io_context).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon/account_runner.hpp"

namespace sharekeeper::daemon {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;
using Millis = std::chrono::milliseconds;

struct SchedulePolicy {
  Millis interval{std::chrono::minutes(5)};
  double jitter = 0.1;  // a success waits interval * (1 + jitter * U[0,1))
  // After failure n (1-based) the wait is min(cap, base * 2^(n-1)) * U[0.5, 1): "equal jitter", so
  // a fleet of daemons failing together does not retry in lockstep, yet never retries immediately.
  Millis backoff_base{std::chrono::seconds(5)};
  Millis backoff_cap{std::chrono::minutes(5)};
};

// Decides one account's passes. Not thread-safe (the Scheduler guards it).
class AccountSchedule {
 public:
  enum class Phase {
    kWaiting,  // next_run() says when
    kRunning,  // a pass is in flight
    kStalled,  // a terminal error: waits for a config change or an explicit trigger
  };

  // The first pass is due at once.
  AccountSchedule(SchedulePolicy policy, SteadyTime now);

  Phase phase() const { return phase_; }
  // When the next pass is due; nullopt while running or stalled.
  std::optional<SteadyTime> next_run() const;
  bool due(SteadyTime now) const { return phase_ == Phase::kWaiting && now >= next_run_; }
  int consecutive_failures() const { return failures_; }
  Millis last_delay() const { return last_delay_; }

  // kWaiting -> kRunning. Precondition: due(now).
  void start(SteadyTime now);
  // kRunning -> kWaiting or kStalled. random01 in [0, 1) drives the jitter.
  void finish(SteadyTime now, PassResult result, bool terminal, double random01);
  // POST /reconcile or SIGHUP: run now; while running, run once more right after.
  void trigger(SteadyTime now);
  // A new valid config: forget backoff and stall, take the new interval, run now (or right after
  // the pass in flight, which used the old config).
  void config_changed(SteadyTime now, SchedulePolicy policy);

 private:
  SchedulePolicy policy_;
  Phase phase_ = Phase::kWaiting;
  SteadyTime next_run_;
  int failures_ = 0;
  bool rerun_ = false;
  Millis last_delay_{0};
};

const char* to_string(AccountSchedule::Phase p);

// What the driver reports after each pass.
struct PassReport {
  std::string account;
  PassOutcome outcome;
  SteadyClock::duration duration{};
  std::chrono::system_clock::time_point started;
  std::chrono::system_clock::time_point finished;
  // The pass ran against a config generation that has since been replaced: its grants may no longer
  // be wanted, so publishers must not recreate series for them (its changes still get audited).
  bool stale = false;
  std::optional<std::chrono::system_clock::time_point> next_run;  // nullopt: stalled
  AccountSchedule::Phase phase = AccountSchedule::Phase::kWaiting;
};

// Runs the schedules. Thread-safe.
class Scheduler {
 public:
  struct Options {
    int max_concurrency = 4;  // accounts reconciled at the same time
    Millis backoff_base{std::chrono::seconds(5)};
    Millis backoff_cap{std::chrono::minutes(5)};
    std::uint64_t seed = std::random_device{}();
  };
  using OnStarted = std::function<void(const std::string& account)>;
  using OnFinished = std::function<void(const PassReport&)>;

  Scheduler(AccountRunner& runner, Options options, OnStarted on_started, OnFinished on_finished);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Installs a config (the first one, or a reload). changed=false keeps every schedule as it is.
  void update_config(std::shared_ptr<const config::DesiredState> desired, bool changed);
  // Run one account (or every account) now. False when the account is unknown.
  bool trigger(const std::optional<std::string>& account);
  // Several replicas (settings.coordination): only these accounts start passes; nullopt (the
  // default) means every account. A stalled account that becomes eligible again runs at once (its
  // stall may come from requests the fence refused); a new owner triggers its accounts itself. A
  // pass in flight is never interrupted here (the fence does that).
  void set_eligible(std::optional<std::set<std::string>> accounts);
  void start();
  // Starts no new pass, asks passes in flight to stop at their next safe point and waits for them
  // until `deadline`. True when every worker finished in time.
  bool stop(Millis deadline);

  struct AccountView {
    std::string account;
    AccountSchedule::Phase phase;
    std::optional<std::chrono::system_clock::time_point> next_run;
    int consecutive_failures;
  };
  std::vector<AccountView> snapshot() const;
  // Incremented on every loop iteration; /healthz checks it keeps moving.
  std::uint64_t heartbeat() const { return heartbeat_.load(); }
  const std::atomic<bool>& stopping() const { return stop_; }

 private:
  SchedulePolicy policy_for(const config::DesiredState& d) const;
  void coordinator_loop();
  void worker_loop();
  std::optional<std::chrono::system_clock::time_point> to_wall(std::optional<SteadyTime> t) const;

  AccountRunner& runner_;
  Options options_;
  OnStarted on_started_;
  OnFinished on_finished_;

  mutable std::mutex mu_;
  std::condition_variable cv_coord_;
  std::condition_variable cv_work_;
  std::condition_variable cv_done_;
  std::shared_ptr<const config::DesiredState> desired_;
  std::uint64_t generation_ = 0;
  std::map<std::string, AccountSchedule> schedules_;
  std::optional<std::set<std::string>> eligible_;
  std::deque<std::string> queue_;
  int running_ = 0;
  int workers_alive_ = 0;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> heartbeat_{0};
  bool started_ = false;
  std::thread coordinator_;
  std::vector<std::thread> workers_;
};

}  // namespace sharekeeper::daemon
