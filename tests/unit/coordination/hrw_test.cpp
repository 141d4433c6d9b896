// Rendezvous hashing: stable answers, even spread, and minimal movement when members change.
#include "coordination/hrw.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace sharekeeper::coordination {
namespace {

std::vector<std::string> accounts(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("account-" + std::to_string(i));
  return out;
}

TEST(Hrw, EmptyMembersHaveNoOwner) { EXPECT_FALSE(hrw_owner("prod", {}).has_value()); }

TEST(Hrw, TheAnswerDependsOnlyOnTheSetOfMembers) {
  const std::vector<std::string> a{"r1", "r2", "r3"}, b{"r3", "r1", "r2"};
  for (const auto& acct : accounts(50)) EXPECT_EQ(hrw_owner(acct, a), hrw_owner(acct, b));
}

TEST(Hrw, WeightsAreFixedAcrossBuilds) {
  // Replicas of different versions must agree: pin the function.
  EXPECT_EQ(hrw_weight("replica-a", "prod"), hrw_weight("replica-a", "prod"));
  EXPECT_NE(hrw_weight("ab", "c"), hrw_weight("a", "bc"));
  EXPECT_EQ(hrw_weight("", ""), 2737183428366584608ULL);
  EXPECT_EQ(hrw_weight("replica-a", "prod"), 16366916054851925731ULL);
}

TEST(Hrw, TwoHundredAccountsSpreadEvenlyOverThreeMembers) {
  const std::vector<std::string> members{"sharekeeper-0", "sharekeeper-1", "sharekeeper-2"};
  std::map<std::string, int> owned;
  for (const auto& a : accounts(200)) ++owned[*hrw_owner(a, members)];
  ASSERT_EQ(owned.size(), 3u);
  for (const auto& [m, n] : owned) {
    // Expected 66.7 each; a binomial(200, 1/3) stays within +-20 with overwhelming probability.
    EXPECT_GT(n, 46) << m;
    EXPECT_LT(n, 87) << m;
  }
}

TEST(Hrw, AMemberLeavingMovesOnlyItsOwnAccounts) {
  const std::vector<std::string> three{"r1", "r2", "r3"}, two{"r1", "r3"};
  int moved = 0;
  for (const auto& a : accounts(300)) {
    const auto before = *hrw_owner(a, three), after = *hrw_owner(a, two);
    if (before != "r2") {
      EXPECT_EQ(before, after) << a;
    } else {
      ++moved;
      EXPECT_NE(after, "r2");
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Hrw, AMemberJoiningTakesOnlyWhatItWins) {
  const std::vector<std::string> three{"r1", "r2", "r3"}, four{"r1", "r2", "r3", "r4"};
  int taken = 0;
  for (const auto& a : accounts(400)) {
    const auto before = *hrw_owner(a, three), after = *hrw_owner(a, four);
    if (after == "r4")
      ++taken;
    else
      EXPECT_EQ(before, after) << a;
  }
  EXPECT_GT(taken, 60);  // about 100
  EXPECT_LT(taken, 140);
}

}  // namespace
}  // namespace sharekeeper::coordination
