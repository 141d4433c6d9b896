#pragma once
// The one time source of the project: every component that reads the time, sleeps or waits for a
// deadline takes a support::Clock, so tests run it on a ManualClock and never really sleep.
//
//  - now()        steady time: intervals, backoff, deadlines, rate limits;
//  - wall_now()   wall time: what is shown (status, metrics timestamps) and signed (x-acs-date);
//  - sleep_for()  a pause of the calling thread (retry backoff, rate limiting);
//  - wait_until() a condition-variable wait that ends early when a predicate holds, and ends when
//                 *this clock* reaches the deadline (a ManualClock wakes it from advance()).
//
// Not on this clock, on purpose: Asio's own timers for socket I/O deadlines (the transport and the
// admin server: a deadline there is about a real peer), and coordination's lease deadlines, which
// read CLOCK_BOOTTIME so a suspended host never believes it still holds a lease
// (coordination/timing.hpp, docs/adr/0005).
//
// Thread-safety: both clocks are safe to share between threads.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sharekeeper::support {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() = 0;
  virtual WallTime wall_now() = 0;
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
  // `lock` holds `cv`'s mutex on entry and on return. Returns pred(): false means the deadline
  // passed first. pred() is only called with the mutex held.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          SteadyTime deadline, const std::function<bool()>& pred) = 0;

  // Steady time `t` as wall time, both read from this clock.
  WallTime to_wall(SteadyTime t) {
    return wall_now() + std::chrono::duration_cast<WallTime::duration>(t - now());
  }
};

class SystemClock final : public Clock {
 public:
  SteadyTime now() override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::nanoseconds d) override {
    if (d > std::chrono::nanoseconds::zero()) std::this_thread::sleep_for(d);
  }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& pred) override {
    return cv.wait_until(lock, deadline, pred);
  }
  // The process-wide instance, the default wherever a clock is optional.
  static std::shared_ptr<Clock> shared() {
    static const std::shared_ptr<Clock> kInstance = std::make_shared<SystemClock>();
    return kInstance;
  }
};

// A clock that moves only when told to. sleep_for() moves it too (and records the total slept), so
// code that sleeps runs instantly. Waiters in wait_until() wake when advance() or sleep_for()
// reaches their deadline; tests step time with advance() and wait for the *events* they expect.
// advance() and sleep_for() take each waiter's mutex: never call them holding one.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime wall = WallTime{std::chrono::seconds{1'700'000'000}})
      : wall_(wall) {}

  SteadyTime now() override {
    std::lock_guard lock(mu_);
    return SteadyTime{} + std::chrono::hours{1} + offset_;
  }
  WallTime wall_now() override {
    std::lock_guard lock(mu_);
    return wall_ + std::chrono::duration_cast<WallTime::duration>(offset_);
  }
  void sleep_for(std::chrono::nanoseconds d) override {
    if (d <= std::chrono::nanoseconds::zero()) return;
    {
      std::lock_guard lock(mu_);
      slept_ += d;
      sleeps_.push_back(d);
    }
    (void)advance(d);
  }
  // Moves the clock and wakes the waiters. Returns blocked() as of the move: a block counted
  // after it (await_blocked(returned + 1)) is one that saw the new time.
  std::uint64_t advance(std::chrono::nanoseconds d) {
    std::uint64_t blocked_then = 0;
    {
      std::lock_guard b(blocked_mu_);
      std::lock_guard lock(mu_);
      offset_ += d;
      blocked_then = blocked_;
    }
    wake_waiters();
    return blocked_then;
  }
  std::chrono::nanoseconds slept() const {
    std::lock_guard lock(mu_);
    return slept_;
  }
  // Every sleep_for() so far, in order.
  std::vector<std::chrono::nanoseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }
  // How many threads are inside wait_until() now.
  std::size_t waiters() const {
    std::lock_guard lock(waiters_mu_);
    return waiters_.size();
  }
  // How many times a wait_until() has blocked so far. A test steps time, then waits for the
  // component to block again (await_blocked(n)): the *event* "it is idle", no timing. The real
  // timeout only bounds a failing test; false when it expires.
  std::uint64_t blocked() const {
    std::lock_guard lock(blocked_mu_);
    return blocked_;
  }
  bool await_blocked(std::uint64_t n,
                     std::chrono::milliseconds real_timeout = std::chrono::seconds{20}) {
    std::unique_lock lock(blocked_mu_);
    return blocked_cv_.wait_for(lock, real_timeout, [&] { return blocked_ >= n; });
  }

  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  SteadyTime deadline, const std::function<bool()>& pred) override {
    if (pred()) return true;
    if (now() >= deadline) return false;
    // Registered with the caller's mutex released: advance() locks waiters_mu_ and then each
    // waiter's mutex, so a waiter never takes waiters_mu_ while holding its own. The predicate is
    // re-checked after relocking, so an event during the gap is not lost.
    const Waiter self{lock.mutex(), &cv};
    lock.unlock();
    {
      std::lock_guard w(waiters_mu_);
      waiters_.push_back(self);
    }
    lock.lock();
    for (;;) {
      if (pred()) break;
      {
        // Checking the time and counting the block are one step for advance(): see blocked().
        std::lock_guard b(blocked_mu_);  // taken holding the caller's mutex; then only mu_
        if (now() >= deadline) break;
        ++blocked_;
      }
      blocked_cv_.notify_all();
      cv.wait(lock);
    }
    lock.unlock();
    {
      std::lock_guard w(waiters_mu_);
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), self));
    }
    lock.lock();
    return pred();
  }

 private:
  struct Waiter {
    std::mutex* mu;
    std::condition_variable* cv;
    bool operator==(const Waiter&) const = default;
  };
  void wake_waiters() {
    std::lock_guard w(waiters_mu_);
    for (const Waiter& waiter : waiters_) {
      // Taking the waiter's mutex orders this notify after its check of now(): no lost wake-up.
      std::lock_guard l(*waiter.mu);
      waiter.cv->notify_all();
    }
  }

  mutable std::mutex mu_;
  std::chrono::nanoseconds offset_{0};
  std::chrono::nanoseconds slept_{0};
  std::vector<std::chrono::nanoseconds> sleeps_;
  WallTime wall_;
  // Lock order: a waiter's mutex -> blocked_mu_ -> mu_; waiters_mu_ -> a waiter's mutex. A
  // waiter never takes waiters_mu_ while holding its own mutex.
  mutable std::mutex waiters_mu_;
  std::vector<Waiter> waiters_;
  mutable std::mutex blocked_mu_;
  std::condition_variable blocked_cv_;
  std::uint64_t blocked_ = 0;
};

}  // namespace sharekeeper::support
