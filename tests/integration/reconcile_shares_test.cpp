// settings.manageShares end to end: the reconcilers converge the shares themselves against the
// in-process emulator, through the real AlibabaClient (signing, paging, retries). After `apply`
// the emulator's access evaluator says every intended target can use every resource and an
// outsider cannot; a second plan has nothing to do and makes exactly the minimum number of calls
// (docs/reconcilers.md); an out-of-band RemoveAccount is drift the next pass corrects; a shrunk
// config unshares what left it and keeps what is not ours (another person's resource share, the
// foreign account of an adopted image). Plus the invitation of an external target.
//
// Time never passes by sleeping: the apply's verification waits move the emulator's clock (the
// associations are asynchronous, 200 ms).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cloud/alibaba_client.hpp"
#include "emulated_time.hpp"
#include "emulator/emulator.hpp"
#include "emulator_client.hpp"
#include "in_process_emulator.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper {
namespace {

using nlohmann::json;

constexpr const char* kUid = "1234567890123456";
constexpr const char* kA = "1111222233334444";    // in folder fd-0123456789
constexpr const char* kB = "5555666677778888";    // in the root folder
constexpr const char* kC = "7777666655554444";    // in folder fd-klmnopqrst (below fd-0123456789)
constexpr const char* kExt = "4444333322221111";  // outside the resource directory
constexpr const char* kOutsider = "9999888877776666";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kKey = "key-hzz6cmk0000000000001";
constexpr const char* kImage = "m-bp1aaaaaaaaaaaaaaaaa";
constexpr const char* kImageSnap = "s-bp1ccccccccccccccccc";
constexpr const char* kSnap = "s-bp1bbbbbbbbbbbbbbbbb";
constexpr const char* kAdopted = "m-bp1eeeeeeeeeeeeeeeee";  // shared with the outsider already
constexpr const char* kAdoptedSnap = "s-bp1fffffffffffffffff";
constexpr const char* kFolderPath = "rd-abc123/r-ab12cd/fd-0123456789/fd-klmnopqrst";

json seed() {
  json account = {
      {"uid", kUid},
      {"name", "prod"},
      {"accessKeys", json::array({{{"id", "LTAI5tShareTestKey0001"},
                                   {"secret", "ShareTestSecret0123456789abcdef"}}})},
      {"regions",
       {{kRegion,
         {{"kmsKeys", json::array({{{"keyId", kKey},
                                    {"creator", kUid},
                                    {"state", "Enabled"},
                                    {"aliases", json::array({"alias/share"})}}})},
          {"snapshots",
           json::array({{{"snapshotId", kSnap}, {"encrypted", true}, {"kmsKeyId", kKey}},
                        {{"snapshotId", kImageSnap}, {"encrypted", true}, {"kmsKeyId", kKey}},
                        {{"snapshotId", kAdoptedSnap}, {"encrypted", false}}})},
          {"images", json::array({{{"imageId", kImage}, {"snapshotIds", json::array({kImageSnap})}},
                                  {{"imageId", kAdopted},
                                   {"snapshotIds", json::array({kAdoptedSnap})},
                                   {"sharedWith", json::array({kOutsider})}}})}}}}}};
  account["roles"] = json::parse(R"([{"name": "AliyunECSDiskEncryptDefaultRole",
    "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["ecs.aliyuncs.com"]}}]},
    "policies": [{"name": "AliyunECSDiskEncryptRolePolicy", "type": "System"}]}])");
  json accounts = json::array({account});
  for (const char* uid : {kA, kB, kC, kExt, kOutsider})
    accounts.push_back(
        {{"uid", uid}, {"name", std::string("c") + uid}, {"accessKeys", json::array()}});
  return {
      {"accounts", accounts},
      {"resourceDirectory",
       {{"id", "rd-abc123"},
        {"rootFolderId", "r-ab12cd"},
        {"folders", json::array({{{"id", "fd-0123456789"}, {"parentId", "r-ab12cd"}},
                                 {{"id", "fd-klmnopqrst"}, {"parentId", "fd-0123456789"}}})},
        {"accounts",
         {{kUid, "r-ab12cd"}, {kA, "fd-0123456789"}, {kB, "r-ab12cd"}, {kC, "fd-klmnopqrst"}}}}},
      // A person's own resource share: never ours, never modified.
      {"resourceShares",
       json::array({{{"resourceShareId", "rs-legacy01"},
                     {"owner", kUid},
                     {"region", kRegion},
                     {"name", "legacy-snapshots"},
                     {"resources", json::array({{{"type", "Snapshot"}, {"id", kSnap}}})},
                     {"targets", json::array({kB})}}})}};
}

class ReconcileSharesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emu_ = testing::start_emulator(seed());
    client_ = testing::emulator_client(emu_->url(), "LTAI5tShareTestKey0001",
                                       "ShareTestSecret0123456789abcdef");
    config::Account a;
    a.name = "prod";
    a.uid = kUid;
    desired_.accounts = {a};
    config::Share golden;
    golden.name = "golden";
    golden.account = "prod";
    golden.region = kRegion;
    golden.images = {kImage};
    golden.snapshots = {kSnap};
    golden.to.accounts = {kA, kB};
    config::Share folder = golden;
    folder.name = "golden-folder";
    folder.snapshots = {};
    folder.to.accounts = {};
    folder.to.folders = {kFolderPath};
    config::Share adopted = golden;
    adopted.name = "adopted";
    adopted.images = {kAdopted};
    adopted.snapshots = {};
    adopted.to.accounts = {kA};
    desired_.shares = {adopted, golden, folder};
    desired_.revision = "shares";
    ASSERT_TRUE(desired_.settings.manage_shares) << "the default";
  }
  void TearDown() override { emu_->stop(); }

  reconcilers::ClientFor client_for() {
    return [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  }
  reconcilers::ApplyOptions options() {
    reconcilers::ApplyOptions o;
    o.clock = std::make_shared<testing::EmulatorTime>(emu_->server().clock(),
                                                      testing::EmulatorTime::Sleep::kMovesEmulator);
    return o;
  }
  reconcilers::Plan plan() {
    return reconcilers::plan(desired_, reconcilers::observe(desired_, client_for()));
  }
  reconcilers::ApplyResult converge() {
    return reconcilers::apply(desired_, plan(), client_for(), options());
  }
  bool usable(const char* uid, const char* resource) {
    auto v = emu_->model().access(uid, resource, emu_->server().clock().now());
    return v.value("usable", false);
  }
  std::string why(const char* uid, const char* resource) {
    return std::string(uid) + " " + resource + ": " +
           emu_->model().access(uid, resource, emu_->server().clock().now()).dump();
  }
  static std::vector<std::string> share_actions(const reconcilers::Plan& p) {
    std::vector<std::string> out;
    for (const auto& a : p.accounts)
      for (const auto& c : a.changes) out.push_back(reconcilers::to_string(c.action));
    return out;
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::unique_ptr<cloud::AlibabaClient> client_;
  config::DesiredState desired_;
};

TEST_F(ReconcileSharesTest, ApplySharesEveryTargetThenTheDriftAndTheShrinkAreConverged) {
  auto first = converge();
  ASSERT_TRUE(first.converged()) << reconcilers::render_apply_text(first);
  for (const auto& g : reconcilers::grants_after_apply(first))
    EXPECT_EQ(g.state, reconcilers::GrantState::kReady)
        << g.share << " -> " << g.target.id << ": " << g.reason;
  // Every intended target can use every resource; an outsider cannot.
  for (const char* uid : {kA, kB})
    for (const char* res : {kImage, kSnap}) EXPECT_TRUE(usable(uid, res)) << why(uid, res);
  EXPECT_TRUE(usable(kC, kImage)) << why(kC, kImage);  // through the folder share
  EXPECT_TRUE(usable(kA, kAdopted)) << why(kA, kAdopted);
  EXPECT_FALSE(usable(kC, kSnap)) << why(kC, kSnap);
  EXPECT_FALSE(usable(kOutsider, kImage)) << why(kOutsider, kImage);
  EXPECT_FALSE(usable(kOutsider, kSnap)) << why(kOutsider, kSnap);
  // The adopted image keeps the account nobody configured, and says so.
  auto adopted = client_->describe_image_share_permission(kRegion, kAdopted);
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ(std::set<std::string>(adopted->begin(), adopted->end()),
            (std::set<std::string>{kA, kOutsider}));

  // A second plan has nothing to do (plan --detailed-exitcode exits 0), with the minimum of calls
  // of docs/reconcilers.md's formula: 1 STS + 3 GetRole + 1 ListTagResources(role) +
  // 2 ListPoliciesForRole + 1 ListTagResources(policy) + 2 ListPolicyVersions, and in the region
  // 1 DescribeImages (I=2 named images: one page of the account's own images) + ⌈S=3/100⌉
  // DescribeSnapshots + M=2 DescribeImageSharePermission + 2 ListResourceShareAssociations + 2
  // (DescribeImages and ListResourceShares by our tag), and K=1 DescribeKey; and, since a grant
  // names a folder, the directory's membership once (GetResourceDirectory + one ListAccounts page:
  // docs/reconcilers.md "Calls per plan").
  emu_->server().journal().clear();
  auto second = plan();
  EXPECT_FALSE(second.has_changes()) << reconcilers::render_text(second);
  EXPECT_FALSE(second.has_errors()) << reconcilers::render_text(second);
  EXPECT_EQ(emu_->server().journal().entries().size(),
            1U + 3 + 1 + 2 + 1 + 2 + (1 + 1 + 2 + 2 + 2) + 1 + 2);
  bool foreign_reported = false;
  for (const auto& g : second.grants)
    for (const auto& r : g.resources)
      if (r.resource_id == kAdopted)
        foreign_reported = r.foreign_accounts == std::vector<std::string>{kOutsider};
  EXPECT_TRUE(foreign_reported) << reconcilers::render_json(second);

  // Out of band, a person removes B from the image: drift the next pass corrects.
  ASSERT_TRUE(client_->modify_image_share_permission(kRegion, kImage, {}, {kB}).ok());
  EXPECT_FALSE(usable(kB, kImage));
  auto drift = plan();
  EXPECT_EQ(share_actions(drift), std::vector<std::string>{"ModifyImageSharePermission"})
      << reconcilers::render_text(drift);
  ASSERT_FALSE(drift.accounts[0].changes.empty());
  EXPECT_EQ(drift.accounts[0].changes[0].reason.rfind("drifted", 0), 0U);
  auto fixed = reconcilers::apply(desired_, drift, client_for(), options());
  EXPECT_TRUE(fixed.converged()) << reconcilers::render_apply_text(fixed);
  EXPECT_TRUE(usable(kB, kImage)) << why(kB, kImage);

  // B leaves the config: unshared from our image list and our resource share, then its trust goes;
  // the person's resource share with B and the adopted image's outsider stay.
  desired_.shares[1].to.accounts = {kA};
  desired_.settings.max_revoke_fraction = 1.0;
  auto shrink = plan();
  std::vector<std::string> stages;
  for (const auto& c : shrink.accounts[0].changes)
    stages.push_back(std::to_string(static_cast<int>(c.stage)) + " " +
                     reconcilers::to_string(c.action));
  EXPECT_EQ(stages,
            (std::vector<std::string>{"5 ModifyImageSharePermission", "5 DisassociateResourceShare",
                                      "6 UpdateRole", "6 UpdateRole"}))
      << reconcilers::render_text(shrink);
  auto shrunk = reconcilers::apply(desired_, shrink, client_for(), options());
  EXPECT_TRUE(shrunk.converged()) << reconcilers::render_apply_text(shrunk);
  EXPECT_FALSE(usable(kB, kImage)) << why(kB, kImage);
  EXPECT_TRUE(usable(kA, kImage)) << why(kA, kImage);
  EXPECT_TRUE(usable(kA, kSnap)) << why(kA, kSnap);
  EXPECT_TRUE(usable(kC, kImage)) << why(kC, kImage);
  auto legacy = client_->list_resource_share_associations(kRegion, "Target", {"rs-legacy01"});
  ASSERT_TRUE(legacy.ok());
  ASSERT_EQ(legacy->size(), 1U);
  EXPECT_EQ((*legacy)[0].entity_id, kB);
  EXPECT_EQ((*legacy)[0].association_status, "Associated");
  adopted = client_->describe_image_share_permission(kRegion, kAdopted);
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ(std::set<std::string>(adopted->begin(), adopted->end()),
            (std::set<std::string>{kA, kOutsider}));
  auto settled = plan();
  EXPECT_FALSE(settled.has_changes()) << reconcilers::render_text(settled);
}

// Verification after share writes reads back only the region's Resource Sharing listings (it
// settles asynchronously): ListResourceShares by our tag and both association listings per round.
// What it concludes is what a real observation plans.
TEST_F(ReconcileSharesTest, VerificationReadsBackOnlyResourceSharing) {
  const auto observed = reconcilers::observe(desired_, client_for());
  auto r = reconcilers::apply(desired_, observed, reconcilers::plan(desired_, observed),
                              client_for(), options());
  ASSERT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_GT(r.writes(), 0);
  EXPECT_EQ(r.verify_calls, 3 * r.verify_rounds);
  for (const auto& g : reconcilers::grants_after_apply(r))
    EXPECT_EQ(g.state, reconcilers::GrantState::kReady)
        << g.share << " -> " << g.target.id << ": " << g.reason;
  const auto real = plan();
  EXPECT_FALSE(real.has_changes()) << reconcilers::render_text(real);
  const auto after = reconcilers::grants_after_apply(r);
  ASSERT_EQ(after.size(), real.grants.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].state, real.grants[i].state) << after[i].share;
    EXPECT_EQ(after[i].reason, real.grants[i].reason) << after[i].share;
  }
  for (const char* uid : {kA, kB})
    for (const char* res : {kImage, kSnap}) EXPECT_TRUE(usable(uid, res)) << why(uid, res);
}

TEST_F(ReconcileSharesTest, AnExternalTargetIsPendingUntilItAcceptsTheInvitation) {
  desired_.shares = {desired_.shares[1]};
  desired_.shares[0].to.accounts = {kExt};
  auto first = converge();
  ASSERT_TRUE(first.converged()) << reconcilers::render_apply_text(first);
  std::string snap_state;
  for (const auto& g : reconcilers::grants_after_apply(first)) {
    if (g.resources.size() != 2U) continue;
    snap_state = std::string(reconcilers::to_string(g.state)) + ": " + g.reason;
  }
  EXPECT_EQ(snap_state.rfind("Pending: invitation sent, not accepted yet", 0), 0U) << snap_state;
  EXPECT_TRUE(usable(kExt, kImage))
      << why(kExt, kImage);  // the image permission needs no invitation
  EXPECT_FALSE(usable(kExt, kSnap));
  emu_->model().accept_invitations(std::nullopt, emu_->server().clock().now());
  emu_->server().clock().set_offset(emu_->server().clock().offset() + std::chrono::seconds(1));
  auto after = plan();
  EXPECT_FALSE(after.has_changes()) << reconcilers::render_text(after);
  for (const auto& g : after.grants)
    EXPECT_EQ(g.state, reconcilers::GrantState::kReady) << g.reason;
  EXPECT_TRUE(usable(kExt, kSnap)) << why(kExt, kSnap);
}

}  // namespace
}  // namespace sharekeeper
