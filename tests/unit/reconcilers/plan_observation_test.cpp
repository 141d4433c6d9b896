// plan() over Observation values built directly (no FakeCloud, no observe()): the planner is a pure
// function of desired x observed. Includes the determinism test: the same config in another order
// (shares, targets, accounts) and the same observation built in another order plan identically.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"
#include "tests/unit/reconcilers/support/observation.hpp"
#include "tests/unit/reconcilers/support/scenario.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Plan;
using reconcilers::RoleKind;
using Changes = std::vector<std::string>;

constexpr const char* kA = "1111222233334444";
constexpr const char* kB = "2222333344445555";
constexpr const char* kX = "9999888877776666";
const std::string kPol1 = reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 1);

AccountBuilder world() {
  AccountBuilder b;
  b.key("k1").key("k2").snapshot("s-1", "k1").snapshot("s-2", "k2");
  return b;
}

TEST(PlanObservationTest, FreshAccount) {
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = reconcilers::plan(d, observation_of({world().build()}));
  EXPECT_EQ(describe_all(p), (Changes{"1 CreateRole SnapRole +account:" + std::string(kA),
                                      "2 CreatePolicy " + kPol1 + " +key +key/k1",
                                      "3 AttachPolicyToRole " + kPol1}));
  EXPECT_EQ(state_of(p, "snaps", std::string("account:") + kA),
            "Pending: role AliyunECSShareEncryptSnapshotDefaultRole does not exist");
  EXPECT_EQ(p.summary.add, 3);
}

TEST(PlanObservationTest, ConvergedAccount) {
  auto o = world();
  o.role(RoleKind::kSnapshot, trust_for({kA}))
      .policy(kPol1, kms_of(kUid, {"k1"}))
      .attach(RoleKind::kSnapshot, kPol1);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(state_of(p, "snaps", std::string("account:") + kA), "Ready: ");
  EXPECT_EQ(p.summary.grants_in_place, 3);  // one principal, the key and the listing
}

TEST(PlanObservationTest, AnUnreadableRoleIsLeftAlone) {
  auto o = world();
  o.role_unknown(RoleKind::kSnapshot);
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(state_of(p, "snaps", std::string("account:") + kA),
            "Failed: could not observe role AliyunECSShareEncryptSnapshotDefaultRole");
}

TEST(PlanObservationTest, AnAccountMissingFromTheObservationIsAnError) {
  auto d = make_desired({make_share("snaps", {"s-1"}, {}, {kA})});
  Plan p = reconcilers::plan(d, reconcilers::Observation{});
  ASSERT_EQ(p.accounts.size(), 1U);
  EXPECT_EQ(p.accounts[0].error, "account was not observed");
  EXPECT_EQ(state_of(p, "snaps", std::string("account:") + kA), "Failed: account was not observed");
  EXPECT_TRUE(p.has_errors());
}

TEST(PlanObservationTest, PartialObservationBlocksTheRevocationsOfThatAccountOnly) {
  auto prod = world();
  prod.role(RoleKind::kSnapshot, trust_for({kA, kX}))
      .policy(kPol1, kms_of(kUid, {"k1"}))
      .attach(RoleKind::kSnapshot, kPol1)
      .partial();
  const std::string dev_uid = "6543210987654321";
  AccountBuilder dev("dev", dev_uid);
  dev.key("k1").snapshot("s-1", "k1");
  dev.role(RoleKind::kSnapshot, trust_for({kA, kX}))
      .policy(kPol1, kms_of(dev_uid, {"k1"}))
      .attach(RoleKind::kSnapshot, kPol1);
  auto d =
      make_desired({make_share("a", {"s-1"}, {}, {kA}), make_share("b", {"s-1"}, {}, {kA}, "dev")},
                   {make_account("dev", dev_uid), make_account()});
  d.settings.max_revoke_fraction = 1.0;
  Plan p = reconcilers::plan(d, observation_of({prod.build(), dev.build()}));
  EXPECT_EQ(describe_all(p), (Changes{"6 UpdateRole SnapRole -account:" + std::string(kX)}));
  EXPECT_EQ(p.accounts.at(0).account, "dev");
  EXPECT_EQ(blocked_items(p),
            (std::vector<std::string>{"account:" + std::string(kX) + " (partial observation)"}));
}

// ---- determinism

// Three accounts with every kind of line: creations, widening and narrowing trust (accounts, an RD,
// folders), a blocked revocation, a KMS version that adds and one that rotates, images, an
// observe-mode share, a service key, notes.
struct Scenario {
  config::DesiredState desired;
  std::vector<reconcilers::AccountObservation> observed;
};

Scenario scenario() {
  Scenario s;
  const std::string dev_uid = "6543210987654321";
  const std::string ops_uid = "5432109876543210";
  auto prod = world();
  prod.key("ks", "Enabled", true).snapshot("s-svc", "ks").image("m-1", {"s-2", "s-1"});
  prod.role(RoleKind::kSnapshot, trust_for({kA, kX}, {"rd-old111"}))
      .policy(kPol1, kms_of(kUid, {"k1"}))
      .attach(RoleKind::kSnapshot, kPol1)
      .attach(RoleKind::kSnapshot, "AliyunOSSReadOnlyAccess", "System");
  prod.role(RoleKind::kImage, trust_for({kX}), "");  // a person's role, adopted additively
  AccountBuilder dev("dev", dev_uid);
  dev.key("k1").key("k3", "Disabled").snapshot("s-1", "k1").snapshot("s-3", "k3");
  const std::string dev_pol = kPol1;
  dev.role(RoleKind::kSnapshot, trust_for({kB}))
      .policy(dev_pol, kms_of(dev_uid, {}), "sharekeeper", 4)
      .attach(RoleKind::kSnapshot, dev_pol);
  dev.get().disk_role.presence = reconcilers::Presence::kAbsent;
  AccountBuilder ops("ops", ops_uid);
  ops.key("k1").snapshot("s-1", "k1").image("m-9", {"s-1"});

  auto golden = make_share("golden", {"s-1", "s-2"}, {"m-1"}, {kA, kB});
  golden.to.resource_directory = "rd-abc123";
  golden.to.folders = {"rd-abc123/r-ab12cd/fd-0000000001", "rd-abc123/r-ab12cd/fd-0000000002"};
  auto legacy = make_share("legacy", {"s-svc"}, {}, {kB});
  // Serves the same principal and key as golden: changes list grants of both.
  auto mirror = make_share("mirror", {"s-1"}, {}, {kB, kA});
  auto watch = make_share("watch", {"s-1"}, {}, {"3333444455556666"});
  watch.mode = config::ShareMode::kObserve;
  auto base = make_share("base", {"s-1", "s-3"}, {}, {kA, kB, "3333444455556666"}, "dev");
  auto imgs = make_share("imgs", {}, {"m-9"}, {kB, kA}, "ops");
  imgs.to.folders = {"rd-abc123/r-ab12cd"};
  s.desired =
      make_desired({base, golden, imgs, legacy, mirror, watch},
                   {make_account("dev", dev_uid), make_account("ops", ops_uid), make_account()});
  // dev protects rd-old111, which only prod's trust holds: prod's revocation candidates stay.
  s.desired.accounts[0].protected_principals = {"rd-old111"};
  s.desired.settings.max_revocations_per_cycle = 1;
  s.desired.settings.max_revoke_fraction = 1.0;
  s.observed = {prod.build(), dev.build(), ops.build()};
  return s;
}

template <class T>
void shuffle(std::vector<T>& v, std::mt19937& rng) {
  std::shuffle(v.begin(), v.end(), rng);
}

TEST(PlanDeterminismTest, TheOrderOfTheConfigAndTheObservationDoesNotMatter) {
  const Scenario base = scenario();
  const std::string expected =
      reconcilers::render_json(reconcilers::plan(base.desired, observation_of(base.observed)));
  // The scenario has something of every kind, so a difference cannot hide in an empty list.
  const Plan p = reconcilers::plan(base.desired, observation_of(base.observed));
  ASSERT_EQ(p.accounts.size(), 3U);
  ASSERT_FALSE(p.blocked.empty());
  ASSERT_GE(p.accounts[2].changes.size(), 4U) << reconcilers::render_text(p);
  ASSERT_FALSE(p.accounts[2].notes.empty());
  for (unsigned seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    Scenario s = scenario();
    shuffle(s.desired.accounts, rng);
    shuffle(s.desired.shares, rng);
    for (auto& share : s.desired.shares) {
      shuffle(share.to.accounts, rng);
      shuffle(share.to.folders, rng);
    }
    // The observation map is keyed by name: build it from the accounts in another order too, and
    // the policies' attachment lists as the cloud might list them.
    shuffle(s.observed, rng);
    for (auto& o : s.observed) {
      shuffle(o.snapshot_role.attached, rng);
      shuffle(o.image_role.attached, rng);
    }
    EXPECT_EQ(reconcilers::render_json(reconcilers::plan(s.desired, observation_of(s.observed))),
              expected)
        << "seed " << seed;
  }
}

}  // namespace
}  // namespace sharekeeper::testing
