// Planner tests: desired x observed -> plan, observed through FakeCloud so the observation is real.
#include "reconcilers/plan.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "reconcilers/render.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Plan;
using Changes = std::vector<std::string>;

constexpr const char* kA = "1111222233334444";
constexpr const char* kB = "2222333344445555";
constexpr const char* kX = "9999888877776666";
const std::string kPol1 = "sharekeeper-ecs-share-snapshot-kms-1";

std::string acct(const char* uid) { return std::string("account:") + uid; }

// ---- fresh and converged

TEST(PlanTest, FreshAccountCreatesRolePolicyAndAttachment) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"1 CreateRole SnapRole +" + acct(kA),
                                      "2 CreatePolicy " + kPol1 + " +key +key/k1",
                                      "3 AttachPolicyToRole " + kPol1}));
  EXPECT_EQ(state_of(p, "snaps", acct(kA)),
            "Pending: role AliyunECSShareEncryptSnapshotDefaultRole does not exist");
  EXPECT_EQ(p.summary.add, 3);
  EXPECT_TRUE(p.has_changes());
  EXPECT_FALSE(p.has_errors());
  // Every change says which grants it serves.
  for (const auto& c : p.accounts[0].changes)
    EXPECT_EQ(grant_labels(c), (std::vector<std::string>{"snaps -> " + acct(kA)})) << describe(c);
}

TEST(PlanTest, RoleWithoutOurPolicyGetsItCreated) {
  // RAM refuses ListTagResources as a whole when one name does not exist; the probe of our first
  // policy must read that as "absent", not as a partial observation that plans nothing.
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA}, {});
  Plan p = plan_one(make_desired({make_share("snaps", {"s-1"}, {}, {kA})}), cloud);
  EXPECT_FALSE(p.accounts.at(0).partial) << render_text(p);
  EXPECT_EQ(describe_all(p), (Changes{"2 CreatePolicy " + kPol1 + " +key +key/k1",
                                      "3 AttachPolicyToRole " + kPol1}));
}

TEST(PlanTest, AnAttachedPolicyNotFoundWhenTaggingIsUnknownNotAbsent) {
  // Listed as attached, then not found (RAM's eventual consistency): never treated as absent, so
  // nothing is created over it and nothing is revoked from a partial observation.
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA, kB}, {});
  cloud.attach(kSnapRole, "Custom", kPol1);  // the attachment lists a policy the tags call misses
  Plan p = plan_one(make_desired({make_share("snaps", {"s-1"}, {}, {kA})}), cloud);
  EXPECT_TRUE(p.accounts.at(0).partial) << render_text(p);
  for (const auto& c : p.accounts.at(0).changes) {
    EXPECT_NE(c.action, reconcilers::Action::kCreatePolicy) << describe(c);
    EXPECT_FALSE(c.is_revocation()) << describe(c);
  }
}

TEST(PlanTest, ConvergedAccountPlansNothingAndGrantIsReady) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA}, {"k1"});
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_TRUE(p.blocked.empty());
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Ready: ");
  EXPECT_FALSE(p.has_changes());
}

TEST(PlanTest, ConvergedAccountObservationMakesTheMinimumCalls) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA}, {"k1"});
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  (void)plan_one(d, cloud);
  // 1 GetCallerIdentity + 3 GetRole + 1 ListTagResources(role) + 1 ListPoliciesForRole (one role
  // exists) + 1 ListTagResources(policy) + 1 ListPolicyVersions + 1 DescribeSnapshots + 1
  // DescribeKey + 2 ListResourceShareAssociations (the sharing report: resources, targets).
  EXPECT_EQ(cloud.total_calls(), 12);
  EXPECT_EQ(cloud.calls("ListAliasesByKeyId"), 0)
      << "a CMK's Creator is the owner UID: no alias lookup";
  EXPECT_EQ(cloud.write_calls(), 0);
}

// ---- whether each resource is actually shared (reported, never planned from)

cloud::ResourceShareAssociation association(const std::string& share, const std::string& type,
                                            const std::string& entity, const std::string& status,
                                            const std::string& message = "",
                                            bool external = false) {
  cloud::ResourceShareAssociation a;
  a.external = external;
  a.resource_share_id = share;
  a.association_type = type;
  a.entity_id = entity;
  a.entity_type = type == "Resource" ? "Snapshot" : "Account";
  a.association_status = status;
  a.association_status_message = message;
  return a;
}

const reconcilers::ResourceStatus& resource_of(const Plan& p, const std::string& share,
                                               const std::string& target_label) {
  for (const auto& g : p.grants)
    if (g.share == share && reconcilers::label(g.target) == target_label && !g.resources.empty())
      return g.resources.front();
  throw std::runtime_error("no grant " + share + " -> " + target_label);
}

TEST(PlanTest, SharingOfEachResourceIsReportedApartFromTheGrantState) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_image(kRegion, "m-1", {"s-2"});
  seed_snapshot_role(cloud, {kA}, {"k1"});
  // The image is shared with A by ECS image permission; B has nothing.
  cloud.add_image_share("m-1", {kA});
  // s-1 is in resource share rs-1: A associated, B being removed, the directory still associating
  // (an invitation), a folder of another directory failed. Share rs-2 holds it too, with a folder
  // above another configured folder, and a failed association for A that must not hide rs-1's.
  cloud.add_association(association("rs-1", "Resource", "s-1", "Associated"));
  cloud.add_association(association("rs-1", "Target", kA, "Associated"));
  cloud.add_association(association("rs-1", "Target", kB, "Disassociating"));
  cloud.add_association(association("rs-1", "Target", "rd-abc123", "Associating",
                                    "The invitation has not been accepted by the target account.",
                                    true));
  cloud.add_association(association("rs-1", "Target", "fd-child", "Failed", "LimitExceeded"));
  cloud.add_association(association("rs-2", "Resource", "s-1", "Associated"));
  cloud.add_association(association("rs-2", "Target", "fd-mid", "Associated"));
  cloud.add_association(association("rs-2", "Target", kA, "Failed"));
  cloud.add_association(association("rs-2", "Resource", "vsw-1", "Associated"));  // not ours
  cloud.reset_counters();
  auto snaps = make_share("snaps", {"s-1"}, {}, {kA, kB});
  snaps.to.resource_directory = "rd-abc123";
  snaps.to.folders = {"rd-yyy888/r-top/fd-mid/fd-leaf", "rd-zzz999/r-root/fd-child"};
  auto imgs = make_share("imgs", {}, {"m-1"}, {kA, kB});
  const Plan p = plan_one(make_desired({imgs, snaps}), cloud);

  using reconcilers::Sharing;
  const auto& a = resource_of(p, "snaps", acct(kA));
  EXPECT_EQ(a.sharing, Sharing::kShared);
  EXPECT_EQ(a.sharing_detail, "resource share rs-1");
  const auto& b = resource_of(p, "snaps", acct(kB));
  EXPECT_EQ(b.sharing, Sharing::kNotShared);
  EXPECT_EQ(b.sharing_detail, "resource share rs-1: being removed");
  const auto& rd = resource_of(p, "snaps", "rd:rd-abc123");
  EXPECT_EQ(rd.sharing, Sharing::kPending);
  EXPECT_EQ(rd.sharing_detail,
            "resource share rs-1 (external target): associating (The invitation has not been "
            "accepted by the target account.)");
  const auto& fd = resource_of(p, "snaps", "folder:rd-zzz999/r-root/fd-child");
  EXPECT_EQ(fd.sharing, Sharing::kNotShared);
  EXPECT_EQ(fd.sharing_detail, "resource share rs-1: association Failed (LimitExceeded)");
  const auto& leaf = resource_of(p, "snaps", "folder:rd-yyy888/r-top/fd-mid/fd-leaf");
  EXPECT_EQ(leaf.sharing, Sharing::kShared);
  EXPECT_EQ(leaf.sharing_detail, "resource share rs-2 via fd-mid");
  EXPECT_EQ(resource_of(p, "imgs", acct(kA)).sharing, Sharing::kShared);
  EXPECT_EQ(resource_of(p, "imgs", acct(kA)).sharing_detail, "image share permission");
  EXPECT_EQ(resource_of(p, "imgs", acct(kB)).sharing, Sharing::kNotShared);
  // The grant state is the RAM/KMS side's alone: A's snapshot grant is Ready whatever the share
  // says.
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Ready: ");
  EXPECT_EQ(cloud.calls("DescribeImageSharePermission"), 1);
  EXPECT_EQ(cloud.calls("ListResourceShareAssociations"), 2);
  const std::string json = reconcilers::render_json(p);
  EXPECT_NE(json.find(R"("sharing": "pending")"), std::string::npos) << json;
}

TEST(PlanTest, AFailedSharingListingLeavesSharingUnknownAndTheObservationWhole) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA}, {"k1"});
  cloud.add_image(kRegion, "m-1", {"s-2"});
  cloud.add_image_share("m-1", {kA});
  cloud.inject({.action = "ListResourceShareAssociations",
                .code = "NoPermission",
                .cls = cloud::ErrorClass::kTerminal});
  cloud.inject({.action = "DescribeImageSharePermission",
                .code = "NoPermission",
                .cls = cloud::ErrorClass::kTerminal});
  const Plan p = plan_one(
      make_desired({make_share("snaps", {"s-1"}, {}, {kA}), make_share("imgs", {}, {"m-1"}, {kA})}),
      cloud);
  EXPECT_EQ(resource_of(p, "snaps", acct(kA)).sharing, reconcilers::Sharing::kUnknown);
  // Neither the image's permissions nor Resource Sharing could be read: unknown, not "not shared".
  EXPECT_EQ(resource_of(p, "imgs", acct(kA)).sharing, reconcilers::Sharing::kUnknown);
  ASSERT_EQ(p.accounts.size(), 1U);
  EXPECT_FALSE(p.accounts[0].partial);
  EXPECT_TRUE(p.accounts[0].observation_errors.empty());
  ASSERT_EQ(p.accounts[0].sharing_errors.size(), 2U);
  EXPECT_NE(p.accounts[0].sharing_errors[0].find("NoPermission"), std::string::npos);
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Ready: ");
  EXPECT_FALSE(p.has_errors());
}

// ---- drift, table-driven: each case mutates a converged account

struct DriftCase {
  const char* name;
  std::function<void(FakeCloud&)> seed;  // replaces the converged seed
  std::function<void(config::DesiredState&)> edit;
  Changes expected;
};

class DriftTest : public ::testing::TestWithParam<DriftCase> {};

TEST_P(DriftTest, PlansExactlyTheCorrection) {
  const DriftCase& c = GetParam();
  FakeCloud cloud(kUid);
  seed_world(cloud);
  c.seed(cloud);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  if (c.edit) c.edit(d);
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), c.expected) << render_text(p);
}

const char* kPrettyReordered = R"({
  "Version": "1",
  "Statement": [
    {
      "Principal": { "service": "1111222233334444@ECS.aliyuncs.com" },
      "Effect": "Allow",
      "Action": "sts:AssumeRole"
    }
  ]
})";

INSTANTIATE_TEST_SUITE_P(
    Kinds, DriftTest,
    ::testing::Values(
        DriftCase{"PrincipalAddedInConsole",
                  [](FakeCloud& c) {
                    seed_snapshot_role(c, {kA, kX}, {"k1"});
                  },
                  nullptr,
                  {"6 UpdateRole SnapRole -" + acct(kX)}},
        DriftCase{"PrincipalRemovedInConsole",
                  [](FakeCloud& c) { seed_snapshot_role(c, {}, {"k1"}); },
                  nullptr,
                  {"1 UpdateRole SnapRole +" + acct(kA)}},
        DriftCase{"RdConditionChanged",
                  [](FakeCloud& c) {
                    c.add_role(kSnapRole, trust_for({}, {"rd-old111"}), managed_tag());
                    c.add_policy(kPol1, kms_for({"k1"}), managed_tag());
                    c.attach(kSnapRole, "Custom", kPol1);
                  },
                  [](config::DesiredState& d) {
                    d.shares[0].to.accounts.clear();
                    d.shares[0].to.resource_directory = "rd-new222";
                  },
                  {"1 UpdateRole SnapRole +rd:rd-new222", "6 UpdateRole SnapRole -rd:rd-old111"}},
        DriftCase{"FolderChanged",
                  [](FakeCloud& c) {
                    c.add_role(kSnapRole, trust_for({kA}, {}, {"rd-abc123/r-ab12cd/fd-0000000001"}),
                               managed_tag());
                    c.add_policy(kPol1, kms_for({"k1"}), managed_tag());
                    c.attach(kSnapRole, "Custom", kPol1);
                  },
                  [](config::DesiredState& d) {
                    d.shares[0].to.folders = {"rd-abc123/r-ab12cd/fd-0000000002"};
                  },
                  {"1 UpdateRole SnapRole +folder:rd-abc123/r-ab12cd/fd-0000000002",
                   "6 UpdateRole SnapRole -folder:rd-abc123/r-ab12cd/fd-0000000001"}},
        DriftCase{"StatementReorderedStringVersusListKeyCaseWhitespace",
                  [](FakeCloud& c) {
                    c.add_role(kSnapRole, kPrettyReordered, managed_tag());
                    c.add_policy(kPol1, kms_for({"k1"}), managed_tag());
                    c.attach(kSnapRole, "Custom", kPol1);
                  },
                  nullptr,
                  {}},
        DriftCase{"PolicyReserialisedButEquivalent",
                  [](FakeCloud& c) {
                    c.add_role(kSnapRole, trust_for({kA}), managed_tag());
                    std::string arn = key_arn("k1");
                    c.add_policy(kPol1,
                                 "{\n \"Version\":\"1\",\"Statement\":[{\"Resource\":\"" + arn +
                                     "\",\"Effect\":\"Allow\",\"Action\":[\"kms:GenerateDataKey\","
                                     "\"kms:Decrypt\",\"kms:Encrypt\",\"kms:DescribeKey\","
                                     "\"kms:UntagResource\",\"kms:TagResource\"]},{\"Action\":"
                                     "\"kms:List*\",\"Effect\":\"Allow\",\"Resource\":\"acs:kms:"
                                     "cn-hangzhou:1234567890123456:key\"}]}",
                                 managed_tag());
                    c.attach(kSnapRole, "Custom", kPol1);
                  },
                  nullptr,
                  {}},
        DriftCase{"PolicyDetached",
                  [](FakeCloud& c) {
                    c.add_role(kSnapRole, trust_for({kA}), managed_tag());
                    c.add_policy(kPol1, kms_for({"k1"}), managed_tag());
                  },
                  nullptr,
                  {"3 AttachPolicyToRole " + kPol1 + " +key +key/k1"}},
        DriftCase{"KeyMissingFromPolicy",
                  [](FakeCloud& c) {
                    seed_snapshot_role(c, {kA}, {});
                    c.add_policy(kPol1, kms_for({}), managed_tag());
                    c.attach(kSnapRole, "Custom", kPol1);
                  },
                  nullptr,
                  {"2 CreatePolicyVersion " + kPol1 + " +key/k1"}},
        DriftCase{"ExtraKeyInPolicy",
                  [](FakeCloud& c) {
                    seed_snapshot_role(c, {kA}, {"k1", "k2"});
                  },
                  nullptr,
                  {"6 CreatePolicyVersion " + kPol1 + " -key/k2"}},
        DriftCase{"RoleDeleted",
                  [](FakeCloud& c) { c.add_policy(kPol1, kms_for({"k1"}), managed_tag()); },
                  nullptr,
                  {"1 CreateRole SnapRole +" + acct(kA),
                   "2 CreatePolicy " + kPol1 + " +key +key/k1", "3 AttachPolicyToRole " + kPol1}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- ownership

TEST(PlanTest, AdoptedRoleIsWidenedAdditivelyAndForeignPrincipalsReported) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kX}));  // created by a person: no managed-by tag
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"1 UpdateRole SnapRole +" + acct(kA),
                                      "2 CreatePolicy " + kPol1 + " +key +key/k1",
                                      "3 AttachPolicyToRole " + kPol1}));
  ASSERT_EQ(p.accounts[0].notes.size(), 1U);
  EXPECT_NE(p.accounts[0].notes[0].message.find("foreign principal kept"), std::string::npos);
  EXPECT_TRUE(p.blocked.empty());
  // The widened document keeps the foreign principal.
  auto tp = reconcilers::parse_trust_policy(p.accounts[0].changes[0].document);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->accounts, (std::vector<std::string>{kA, kX}));
}

TEST(PlanTest, AuthoritativeAdoptionRemovesForeignPrincipalsAfterAdding) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kX}));
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  d.accounts[0].adopt = config::AdoptMode::kAuthoritative;
  d.settings.max_revoke_fraction = 1.0;
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(
      describe_all(p),
      (Changes{"1 UpdateRole SnapRole +" + acct(kA), "2 CreatePolicy " + kPol1 + " +key +key/k1",
               "3 AttachPolicyToRole " + kPol1, "6 UpdateRole SnapRole -" + acct(kX)}));
  EXPECT_EQ(p.summary.revocations, 1);
}

TEST(PlanTest, AnotherInstancesRoleIsNeverNarrowed) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kX}), managed_tag("other-instance"));
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  d.accounts[0].adopt = config::AdoptMode::kAuthoritative;
  Plan p = plan_one(d, cloud);
  for (const auto& c : p.accounts[0].changes) EXPECT_TRUE(c.removed.empty()) << describe(c);
}

TEST(PlanTest, ProtectedPrincipalsAreNeverRemoved) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA, kX}, {"k1"});
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  d.accounts[0].protected_principals = {kX};
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_TRUE(p.blocked.empty());
  ASSERT_EQ(p.accounts[0].notes.size(), 1U);
  EXPECT_NE(p.accounts[0].notes[0].message.find("protected principal kept"), std::string::npos);
}

TEST(PlanTest, ForeignAttachmentsAreReportedNeverDetached) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA}, {"k1"});
  cloud.add_policy("someone-elses", kms_for({"k2"}));
  cloud.attach(kSnapRole, "Custom", "someone-elses");
  cloud.attach(kSnapRole, "System", "AliyunOSSReadOnlyAccess");
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(p.accounts[0].notes.size(), 2U);
}

// ---- guards

struct GuardCase {
  const char* name;
  std::vector<std::string> trusted;  // in the owned role
  std::function<void(config::DesiredState&)> edit;
  Changes expected;
  std::vector<std::string> blocked;
};

class GuardTest : public ::testing::TestWithParam<GuardCase> {};

TEST_P(GuardTest, BlocksAndShowsRevocations) {
  const GuardCase& c = GetParam();
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, c.trusted, {"k1"});
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  c.edit(d);
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), c.expected) << render_text(p);
  EXPECT_EQ(blocked_items(p), c.blocked);
  EXPECT_EQ(p.summary.blocked_revocations, static_cast<int>(c.blocked.size()));
  // Visible in every rendering.
  for (const auto& b : p.blocked) {
    EXPECT_NE(render_text(p).find(b.item_label()), std::string::npos);
    EXPECT_NE(render_json(p).find(reconcilers::to_string(b.guard)), std::string::npos);
    EXPECT_NE(render_markdown(p).find(reconcilers::to_string(b.guard)), std::string::npos);
  }
}

const std::string kY = "3333444455556666";
const std::string kZ = "4444555566667777";
const std::string kW = "5555666677778888";

INSTANTIATE_TEST_SUITE_P(
    Guards, GuardTest,
    ::testing::Values(
        GuardCase{"PruneDisabled",
                  {kA, kX},
                  [](config::DesiredState& d) { d.settings.prune = false; },
                  {},
                  {acct(kX) + " (prune disabled)"}},
        GuardCase{
            "MaxRevokeFraction",
            {kA, kX, kY, kZ, kW},
            [](config::DesiredState&) {},
            {},
            {"account:" + kY + " (max revoke fraction)", "account:" + kZ + " (max revoke fraction)",
             "account:" + kW + " (max revoke fraction)", acct(kX) + " (max revoke fraction)"}},
        GuardCase{"AllowMassRevoke",
                  {kA, kX, kY, kZ, kW},
                  [](config::DesiredState& d) { d.settings.allow_mass_revoke = true; },
                  {"6 UpdateRole SnapRole -account:" + kY + " -account:" + kZ + " -account:" + kW +
                   " -" + acct(kX)},
                  {}},
        GuardCase{"EmptyConfig",
                  {kA},
                  [](config::DesiredState& d) { d.shares.clear(); },
                  {},
                  {"key (empty config)", "key/k1 (empty config)", acct(kA) + " (empty config)"}},
        GuardCase{"MaxRevocationsPerCycle",
                  {kA, kX, kY},
                  [](config::DesiredState& d) { d.settings.max_revocations_per_cycle = 1; },
                  {"6 UpdateRole SnapRole -account:" + kY},
                  {acct(kX) + " (max revocations per cycle)"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(PlanTest, PartialObservationPlansNoRevocation) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kA, kX}, {"k1"});
  cloud.inject({.action = "DescribeKey", .code = "InternalError"});
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  // The key we could not describe stays granted too: nothing is revoked from a partial view.
  EXPECT_EQ(blocked_items(p),
            (std::vector<std::string>{"key (partial observation)", "key/k1 (partial observation)",
                                      acct(kX) + " (partial observation)"}));
  EXPECT_TRUE(p.accounts[0].partial);
  EXPECT_TRUE(p.has_errors());
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Failed: could not observe KMS key k1");
}

TEST(PlanTest, IdentityMismatchStopsTheAccount) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.set_caller_uid(kX);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_NE(p.accounts[0].error.find("belong to UID 9999888877776666"), std::string::npos);
  EXPECT_EQ(state_of(p, "snaps", acct(kA)).rfind("Failed: ", 0), 0U);
  EXPECT_EQ(cloud.total_calls(), 1) << "nothing else is read from the wrong account";
}

// ---- resources that get a grant state instead of a change

struct ResourceCase {
  const char* name;
  std::function<void(FakeCloud&)> seed;
  std::string snapshot;
  std::string state;
};

class ResourceTest : public ::testing::TestWithParam<ResourceCase> {};

TEST_P(ResourceTest, GetsAStateInsteadOfAChange) {
  const ResourceCase& c = GetParam();
  FakeCloud cloud(kUid);
  seed_world(cloud);
  c.seed(cloud);
  auto d = make_desired({make_share("snaps", {c.snapshot}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), c.state);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ResourceTest,
    ::testing::Values(
        ResourceCase{"ServiceKey",
                     [](FakeCloud& c) {
                       c.add_key(kRegion, "ks", "Enabled", "Ecs", {"alias/acs/ecs"});
                       c.add_snapshot(kRegion, "s-3", "ks");
                     },
                     "s-3",
                     "Blocked: encrypted with a KMS service key (alias/acs/ecs), which cannot be "
                     "shared: copy it with a customer master key"},
        ResourceCase{"Missing", [](FakeCloud&) {}, "s-404", "Blocked: snapshot s-404 not found"},
        ResourceCase{"DisabledKey",
                     [](FakeCloud& c) {
                       c.add_key(kRegion, "k3", "Disabled");
                       c.add_snapshot(kRegion, "s-3", "k3");
                     },
                     "s-3", "Blocked: KMS key k3 is Disabled"},
        ResourceCase{"PendingDeletionKey",
                     [](FakeCloud& c) {
                       c.add_key(kRegion, "k3", "PendingDeletion");
                       c.add_snapshot(kRegion, "s-3", "k3");
                     },
                     "s-3", "Blocked: KMS key k3 is PendingDeletion"},
        ResourceCase{"MissingKey", [](FakeCloud& c) { c.add_snapshot(kRegion, "s-3", "k-gone"); },
                     "s-3", "Blocked: KMS key k-gone not found"},
        ResourceCase{"Unencrypted", [](FakeCloud& c) { c.add_snapshot(kRegion, "s-3", ""); }, "s-3",
                     "Ready: unencrypted: no RAM grant needed"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(PlanTest, DisabledKeyAlreadyGrantedIsKeptNotRevoked) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_key(kRegion, "k3", "Disabled");
  cloud.add_snapshot(kRegion, "s-3", "k3");
  seed_snapshot_role(cloud, {kA}, {"k3"});
  auto d = make_desired({make_share("snaps", {"s-3"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_TRUE(p.blocked.empty());
}

TEST(PlanTest, ServiceKeyWithOptInAttachesFullAccess) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_key(kRegion, "ks", "Enabled", "Ecs", {"alias/acs/ecs"});
  cloud.add_snapshot(kRegion, "s-3", "ks");
  auto d = make_desired({make_share("snaps", {"s-3"}, {}, {kA})});
  d.settings.allow_service_key_shares = true;
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"1 CreateRole SnapRole +" + acct(kA),
                                      "3 AttachPolicyToRole AliyunKMSFullAccess"}));
  EXPECT_EQ(p.accounts[0].changes[1].policy_type, "System");
}

// ---- KMS policy limits

TEST(PlanTest, PolicyIsSplitAtTheSizeLimit) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  std::vector<std::string> snaps;
  for (int i = 0; i < 120; ++i) {
    std::string k = "key-hzz62f1cb66fa42qo3a1z" + std::to_string(1000 + i);
    cloud.add_key(kRegion, k);
    cloud.add_snapshot(kRegion, "s-" + std::to_string(1000 + i), k);
    snaps.push_back("s-" + std::to_string(1000 + i));
  }
  auto d = make_desired({make_share("many", snaps, {}, {kA})});
  Plan p = plan_one(d, cloud);
  int creates = 0;
  std::size_t keys = 0;
  for (const auto& c : p.accounts[0].changes) {
    if (c.action != reconcilers::Action::kCreatePolicy) continue;
    ++creates;
    EXPECT_LE(c.document.size(), 6144U);
    auto content = reconcilers::parse_kms_policy(c.document);
    ASSERT_TRUE(content);
    keys += content->key_arns.size();
  }
  EXPECT_EQ(creates, 2);
  EXPECT_EQ(keys, 120U);
  EXPECT_EQ(p.summary.add, 5);  // role + 2 policies + 2 attachments
}

TEST(PlanTest, KeysAreNotMovedOutOfOurPolicyIntoOneThatCannotBeWritten) {
  // 120 keys need two policies. Ours, kms-2, holds them all; the kms-1 name is held by a policy
  // that is not ours. Rebalancing kms-2 would drop the keys meant for kms-1, which will never be
  // written: that would revoke them with no guard seeing it (found in review).
  FakeCloud cloud(kUid);
  seed_world(cloud);
  std::vector<std::string> snaps, keys;
  for (int i = 0; i < 120; ++i) {
    std::string k = "key-hzz62f1cb66fa42qo3a1z" + std::to_string(1000 + i);
    cloud.add_key(kRegion, k);
    cloud.add_snapshot(kRegion, "s-" + std::to_string(1000 + i), k);
    snaps.push_back("s-" + std::to_string(1000 + i));
    keys.push_back(k);
  }
  const std::string pol2 = "sharekeeper-ecs-share-snapshot-kms-2";
  cloud.add_role(kSnapRole, trust_for({kA}), managed_tag());
  cloud.add_policy(pol2, kms_for(keys), managed_tag());
  cloud.attach(kSnapRole, "Custom", pol2);
  cloud.add_policy(kPol1, kms_for({}));  // someone else's, under our name
  cloud.attach(kSnapRole, "Custom", kPol1);
  Plan p = plan_one(make_desired({make_share("many", snaps, {}, {kA})}), cloud);
  for (const auto& c : p.accounts.at(0).changes) {
    EXPECT_TRUE(c.removed.empty()) << describe(c);
    EXPECT_NE(c.policy_name, pol2) << describe(c);
  }
  bool noted = false;
  for (const auto& n : p.accounts.at(0).notes)
    noted = noted || n.message.find(pol2 + " not rebalanced") != std::string::npos;
  EXPECT_TRUE(noted) << render_text(p);
}

TEST(PlanTest, FiveVersionsRotateTheOldestNonDefaultNeverTheDefault) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kA}), managed_tag());
  cloud.add_policy(kPol1, kms_for({}), managed_tag());  // v1, default
  for (int i = 0; i < 4; ++i) cloud.add_policy_version(kPol1, kms_for({"k2"}), false);  // v2..v5
  cloud.attach(kSnapRole, "Custom", kPol1);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"2 DeletePolicyVersion " + kPol1 + " v2",
                                      "2 CreatePolicyVersion " + kPol1 + " +key/k1"}));
}

TEST(PlanTest, RotationPicksTheOldestWhenTheNewestIsDefault) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_role(kSnapRole, trust_for({kA}), managed_tag());
  cloud.add_policy(kPol1, kms_for({"k2"}), managed_tag());
  for (int i = 0; i < 4; ++i) cloud.add_policy_version(kPol1, kms_for({}), true);  // v5 default
  cloud.attach(kSnapRole, "Custom", kPol1);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"2 DeletePolicyVersion " + kPol1 + " v1",
                                      "2 CreatePolicyVersion " + kPol1 + " +key/k1"}));
}

// ---- sharing and targets

TEST(PlanTest, TwoSharesSharingAKeyGrantItOnceServingBoth) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  auto d = make_desired({make_share("a", {"s-1"}, {}, {kA}), make_share("b", {"s-1"}, {}, {kB})});
  Plan p = plan_one(d, cloud);
  EXPECT_EQ(describe_all(p), (Changes{"1 CreateRole SnapRole +" + acct(kA) + " +" + acct(kB),
                                      "2 CreatePolicy " + kPol1 + " +key +key/k1",
                                      "3 AttachPolicyToRole " + kPol1}));
  EXPECT_EQ(grant_labels(p.accounts[0].changes[1]),
            (std::vector<std::string>{"a -> " + acct(kA), "b -> " + acct(kB)}));
}

TEST(PlanTest, ImagesUseTheImageRoleAndTheirDiskSnapshotsKeys) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_image(kRegion, "m-1", {"s-2"});
  auto s = make_share("imgs", {}, {"m-1"}, {});
  s.to.resource_directory = "rd-abc123";
  s.to.folders = {"rd-abc123/r-ab12cd/fd-0123456789"};
  auto d = make_desired({s});
  Plan p = plan_one(d, cloud);
  const std::string pol = "sharekeeper-ecs-share-image-kms-1";
  EXPECT_EQ(
      describe_all(p),
      (Changes{"1 CreateRole ImageRole +folder:rd-abc123/r-ab12cd/fd-0123456789 +rd:rd-abc123",
               "2 CreatePolicy " + pol + " +key +key/k2", "3 AttachPolicyToRole " + pol}));
  EXPECT_EQ(p.grants.size(), 2U);
}

TEST(PlanTest, SelectorPicksTaggedResources) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_snapshot(kRegion, "s-9", "k2", {{"share", "golden"}});
  auto s = make_share("sel", {}, {}, {kA});
  s.selector_tags = {{"share", "golden"}};
  Plan p = plan_one(make_desired({s}), cloud);
  EXPECT_EQ(describe_all(p), (Changes{"1 CreateRole SnapRole +" + acct(kA),
                                      "2 CreatePolicy " + kPol1 + " +key +key/k2",
                                      "3 AttachPolicyToRole " + kPol1}));
  ASSERT_EQ(p.grants.size(), 1U);
  ASSERT_EQ(p.grants[0].resources.size(), 1U);
  EXPECT_EQ(p.grants[0].resources[0].resource_id, "s-9");
}

TEST(PlanTest, ObserveModeReportsDriftAndChangesNothing) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  seed_snapshot_role(cloud, {kX}, {});
  auto s = make_share("watch", {"s-1"}, {}, {kA});
  s.mode = config::ShareMode::kObserve;
  Plan p = plan_one(make_desired({s}), cloud);
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(state_of(p, "watch", acct(kA)),
            "Observed: observe mode: Pending: trust policy of "
            "AliyunECSShareEncryptSnapshotDefaultRole lacks " +
                acct(kA));
}

TEST(PlanTest, PlanIsDeterministic) {
  FakeCloud cloud(kUid);
  seed_world(cloud);
  cloud.add_image(kRegion, "m-1", {"s-2"});
  seed_snapshot_role(cloud, {kX, kB}, {"k2"});
  auto d = make_desired(
      {make_share("b", {"s-1", "s-2"}, {"m-1"}, {kB, kA}), make_share("a", {"s-1"}, {}, {kA})});
  d.settings.allow_mass_revoke = true;
  std::string first = render_json(plan_one(d, cloud));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(render_json(plan_one(d, cloud)), first);
}

TEST(PlanTest, KmsPolicyNamesCarryTheInstance) {
  EXPECT_EQ(reconcilers::kms_policy_name("team_a.prod", reconcilers::RoleKind::kImage, 2),
            "team-a-prod-ecs-share-image-kms-2");
}

}  // namespace
}  // namespace sharekeeper::testing
