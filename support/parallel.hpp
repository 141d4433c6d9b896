#pragma once
// The one worker pool of the project: parallel_for(n, workers, fn) runs fn(0) .. fn(n-1) on up to
// `workers` threads, the calling thread being one of them, and returns when every call has
// returned. Indices are handed out in order from one atomic counter, so a slow item never holds up
// the others (the observe, apply and config-loader passes used three hand-written copies of this).
//
// - workers <= 1 or n <= 1 runs everything on the calling thread (no thread is created).
// - When a thread cannot be created (std::system_error), the threads that exist finish the work.
// - The first exception thrown by fn stops the handing out of new indices; the calls in progress
//   finish, then it is rethrown on the calling thread. Later exceptions are dropped.
//
// Thread-safety: fn is called concurrently from several threads with distinct indices; what it
// shares between indices is its own business.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace sharekeeper::support {

// How many threads a CPU-bound parallel_for should use: the hardware's, at least 1, at most `cap`.
inline std::size_t cpu_workers(std::size_t cap) {
  return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1,
                                 std::max<std::size_t>(cap, 1));
}

template <class Fn>
void parallel_for(std::size_t n, std::size_t workers, Fn&& fn) {
  if (n == 0) return;
  workers = std::clamp<std::size_t>(workers, 1, n);
  if (workers == 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex first_mu;
  auto worker = [&] {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(first_mu);
        if (!first) first = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  try {
    for (std::size_t t = 1; t < workers; ++t) threads.emplace_back(worker);
  } catch (const std::system_error&) {
    // No more threads available: the ones started and this one finish the work.
  }
  worker();
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace sharekeeper::support
