// support::parallel_for: every index exactly once, on at most `workers` threads with the caller
// among them, the first exception rethrown after the others finish. Written to be meaningful under
// -fsanitize=thread too: results go to distinct slots and are read after the join. Checked with
//   g++ -std=c++20 -O1 -g -fsanitize=thread -I. tests/unit/support/parallel_test.cpp
//       -lgtest -lgtest_main -pthread && ./a.out   (one command line)
// (no tsan preset yet: issue 10 section 5).
#include "support/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sharekeeper::support {
namespace {

TEST(ParallelForTest, EveryIndexExactlyOnce) {
  for (std::size_t workers : {1u, 2u, 7u, 64u}) {
    std::vector<int> hits(1000, 0);
    parallel_for(hits.size(), workers, [&](std::size_t i) { ++hits[i]; });
    for (std::size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i], 1) << i << " with " << workers;
  }
  int calls = 0;
  parallel_for(0, 4, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelForTest, OneWorkerStaysOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> ids(50);
  parallel_for(ids.size(), 1, [&](std::size_t i) { ids[i] = std::this_thread::get_id(); });
  for (const auto& id : ids) EXPECT_EQ(id, caller);
}

// All `workers` threads are inside fn at once (a barrier that only opens when they all arrived:
// with fewer threads the test would hang, so it bounds the wait and fails instead), and never more.
TEST(ParallelForTest, RunsUpToWorkersAtOnceWithTheCallerAmongThem) {
  constexpr std::size_t kWorkers = 4;
  std::mutex mu;
  std::condition_variable cv;
  std::size_t inside = 0, most = 0;
  bool opened = false;
  std::set<std::thread::id> threads;
  parallel_for(kWorkers * 3, kWorkers, [&](std::size_t) {
    std::unique_lock lock(mu);
    threads.insert(std::this_thread::get_id());
    most = std::max(most, ++inside);
    if (inside == kWorkers) opened = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return opened; });
    --inside;
  });
  EXPECT_TRUE(opened);
  EXPECT_EQ(most, kWorkers);
  EXPECT_EQ(threads.size(), kWorkers);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 1u);
}

TEST(ParallelForTest, FirstExceptionIsRethrownAfterTheOthersFinish) {
  std::atomic<int> finished{0};
  std::vector<int> done(200, 0);
  EXPECT_THROW(parallel_for(done.size(), 4,
                            [&](std::size_t i) {
                              if (i == 10) throw std::runtime_error("item 10");
                              done[i] = 1;
                              ++finished;
                            }),
               std::runtime_error);
  // No index is handed out twice, and the failing one never counts as done.
  EXPECT_EQ(std::accumulate(done.begin(), done.end(), 0), finished.load());
  EXPECT_EQ(done[10], 0);
  try {
    parallel_for(3, 1, [](std::size_t i) {
      if (i == 1) throw std::invalid_argument("one");
    });
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "one");
  }
}

TEST(ParallelForTest, CpuWorkersIsBounded) {
  EXPECT_GE(cpu_workers(8), 1u);
  EXPECT_LE(cpu_workers(8), 8u);
  EXPECT_EQ(cpu_workers(1), 1u);
  EXPECT_EQ(cpu_workers(0), 1u);
}

}  // namespace
}  // namespace sharekeeper::support
