// plan() with `only` (what the daemon calls for each account's pass) costs what the account in
// scope costs, not what the whole config does (issue 14: each of the daemon's 64 workers built the
// organisation's 30,000 grant statuses and targets a pass, and the malloc arenas kept that peak).
// The global operator new of this binary tracks the peak of live heap bytes during one plan() call;
// the bound compares a config of 4 accounts with one of 40 (the same account in scope): a count of
// bytes, not a timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "../heap_counter.hpp"
#include "config/desired_state.hpp"
#include "reconcilers/plan.hpp"

namespace sharekeeper::reconcilers {
namespace {

std::string padded(std::string prefix, int n, int width) {
  std::string digits = std::to_string(n);
  if (static_cast<int>(digits.size()) < width)
    digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  return prefix + digits;
}

// bench_converge's shape: 50 shares an account, 3 target accounts a share.
config::DesiredState organisation(int accounts) {
  config::DesiredState d;
  d.revision = "rev";
  for (int a = 0; a < accounts; ++a) {
    config::Account acct;
    acct.name = padded("sharer", a, 4);
    acct.uid = padded("20", a, 14);
    d.accounts.push_back(acct);
    for (int s = 0; s < 50; ++s) {
      config::Share sh;
      sh.name = padded(acct.name + "-", s, 2);
      sh.account = acct.name;
      sh.snapshots = {padded("s-bp1snap", a * 100 + s, 11)};
      for (int t = 0; t < 3; ++t) sh.to.accounts.push_back(padded("19", a * 1000 + s * 3 + t, 14));
      d.shares.push_back(sh);
    }
  }
  std::sort(d.shares.begin(), d.shares.end(),
            [](const config::Share& x, const config::Share& y) { return x.name < y.name; });
  return d;
}

// Peak heap bytes above the start of one plan() of account 0 alone, and its grant count.
std::pair<long long, std::size_t> plan_peak(int accounts) {
  const config::DesiredState d = organisation(accounts);
  Observation obs;
  obs.accounts["sharer0000"].uid = "20000000000000";
  const long long base = sharekeeper::testing::heap::live();
  sharekeeper::testing::heap::reset_peak();
  const std::size_t grants = plan(d, obs, {"sharer0000"}).grants.size();
  return {sharekeeper::testing::heap::peak() - base, grants};
}

TEST(PlanScopeMemory, OneAccountsPlanDoesNotGrowWithTheConfig) {
  const auto [small, small_grants] = plan_peak(4);
  const auto [large, large_grants] = plan_peak(40);
  std::printf("plan(only one account): peak %lld bytes with 4 accounts, %lld with 40\n", small,
              large);
  EXPECT_EQ(small_grants, 150u);
  EXPECT_EQ(large_grants, 150u);
  // What 36 more accounts may add: their shares' entries in the plan's indexes (pointers, empty
  // target lists: about 70 bytes a share), not their grants (about 1 KB a share before).
  EXPECT_LE(large, small + 36 * 50 * 128) << "plan() of one account expands the other accounts";
}

}  // namespace
}  // namespace sharekeeper::reconcilers
