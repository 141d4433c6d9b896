// The fence and FencedTransport on a manual clock: a request leaves only for an open account with
// lease time for its whole deadline plus the margin, with the deadline capped at max_request; a
// refused one never reaches the inner transport; requests in flight are counted.
#include "coordination/fence.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "coordination/fenced_transport.hpp"

namespace sharekeeper::coordination {
namespace {

using namespace std::chrono_literals;

// Records what reached the network.
struct RecordingTransport : cloud::Transport {
  std::vector<std::chrono::milliseconds> sent;
  std::function<void()> during;
  cloud::Result<cloud::HttpResponse> send(const cloud::HttpRequest&,
                                          std::chrono::milliseconds timeout) override {
    sent.push_back(timeout);
    if (during) during();
    cloud::HttpResponse r;
    r.status = 200;
    return r;
  }
};

struct FenceTest : ::testing::Test {
  Time now = Time{} + std::chrono::hours(1);
  std::shared_ptr<Fence> fence = std::make_shared<Fence>(1500ms, 5000ms, [this] { return now; });
  void open(std::set<std::string> accounts, Millis lease_left) {
    FenceState s;
    s.generation = fence->generation() + 1;
    s.open = std::move(accounts);
    s.lease_deadline = now + lease_left;
    fence->update(s);
  }
};

TEST_F(FenceTest, AdmitsOnlyWithLeaseTimeForTheDeadlinePlusTheMargin) {
  open({"prod"}, 10000ms);
  auto a = fence->admit("prod", 3000ms);
  EXPECT_EQ(a.verdict, Fence::Verdict::kAdmitted);
  EXPECT_EQ(a.timeout, 3000ms);
  fence->finish("prod");
  // 3000 + 1500 <= 4500: exactly at the bound is still safe.
  open({"prod"}, 4500ms);
  a = fence->admit("prod", 3000ms);
  EXPECT_EQ(a.verdict, Fence::Verdict::kAdmitted);
  fence->finish("prod");
  open({"prod"}, 4499ms);
  a = fence->admit("prod", 3000ms);
  EXPECT_EQ(a.verdict, Fence::Verdict::kLeaseExpiring);
  EXPECT_EQ(a.lease_left, 4499ms);
  EXPECT_EQ(fence->in_flight("prod"), 0u);
}

TEST_F(FenceTest, TheDeadlineIsCappedAtMaxRequest) {
  open({"prod"}, 7000ms);
  // The client asks for its usual 15 s; the fence sends it with 5 s, which fits.
  auto a = fence->admit("prod", 15000ms);
  EXPECT_EQ(a.verdict, Fence::Verdict::kAdmitted);
  EXPECT_EQ(a.timeout, 5000ms);
  fence->finish("prod");
}

TEST_F(FenceTest, ClosedAccountsAndMissingLeasesAreRefused) {
  open({"prod"}, 10000ms);
  EXPECT_EQ(fence->admit("dev", 1000ms).verdict, Fence::Verdict::kNotOwner);
  FenceState no_lease;
  no_lease.open = {"prod"};
  fence->update(no_lease);
  EXPECT_EQ(fence->admit("prod", 1000ms).verdict, Fence::Verdict::kLeaseExpiring);
  // Time passing alone closes it.
  open({"prod"}, 10000ms);
  now += 3600ms;
  EXPECT_EQ(fence->admit("prod", 5000ms).verdict, Fence::Verdict::kLeaseExpiring);
}

TEST_F(FenceTest, FencedTransportSendsAdmittedRequestsWithTheAdmittedDeadline) {
  auto inner = std::make_shared<RecordingTransport>();
  FencedTransport t(inner, fence, "prod");
  open({"prod"}, 10000ms);
  inner->during = [&] { EXPECT_EQ(fence->in_flight("prod"), 1u); };
  auto r = t.send({}, 15000ms);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(inner->sent.size(), 1u);
  EXPECT_EQ(inner->sent[0], 5000ms);
  EXPECT_EQ(fence->in_flight("prod"), 0u);
}

TEST_F(FenceTest, FencedTransportRefusesWithoutSendingAndSaysWhy) {
  auto inner = std::make_shared<RecordingTransport>();
  FencedTransport t(inner, fence, "prod");
  auto r = t.send({}, 1000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Coordination.NotOwner");
  EXPECT_EQ(r.error().cls, cloud::ErrorClass::kTerminal);
  open({"prod"}, 2000ms);
  r = t.send({}, 1000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Coordination.LeaseExpiring");
  EXPECT_NE(r.error().message.find("2000 ms of etcd lease left"), std::string::npos)
      << r.error().message;
  EXPECT_TRUE(inner->sent.empty());
}

TEST_F(FenceTest, WaitAllIdleReturnsWhenTheLastRequestEnds) {
  open({"prod"}, 10000ms);
  ASSERT_EQ(fence->admit("prod", 1000ms).verdict, Fence::Verdict::kAdmitted);
  EXPECT_FALSE(fence->wait_all_idle(10ms));
  std::thread t([this] { fence->finish("prod"); });
  EXPECT_TRUE(fence->wait_all_idle(5000ms));
  t.join();
  EXPECT_EQ(fence->in_flight_total(), 0u);
}

}  // namespace
}  // namespace sharekeeper::coordination
