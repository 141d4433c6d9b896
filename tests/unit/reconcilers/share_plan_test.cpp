// The share phases of the planner (settings.manageShares, share_plan.hpp) over Observation values
// built directly: fresh and converged accounts, adoption (additive, authoritative, another
// instance's), protected principals, the guards counting unshares, batching by 10 (image share
// permissions) and by 5 (Resource Sharing), the 50-account cap, shrinking the config, kept
// resources, a failed listing, observe mode, and the grant states that follow.
#include <gtest/gtest.h>

#include <algorithm>

#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"
#include "reconcilers/share_plan.hpp"
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
const std::string kSnapShare = "sharekeeper-snaps-snapshot";
const std::string kImgShareRd = "sharekeeper-imgs-image";

std::string acct(const std::string& uid) { return "account:" + uid; }

// A UID from a number (16 digits).
std::string uid(int n) {
  std::string s = std::to_string(n);
  return "3000" + std::string(12 - s.size(), '0') + s;
}

config::DesiredState managed(std::vector<config::Share> shares,
                             std::vector<config::Account> accounts = {make_account()}) {
  auto d = make_desired(std::move(shares), std::move(accounts));
  d.settings.manage_shares = true;
  return d;
}

// Only the share changes (stages 4 and 5) of a plan.
Changes share_changes(const Plan& p) {
  Changes out;
  for (const auto& a : p.accounts)
    for (const auto& c : a.changes)
      if (c.stage == reconcilers::Stage::kShares || c.stage == reconcilers::Stage::kUnshares)
        out.push_back(describe(c));
  return out;
}

// An unencrypted image (no RAM side) and one shared already.
AccountBuilder image_world() {
  AccountBuilder b;
  b.snapshot("s-img", "").image("m-1", {"s-img"});
  return b;
}

TEST(SharePlanTest, AFreshImageIsTaggedThenSharedInStage4) {
  auto o = image_world();
  o.image_shared("m-1", {});
  Plan p = reconcilers::plan(managed({make_share("imgs", {}, {"m-1"}, {kA})}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"4 TagResources m-1", "4 ModifyImageSharePermission m-1 +" + acct(kA)}));
  EXPECT_EQ(state_of(p, "imgs", acct(kA)),
            "Pending: m-1 is not shared yet: not in the image's share permissions nor a resource "
            "share");
  // The rendering names the image and the target.
  EXPECT_NE(reconcilers::render_text(p).find("+ share image m-1 -> account:" + std::string(kA) +
                                             "  [stage 4: ModifyImageSharePermission]"),
            std::string::npos);
}

TEST(SharePlanTest, ConvergedSharesAreReadyWithNoChange) {
  auto o = image_world();
  o.key("k1").snapshot("s-1", "k1");
  o.role(RoleKind::kSnapshot, trust_for({kA}))
      .policy(reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 1),
              kms_of(kUid, {"k1"}))
      .attach(RoleKind::kSnapshot,
              reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 1));
  o.image_shared("m-1", {kA}, /*owned=*/true);
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
  Plan p = reconcilers::plan(
      managed({make_share("imgs", {}, {"m-1"}, {kA}), make_share("snaps", {"s-1"}, {}, {kA})}),
      observation_of({o.build()}));
  EXPECT_EQ(describe_all(p), Changes{});
  EXPECT_EQ(state_of(p, "imgs", acct(kA)), "Ready: unencrypted: no RAM grant needed");
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Ready: ");
  EXPECT_FALSE(p.has_changes());
}

TEST(SharePlanTest, WithoutManageSharesNothingIsSharedAndReadyMeansRamOnly) {
  auto o = image_world();
  o.image_shared("m-1", {});
  auto d = managed({make_share("imgs", {}, {"m-1"}, {kA})});
  d.settings.manage_shares = false;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_EQ(state_of(p, "imgs", acct(kA)), "Ready: unencrypted: no RAM grant needed");
}

// Ownership of an image's share list (docs/contract.md §2 applied to shares).
struct AdoptionCase {
  const char* name;
  std::vector<std::string> current;
  bool owned;
  config::AdoptMode adopt;
  std::vector<std::string> protected_principals;
  Changes changes;
  std::vector<std::string> foreign;  // reported on the resource
};

class ImageAdoptionTest : public ::testing::TestWithParam<AdoptionCase> {};

TEST_P(ImageAdoptionTest, Plan) {
  const AdoptionCase& c = GetParam();
  auto o = image_world();
  o.image_shared("m-1", c.current, c.owned);
  auto account = make_account();
  account.adopt = c.adopt;
  account.protected_principals = c.protected_principals;
  auto d = managed({make_share("imgs", {}, {"m-1"}, {kA})}, {account});
  d.settings.max_revoke_fraction = 1.0;  // the guards have their own table below
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), c.changes);
  ASSERT_EQ(p.grants.size(), 1U);
  ASSERT_EQ(p.grants[0].resources.size(), 1U);
  EXPECT_EQ(p.grants[0].resources[0].foreign_accounts, c.foreign);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ImageAdoptionTest,
    ::testing::Values(
        // Someone else's accounts on an untagged image: kept and reported; never tagged.
        AdoptionCase{"additive",
                     {kX},
                     false,
                     config::AdoptMode::kAdditive,
                     {},
                     {"4 ModifyImageSharePermission m-1 +" + acct(kA)},
                     {kX}},
        AdoptionCase{"authoritative",
                     {kX},
                     false,
                     config::AdoptMode::kAuthoritative,
                     {},
                     {"4 ModifyImageSharePermission m-1 +" + acct(kA),
                      "5 ModifyImageSharePermission m-1 -" + acct(kX)},
                     {}},
        // Tagged by us: the list is ours.
        AdoptionCase{"owned",
                     {kA, kX},
                     true,
                     config::AdoptMode::kAdditive,
                     {},
                     {"5 ModifyImageSharePermission m-1 -" + acct(kX)},
                     {}},
        AdoptionCase{"protected", {kA, kX}, true, config::AdoptMode::kAdditive, {kX}, {}, {kX}},
        // An empty list: we tag it when we first share it.
        AdoptionCase{"empty",
                     {},
                     false,
                     config::AdoptMode::kAdditive,
                     {},
                     {"4 TagResources m-1", "4 ModifyImageSharePermission m-1 +" + acct(kA)},
                     {}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(SharePlanTest, AnotherInstancesImageIsNeitherTaggedNorNarrowed) {
  auto o = image_world();
  o.get().regions[kRegion].images["m-1"].image.tags = {{"sharekeeper:managed-by", "other"}};
  o.image_shared("m-1", {kX});
  auto account = make_account();
  account.adopt = config::AdoptMode::kAuthoritative;
  Plan p = reconcilers::plan(managed({make_share("imgs", {}, {"m-1"}, {kA})}, {account}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), (Changes{"4 ModifyImageSharePermission m-1 +" + acct(kA)}));
}

TEST(SharePlanTest, AnImageThatLeftTheConfigIsUnsharedWhenOurs) {
  auto o = image_world();
  o.image_shared("m-1", {kA});
  o.image_shared("m-old", {kA, kB}, /*owned=*/true);
  auto d = managed({make_share("imgs", {}, {"m-1"}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"5 ModifyImageSharePermission m-old -" + acct(kA) + " -" + acct(kB)}));
  EXPECT_EQ(p.summary.revocations, 2);
}

// The guards count unshares like every other revocation.
struct GuardCase {
  const char* name;
  bool prune;
  bool partial;
  int per_cycle;
  double fraction;
  Changes changes;
  std::vector<std::string> blocked;
};

class ShareGuardsTest : public ::testing::TestWithParam<GuardCase> {};

TEST_P(ShareGuardsTest, Plan) {
  const GuardCase& c = GetParam();
  auto o = image_world();
  o.image_shared("m-1", {kA, kB, kX}, /*owned=*/true);
  if (c.partial) o.partial();
  auto d = managed({make_share("imgs", {}, {"m-1"}, {kA})});
  d.settings.prune = c.prune;
  d.settings.max_revocations_per_cycle = c.per_cycle;
  d.settings.max_revoke_fraction = c.fraction;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), c.changes);
  EXPECT_EQ(blocked_items(p), c.blocked);
  for (const auto& b : p.blocked) EXPECT_EQ(b.object_label(), "image m-1 share permission");
}

INSTANTIATE_TEST_SUITE_P(
    Table, ShareGuardsTest,
    ::testing::Values(
        GuardCase{"allowed",
                  true,
                  false,
                  50,
                  1.0,
                  {"5 ModifyImageSharePermission m-1 -" + acct(kB) + " -" + acct(kX)},
                  {}},
        GuardCase{"prune_disabled",
                  false,
                  false,
                  50,
                  1.0,
                  {},
                  {acct(kB) + " (prune disabled)", acct(kX) + " (prune disabled)"}},
        GuardCase{"partial",
                  true,
                  true,
                  50,
                  1.0,
                  {},
                  {acct(kB) + " (partial observation)", acct(kX) + " (partial observation)"}},
        GuardCase{"per_cycle",
                  true,
                  false,
                  1,
                  1.0,
                  {"5 ModifyImageSharePermission m-1 -" + acct(kB)},
                  {acct(kX) + " (max revocations per cycle)"}},
        // 2 of 3 accounts in place is more than half.
        GuardCase{"fraction",
                  true,
                  false,
                  50,
                  0.5,
                  {},
                  {acct(kB) + " (max revoke fraction)", acct(kX) + " (max revoke fraction)"}}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(SharePlanTest, AnEmptyConfigUnsharesNothingWithoutAllowMassRevoke) {
  auto o = image_world();
  o.image_shared("m-old", {kA}, /*owned=*/true);
  Plan p = reconcilers::plan(managed({}), observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_EQ(blocked_items(p), (std::vector<std::string>{acct(kA) + " (empty config)"}));
}

TEST(SharePlanTest, ImageAccountsAreBatchedByTen) {
  auto o = image_world();
  o.image_shared("m-1", {}, /*owned=*/true);
  std::vector<std::string> to;
  for (int i = 0; i < 23; ++i) to.push_back(uid(i));
  Plan p = reconcilers::plan(managed({make_share("imgs", {}, {"m-1"}, to)}),
                             observation_of({o.build()}));
  std::vector<std::size_t> sizes;
  for (const auto& c : p.accounts[0].changes) {
    if (c.action != reconcilers::Action::kModifyImageShare) continue;
    sizes.push_back(c.added.principals.size());
    EXPECT_EQ(c.grants.size(), c.added.principals.size());  // each serves its own grants
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 3}));
}

TEST(SharePlanTest, MoreThanFiftyAccountsOnAnImageIsBlockedAndNothingPartialIsSent) {
  auto o = image_world();
  std::vector<std::string> current, to;
  for (int i = 0; i < 45; ++i) current.push_back(uid(i));
  for (int i = 0; i < 51; ++i) to.push_back(uid(i));
  o.image_shared("m-1", current, /*owned=*/true);
  Plan p = reconcilers::plan(managed({make_share("imgs", {}, {"m-1"}, to)}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_EQ(state_of(p, "imgs", acct(uid(50))),
            "Blocked: image m-1 would be shared with 51 accounts; an image can be shared with at "
            "most 50 (QuotaExceed.ShareImageUser): share it with fewer accounts or through a "
            "resource directory");
  // The accounts already shared stay Ready.
  EXPECT_EQ(state_of(p, "imgs", acct(uid(0))), "Ready: unencrypted: no RAM grant needed");
  // Exactly 50 fits.
  to.pop_back();
  p = reconcilers::plan(managed({make_share("imgs", {}, {"m-1"}, to)}),
                        observation_of({o.build()}));
  EXPECT_EQ(share_changes(p).size(), 1U);
}

TEST(SharePlanTest, ResourceSharingIsBatchedByFiveResourcesAndFiveTargets) {
  AccountBuilder o;
  std::vector<std::string> snaps, to;
  for (int i = 0; i < 7; ++i) {
    snaps.push_back("s-" + std::to_string(i));
    o.snapshot(snaps.back(), "");
  }
  for (int i = 0; i < 12; ++i) to.push_back(uid(i));
  Plan p =
      reconcilers::plan(managed({make_share("snaps", snaps, {}, to)}), observation_of({o.build()}));
  std::vector<std::pair<std::size_t, std::size_t>> sizes;
  for (const auto& c : p.accounts[0].changes) {
    EXPECT_EQ(c.resource_share_name, kSnapShare);
    EXPECT_LE(c.added.share_resources.size(), 5U);
    EXPECT_LE(c.added.principals.size(), 5U);
    sizes.emplace_back(c.added.share_resources.size(), c.added.principals.size());
  }
  EXPECT_EQ(share_changes(p)[0].substr(0, 21), "4 CreateResourceShare");
  // max(ceil(7/5), ceil(12/5)) = 3 calls: the create, then two associations.
  EXPECT_EQ(sizes, (std::vector<std::pair<std::size_t, std::size_t>>{{5, 5}, {2, 5}, {0, 2}}));
  EXPECT_TRUE(p.accounts[0].changes[0].allow_external_targets);
}

TEST(SharePlanTest, ImagesGoToDirectoriesAndFoldersThroughResourceSharingOnly) {
  auto o = image_world();
  o.image_shared("m-1", {});
  auto s = make_share("imgs", {}, {"m-1"}, {kA});
  s.to.resource_directory = "rd-abc123";
  s.to.folders = {"rd-abc123/r-root01/fd-folder0001"};
  Plan p = reconcilers::plan(managed({s}), observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"4 TagResources m-1",
                     "4 CreateResourceShare " + kImgShareRd +
                         " +folder:rd-abc123/r-root01/fd-folder0001 +rd:rd-abc123 +m-1",
                     "4 ModifyImageSharePermission m-1 +" + acct(kA)}));
  // The resource share names the folder by its own id, and has no account target.
  const auto& create = p.accounts[0].changes[1];
  EXPECT_FALSE(create.allow_external_targets);
}

TEST(SharePlanTest, ShrinkingUnsharesOnlyWhatLeftOurResourceShares) {
  AccountBuilder o;
  o.snapshot("s-1", "").snapshot("s-2", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}, {"s-2", "Associated"}},
                  {{kA, "Associated"}, {kB, "Associated"}});
  o.managed_share("sharekeeper-gone-snapshot", "rs-2", {{"s-9", "Associated"}},
                  {{kX, "Associated"}});
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"5 DisassociateResourceShare sharekeeper-gone-snapshot -" + acct(kX) + " -s-9",
                     "5 DisassociateResourceShare " + kSnapShare + " -" + acct(kB) + " -s-2"}));
  for (const auto& b : p.blocked) ADD_FAILURE() << b.item_label();
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Ready: unencrypted: no RAM grant needed");
}

// Found by the reliability suite (share-renamed): an entry renamed gets a new resource share of
// ours; the old one must keep its pairs until the new one has them Associated, else the target
// loses the snapshot while the new association is Associating.
TEST(SharePlanTest, ARenamedEntryKeepsTheOldShareUntilTheNewOneIsAssociated) {
  const std::string old_share = "sharekeeper-old-snapshot";
  const std::string new_share = "sharekeeper-snaps-snapshot";
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  {  // The new share does not exist yet: created, the old one untouched.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"4 CreateResourceShare " + new_share + " +" + acct(kA) + " +s-1"}));
  }
  {  // The new share is still Associating: nothing is let go yet.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    o.managed_share(new_share, "rs-2", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p), Changes{});
  }
  {  // Associated there: the old share is emptied.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    o.managed_share(new_share, "rs-2", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"5 DisassociateResourceShare " + old_share + " -" + acct(kA) + " -s-1"}));
  }
}

// Reliability seed 6: the old share reached an account through the directory; the config now
// shares the snapshot with the account directly through another share of ours. Disassociating
// the directory before that pair is Associated cut the account off the snapshot.
TEST(SharePlanTest, ADirectoryTargetIsKeptUntilAnotherShareHasTheAccountsBelowIt) {
  const std::string old_share = "sharekeeper-old-snapshot";
  const std::string new_share = "sharekeeper-snaps-snapshot";
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  {  // The account's pair is still Associating: the directory stays in the old share.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associated"}}, {{"rd-abc123", "Associated"}});
    o.managed_share(new_share, "rs-2", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p), Changes{});
  }
  {  // Associated there: the old share lets the directory and the snapshot go.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associated"}}, {{"rd-abc123", "Associated"}});
    o.managed_share(new_share, "rs-2", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"5 DisassociateResourceShare " + old_share + " -rd:rd-abc123 -s-1"}));
  }
}

// Seed 121 of the first full reliability run: two old shares of ours held the same pair, the entry
// moved to a new share created in the same pass, and each old share let the pair go because the
// other one still held it: the account lost the snapshot until the new pair was Associated.
TEST(SharePlanTest, TwoOldSharesOfThePairKeepItUntilTheNewShareHasIt) {
  const std::string old1 = "sharekeeper-old1-snapshot", old2 = "sharekeeper-old2-snapshot";
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  {
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old1, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    o.managed_share(old2, "rs-2", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"4 CreateResourceShare " + kSnapShare + " +" + acct(kA) + " +s-1"}));
  }
  {  // The new share has it Associated: both old ones let it go.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old1, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    o.managed_share(old2, "rs-2", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    o.managed_share(kSnapShare, "rs-3", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"5 DisassociateResourceShare " + old1 + " -" + acct(kA) + " -s-1",
                       "5 DisassociateResourceShare " + old2 + " -" + acct(kA) + " -s-1"}));
  }
}

// Seed 826 of the reliability suite (under CPU load): the old share's pair was still Associating
// when observed, so it was not "in effect" and was disassociated at once; by then the cloud had it
// Associated, and the account lost the snapshot until the new share's pair was Associated.
TEST(SharePlanTest, AnOldSharesAssociatingPairStaysUntilTheNewShareHasItAssociated) {
  const std::string old_share = "sharekeeper-old-snapshot";
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  {  // Both Associating: the old share keeps the pair.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    o.managed_share(kSnapShare, "rs-2", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p), Changes{});
  }
  {  // The new share has it Associated: the old one lets it go, even while still Associating.
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    o.managed_share(kSnapShare, "rs-2", {{"s-1", "Associated"}}, {{kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"5 DisassociateResourceShare " + old_share + " -" + acct(kA) + " -s-1"}));
  }
  {  // No other share of ours wants the pair: an Associating pair leaving the config goes at once.
    auto none = managed({make_share("other", {"s-2"}, {}, {kA})});
    none.settings.max_revoke_fraction = 1.0;
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.snapshot("s-2", "");
    o.managed_share(old_share, "rs-1", {{"s-1", "Associating"}}, {{kA, "Associating"}});
    Plan p = reconcilers::plan(none, observation_of({o.build()}));
    const Changes c = share_changes(p);
    EXPECT_NE(std::find(c.begin(), c.end(),
                        "5 DisassociateResourceShare " + old_share + " -" + acct(kA) + " -s-1"),
              c.end())
        << ::testing::PrintToString(c);
  }
}

// Seed 554 of the first full reliability run: within one share of ours, a directory leaving the
// config was disassociated while the account the share now names directly was still Associating,
// and the account (a member of the directory) lost the snapshot meanwhile.
TEST(SharePlanTest, ADirectoryLeavingAShareStaysUntilItsAccountsPairIsAssociated) {
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  {
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}},
                    {{"rd-abc123", "Associated"}, {kA, "Associating"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p), Changes{});
  }
  {
    AccountBuilder o;
    o.snapshot("s-1", "");
    o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}},
                    {{"rd-abc123", "Associated"}, {kA, "Associated"}});
    Plan p = reconcilers::plan(d, observation_of({o.build()}));
    EXPECT_EQ(share_changes(p),
              (Changes{"5 DisassociateResourceShare " + kSnapShare + " -rd:rd-abc123"}));
  }
}

TEST(SharePlanTest, ProtectedTargetsStayInOurResourceShares) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}},
                  {{kA, "Associated"}, {"fd-keep00001", "Associated"}});
  auto account = make_account();
  account.protected_principals = {"rd-abc123/r-root01/fd-keep00001"};
  Plan p = reconcilers::plan(managed({make_share("snaps", {"s-1"}, {}, {kA})}, {account}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
}

TEST(SharePlanTest, AnUnresolvableResourceKeepsItsTargets) {
  // The snapshot's key is disabled: its share is neither extended nor narrowed.
  AccountBuilder o;
  o.key("k1", "Disabled").snapshot("s-1", "k1");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associated"}});
  Plan p = reconcilers::plan(managed({make_share("snaps", {"s-1"}, {}, {kA, kB})}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_EQ(state_of(p, "snaps", acct(kA)), "Blocked: KMS key k1 is Disabled");
}

TEST(SharePlanTest, AFailedListingChangesNoShareOfTheRegion) {
  auto o = image_world();
  o.snapshot("s-1", "");
  o.image_shared("m-old", {kA}, true);
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}, {"s-2", "Associated"}},
                  {{kA, "Associated"}});
  o.shares_unknown().partial();
  Plan p = reconcilers::plan(managed({make_share("snaps", {"s-1"}, {}, {kA, kB})}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_TRUE(p.blocked.empty());  // nothing is known to be ours: nothing to even consider
}

TEST(SharePlanTest, ObserveModeSharesAreNeverChanged) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{kX, "Associated"}});
  auto s = make_share("snaps", {"s-1"}, {}, {kA});
  s.mode = config::ShareMode::kObserve;
  Plan p = reconcilers::plan(managed({s}), observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_TRUE(p.blocked.empty());
}

TEST(SharePlanTest, AssociatingIsPendingAndCountsAsSettling) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{kA, "Associating"}});
  Plan p = reconcilers::plan(managed({make_share("snaps", {"s-1"}, {}, {kA})}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p), Changes{});
  EXPECT_EQ(state_of(p, "snaps", acct(kA)),
            "Pending: sharing in progress: resource share rs-1: associating");
  EXPECT_EQ(p.accounts[0].shares_settling, 1);
}

TEST(SharePlanTest, AFailedAssociationIsAssociatedAgain) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{kA, "Failed"}});
  Plan p = reconcilers::plan(managed({make_share("snaps", {"s-1"}, {}, {kA})}),
                             observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"4 AssociateResourceShare " + kSnapShare + " +" + acct(kA)}));
}

// The listing can hold several records of one entity (an old Disassociated one next to the current
// one) and is in no particular order: the first record of an entity decides, and what is neither
// wanted nor kept is unshared in the listing's order.
TEST(SharePlanTest, TheFirstRecordOfAnEntityDecidesAndStaleOnesGoInListingOrder) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {});
  auto& targets = o.region().shares.managed[kSnapShare].targets;
  auto target = [&](const std::string& id, const std::string& status) {
    cloud::ResourceShareAssociation a;
    a.resource_share_id = "rs-1";
    a.entity_id = id;
    a.association_type = "Target";
    a.association_status = status;
    targets.push_back(a);
  };
  target(kX, "Associated");      // stale, listed first
  target(kB, "Disassociating");  // wanted, still leaving: waits for a later pass
  target(kA, "Associated");      // wanted and in effect (its older record follows)
  target(kA, "Disassociated");
  target("rd-abc123", "Associated");  // stale, but kept while kB's own pair is not Associated
  config::Share s = make_share("snaps", {"s-1"}, {}, {kA, kB});
  config::DesiredState d = managed({s});
  d.settings.max_revoke_fraction = 1.0;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"5 DisassociateResourceShare " + kSnapShare + " -" + acct(kX)}));
  bool waiting_noted = false;
  for (const auto& n : p.accounts[0].notes)
    waiting_noted =
        waiting_noted ||
        n.message.find(std::string(kB) + " is still being disassociated") != std::string::npos;
  EXPECT_TRUE(waiting_noted);
  EXPECT_EQ(p.accounts[0].shares_settling, 1);  // the Disassociating record
}

TEST(SharePlanTest, AnExistingShareWithoutExternalTargetsIsUpdatedFirst) {
  AccountBuilder o;
  o.snapshot("s-1", "");
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}}, {{"rd-abc123", "Associated"}},
                  /*allow_external=*/false);
  auto s = make_share("snaps", {"s-1"}, {}, {kA});
  s.to.resource_directory = "rd-abc123";
  Plan p = reconcilers::plan(managed({s}), observation_of({o.build()}));
  EXPECT_EQ(share_changes(p),
            (Changes{"4 UpdateResourceShare " + kSnapShare,
                     "4 AssociateResourceShare " + kSnapShare + " +" + acct(kA)}));
}

TEST(SharePlanTest, UnsharesComeBeforeTheRevocationOfTrust) {
  // kB leaves the config: its resource share association goes in stage 5, its trust in stage 6.
  auto o = AccountBuilder();
  o.key("k1").snapshot("s-1", "k1");
  const std::string pol = reconcilers::kms_policy_name("sharekeeper", RoleKind::kSnapshot, 1);
  o.role(RoleKind::kSnapshot, trust_for({kA, kB})).policy(pol, kms_of(kUid, {"k1"}));
  o.attach(RoleKind::kSnapshot, pol);
  o.managed_share(kSnapShare, "rs-1", {{"s-1", "Associated"}},
                  {{kA, "Associated"}, {kB, "Associated"}});
  auto d = managed({make_share("snaps", {"s-1"}, {}, {kA})});
  d.settings.max_revoke_fraction = 1.0;
  Plan p = reconcilers::plan(d, observation_of({o.build()}));
  EXPECT_EQ(describe_all(p), (Changes{"5 DisassociateResourceShare " + kSnapShare + " -" + acct(kB),
                                      "6 UpdateRole SnapRole -" + acct(kB)}));
}

TEST(SharePlanTest, ResourceShareNamesAreBounded) {
  EXPECT_EQ(reconcilers::planner::resource_share_name("sharekeeper", "snaps", RoleKind::kSnapshot),
            "sharekeeper-snaps-snapshot");
  EXPECT_EQ(reconcilers::planner::resource_share_name("a b", "c/d", RoleKind::kImage),
            "a-b-c-d-image");
  const std::string long_share(80, 'x');
  const std::string n =
      reconcilers::planner::resource_share_name("sharekeeper", long_share, RoleKind::kImage);
  EXPECT_EQ(n.size(), 50U);
  EXPECT_NE(n, reconcilers::planner::resource_share_name("sharekeeper", long_share + "y",
                                                         RoleKind::kImage));
  EXPECT_EQ(reconcilers::planner::resource_share_target(
                {config::TargetType::kFolder, "rd-abc123/r-root01/fd-folder0001"}),
            "fd-folder0001");
}

}  // namespace
}  // namespace sharekeeper::testing
