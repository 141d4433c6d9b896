// The chain of links (reconcilers/chain.hpp) over observation values: a world where everything
// holds, then one broken world per link, each naming exactly that link; and what /status and the
// plan carry (GrantStatus::blocked_by, the chain of a grant that is not Ready).
#include "reconcilers/chain.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "reconcilers/observe_rd.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"
#include "tests/unit/reconcilers/support/observation.hpp"

namespace sharekeeper::testing {
namespace {

using reconcilers::Link;
using reconcilers::LinkState;
using reconcilers::RoleKind;

constexpr const char* kA = "1111222233334444";
constexpr const char* kImg = "m-bp1aaaaaaaaaaaaaaaaa";
constexpr const char* kSnap = "s-bp1bbbbbbbbbbbbbbbbb";
const std::string kPol = reconcilers::kms_policy_name("sharekeeper", RoleKind::kImage, 1);

// An encrypted image shared with A that A can use: every link holds.
AccountBuilder usable_world() {
  AccountBuilder b;
  b.key("k1").snapshot(kSnap, "k1").image(kImg, {kSnap});
  b.role(RoleKind::kImage, trust_for({kA}))
      .policy(kPol, kms_of(kUid, {"k1"}))
      .attach(RoleKind::kImage, kPol);
  b.get().disk_role.attachments_known = true;
  b.get().disk_role.attached.push_back({"AliyunECSDiskEncryptRolePolicy", "System", "", ""});
  b.region().shares.image_accounts[kImg] = {kA};
  return b;
}

reconcilers::Chain chain_of(const reconcilers::AccountObservation& o, const std::string& id = kImg,
                            const config::GrantTarget& t = {config::TargetType::kAccount, kA}) {
  return reconcilers::explain_chain(o, make_account(), "sharekeeper", kRegion, id, t);
}

TEST(Chain, EveryLinkHoldsInAUsableWorld) {
  auto c = chain_of(usable_world().build());
  ASSERT_EQ(c.links.size(), std::size(reconcilers::kAllLinks));
  for (const auto& l : c.links)
    EXPECT_EQ(l.state, LinkState::kHeld) << to_string(l.link) << ": " << l.observed;
  EXPECT_TRUE(c.usable());
  EXPECT_EQ(c.blocked_by(), nullptr);
}

struct Broken {
  const char* name;
  Link link;
  std::function<void(AccountBuilder&)> breaks;
  const char* observed;  // part of what the broken link says
};

TEST(Chain, EachBrokenWorldNamesExactlyItsLink) {
  const std::vector<Broken> table = {
      {"resource", Link::kResource,
       [](AccountBuilder& b) { b.region().images[kImg].presence = reconcilers::Presence::kAbsent; },
       "does not exist"},
      {"service key", Link::kEncryption,
       [](AccountBuilder& b) { b.key("k1", "Enabled", /*service=*/true); }, "service key"},
      {"disabled key", Link::kKey, [](AccountBuilder& b) { b.key("k1", "Disabled"); },
       "is Disabled"},
      {"no disk-encryption role", Link::kDiskEncryptRole,
       [](AccountBuilder& b) {
         b.get().disk_role = {};
         b.get().disk_role.presence = reconcilers::Presence::kAbsent;
       },
       "AliyunECSDiskEncryptDefaultRole does not exist"},
      {"disk-encryption role without its policy", Link::kDiskEncryptRole,
       [](AccountBuilder& b) { b.get().disk_role.attached.clear(); },
       "without System policy AliyunECSDiskEncryptRolePolicy"},
      {"no share role", Link::kShareRole,
       [](AccountBuilder& b) {
         b.get().image_role = {};
         b.get().image_role.presence = reconcilers::Presence::kAbsent;
       },
       "AliyunECSShareEncryptImageDefaultRole does not exist"},
      {"trust lacks the target", Link::kTrust,
       [](AccountBuilder& b) {
         b.get().image_role.role.trust_policy = trust_for({"5555666677778888"});
       },
       "does not admit account:1111222233334444"},
      {"no KMS grant", Link::kKmsPolicy,
       [](AccountBuilder& b) { b.get().image_role.attached.clear(); }, "allows the key actions"},
      {"not shared", Link::kShare,
       [](AccountBuilder& b) { b.region().shares.image_accounts[kImg].clear(); }, "not shared"},
  };
  for (const auto& row : table) {
    auto b = usable_world();
    row.breaks(b);
    auto c = chain_of(b.build());
    ASSERT_NE(c.blocked_by(), nullptr) << row.name;
    EXPECT_EQ(c.blocked_by()->link, row.link)
        << row.name << ": " << to_string(c.blocked_by()->link);
    EXPECT_EQ(c.blocked_by()->state, LinkState::kBroken) << row.name;
    EXPECT_NE(c.blocked_by()->observed.find(row.observed), std::string::npos)
        << row.name << ": " << c.blocked_by()->observed;
    EXPECT_FALSE(c.blocked_by()->remedy.empty()) << row.name;
    int broken = 0;
    for (const auto& l : c.links) broken += l.state == LinkState::kBroken ? 1 : 0;
    EXPECT_EQ(broken, 1) << row.name << ": exactly one link is broken";
  }
}

TEST(Chain, UnencryptedNeedsNoKeyRoleOrGrant) {
  AccountBuilder b;
  b.snapshot(kSnap, "");
  b.region().shares.resource_targets[kSnap][kA] = {"Associated", "", "rs-1", false};
  auto c = chain_of(b.build(), kSnap);
  EXPECT_TRUE(c.usable());
  for (Link l :
       {Link::kKey, Link::kDiskEncryptRole, Link::kShareRole, Link::kTrust, Link::kKmsPolicy})
    EXPECT_EQ(c.links[static_cast<std::size_t>(l)].state, LinkState::kNotNeeded);
}

TEST(Chain, FolderTargetsAreAdmittedByAFolderAboveOrTheirDirectory) {
  auto b = usable_world();
  const config::GrantTarget deep{config::TargetType::kFolder,
                                 "rd-abc123/r-ab12cd/fd-abcdefghij/fd-klmnopqrst"};
  b.get().image_role.role.trust_policy = trust_for({}, {}, {"rd-abc123/r-ab12cd/fd-abcdefghij"});
  b.region().shares.resource_targets[kImg]["fd-abcdefghij"] = {"Associated", "", "rs-1", false};
  auto c = chain_of(b.build(), kImg, deep);
  EXPECT_TRUE(c.usable()) << (c.blocked_by() ? c.blocked_by()->observed : "");
  b.get().image_role.role.trust_policy = trust_for({}, {"rd-abc123"});
  EXPECT_TRUE(chain_of(b.build(), kImg, deep).usable());
  b.get().image_role.role.trust_policy = trust_for({}, {"rd-zzz999"});
  EXPECT_EQ(chain_of(b.build(), kImg, deep).blocked_by()->link, Link::kTrust);
}

// An account reached only through its directory or folder: unknown while the membership is not
// read; held or broken once it is (observe_rd.hpp), for the trust and for the share.
std::shared_ptr<const reconcilers::Directories> membership(bool known,
                                                           const std::string& folder_of_a) {
  reconcilers::Directories d;
  auto& m = d.by_id["rd-abc123"];
  m.directory_id = "rd-abc123";
  m.known = known;
  m.why_unknown = known ? "" : "ListAccounts failed";
  if (known && !folder_of_a.empty()) m.folder_of[kA] = folder_of_a;
  if (known) m.folder_of["5555666677778888"] = "rd-abc123/r-ab12cd";
  return std::make_shared<const reconcilers::Directories>(std::move(d));
}

TEST(Chain, AnAccountInAFolderIsHeldOrBrokenOnceTheMembershipIsRead) {
  auto b = usable_world();
  b.get().image_role.role.trust_policy = trust_for({}, {}, {"rd-abc123/r-ab12cd/fd-abcdefghij"});
  b.region().shares.image_accounts[kImg].clear();
  b.region().shares.resource_targets[kImg]["fd-abcdefghij"] = {"Associated", "", "rs-1", false};
  auto at = [&](std::shared_ptr<const reconcilers::Directories> d) {
    auto o = b.build();
    o.directories = std::move(d);
    return chain_of(o);
  };
  // Not read: unknown (explain exits 1), as before.
  auto unread = at(nullptr);
  ASSERT_NE(unread.blocked_by(), nullptr);
  EXPECT_EQ(unread.blocked_by()->link, Link::kTrust);
  EXPECT_EQ(unread.blocked_by()->state, LinkState::kUnknown);
  auto failed = at(membership(false, ""));
  ASSERT_NE(failed.blocked_by(), nullptr);
  EXPECT_EQ(failed.blocked_by()->state, LinkState::kUnknown);
  EXPECT_NE(failed.blocked_by()->observed.find("ListAccounts failed"), std::string::npos)
      << failed.blocked_by()->observed;
  // In the folder (one level below it): every link holds, the share through the folder.
  auto inside = at(membership(true, "rd-abc123/r-ab12cd/fd-abcdefghij/fd-klmnopqrst"));
  EXPECT_TRUE(inside.usable()) << (inside.blocked_by() ? inside.blocked_by()->observed : "");
  EXPECT_NE(inside.links[static_cast<std::size_t>(Link::kShare)].observed.find("fd-abcdefghij"),
            std::string::npos);
  // In another folder of the directory: the trust is broken, not unknown.
  auto elsewhere = at(membership(true, "rd-abc123/r-ab12cd/fd-0123456789"));
  ASSERT_NE(elsewhere.blocked_by(), nullptr);
  EXPECT_EQ(elsewhere.blocked_by()->link, Link::kTrust);
  EXPECT_EQ(elsewhere.blocked_by()->state, LinkState::kBroken);
  EXPECT_TRUE(elsewhere.broken());
  // Not a member at all: broken too; and with the trust naming the account, the share link is
  // broken (the resource share reaches the folder, not the account).
  auto outside = at(membership(true, ""));
  ASSERT_NE(outside.blocked_by(), nullptr);
  EXPECT_EQ(outside.blocked_by()->state, LinkState::kBroken);
  b.get().image_role.role.trust_policy = trust_for({kA});
  auto share = at(membership(true, "rd-abc123/r-ab12cd/fd-0123456789"));
  ASSERT_NE(share.blocked_by(), nullptr);
  EXPECT_EQ(share.blocked_by()->link, Link::kShare);
  EXPECT_EQ(share.blocked_by()->state, LinkState::kBroken);
  // The whole directory trusted: any member is admitted.
  b.get().image_role.role.trust_policy = trust_for({}, {"rd-abc123"});
  b.region().shares.resource_targets[kImg]["rd-abc123"] = {"Associated", "", "rs-2", false};
  EXPECT_TRUE(at(membership(true, "rd-abc123/r-ab12cd/fd-0123456789")).usable());
}

TEST(Chain, AnInvitationNotAcceptedIsTheShareLink) {
  auto b = usable_world();
  b.region().shares.image_accounts[kImg].clear();
  b.region().shares.resource_targets[kImg][kA] = {"Associating", "invitation pending", "rs-9",
                                                  true};
  auto c = chain_of(b.build());
  ASSERT_NE(c.blocked_by(), nullptr);
  EXPECT_EQ(c.blocked_by()->link, Link::kShare);
  EXPECT_NE(c.blocked_by()->remedy.find("accept"), std::string::npos) << c.blocked_by()->remedy;
}

TEST(Chain, AFailedReadIsUnknownNotBroken) {
  auto b = usable_world();
  b.role_unknown(RoleKind::kImage);
  auto c = chain_of(b.build());
  ASSERT_NE(c.blocked_by(), nullptr);
  EXPECT_EQ(c.blocked_by()->link, Link::kShareRole);
  EXPECT_EQ(c.blocked_by()->state, LinkState::kUnknown);
  EXPECT_FALSE(c.broken());
}

// The plan carries the same verdict: blocked_by per grant, the chain of grants not Ready.
TEST(Chain, PlanGrantsCarryBlockedByAndTheirChain) {
  auto b = usable_world();
  b.key("k1", "Disabled");
  auto d = make_desired({make_share("golden", {}, {kImg}, {kA})});
  auto p = reconcilers::plan(d, observation_of({b.build()}));
  ASSERT_EQ(p.grants.size(), 1U);
  EXPECT_NE(p.grants[0].state, reconcilers::GrantState::kReady);
  EXPECT_EQ(p.grants[0].blocked_by, "key");
  const std::string json = reconcilers::render_json(p);
  EXPECT_NE(json.find("\"blocked_by\": \"key\""), std::string::npos);
  EXPECT_NE(json.find("\"chain\""), std::string::npos);
  EXPECT_NE(reconcilers::render_text(p).find("[blocked by: key]"), std::string::npos);

  auto ok = reconcilers::plan(d, observation_of({usable_world().build()}));
  EXPECT_EQ(ok.grants[0].state, reconcilers::GrantState::kReady);
  EXPECT_EQ(ok.grants[0].blocked_by, "");
  EXPECT_EQ(reconcilers::render_json(ok).find("\"chain\""), std::string::npos);
}

}  // namespace
}  // namespace sharekeeper::testing
