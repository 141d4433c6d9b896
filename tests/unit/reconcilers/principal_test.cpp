// Principals as typed values: labels, the order they sort in, and the round trip through a trust
// policy's decomposition.
#include "reconcilers/principal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace sharekeeper::reconcilers {
namespace {

TEST(PrincipalTest, Labels) {
  EXPECT_EQ((Principal{PrincipalKind::kAccount, "1111222233334444"}).label(),
            "account:1111222233334444");
  EXPECT_EQ((Principal{PrincipalKind::kResourceDirectory, "rd-abc123"}).label(), "rd:rd-abc123");
  EXPECT_EQ((Principal{PrincipalKind::kFolder, "rd-abc123/r-ab12cd/fd-0123456789"}).label(),
            "folder:rd-abc123/r-ab12cd/fd-0123456789");
  EXPECT_EQ((Principal{PrincipalKind::kForeign, "{}"}).label(), "foreign:{}");
  EXPECT_EQ(label(config::GrantTarget{config::TargetType::kResourceDirectory, "rd-abc123"}),
            "rd:rd-abc123");
}

TEST(PrincipalTest, SortOrderIsTheOrderOfTheirLabels) {
  // Plans list principals sorted; they were sorted as label strings before principals were typed,
  // and the renderings must not change.
  std::vector<Principal> ps = {{PrincipalKind::kResourceDirectory, "rd-a"},
                               {PrincipalKind::kForeign, "{\"x\":1}"},
                               {PrincipalKind::kFolder, "rd-a/r-b"},
                               {PrincipalKind::kAccount, "2222333344445555"},
                               {PrincipalKind::kAccount, "1111222233334444"}};
  std::sort(ps.begin(), ps.end());
  std::vector<std::string> labels;
  for (const auto& p : ps) labels.push_back(p.label());
  EXPECT_TRUE(std::is_sorted(labels.begin(), labels.end()));
  EXPECT_EQ(labels.front(), "account:1111222233334444");
  EXPECT_EQ(labels.back(), "rd:rd-a");
}

TEST(PrincipalTest, TrustPrincipalsRoundTrip) {
  TrustPrincipals tp;
  tp.accounts = {"1111222233334444", "2222333344445555"};
  tp.rds = {"rd-abc123"};
  tp.folders = {"rd-abc123/r-ab12cd/fd-0123456789"};
  tp.foreign = {R"({"Action":["sts:AssumeRole"]})"};
  auto ps = principals_of(tp);
  ASSERT_EQ(ps.size(), 5U);
  EXPECT_EQ(ps.front(), (Principal{PrincipalKind::kAccount, "1111222233334444"}));
  EXPECT_EQ(trust_principals(ps), tp);
  std::set<Principal> as_set(ps.begin(), ps.end());
  EXPECT_EQ(trust_principals(as_set), tp);
}

TEST(PrincipalTest, ProtectedPrincipals) {
  EXPECT_EQ(protected_principal("1111222233334444"),
            (Principal{PrincipalKind::kAccount, "1111222233334444"}));
  EXPECT_EQ(protected_principal("rd-abc123"),
            (Principal{PrincipalKind::kResourceDirectory, "rd-abc123"}));
  EXPECT_EQ(protected_principal("rd-abc123/r-ab12cd/fd-0123456789"),
            (Principal{PrincipalKind::kFolder, "rd-abc123/r-ab12cd/fd-0123456789"}));
  // A folder's trailing '*' (as trust policies write it) names the same folder.
  EXPECT_EQ(protected_principal("rd-abc123/r-ab12cd*"),
            (Principal{PrincipalKind::kFolder, "rd-abc123/r-ab12cd"}));
  EXPECT_EQ(protected_principal("acs:ram::1:root"), std::nullopt);
  EXPECT_EQ(protected_principal(""), std::nullopt);
}

TEST(PrincipalTest, FromGrantTargets) {
  using config::GrantTarget;
  using config::TargetType;
  EXPECT_EQ(Principal::of(GrantTarget{TargetType::kAccount, "1111222233334444"}).kind,
            PrincipalKind::kAccount);
  EXPECT_EQ(Principal::of(GrantTarget{TargetType::kResourceDirectory, "rd-a"}).kind,
            PrincipalKind::kResourceDirectory);
  EXPECT_EQ(Principal::of(GrantTarget{TargetType::kFolder, "rd-a/r-b"}),
            (Principal{PrincipalKind::kFolder, "rd-a/r-b"}));
}

}  // namespace
}  // namespace sharekeeper::reconcilers
