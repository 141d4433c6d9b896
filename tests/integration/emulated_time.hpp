#pragma once
// A support::Clock on the emulator's time, for tests that drive the client and the apply against
// sharekeeper-emulator without waiting: the wall clock (x-acs-date, STS expiry) is the emulator's,
// so moving the emulator's clock never makes a request look skewed; a sleep (retry back-off, the
// apply's verification wait) either takes no time or moves the emulator's clock by that much.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "emulator/server.hpp"
#include "support/clock.hpp"

namespace sharekeeper::testing {

class EmulatorTime final : public support::Clock {
 public:
  enum class Sleep { kSkips, kMovesEmulator };
  explicit EmulatorTime(emulator::EmulatedClock& emu, Sleep sleep = Sleep::kSkips)
      : emu_(emu), sleep_(sleep) {}

  support::SteadyTime now() override {
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(moved_ns_.load());
  }
  support::WallTime wall_now() override { return emu_.now(); }
  void sleep_for(std::chrono::nanoseconds d) override {
    if (sleep_ == Sleep::kSkips || d <= std::chrono::nanoseconds::zero()) return;
    moved_ns_ += d.count();
    emu_.set_offset(emu_.offset() + std::chrono::duration_cast<std::chrono::milliseconds>(d));
  }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  support::SteadyTime deadline, const std::function<bool()>& pred) override {
    return cv.wait_until(lock, deadline - std::chrono::nanoseconds(moved_ns_.load()), pred);
  }
  // How far sleeping has moved the emulator's clock.
  std::chrono::milliseconds moved() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::nanoseconds(moved_ns_.load()));
  }

 private:
  emulator::EmulatedClock& emu_;
  const Sleep sleep_;
  std::atomic<std::int64_t> moved_ns_{0};
};

}  // namespace sharekeeper::testing
