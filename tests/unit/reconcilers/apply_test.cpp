// Apply tests against FakeCloud: staged writes, idempotence, outcome-unknown re-reads,
// verification.
#include "reconcilers/apply.hpp"

#include <gtest/gtest.h>

#include "reconcilers/render.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::ApplyOptions;
using reconcilers::ApplyResult;

constexpr const char* kA = "1111222233334444";
constexpr const char* kX = "9999888877776666";
const std::string kPol1 = "sharekeeper-ecs-share-snapshot-kms-1";

struct Harness {
  explicit Harness(std::map<std::string, FakeCloud*> c) : clouds(std::move(c)) {}
  std::map<std::string, FakeCloud*> clouds;
  std::shared_ptr<support::ManualClock> clock = std::make_shared<support::ManualClock>();
  std::vector<std::chrono::nanoseconds> sleeps() const { return clock->sleeps(); }

  reconcilers::ClientFor client_for() {
    return [this](const config::Account& a) -> cloud::CloudApi* {
      auto it = clouds.find(a.name);
      return it == clouds.end() ? nullptr : it->second;
    };
  }
  ApplyOptions options() {
    ApplyOptions o;
    o.clock = clock;
    return o;
  }
  reconcilers::Plan plan(const config::DesiredState& d) {
    return reconcilers::plan(d, reconcilers::observe(d, client_for(), 2));
  }
  ApplyResult converge(const config::DesiredState& d) {
    return reconcilers::apply(d, plan(d), client_for(), options());
  }
};

config::DesiredState snaps_to_a() { return make_desired({make_share("snaps", {"s-1"}, {}, {kA})}); }

TEST(ObserveTest, RamAndEachRegionAreReadSideBySide) {
  // The first GetRole waits for the region's DescribeSnapshots to begin: with RAM and the region
  // read one after the other they never meet (and the wait gives up after 10 s).
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.rendezvous("GetRole", "DescribeSnapshots");
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  auto o = reconcilers::observe(d, h.client_for(), 1);
  EXPECT_TRUE(cloud.met());
  const auto& account = o.accounts.at("prod");
  EXPECT_FALSE(account.partial);
  EXPECT_EQ(account.regions.at(kRegion).snapshots.at("s-1").presence,
            reconcilers::Presence::kPresent);
}

TEST(ObserveTest, ErrorsAreListedInTheOrderOfTheStepsWhicheverTaskFailsFirst) {
  // A GetRole and the region's DescribeSnapshots both fail, the region's first: the first GetRole
  // is held back until the region has moved on to its shares (DescribeImages by our tag, after
  // DescribeSnapshots' failure was recorded). RAM's error is still listed first, as the steps are
  // numbered; merged in the order the tasks recorded them it would come second.
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.inject({.action = "GetRole"});
  cloud.inject({.action = "DescribeSnapshots"});
  cloud.rendezvous("GetRole", "DescribeImages");
  Harness h({{"prod", &cloud}});
  auto o = reconcilers::observe(snaps_to_a(), h.client_for(), 1);
  const auto& account = o.accounts.at("prod");
  EXPECT_TRUE(account.partial);
  ASSERT_EQ(account.errors.size(), 2U);
  EXPECT_EQ(account.errors[0].action, "GetRole");
  EXPECT_EQ(account.errors[1].action, "DescribeSnapshots");
}

TEST(ApplyTest, ApplyFromEmptyConvergesAndTagsWhatItCreates) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  ApplyResult r = h.converge(d);
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(r.writes(), 3);
  EXPECT_EQ(r.verify_rounds, 1);
  EXPECT_TRUE(h.sleeps().empty());
  auto role = cloud.role(kSnapRole);
  ASSERT_TRUE(role);
  EXPECT_EQ(role->tags, managed_tag());
  EXPECT_TRUE(reconcilers::policies_equivalent(role->role.trust_policy, trust_for({kA})));
  EXPECT_EQ(cloud.attached_to(kSnapRole), (std::vector<std::string>{"Custom:" + kPol1}));
  EXPECT_EQ(cloud.policy(kPol1)->tags, managed_tag());
  auto grants = reconcilers::grants_after_apply(r);
  ASSERT_EQ(grants.size(), 1U);
  EXPECT_EQ(grants[0].state, reconcilers::GrantState::kReady);
}

TEST(ApplyTest, ApplyAgainMakesZeroWrites) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  ASSERT_TRUE(h.converge(d).converged());
  cloud.reset_counters();
  ApplyResult again = h.converge(d);
  EXPECT_TRUE(again.converged());
  EXPECT_EQ(again.writes(), 0);
  EXPECT_EQ(cloud.write_calls(), 0);
  EXPECT_EQ(again.verify_rounds, 0) << "nothing written, nothing to verify";
}

TEST(ApplyTest, AddBeforeRemove) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kX}, {});
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  d.settings.max_revoke_fraction = 1.0;
  auto p = h.plan(d);
  ApplyResult r = reconcilers::apply(d, p, h.client_for(), h.options());
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(cloud.journal(), (std::vector<std::string>{
                                 "UpdateRole " + std::string(kSnapRole), "CreatePolicy " + kPol1,
                                 "AttachPolicyToRole " + kPol1 + " " + kSnapRole,
                                 "UpdateRole " + std::string(kSnapRole)}));
  // Each change carries its write's RequestId for the audit record (reads are not listed).
  ASSERT_EQ(r.accounts[0].results.size(), 4U);
  for (const auto& res : r.accounts[0].results) {
    ASSERT_EQ(res.writes.size(), 1U) << res.change.reason;
    EXPECT_FALSE(res.writes[0].request_id.empty());
  }
  EXPECT_EQ(r.accounts[0].results[2].writes[0].action, "AttachPolicyToRole");
  EXPECT_NE(r.accounts[0].results[0].writes[0].request_id,
            r.accounts[0].results[3].writes[0].request_id);
  EXPECT_NE(render_apply_text(r).find("[RequestId " +
                                      r.accounts[0].results[2].writes[0].request_id + "]"),
            std::string::npos)
      << render_apply_text(r);
  // The first trust write only widened: the old principal was still there while A was added.
  auto widened = reconcilers::parse_trust_policy(r.accounts[0].results[0].change.document);
  ASSERT_TRUE(widened);
  EXPECT_EQ(widened->accounts, (std::vector<std::string>{kA, kX}));
  EXPECT_TRUE(
      reconcilers::policies_equivalent(cloud.role(kSnapRole)->role.trust_policy, trust_for({kA})));
}

TEST(ApplyTest, FailedAddSkipsTheRemovalStage) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kX}, {});
  cloud.inject(
      {.action = "CreatePolicy", .code = "NoPermission", .cls = cloud::ErrorClass::kTerminal});
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  d.settings.max_revoke_fraction = 1.0;
  ApplyResult r = h.converge(d);
  EXPECT_FALSE(r.converged());
  const auto& results = r.accounts[0].results;
  ASSERT_EQ(results.size(), 4U);
  EXPECT_TRUE(results[0].ok);
  EXPECT_FALSE(results[1].ok);
  EXPECT_TRUE(results.back().skipped);
  // X is still trusted: nothing was removed after the failed add.
  auto tp = reconcilers::parse_trust_policy(cloud.role(kSnapRole)->role.trust_policy);
  EXPECT_EQ(tp->accounts, (std::vector<std::string>{kA, kX}));
  auto grants = reconcilers::grants_after_apply(r);
  ASSERT_EQ(grants.size(), 1U);
  EXPECT_EQ(grants[0].state, reconcilers::GrantState::kFailed);
  EXPECT_NE(grants[0].reason.find("NoPermission"), std::string::npos) << grants[0].reason;
}

struct UnknownCase {
  const char* name;
  std::string action;
  bool after_commit;
  int expected_calls;  // of `action`
};

class OutcomeUnknownTest : public ::testing::TestWithParam<UnknownCase> {};

TEST_P(OutcomeUnknownTest, IsReobservedBeforeAnyRetry) {
  const UnknownCase& c = GetParam();
  FakeCloud cloud(kUid);
  seed_world(cloud);
  // A converged policy that needs a new version, so every write kind below is exercised.
  cloud.add_role(kSnapRole, trust_for({}), managed_tag());
  cloud.add_policy(kPol1, kms_for({}), managed_tag());
  cloud.attach(kSnapRole, "Custom", kPol1);
  auto d =
      make_desired({make_share("snaps", {"s-1"}, {}, {kA}), make_share("imgs", {"s-2"}, {}, {kA})});
  d.shares[1].images = {};
  cloud.inject({.action = c.action,
                .code = "Transport.Timeout",
                .cls = cloud::ErrorClass::kOutcomeUnknown,
                .after_commit = c.after_commit});
  Harness h({{"prod", &cloud}});
  ApplyResult r = h.converge(d);
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(cloud.calls(c.action), c.expected_calls);
  bool re_observed = false;
  for (const auto& res : r.accounts[0].results)
    if (res.change.action != reconcilers::Action::kAttachPolicy || c.action == "AttachPolicyToRole")
      re_observed = re_observed || res.re_observed;
  EXPECT_TRUE(re_observed);
  // Never a duplicate version: v1 plus exactly one new one.
  EXPECT_EQ(cloud.policy(kPol1)->versions.size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(
    Writes, OutcomeUnknownTest,
    ::testing::Values(UnknownCase{"UpdateRoleCommitted", "UpdateRole", true, 1},
                      UnknownCase{"UpdateRoleLost", "UpdateRole", false, 2},
                      UnknownCase{"CreatePolicyVersionCommitted", "CreatePolicyVersion", true, 1},
                      UnknownCase{"CreatePolicyVersionLost", "CreatePolicyVersion", false, 2}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ApplyTest, OutcomeUnknownCreateIsNotDuplicated) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.inject({.action = "CreateRole",
                .code = "Transport.Timeout",
                .cls = cloud::ErrorClass::kOutcomeUnknown,
                .after_commit = true});
  cloud.inject({.action = "CreatePolicy",
                .code = "Transport.Reset",
                .cls = cloud::ErrorClass::kOutcomeUnknown,
                .after_commit = true});
  cloud.inject({.action = "AttachPolicyToRole",
                .code = "Transport.Timeout",
                .cls = cloud::ErrorClass::kOutcomeUnknown,
                .after_commit = true});
  Harness h({{"prod", &cloud}});
  ApplyResult r = h.converge(snaps_to_a());
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(cloud.calls("CreateRole"), 1);
  EXPECT_EQ(cloud.calls("CreatePolicy"), 1);
  EXPECT_EQ(cloud.calls("AttachPolicyToRole"), 1);
  for (const auto& res : r.accounts[0].results) {
    EXPECT_TRUE(res.re_observed) << res.change.reason;
    // The write committed but its answer was lost: there is no RequestId to report.
    EXPECT_TRUE(res.writes.empty()) << res.change.reason;
  }
}

TEST(ApplyTest, RotationDeletesBeforeCreatingAndKeepsTheDefault) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kA}), managed_tag());
  cloud.add_policy(kPol1, kms_for({}), managed_tag());
  for (int i = 0; i < 4; ++i) cloud.add_policy_version(kPol1, kms_for({"k2"}), false);
  cloud.attach(kSnapRole, "Custom", kPol1);
  Harness h({{"prod", &cloud}});
  ApplyResult r = h.converge(snaps_to_a());
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(cloud.journal(), (std::vector<std::string>{"DeletePolicyVersion " + kPol1 + " v2",
                                                       "CreatePolicyVersion " + kPol1 + " v6"}));
  EXPECT_EQ(cloud.policy(kPol1)->versions.size(), 5U);
}

TEST(ApplyTest, VerificationWaitsBoundedWhenTheReReadFails) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  auto p = h.plan(d);
  // The first GetRole of the verification fails: the re-observation is partial, so apply waits and
  // reads again instead of reporting a false "still differs".
  cloud.inject({.action = "GetRole", .code = "ServiceUnavailable", .times = 1});
  ApplyResult r = reconcilers::apply(d, p, h.client_for(), h.options());
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(r.verify_rounds, 2);
  EXPECT_EQ(h.sleeps(), (std::vector<std::chrono::nanoseconds>{std::chrono::milliseconds(1000)}));
}

TEST(ApplyTest, VerificationGivesUpAfterTheBoundAndReportsWhatDiffers) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  auto p = h.plan(d);
  cloud.inject({.action = "GetRole", .code = "ServiceUnavailable", .times = 100});
  ApplyOptions o = h.options();
  o.verify_attempts = 4;
  ApplyResult r = reconcilers::apply(d, p, h.client_for(), o);
  EXPECT_FALSE(r.converged());
  EXPECT_EQ(r.verify_rounds, 4);
  EXPECT_EQ(h.sleeps(), (std::vector<std::chrono::nanoseconds>{std::chrono::milliseconds(1000),
                                                               std::chrono::milliseconds(2000),
                                                               std::chrono::milliseconds(4000)}));
  EXPECT_NE(render_apply_text(r).find("Still differs"), std::string::npos);
}

TEST(ApplyTest, AccountsConvergeIndependentlyAndAMismatchIsUntouched) {
  FakeCloud good(kUid);
  seed_world(good);
  FakeCloud wrong("7777777777777777");
  seed_world(wrong);
  auto d = make_desired(
      {make_share("a", {"s-1"}, {}, {kA}), make_share("b", {"s-1"}, {}, {kA}, "staging")},
      {make_account("prod"), make_account("staging", "6666666666666666")});
  Harness h({{"prod", &good}, {"staging", &wrong}});
  ApplyResult r = h.converge(d);
  EXPECT_FALSE(r.converged());
  EXPECT_EQ(good.attached_to(kSnapRole).size(), 1U);
  EXPECT_EQ(wrong.write_calls(), 0);
  auto grants = reconcilers::grants_after_apply(r);
  ASSERT_EQ(grants.size(), 2U);
  EXPECT_EQ(grants[0].state, reconcilers::GrantState::kReady);
  EXPECT_EQ(grants[1].state, reconcilers::GrantState::kFailed);
}

TEST(ApplyTest, MaxRevocationsPerCycleConvergesOverCycles) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA, kX, "3333444455556666"}, {"k1"});
  Harness h({{"prod", &cloud}});
  auto d = snaps_to_a();
  d.settings.max_revocations_per_cycle = 1;
  ApplyResult first = h.converge(d);
  EXPECT_EQ(first.accounts[0].failed, 0);
  EXPECT_EQ(first.verify_rounds, 1)
      << "the next batch is new work, not a difference from this plan";
  EXPECT_EQ(first.residual.summary.revocations, 1);
  ApplyResult second = h.converge(d);
  EXPECT_TRUE(second.converged()) << render_apply_text(second);
  EXPECT_TRUE(
      reconcilers::policies_equivalent(cloud.role(kSnapRole)->role.trust_policy, trust_for({kA})));
}

}  // namespace
}  // namespace sharekeeper::testing

namespace sharekeeper::testing {
namespace {

TEST(ApplyTest, PerAccountPassTouchesOnlyThatAccount) {
  FakeCloud prod(kUid);
  seed_world(prod);
  FakeCloud staging("6666666666666666");
  seed_world(staging);
  auto d = make_desired(
      {make_share("a", {"s-1"}, {}, {kA}), make_share("b", {"s-1"}, {}, {kA}, "staging")},
      {make_account("prod"), make_account("staging", "6666666666666666")});
  Harness h({{"prod", &prod}, {"staging", &staging}});
  const std::vector<std::string> only = {"prod"};
  auto p = reconcilers::plan(d, reconcilers::observe(d, h.client_for(), 2, only), only);
  ASSERT_EQ(p.accounts.size(), 1U);
  EXPECT_FALSE(p.has_errors());
  ASSERT_EQ(p.grants.size(), 1U);
  EXPECT_EQ(p.grants[0].share, "a");
  ApplyResult r = reconcilers::apply(d, p, h.client_for(), h.options());
  EXPECT_TRUE(r.converged()) << render_apply_text(r);
  EXPECT_EQ(r.residual.accounts.size(), 1U);
  EXPECT_EQ(staging.total_calls(), 0);
}

}  // namespace
}  // namespace sharekeeper::testing
