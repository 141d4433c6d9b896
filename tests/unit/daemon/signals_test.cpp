#include "daemon/signals.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <vector>

namespace sharekeeper::daemon {
namespace {

TEST(SignalThread, DeliversTermIntAndHupOnItsOwnThread) {
  SignalThread::block();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> got;
  SignalThread t([&](int s) {
    std::lock_guard lock(mu);
    got.push_back(s);
    cv.notify_all();
  });
  t.start();
  for (int s : {SIGHUP, SIGINT, SIGTERM}) {
    ASSERT_EQ(::kill(::getpid(), s), 0);
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10),
                            [&] { return !got.empty() && got.back() == s; }));
  }
  t.stop();
  EXPECT_EQ(got, (std::vector<int>{SIGHUP, SIGINT, SIGTERM}));
}

}  // namespace
}  // namespace sharekeeper::daemon
