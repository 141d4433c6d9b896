// The grant-status phase's sharing judge on its own: whether a resource is actually shared with a
// target, from ObservedShares values.
#include "reconcilers/grant_status_plan.hpp"

#include <gtest/gtest.h>

#include "reconcilers/observe_rd.hpp"

namespace sharekeeper::reconcilers::planner {
namespace {

using config::GrantTarget;
using config::TargetType;

struct Judged {
  Sharing sharing;
  std::string detail;
};

Judged judge(const ObservedShares* shares, const std::string& resource, RoleKind kind,
             const GrantTarget& target, const Directories* directories = nullptr) {
  SharingLookup l;
  l.shares = shares;
  l.directories = directories;
  if (shares != nullptr) {
    if (auto it = shares->image_accounts.find(resource); it != shares->image_accounts.end())
      l.image_accounts = &it->second;
    if (auto it = shares->resource_targets.find(resource); it != shares->resource_targets.end())
      l.pairs = &it->second;
  }
  ResourceStatus rs;
  rs.resource_id = resource;
  judge_sharing(l, kind, target, rs);
  return {rs.sharing, rs.sharing_detail};
}

ObservedShares shares() {
  ObservedShares s;
  s.image_accounts["m-1"] = {"1111222233334444"};
  s.resource_sharing_known = true;
  s.resource_targets["s-1"]["rd-abc123"] = {"Associated", "", "rs-1", false};
  s.resource_targets["s-1"]["r-ab12cd"] = {"Associating", "", "rs-2", false};
  s.resource_targets["s-2"]["2222333344445555"] = {"Failed", "invitation rejected", "rs-3", true};
  return s;
}

TEST(JudgeSharingTest, UnobservedRegionStaysUnknown) {
  auto j = judge(nullptr, "s-1", RoleKind::kSnapshot, {TargetType::kAccount, "1"});
  EXPECT_EQ(j.sharing, Sharing::kUnknown);
  EXPECT_EQ(j.detail, "");
}

TEST(JudgeSharingTest, ImagePermissionSharesWithAnAccount) {
  const auto s = shares();
  auto j = judge(&s, "m-1", RoleKind::kImage, {TargetType::kAccount, "1111222233334444"});
  EXPECT_EQ(j.sharing, Sharing::kShared);
  EXPECT_EQ(j.detail, "image share permission");
  j = judge(&s, "m-1", RoleKind::kImage, {TargetType::kAccount, "9999888877776666"});
  EXPECT_EQ(j.sharing, Sharing::kNotShared);
  EXPECT_EQ(j.detail, "not in the image's share permissions nor a resource share");
}

TEST(JudgeSharingTest, AFolderIsCoveredByTheMostAdvancedShareAboveIt) {
  const auto s = shares();
  // The directory's share is Associated, the folder's own one still Associating: shared, via rd.
  auto j = judge(&s, "s-1", RoleKind::kSnapshot,
                 {TargetType::kFolder, "rd-abc123/r-ab12cd/fd-0000000001"});
  EXPECT_EQ(j.sharing, Sharing::kShared);
  EXPECT_EQ(j.detail, "resource share rs-1 via rd-abc123");
}

// An account reached through its directory: the detail names the directory the share is with. The
// membership path is a copy made for each directory of the loop; the detail once kept a view into
// it, and plan -o json printed freed memory (reliability seed 6; under ASan a heap-use-after-free).
TEST(JudgeSharingTest, AnAccountInADirectoryIsSharedViaTheDirectory) {
  const auto s = shares();
  Directories d;
  DirectoryMembership& m = d.by_id["rd-abc123"];
  m.directory_id = "rd-abc123";
  m.known = true;
  m.folder_of["3333444455556666"] = "rd-abc123/r-ab12cd/fd-0000000001";
  auto j = judge(&s, "s-1", RoleKind::kSnapshot, {TargetType::kAccount, "3333444455556666"}, &d);
  EXPECT_EQ(j.sharing, Sharing::kShared);
  EXPECT_EQ(j.detail, "resource share rs-1 via rd-abc123");
  // Not a member: no share reaches it.
  j = judge(&s, "s-1", RoleKind::kSnapshot, {TargetType::kAccount, "7777888899990000"}, &d);
  EXPECT_EQ(j.sharing, Sharing::kNotShared);
  EXPECT_EQ(j.detail, "in no resource share with this account, its directory or its folders");
}

TEST(JudgeSharingTest, AssociatingIsPendingAndFailedIsNotShared) {
  auto s = shares();
  s.resource_targets["s-1"].erase("rd-abc123");
  auto j = judge(&s, "s-1", RoleKind::kSnapshot, {TargetType::kFolder, "rd-abc123/r-ab12cd"});
  EXPECT_EQ(j.sharing, Sharing::kPending);
  EXPECT_EQ(j.detail, "resource share rs-2: associating");
  j = judge(&s, "s-2", RoleKind::kSnapshot, {TargetType::kAccount, "2222333344445555"});
  EXPECT_EQ(j.sharing, Sharing::kNotShared);
  EXPECT_EQ(j.detail,
            "resource share rs-3 (external target): association Failed (invitation rejected)");
}

TEST(JudgeSharingTest, AFailedResourceSharingListingSaysNothing) {
  auto s = shares();
  s.resource_sharing_known = false;
  auto j = judge(&s, "s-1", RoleKind::kSnapshot, {TargetType::kResourceDirectory, "rd-abc123"});
  EXPECT_EQ(j.sharing, Sharing::kUnknown);
}

}  // namespace
}  // namespace sharekeeper::reconcilers::planner
