// The invariants can fail: each is broken on purpose (a person's edit through the API, with the
// checker watching) and must be reported. A checker that never fires would make every figure of
// the reliability suite meaningless.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "scenarios.hpp"

namespace sharekeeper::reliability {
namespace {

bool reported(const std::vector<std::string>& v, const std::string& prefix,
              const std::string& what) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) {
    return s.rfind(prefix, 0) == 0 && s.find(what) != std::string::npos;
  });
}

class InvariantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WorldSpec w;
    w.name = "checked";
    w.foreign_attachment = false;
    h_.load(w);
    ASSERT_TRUE(h_.configure(full_config()));
    ASSERT_TRUE(h_.settle(3, "setup"));
    ASSERT_TRUE(h_.checker().violations().empty()) << h_.checker().violations().front();
    person_ = testing_client();
  }
  std::unique_ptr<cloud::AlibabaClient> testing_client();
  Harness h_;
  std::unique_ptr<cloud::AlibabaClient> person_;
};

}  // namespace
}  // namespace sharekeeper::reliability

#include "../integration/emulator_client.hpp"

namespace sharekeeper::reliability {
namespace {

std::unique_ptr<cloud::AlibabaClient> InvariantsTest::testing_client() {
  return testing::emulator_client(h_.emulator().url(), kAccessKeyId, kCanarySecret);
}

TEST_F(InvariantsTest, ConvergedWorldHasNoViolation) {
  h_.pass("again");
  EXPECT_TRUE(h_.checker().violations().empty());
  EXPECT_GT(h_.checker().checks(), 0);
}

TEST_F(InvariantsTest, S1ReportsAKeptPrincipalRemovedEvenTransiently) {
  auto role = person_->get_role(kImageRole);
  ASSERT_TRUE(role.ok() && role.value());
  const std::string before = role.value()->trust_policy;
  // The console drops every principal but one, then restores the policy: a transient loss.
  const std::string narrowed =
      nlohmann::json{
          {"Version", "1"},
          {"Statement",
           nlohmann::json::array(
               {{{"Action", "sts:AssumeRole"},
                 {"Effect", "Allow"},
                 {"Principal",
                  {{"Service", nlohmann::json::array({consumers()[0] + "@ecs.aliyuncs.com"})}}}}})}}
          .dump();
  ASSERT_TRUE(person_->update_role_trust_policy(kImageRole, narrowed).ok());
  ASSERT_TRUE(person_->update_role_trust_policy(kImageRole, before).ok());
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S1", "lost trust " + std::string(kImageRole) + " " + consumers()[1]));
  EXPECT_TRUE(reported(v, "S1", "lost use " + consumers()[1]));
}

TEST_F(InvariantsTest, S2ReportsAForeignPolicyChangedAndAShareListChanged) {
  ASSERT_TRUE(person_
                  ->create_policy_version(kForeignPolicy,
                                          R"({"Version":"1","Statement":[{"Effect":"Allow",)"
                                          R"("Action":["kms:Decrypt"],"Resource":["*"]}]})",
                                          true, false)
                  .ok());
  auto unshared =
      person_->modify_image_share_permission(kRegion, images()[0], {}, {consumers()[3]});
  ASSERT_TRUE(unshared.ok()) << unshared.error().to_string();
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S2", "foreign policies " + std::string(kForeignPolicy) + " changed"));
  EXPECT_TRUE(reported(v, "S2", "share list changed"));
}

TEST_F(InvariantsTest, S2ReportsAGrantOutsideTheConfig) {
  auto role = person_->get_role(kSnapshotRole);
  ASSERT_TRUE(role.ok() && role.value());
  auto trust = nlohmann::json::parse(role.value()->trust_policy);
  trust["Statement"].push_back(
      {{"Action", "sts:AssumeRole"},
       {"Effect", "Allow"},
       {"Principal", {{"Service", std::string(kOutsider) + "@ecs.aliyuncs.com"}}}});
  ASSERT_TRUE(person_->update_role_trust_policy(kSnapshotRole, trust.dump()).ok());
  EXPECT_TRUE(reported(h_.checker().violations(), "S2", "which the config does not name"));
}

TEST_F(InvariantsTest, S3ReportsAGrantStateTheEmulatorDisagreesWith) {
  auto d = load_config(full_config());
  ASSERT_TRUE(d);
  // A Ready grant whose resource the emulator says the target cannot use (an image the consumer
  // is not trusted for), and a not-Ready one it says is usable.
  reconcilers::GrantStatus ready;
  ready.share = "golden";
  ready.target = {config::TargetType::kAccount, kOutsider};
  ready.state = config::GrantState::kReady;
  reconcilers::ResourceStatus r;
  r.resource_id = images()[0];
  r.state = config::GrantState::kReady;
  r.sharing = config::Sharing::kShared;
  ready.resources = {r};
  reconcilers::GrantStatus pending = ready;
  pending.target.id = consumers()[0];
  pending.state = config::GrantState::kPending;
  pending.resources[0].state = config::GrantState::kPending;
  h_.checker().check_grants({ready, pending}, "made up");
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S3", "golden/" + std::string(kOutsider)));
  EXPECT_TRUE(reported(v, "S3", "golden/" + consumers()[0]));
}

TEST_F(InvariantsTest, S4ReportsTheSecretInAnOutput) {
  h_.checker().check_output(std::string("error: signature of ") + kCanarySecret, "some output");
  EXPECT_TRUE(reported(h_.checker().violations(), "S4", "some output"));
}

}  // namespace
}  // namespace sharekeeper::reliability

// The share invariants (manageShares, the default): image share lists and Resource Sharing.
namespace sharekeeper::reliability {
namespace {

class ShareInvariantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.load(share_world());
    ASSERT_TRUE(h_.configure(share_full_config()));
    ASSERT_TRUE(h_.settle(3, "setup"));
    ASSERT_TRUE(h_.checker().violations().empty()) << h_.checker().violations().front();
    person_ = testing::emulator_client(h_.emulator().url(), kAccessKeyId, kCanarySecret);
  }
  // The id of the sharer's resource share whose name contains `part` (ours or not).
  std::string share_id(const std::string& part) {
    // Held: a range-for over a member of a temporary would read a destroyed object.
    const nlohmann::json state = h_.emulator().model().state(h_.emulator().server().clock().now());
    for (const auto& s : state["resourceShares"])
      if (s.value("name", "").find(part) != std::string::npos)
        return s.value("resourceShareId", "");
    return "";
  }
  Harness h_;
  std::unique_ptr<cloud::AlibabaClient> person_;
};

TEST_F(ShareInvariantsTest, ConvergedShareWorldHasNoViolation) {
  h_.pass("again");
  EXPECT_TRUE(h_.checker().violations().empty());
  // The world is what the suite means: the image list and the associations are there.
  const auto state = h_.emulator().model().state(h_.emulator().server().clock().now());
  EXPECT_FALSE(share_id("golden-snapshot").empty()) << state["resourceShares"].dump();
  EXPECT_FALSE(share_id(kForeignShare).empty());
}

TEST_F(ShareInvariantsTest, S1ReportsAnImagePermissionAndAnAssociationLostEvenTransiently) {
  ASSERT_TRUE(
      person_->modify_image_share_permission(kRegion, images()[0], {}, {consumers()[0]}).ok());
  ASSERT_TRUE(
      person_->modify_image_share_permission(kRegion, images()[0], {consumers()[0]}, {}).ok());
  const std::string id = share_id("golden-snapshot");
  ASSERT_FALSE(id.empty());
  auto gone = person_->disassociate_resource_share(kRegion, id, {}, {consumers()[1]});
  ASSERT_TRUE(gone.ok()) << gone.error().to_string();
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S1", "lost perm " + images()[0] + " " + consumers()[0]));
  EXPECT_TRUE(reported(v, "S1", "lost assoc " + snapshots()[0] + " " + consumers()[1]));
  // (consumer 1 can still use the snapshot: the share's folder target reaches it.)
}

TEST_F(ShareInvariantsTest, S1ReportsAProtectedAccountUnshared) {
  ConfigSpec c = share_full_config();
  c.authoritative = true;
  c.protected_principals = {kOutsider};
  ASSERT_TRUE(h_.configure(c));
  ASSERT_TRUE(person_->modify_image_share_permission(kRegion, images()[1], {}, {kOutsider}).ok());
  EXPECT_TRUE(reported(h_.checker().violations(), "S1",
                       "lost perm " + images()[1] + " " + std::string(kOutsider)));
}

TEST_F(ShareInvariantsTest, S2ReportsAForeignAccountUnsharedAndAShareNotOursChanged) {
  ASSERT_TRUE(person_->modify_image_share_permission(kRegion, images()[1], {}, {kOutsider}).ok());
  const std::string id = share_id(kForeignShare);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(person_->disassociate_resource_share(kRegion, id, {}, {kOutsider}).ok());
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S2", "foreign perm " + images()[1] + " " + std::string(kOutsider)));
  EXPECT_TRUE(reported(v, "S2", "resource share " + id + " (not ours) changed"));
}

TEST_F(ShareInvariantsTest, S2ReportsAShareTheConfigDoesNotName) {
  auto added = person_->modify_image_share_permission(kRegion, images()[1], {consumers()[0]}, {});
  ASSERT_TRUE(added.ok()) << added.error().to_string();
  auto created = person_->create_resource_share(
      kRegion, "someone-else", {{"Snapshot", snapshots()[0]}}, {consumers()[2]}, false, {});
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S2", "granted perm " + images()[1] + " " + consumers()[0]));
  EXPECT_TRUE(reported(v, "S2", "created, not ours"));
}

TEST_F(ShareInvariantsTest, S3ReportsAReadyFolderGrantItsAccountsCannotUse) {
  reconcilers::GrantStatus g;
  g.share = "extra";
  g.target = {config::TargetType::kFolder, kFolderPath};
  g.state = config::GrantState::kReady;
  reconcilers::ResourceStatus r;
  r.resource_id = "s-bp1ccccccccccccccccc";  // image 0's disk snapshot: no share holds it
  r.state = config::GrantState::kReady;
  r.sharing = config::Sharing::kShared;
  g.resources = {r};
  h_.checker().check_grants({g}, "made up");
  EXPECT_TRUE(reported(h_.checker().violations(), "S3",
                       "extra/" + std::string(kFolderPath) +
                           " s-bp1ccccccccccccccccc is Ready but " + consumers()[0] +
                           " cannot use it"));
}

}  // namespace
}  // namespace sharekeeper::reliability
