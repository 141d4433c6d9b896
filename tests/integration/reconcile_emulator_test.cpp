// The reconcilers against the real emulator over loopback HTTP: the real AlibabaClient (signing,
// paging, retries) talks to sharekeeper-emulator started in-process on port 0. Covers: apply from
// empty, apply again with zero writes, the minimum number of calls of a converged plan, drift made
// through the API the way a person in the console would, shrinking the config with prune off and
// on, and the emulator's access evaluator proving that every intended (target, resource) is usable
// once shared and an outsider's is not.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cloud/alibaba_client.hpp"
#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"
#include "emulator/emulator.hpp"
#include "emulator_client.hpp"
#include "in_process_emulator.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper {
namespace {

constexpr const char* kUid = "1234567890123456";
constexpr const char* kA = "1111222233334444";
constexpr const char* kB = "5555666677778888";
constexpr const char* kOutsider = "9999888877776666";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kKey = "key-hzz6cmk0000000000001";
constexpr const char* kImage = "m-bp1aaaaaaaaaaaaaaaaa";
constexpr const char* kSnap = "s-bp1bbbbbbbbbbbbbbbbb";
constexpr const char* kImageSnap = "s-bp1ccccccccccccccccc";
constexpr const char* kImageRole = "AliyunECSShareEncryptImageDefaultRole";
constexpr const char* kSnapRole = "AliyunECSShareEncryptSnapshotDefaultRole";

nlohmann::json seed() {
  using nlohmann::json;
  json account = {{"uid", kUid},
                  {"name", "prod"},
                  {"accessKeys", json::array({{{"id", "LTAI5tRecTestKey000001"},
                                               {"secret", "RecTestSecret0123456789abcdef"}}})},
                  {"regions",
                   {{kRegion,
                     {{"kmsKeys", json::array({{{"keyId", kKey},
                                                {"creator", kUid},
                                                {"state", "Enabled"},
                                                {"aliases", json::array({"alias/share"})}}})},
                      {"snapshots", json::array({{{"snapshotId", kSnap},
                                                  {"encrypted", true},
                                                  {"kmsKeyId", kKey},
                                                  {"tags", json::object()}},
                                                 {{"snapshotId", kImageSnap},
                                                  {"encrypted", true},
                                                  {"kmsKeyId", kKey},
                                                  {"tags", json::object()}}})},
                      {"images", json::array({{{"imageId", kImage},
                                               {"snapshotIds", json::array({kImageSnap})},
                                               {"tags", json::object()}}})}}}}}};
  // ECS may use the account's CMKs: the emulator's access evaluator checks this role.
  account["roles"] = json::parse(R"([{"name": "AliyunECSDiskEncryptDefaultRole",
    "trustPolicy": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Service": ["ecs.aliyuncs.com"]}}]},
    "policies": [{"name": "AliyunECSDiskEncryptRolePolicy", "type": "System"}]}])");
  json consumers = json::array();
  for (const char* uid : {kA, kB, kOutsider})
    consumers.push_back(
        {{"uid", uid}, {"name", std::string("c") + uid}, {"accessKeys", json::array()}});
  json accounts = json::array({account});
  for (auto& c : consumers) accounts.push_back(c);
  return {{"accounts", accounts}};
}

class ReconcileEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emu_ = testing::start_emulator(seed());
    client_ = testing::emulator_client(emu_->url(), "LTAI5tRecTestKey000001",
                                       "RecTestSecret0123456789abcdef");

    config::Account a;
    a.name = "prod";
    a.uid = kUid;
    desired_.accounts = {a};
    config::Share s;
    s.name = "golden";
    s.account = "prod";
    s.region = kRegion;
    s.images = {kImage};
    s.snapshots = {kSnap};
    s.to.accounts = {kA, kB};
    desired_.shares = {s};
    desired_.revision = "it";
    // The RAM/KMS side alone (settings.manageShares: false); the shares themselves are converged
    // in reconcile_shares_test.cpp.
    desired_.settings.manage_shares = false;
  }
  void TearDown() override { emu_->stop(); }

  reconcilers::ClientFor client_for() {
    return [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  }
  reconcilers::ApplyOptions options() {
    reconcilers::ApplyOptions o;
    o.clock = std::make_shared<support::ManualClock>();  // verification waits take no time
    return o;
  }
  // A person adds an outsider to the image role's trust and detaches the snapshot role's KMS
  // policy, in the console (the client, not sharekeeper).
  void console_drift() {
    reconcilers::TrustPrincipals tp;
    tp.accounts = {kA, kB, kOutsider};
    ASSERT_TRUE(
        client_->update_role_trust_policy(kImageRole, reconcilers::build_trust_policy(tp)).ok());
    ASSERT_TRUE(
        client_
            ->detach_policy_from_role("Custom", "sharekeeper-ecs-share-snapshot-kms-1", kSnapRole)
            .ok());
  }

  reconcilers::Plan plan() {
    return reconcilers::plan(desired_, reconcilers::observe(desired_, client_for()));
  }
  reconcilers::ApplyResult converge() {
    return reconcilers::apply(desired_, plan(), client_for(), options());
  }
  // Calls the emulator answered since the last clear, and how many of them were writes.
  std::pair<int, int> calls_since_clear() {
    static const std::set<std::string> kWrites = {
        "CreateRole",           "UpdateRole",          "CreatePolicy",
        "CreatePolicyVersion",  "DeletePolicyVersion", "AttachPolicyToRole",
        "DetachPolicyFromRole", "TagResources",        "SetDefaultPolicyVersion"};
    int all = 0;
    int writes = 0;
    for (const auto& e : emu_->server().journal().entries()) {
      ++all;
      if (kWrites.count(e.action) != 0U) ++writes;
    }
    return {all, writes};
  }
  std::vector<std::string> trusted(const char* role) {
    auto r = client_->get_role(role);
    EXPECT_TRUE(r.ok() && r->has_value());
    auto tp = reconcilers::parse_trust_policy((*r)->trust_policy);
    EXPECT_TRUE(tp.has_value());
    return tp ? tp->accounts : std::vector<std::string>{};
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::unique_ptr<cloud::AlibabaClient> client_;
  config::DesiredState desired_;
};

TEST_F(ReconcileEmulatorTest, ApplyFromEmptyThenAgainMakesZeroWrites) {
  auto first = converge();
  ASSERT_TRUE(first.converged()) << reconcilers::render_apply_text(first);
  EXPECT_EQ(first.writes(), 6);
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(trusted(kSnapRole), (std::vector<std::string>{kA, kB}));
  for (const auto& g : reconcilers::grants_after_apply(first))
    EXPECT_EQ(g.state, reconcilers::GrantState::kReady) << g.reason;

  emu_->server().journal().clear();
  auto again = converge();
  EXPECT_TRUE(again.converged());
  EXPECT_EQ(again.writes(), 0);
  auto [calls, writes] = calls_since_clear();
  EXPECT_EQ(writes, 0);
  // The minimum for this converged account (docs/reconcilers.md): 1 GetCallerIdentity + 3 GetRole +
  // 1 ListTagResources(role) + 2 ListPoliciesForRole + 1 ListTagResources(policy) +
  // 2 ListPolicyVersions + 1 DescribeImages + 1 DescribeSnapshots + 1 DescribeKey, and for the
  // sharing report 1 DescribeImageSharePermission + 2 ListResourceShareAssociations.
  EXPECT_EQ(calls, 16);
}

TEST_F(ReconcileEmulatorTest, ConsoleDriftIsCorrected) {
  ASSERT_TRUE(converge().converged());
  ASSERT_NO_FATAL_FAILURE(console_drift());
  auto p = plan();
  ASSERT_EQ(p.accounts.size(), 1U);
  std::vector<std::string> actions;
  for (const auto& c : p.accounts[0].changes) actions.push_back(reconcilers::to_string(c.action));
  EXPECT_EQ(actions, (std::vector<std::string>{"AttachPolicyToRole", "UpdateRole"}))
      << reconcilers::render_text(p);
  auto r = reconcilers::apply(desired_, p, client_for(), options());
  EXPECT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA, kB}));
}

// Verification reads back only what the writes' answers did not tell: from empty, every write is
// answered with a success, so nothing is re-read, and the residual planned from the prediction is
// what a real observation plans (nothing to do, every grant Ready).
TEST_F(ReconcileEmulatorTest, VerificationReadsBackNothingTheWritesAnswered) {
  const auto observed = reconcilers::observe(desired_, client_for());
  const auto p = reconcilers::plan(desired_, observed);
  emu_->server().journal().clear();
  auto r = reconcilers::apply(desired_, observed, p, client_for(), options());
  ASSERT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  EXPECT_EQ(r.writes(), 6);
  EXPECT_EQ(r.verify_calls, 0);
  EXPECT_EQ(calls_since_clear(), std::make_pair(6, 6)) << "the writes, no read";
  const auto real = plan();
  EXPECT_FALSE(real.has_changes()) << reconcilers::render_text(real);
  const auto after = reconcilers::grants_after_apply(r);
  ASSERT_EQ(after.size(), real.grants.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].state, reconcilers::GrantState::kReady) << after[i].reason;
    EXPECT_EQ(after[i].state, real.grants[i].state);
    EXPECT_EQ(after[i].reason, real.grants[i].reason);
  }

  // Drift made in the console, corrected with definite answers: nothing re-read either.
  ASSERT_NO_FATAL_FAILURE(console_drift());
  const auto drifted = reconcilers::observe(desired_, client_for());
  auto fixed = reconcilers::apply(desired_, drifted, reconcilers::plan(desired_, drifted),
                                  client_for(), options());
  EXPECT_TRUE(fixed.converged()) << reconcilers::render_apply_text(fixed);
  EXPECT_EQ(fixed.writes(), 2);
  EXPECT_EQ(fixed.verify_calls, 0);
  EXPECT_FALSE(plan().has_changes());
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA, kB}));
}

// A write whose outcome is unknown was re-read: that account is observed again in full.
TEST_F(ReconcileEmulatorTest, VerificationReobservesAnAccountWhoseWriteWasReread) {
  ASSERT_EQ(emu_->server()
                .faults()
                .add(nlohmann::json{{"action", "AttachPolicyToRole"},
                                    {"nth", 1U},
                                    {"code", "ServiceUnavailable"},
                                    {"afterCommit", true}})
                .size(),
            1U);
  const auto observed = reconcilers::observe(desired_, client_for());
  auto r = reconcilers::apply(desired_, observed, reconcilers::plan(desired_, observed),
                              client_for(), options());
  ASSERT_TRUE(r.converged()) << reconcilers::render_apply_text(r);
  // The full observation of a converged account (16 calls, above), at least once.
  EXPECT_GE(r.verify_calls, 16);
}

TEST_F(ReconcileEmulatorTest, ShrinkingTheConfigRespectsPrune) {
  ASSERT_TRUE(converge().converged());
  desired_.shares[0].to.accounts = {kA};
  desired_.settings.max_revoke_fraction = 1.0;

  desired_.settings.prune = false;
  auto kept = converge();
  EXPECT_EQ(kept.writes(), 0);
  EXPECT_EQ(kept.residual.blocked.size(), 2U);  // kB in both roles
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA, kB}));

  desired_.settings.prune = true;
  auto pruned = converge();
  EXPECT_TRUE(pruned.converged()) << reconcilers::render_apply_text(pruned);
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA}));
  EXPECT_EQ(trusted(kSnapRole), (std::vector<std::string>{kA}));
}

TEST_F(ReconcileEmulatorTest, EmptyingTheConfigNeedsAllowMassRevoke) {
  ASSERT_TRUE(converge().converged());
  desired_.shares.clear();
  auto guarded = converge();
  EXPECT_EQ(guarded.writes(), 0);
  EXPECT_EQ(trusted(kImageRole), (std::vector<std::string>{kA, kB}));

  desired_.settings.allow_mass_revoke = true;
  auto emptied = converge();
  EXPECT_TRUE(emptied.converged()) << reconcilers::render_apply_text(emptied);
  EXPECT_TRUE(trusted(kImageRole).empty());
  EXPECT_TRUE(trusted(kSnapRole).empty());
  auto attached = client_->list_policies_for_role(kSnapRole);
  ASSERT_TRUE(attached.ok());
  EXPECT_TRUE(attached->empty());
  auto now = emu_->server().clock().now();
  EXPECT_FALSE(emu_->model().access(kA, kImage, now).value("usable", true));
}

// What the plan reports about the share itself for `resource` to target A.
std::pair<reconcilers::Sharing, std::string> sharing_of(const reconcilers::Plan& p,
                                                        const std::string& resource) {
  for (const auto& g : p.grants)
    if (g.target.id == kA)
      for (const auto& r : g.resources)
        if (r.resource_id == resource) return {r.sharing, r.sharing_detail};
  return {reconcilers::Sharing::kUnknown, "no such resource"};
}

TEST_F(ReconcileEmulatorTest, IntendedTargetsCanUseTheSharedImageAndAnOutsiderCannot) {
  ASSERT_TRUE(converge().converged());
  EXPECT_EQ(sharing_of(plan(), kImage).first, reconcilers::Sharing::kNotShared);
  EXPECT_EQ(sharing_of(plan(), kSnap).first, reconcilers::Sharing::kNotShared);
  // The share itself (manageShares is off here): the test shares the image as a person would.
  auto shared = client_->modify_image_share_permission(kRegion, kImage, {kA, kB}, {});
  ASSERT_TRUE(shared.ok()) << shared.error().to_string();
  auto now = emu_->server().clock().now();
  for (const char* uid : {kA, kB}) {
    auto verdict = emu_->model().access(uid, kImage, now);
    EXPECT_TRUE(verdict.value("usable", false)) << uid << ": " << verdict.dump();
  }
  auto outsider = emu_->model().access(kOutsider, kImage, now);
  EXPECT_FALSE(outsider.value("usable", true)) << outsider.dump();

  // Snapshots go through Resource Sharing; external accounts accept an invitation first.
  EXPECT_EQ(sharing_of(plan(), kImage),
            std::make_pair(reconcilers::Sharing::kShared, std::string("image share permission")));
  auto share = client_->create_resource_share(kRegion, "golden-snapshots", {{"Snapshot", kSnap}},
                                              {kA, kB}, true, {});
  ASSERT_TRUE(share.ok()) << share.error().to_string();
  // Until A accepts the invitation the association is in progress, and the plan says why.
  emu_->server().clock().set_offset(std::chrono::seconds(2));
  const auto pending = sharing_of(plan(), kSnap);
  EXPECT_EQ(pending.first, reconcilers::Sharing::kPending) << pending.second;
  EXPECT_NE(pending.second.find("resource share " + share->resource_share_id), std::string::npos)
      << pending.second;
  // Associations are asynchronous (200 ms by default): move the emulated clock instead of sleeping.
  emu_->server().clock().set_offset(std::chrono::seconds(5));
  emu_->model().accept_invitations(std::nullopt, emu_->server().clock().now());
  emu_->server().clock().set_offset(std::chrono::seconds(10));
  now = emu_->server().clock().now();
  for (const char* uid : {kA, kB}) {
    auto verdict = emu_->model().access(uid, kSnap, now);
    EXPECT_TRUE(verdict.value("usable", false)) << uid << ": " << verdict.dump();
  }
  EXPECT_FALSE(emu_->model().access(kOutsider, kSnap, now).value("usable", true));
  EXPECT_EQ(sharing_of(plan(), kSnap),
            std::make_pair(reconcilers::Sharing::kShared,
                           "resource share " + share->resource_share_id + " (external target)"));
}

}  // namespace
}  // namespace sharekeeper
