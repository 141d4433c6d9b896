#include "daemon/grant_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sharekeeper::daemon {
namespace {

GrantKey k(std::string account, std::string share, std::string target,
           std::string type = "account") {
  return {std::move(account), std::move(share), std::move(type), std::move(target)};
}

GrantKey of(const GrantKeyView& v) {
  return {std::string(v.account), std::string(v.share), std::string(v.target_type),
          std::string(v.target)};
}

std::vector<GrantKey> keys_of(const GrantTable<int>& t) {
  std::vector<GrantKey> out;
  for (std::size_t i = 0; i < t.size(); ++i) out.push_back(of(t.key(i)));
  return out;
}

// The table's order is GrantKey's, whatever order the keys come in: /status rows and /metrics
// series are written in it. Names that are prefixes of each other, and a 16-digit target (longer
// than a string's inline buffer), included.
TEST(GrantTable, RowsAreInGrantKeyOrderAndDuplicatesCountOnce) {
  std::vector<GrantKey> keys = {k("prod", "golden", "1111222233334444"),
                                k("prod", "gold", "1111222233334444"),
                                k("dev", "golden", "rd-abc", "resource_directory"),
                                k("prod", "golden", "1111222233334444"),
                                k("prod", "golden", "111122223333444"),
                                k("pro", "z", "9")};
  GrantTable<int> t;
  t.assign(keys, 0);
  std::vector<GrantKey> want = keys;
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  EXPECT_EQ(keys_of(t), want);
  EXPECT_EQ(t.size(), 5u);
}

TEST(GrantTable, FindsEveryKeyAndNothingElse) {
  GrantTable<int> t;
  t.assign({k("a", "s1", "1"), k("a", "s2", "1"), k("b", "s1", "2")}, 0);
  for (std::size_t i = 0; i < t.size(); ++i) {
    int* row = t.find(of(t.key(i)));
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row, &t.row(i));
  }
  EXPECT_EQ(t.find(k("a", "s1", "2")), nullptr);
  EXPECT_EQ(t.find(k("a", "s", "1")), nullptr);
  EXPECT_EQ(t.find(k("c", "s1", "1")), nullptr);
  EXPECT_EQ(t.find(k("a", "s1", "1", "folder")), nullptr);
  GrantTable<int> empty;
  EXPECT_EQ(empty.find(k("a", "s1", "1")), nullptr);
}

// A reload: the grants that stay keep their rows (a /status row's history, a series' value), the
// new ones start fresh, the others are gone; the names are the new config's.
TEST(GrantTable, AssignKeepsTheRowsOfKeysThatStay) {
  GrantTable<int> t;
  t.assign({k("a", "s1", "1"), k("a", "s2", "1"), k("b", "s1", "2")}, 0);
  *t.find(k("a", "s1", "1")) = 11;
  *t.find(k("a", "s2", "1")) = 12;
  *t.find(k("b", "s1", "2")) = 21;
  t.assign({k("b", "s1", "2"), k("a", "s3", "1"), k("a", "s1", "1"), k("0", "s", "1")}, -1);
  EXPECT_EQ(keys_of(t), (std::vector<GrantKey>{k("0", "s", "1"), k("a", "s1", "1"),
                                               k("a", "s3", "1"), k("b", "s1", "2")}));
  EXPECT_EQ(*t.find(k("a", "s1", "1")), 11);
  EXPECT_EQ(*t.find(k("b", "s1", "2")), 21);
  EXPECT_EQ(*t.find(k("a", "s3", "1")), -1);
  EXPECT_EQ(*t.find(k("0", "s", "1")), -1);
  EXPECT_EQ(t.find(k("a", "s2", "1")), nullptr);
  t.assign({}, 0);
  EXPECT_EQ(t.size(), 0u);
}

TEST(GrantTable, AccountRangeIsThatAccountsRows) {
  GrantTable<int> t;
  t.assign({k("a", "s1", "1"), k("ab", "s1", "1"), k("a", "s2", "1"), k("b", "s1", "2")}, 0);
  auto [first, last] = t.account_range("a");
  ASSERT_EQ(last - first, 2u);
  for (std::size_t i = first; i < last; ++i) EXPECT_EQ(t.key(i).account, "a");
  std::tie(first, last) = t.account_range("ab");
  EXPECT_EQ(last - first, 1u);
  std::tie(first, last) = t.account_range("aa");
  EXPECT_EQ(first, last);
  std::tie(first, last) = t.account_range("z");
  EXPECT_EQ(first, last);
}

}  // namespace
}  // namespace sharekeeper::daemon
