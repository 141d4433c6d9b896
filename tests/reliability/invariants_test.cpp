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
  const std::string narrowed = nlohmann::json{
      {"Version", "1"},
      {"Statement", nlohmann::json::array({{{"Action", "sts:AssumeRole"},
                                           {"Effect", "Allow"},
                                           {"Principal",
                                            {{"Service", nlohmann::json::array(
                                                             {consumers()[0] +
                                                              "@ecs.aliyuncs.com"})}}}}})}}
                                   .dump();
  ASSERT_TRUE(person_->update_role_trust_policy(kImageRole, narrowed).ok());
  ASSERT_TRUE(person_->update_role_trust_policy(kImageRole, before).ok());
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S1", "lost trust " + std::string(kImageRole) + " " + consumers()[1]));
  EXPECT_TRUE(reported(v, "S1", "lost use " + consumers()[1]));
}

TEST_F(InvariantsTest, S2ReportsAForeignPolicyChangedAndAShareListChanged) {
  ASSERT_TRUE(person_->create_policy_version(kForeignPolicy,
                                             R"({"Version":"1","Statement":[{"Effect":"Allow",)"
                                             R"("Action":["kms:Decrypt"],"Resource":["*"]}]})",
                                             true, false)
                  .ok());
  auto unshared = person_->modify_image_share_permission(kRegion, images()[0], {}, {consumers()[3]});
  ASSERT_TRUE(unshared.ok()) << unshared.error().to_string();
  const auto v = h_.checker().violations();
  EXPECT_TRUE(reported(v, "S2", "foreign policies " + std::string(kForeignPolicy) + " changed"));
  EXPECT_TRUE(reported(v, "S2", "share list changed"));
}

TEST_F(InvariantsTest, S2ReportsAGrantOutsideTheConfig) {
  auto role = person_->get_role(kSnapshotRole);
  ASSERT_TRUE(role.ok() && role.value());
  auto trust = nlohmann::json::parse(role.value()->trust_policy);
  trust["Statement"].push_back({{"Action", "sts:AssumeRole"},
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
