// settings.manageDiskEncryptRole: the planner phase that creates AliyunECSDiskEncryptDefaultRole
// when it is absent, and never rewrites it when it exists (reconcilers/disk_encrypt_plan.hpp).
// The phase over observation values, then observe + plan + apply through FakeCloud.
#include <gtest/gtest.h>

#include <algorithm>

#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "support/clock.hpp"
#include "tests/unit/reconcilers/support/observation.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Action;
using reconcilers::Presence;
using reconcilers::Stage;

constexpr const char* kDiskRole = "AliyunECSDiskEncryptDefaultRole";
constexpr const char* kDiskPolicy = "AliyunECSDiskEncryptRolePolicy";

config::DesiredState desired(bool manage) {
  auto d = make_desired({make_share("golden", {"s-1"}, {}, {"1111222233334444"})});
  d.settings.manage_disk_encrypt_role = manage;
  return d;
}

AccountBuilder world(Presence disk) {
  AccountBuilder b;
  b.key("k1").snapshot("s-1", "k1");
  b.get().disk_role.presence = disk;
  return b;
}

std::vector<reconcilers::Change> disk_changes(const reconcilers::Plan& p) {
  std::vector<reconcilers::Change> out;
  for (const auto& a : p.accounts)
    for (const auto& c : a.changes)
      if (c.role == kDiskRole) out.push_back(c);
  return out;
}

bool has_note(const reconcilers::Plan& p, const std::string& part) {
  for (const auto& a : p.accounts)
    for (const auto& n : a.notes)
      if (n.message.find(part) != std::string::npos) return true;
  return false;
}

TEST(DiskEncryptRolePlan, OffByDefaultOnlyNotesTheMissingRole) {
  EXPECT_FALSE(config::Settings{}.manage_disk_encrypt_role);
  auto p = reconcilers::plan(desired(false), observation_of({world(Presence::kAbsent).build()}));
  EXPECT_TRUE(disk_changes(p).empty());
  EXPECT_TRUE(has_note(p, "AliyunECSDiskEncryptDefaultRole does not exist"));
  EXPECT_TRUE(has_note(p, "settings.manageDiskEncryptRole: true"));
}

TEST(DiskEncryptRolePlan, AbsentRoleIsCreatedTrustingEcsWithItsSystemPolicy) {
  auto p = reconcilers::plan(desired(true), observation_of({world(Presence::kAbsent).build()}));
  auto cs = disk_changes(p);
  ASSERT_EQ(cs.size(), 2U);
  EXPECT_EQ(cs[0].action, Action::kCreateRole);
  EXPECT_EQ(cs[0].stage, Stage::kRoles);
  EXPECT_TRUE(reconcilers::policies_equivalent(
      cs[0].document, R"({"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",)"
                      R"("Principal":{"Service":["ecs.aliyuncs.com"]}}]})"));
  EXPECT_FALSE(cs[0].is_revocation());
  EXPECT_EQ(cs[1].action, Action::kAttachPolicy);
  EXPECT_EQ(cs[1].stage, Stage::kAttachments);
  EXPECT_EQ(cs[1].policy_type, "System");
  EXPECT_EQ(cs[1].policy_name, kDiskPolicy);
  EXPECT_FALSE(has_note(p, "does not exist"));
  EXPECT_EQ(p.summary.add, 2 + 3);  // + the share role, its KMS policy and attachment
}

TEST(DiskEncryptRolePlan, AnExistingRoleIsNeverRewritten) {
  // Someone's role with an odd trust policy and without the System policy: reported, untouched.
  auto b = world(Presence::kPresent);
  auto& r = b.get().disk_role;
  r.role.trust_policy = trust_for({"1111222233334444"});
  r.tags_known = true;
  r.attachments_known = true;
  auto p = reconcilers::plan(desired(true), observation_of({b.build()}));
  EXPECT_TRUE(disk_changes(p).empty());
  EXPECT_TRUE(has_note(p, "was not created by sharekeeper: not changed"));

  // With its policy: nothing at all.
  r.attached.push_back({kDiskPolicy, "System", "", ""});
  p = reconcilers::plan(desired(true), observation_of({b.build()}));
  EXPECT_TRUE(disk_changes(p).empty());
  EXPECT_FALSE(has_note(p, kDiskRole));

  // Attachments not read (e.g. the setting was off when observed): nothing either.
  auto unread = world(Presence::kPresent);
  p = reconcilers::plan(desired(true), observation_of({unread.build()}));
  EXPECT_TRUE(disk_changes(p).empty());
}

TEST(DiskEncryptRolePlan, OursWithoutItsPolicyGetsItAttached) {
  auto b = world(Presence::kPresent);
  auto& r = b.get().disk_role;
  r.tags_known = true;
  r.managed_by = "sharekeeper";
  r.attachments_known = true;
  auto p = reconcilers::plan(desired(true), observation_of({b.build()}));
  auto cs = disk_changes(p);
  ASSERT_EQ(cs.size(), 1U);
  EXPECT_EQ(cs[0].action, Action::kAttachPolicy);
  EXPECT_EQ(cs[0].policy_name, kDiskPolicy);
  // Another instance's role is not ours.
  r.managed_by = "other";
  p = reconcilers::plan(desired(true), observation_of({b.build()}));
  EXPECT_TRUE(disk_changes(p).empty());
}

TEST(DiskEncryptRolePlan, AnUnreadRoleChangesNothing) {
  auto p = reconcilers::plan(desired(true), observation_of({world(Presence::kUnknown).build()}));
  EXPECT_TRUE(disk_changes(p).empty());
  EXPECT_FALSE(has_note(p, kDiskRole));
}

// observe + plan + apply: the role is created, tagged, its policy attached; the next plan has
// nothing for it, and an existing role's trust is never compared (no extra reads without the
// setting).
TEST(DiskEncryptRolePlan, ApplyCreatesItOnceThroughTheCloudApi) {
  FakeCloud cloud(kUid);
  cloud.add_key(kRegion, "k1");
  cloud.add_snapshot(kRegion, "s-1", "k1");
  const auto d = desired(true);
  auto p = plan_one(d, cloud);
  ASSERT_EQ(disk_changes(p).size(), 2U);
  reconcilers::ApplyOptions opts;
  opts.clock = std::make_shared<support::ManualClock>();
  auto r = reconcilers::apply(
      d, p, [&](const config::Account&) -> cloud::CloudApi* { return &cloud; }, opts);
  EXPECT_TRUE(r.converged()) << reconcilers::to_string(r.residual.grants.at(0).state);
  auto role = cloud.role(kDiskRole);
  ASSERT_TRUE(role.has_value());
  EXPECT_TRUE(reconcilers::policies_equivalent(
      role->role.trust_policy, reconcilers::build_service_trust_policy("ecs.aliyuncs.com")));
  EXPECT_NE(std::find(role->tags.begin(), role->tags.end(), managed_tag()[0]), role->tags.end());
  EXPECT_EQ(role->attached,
            (std::vector<std::pair<std::string, std::string>>{{"System", kDiskPolicy}}));
  EXPECT_TRUE(disk_changes(plan_one(d, cloud)).empty());

  // Someone edits its trust: sharekeeper never rewrites it.
  cloud.add_role(kDiskRole, trust_for({"1111222233334444"}), managed_tag());
  cloud.attach(kDiskRole, "System", kDiskPolicy);
  EXPECT_TRUE(disk_changes(plan_one(d, cloud)).empty());
}

TEST(DiskEncryptRolePlan, ItsAttachmentsAreReadOnlyWhenManaged) {
  FakeCloud cloud(kUid);
  cloud.add_role(kDiskRole, reconcilers::build_service_trust_policy("ecs.aliyuncs.com"));
  auto off = reconcilers::plan(desired(false), observe_all(desired(false), {{"prod", &cloud}}));
  auto on_obs = observe_all(desired(true), {{"prod", &cloud}});
  auto off_obs = observe_all(desired(false), {{"prod", &cloud}});
  EXPECT_FALSE(off_obs.accounts.at("prod").disk_role.attachments_known);
  EXPECT_TRUE(on_obs.accounts.at("prod").disk_role.attachments_known);
  EXPECT_TRUE(on_obs.accounts.at("prod").disk_role.tags_known);
  // No share role exists here, so its tags cost a call of their own (ListTagResources), then
  // ListPoliciesForRole; with share roles present the tags ride on their call.
  EXPECT_EQ(on_obs.accounts.at("prod").calls, off_obs.accounts.at("prod").calls + 2);
  EXPECT_TRUE(disk_changes(off).empty());
}

}  // namespace
}  // namespace sharekeeper::testing
