// The KMS phase on its own: slotting of our policy names, and the changes of one role, from an
// Observation value built directly.
#include "reconcilers/kms_plan.hpp"

#include <gtest/gtest.h>

#include "reconcilers/desired_grants.hpp"
#include "tests/unit/reconcilers/support/observation.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Action;
using reconcilers::RoleKind;
using reconcilers::Stage;
using namespace reconcilers::planner;

const std::string kPol1 = reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 1);
const std::string kPol2 = reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 2);

// One role's KMS phase: the observation, what the config wants (keys, all serving one grant) and
// what the guards let go.
struct KmsWorld {
  AccountBuilder obs;
  config::Account account = make_account();
  config::Share share = make_share("snaps", {"s-1"}, {}, {"1111222233334444"});
  config::GrantTarget target{config::TargetType::kAccount, "1111222233334444"};
  GrantIndex grants;
  RoleFacts facts;
  RoleWant want;
  std::set<std::string> revoke;

  KmsWorld() { obs.role(RoleKind::kSnapshot, trust_for({"1111222233334444"})); }

  void want_keys(const std::vector<std::string>& keys) {
    const int g = grants.add(share, target);
    for (const auto& k : keys) {
      want.resources[arn_of(kUid, k)].push_back(g);
      want.resources[listing_of(kUid)].push_back(g);
    }
  }
  KmsRoleInputs inputs() {
    const auto& o = obs.get();
    facts = role_facts(o.snapshot_role, o, account, "sharekeeper");
    KmsRoleInputs in;
    in.account = "prod";
    in.instance = "sharekeeper";
    in.kind = RoleKind::kSnapshot;
    in.observed = &o.snapshot_role;
    in.policies = &o.policies;
    in.facts = &facts;
    in.want = &want;
    in.revoke = &revoke;
    in.grants = &grants;
    return in;
  }
  KmsPlan plan() { return plan_kms_policies(inputs()); }
};

std::vector<std::string> described(const KmsPlan& k) {
  std::vector<std::string> out;
  for (const auto& c : k.changes) out.push_back(describe(c));
  return out;
}

// ---- slots

struct SlotCase {
  const char* name;
  void (*seed)(AccountBuilder&);
  Slot expected;
};

class SlotTest : public ::testing::TestWithParam<SlotCase> {};

TEST_P(SlotTest, WhoHoldsTheName) {
  KmsWorld w;
  GetParam().seed(w.obs);
  EXPECT_EQ(to_string(slot_of(kPol1, w.inputs())), to_string(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Table, SlotTest,
    ::testing::Values(
        SlotCase{"NobodysName", [](AccountBuilder&) {}, Slot::kFree},
        SlotCase{"OursAttached",
                 [](AccountBuilder& b) {
                   b.policy(kPol1, kms_of(kUid, {"k1"})).attach(RoleKind::kSnapshot, kPol1);
                 },
                 Slot::kOurs},
        SlotCase{"OursDetached", [](AccountBuilder& b) { b.policy(kPol1, kms_of(kUid, {"k1"})); },
                 Slot::kOursDetached},
        SlotCase{"SomeoneElsesAttached",
                 [](AccountBuilder& b) {
                   b.policy(kPol1, kms_of(kUid, {}), "").attach(RoleKind::kSnapshot, kPol1);
                 },
                 Slot::kForeignAttached},
        SlotCase{"AnotherInstancesAttached",
                 [](AccountBuilder& b) {
                   b.policy(kPol1, kms_of(kUid, {}), "other").attach(RoleKind::kSnapshot, kPol1);
                 },
                 Slot::kForeignAttached},
        SlotCase{"TagsUnread",
                 [](AccountBuilder& b) {
                   b.policy(kPol1, kms_of(kUid, {}));
                   // As observe() leaves it when ListTagResources failed.
                   b.get().policies[kPol1].tags_known = false;
                   b.get().policies[kPol1].managed_by.clear();
                 },
                 Slot::kUnknown}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// ---- changes

TEST(KmsPlanTest, AFreeNameIsCreatedAndAttachedServingTheGrants) {
  KmsWorld w;
  w.want_keys({"k1"});
  KmsPlan k = w.plan();
  EXPECT_EQ(described(k), (std::vector<std::string>{"2 CreatePolicy " + kPol1 + " +key +key/k1",
                                                    "3 AttachPolicyToRole " + kPol1}));
  for (const auto& c : k.changes)
    EXPECT_EQ(grant_labels(c), (std::vector<std::string>{"snaps -> account:1111222233334444"}));
  EXPECT_TRUE(k.notes.empty());
}

TEST(KmsPlanTest, AMissingKeyIsAWideningVersion) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {"k1"})).attach(RoleKind::kSnapshot, kPol1);
  w.want_keys({"k1", "k2"});
  EXPECT_EQ(described(w.plan()),
            (std::vector<std::string>{"2 CreatePolicyVersion " + kPol1 + " +key/k2"}));
}

TEST(KmsPlanTest, AnExtraKeyGoesOnlyWhenTheGuardsAllowIt) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {"k1", "k2"})).attach(RoleKind::kSnapshot, kPol1);
  w.want_keys({"k1"});
  // Not allowed (a guard kept it): the policy holds it still, nothing to write.
  EXPECT_EQ(described(w.plan()), std::vector<std::string>{});
  w.revoke = {arn_of(kUid, "k2")};
  KmsPlan k = w.plan();
  EXPECT_EQ(described(k),
            (std::vector<std::string>{"6 CreatePolicyVersion " + kPol1 + " -key/k2"}));
  EXPECT_EQ(k.changes.at(0).reason, "not in config: 1 key/resource(s)");
  EXPECT_TRUE(k.changes.at(0).is_revocation());
}

TEST(KmsPlanTest, FiveVersionsRotateTheOldestNonDefaultFirst) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {}), "sharekeeper", 4).attach(RoleKind::kSnapshot, kPol1);
  w.want_keys({"k1"});
  KmsPlan k = w.plan();
  EXPECT_EQ(described(k),
            (std::vector<std::string>{"2 DeletePolicyVersion " + kPol1 + " v1",
                                      "2 CreatePolicyVersion " + kPol1 + " +key/k1"}));
}

TEST(KmsPlanTest, AForeignPolicyUnderOurNameIsNotTouched) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {}), "").attach(RoleKind::kSnapshot, kPol1);
  w.want_keys({"k1"});
  KmsPlan k = w.plan();
  EXPECT_TRUE(k.changes.empty());
  ASSERT_EQ(k.notes.size(), 1U);
  EXPECT_EQ(k.notes[0], "policy " + kPol1 + " is attached to " +
                            reconcilers::role_name(RoleKind::kSnapshot) +
                            " but not managed by instance 'sharekeeper'; not touched");
}

TEST(KmsPlanTest, ADetachedPolicyOfOursIsReattached) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {"k1"}));
  w.want_keys({"k1"});
  EXPECT_EQ(described(w.plan()),
            (std::vector<std::string>{"3 AttachPolicyToRole " + kPol1 + " +key +key/k1"}));
}

TEST(KmsPlanTest, OurPolicyNoLongerNeededIsDetachedWithWhatLeavesEveryPolicy) {
  KmsWorld w;
  w.obs.policy(kPol1, kms_of(kUid, {"k1"})).attach(RoleKind::kSnapshot, kPol1);
  w.obs.policy(kPol2, kms_of(kUid, {"k9"})).attach(RoleKind::kSnapshot, kPol2);
  w.want_keys({"k1"});
  w.revoke = {arn_of(kUid, "k9")};
  KmsPlan k = w.plan();
  // The listing stays (kms-1 needs it); only k9 leaves every policy.
  EXPECT_EQ(described(k),
            (std::vector<std::string>{"6 DetachPolicyFromRole " + kPol2 + " -key/k9"}));
}

TEST(KmsPlanTest, ServiceKeySharesAttachFullAccess) {
  KmsWorld w;
  w.want.full_access_grants = {w.grants.add(w.share, w.target)};
  KmsPlan k = w.plan();
  EXPECT_EQ(described(k), (std::vector<std::string>{"3 AttachPolicyToRole AliyunKMSFullAccess"}));
  EXPECT_EQ(k.changes.at(0).policy_type, "System");
  // Attached already: nothing.
  w.obs.attach(RoleKind::kSnapshot, "AliyunKMSFullAccess", "System");
  EXPECT_TRUE(w.plan().changes.empty());
}

TEST(KmsPlanTest, OldestNonDefaultByDateThenVersionNumber) {
  std::vector<cloud::PolicyVersion> v = {{"v10", false, "", "2026-01-01T00:00:00Z"},
                                         {"v2", false, "", "2026-01-01T00:00:00Z"},
                                         {"v1", true, "", "2025-01-01T00:00:00Z"},
                                         {"v3", false, "", "2026-02-01T00:00:00Z"}};
  EXPECT_EQ(oldest_non_default(v), "v2");  // v2 < v10 numerically; v1 is the default
  EXPECT_EQ(oldest_non_default({{"v1", true, "", ""}}), "");
}

}  // namespace
}  // namespace sharekeeper::testing
