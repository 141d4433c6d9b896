#pragma once
// Helpers of the in-process daemon tests: wait for a condition under a deadline (never a fixed
// sleep), and read one series from a Prometheus exposition.
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

namespace sharekeeper::daemon::testing {

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    // Polling a condition, bounded by the deadline.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return p();
}

// The value of `series` (name and labels exactly as exposed), or -1 when it is absent.
inline double metric(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace sharekeeper::daemon::testing
