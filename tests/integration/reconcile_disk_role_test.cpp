// settings.manageDiskEncryptRole against the in-process emulator through the real client: an
// account without AliyunECSDiskEncryptDefaultRole cannot let anyone use its CMK-encrypted image
// (the emulator's access evaluator names the role); with the setting, one apply creates the role
// (trust Service ecs.aliyuncs.com, System policy AliyunECSDiskEncryptRolePolicy) and the image
// becomes usable; the next plan has no changes, and a role edited by a person is never rewritten.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "emulated_time.hpp"
#include "emulator/emulator.hpp"
#include "emulator_client.hpp"
#include "in_process_emulator.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"
#include "reconcilers/policy_document.hpp"

namespace sharekeeper {
namespace {

using nlohmann::json;

constexpr const char* kUid = "1234567890123456";
constexpr const char* kA = "1111222233334444";
constexpr const char* kRegion = "cn-hangzhou";
constexpr const char* kKey = "key-hzz6cmk0000000000001";
constexpr const char* kImage = "m-bp1aaaaaaaaaaaaaaaaa";
constexpr const char* kImageSnap = "s-bp1ccccccccccccccccc";
constexpr const char* kDiskRole = "AliyunECSDiskEncryptDefaultRole";

json seed() {
  json owner = {
      {"uid", kUid},
      {"name", "prod"},
      {"accessKeys", json::array({{{"id", "LTAI5tDiskTestKey00001"},
                                   {"secret", "DiskTestSecret0123456789abcdef"}}})},
      {"regions",
       {{kRegion,
         {{"kmsKeys", json::array({{{"keyId", kKey}, {"creator", kUid}, {"state", "Enabled"}}})},
          {"snapshots", json::array({{{"snapshotId", kImageSnap},
                                      {"encrypted", true},
                                      {"kmsKeyId", kKey},
                                      {"tags", json::object()}}})},
          {"images", json::array({{{"imageId", kImage},
                                   {"snapshotIds", json::array({kImageSnap})},
                                   {"tags", json::object()}}})}}}}}};
  json consumer = {{"uid", kA}, {"name", "a"}, {"accessKeys", json::array()}};
  return {{"accounts", json::array({owner, consumer})}};
}

class DiskRoleEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emu_ = testing::start_emulator(seed());
    client_ = testing::emulator_client(emu_->url(), "LTAI5tDiskTestKey00001",
                                       "DiskTestSecret0123456789abcdef");
    config::Account a;
    a.name = "prod";
    a.uid = kUid;
    desired_.accounts = {a};
    config::Share s;
    s.name = "golden";
    s.account = "prod";
    s.region = kRegion;
    s.images = {kImage};
    s.to.accounts = {kA};
    desired_.shares = {s};
    desired_.revision = "it";
  }
  void TearDown() override { emu_->stop(); }

  reconcilers::ClientFor client_for() {
    return [this](const config::Account&) -> cloud::CloudApi* { return client_.get(); };
  }
  reconcilers::Plan plan() {
    return reconcilers::plan(desired_, reconcilers::observe(desired_, client_for()));
  }
  reconcilers::ApplyResult converge() {
    reconcilers::ApplyOptions o;
    o.clock = std::make_shared<testing::EmulatorTime>(emu_->server().clock());  // waits skipped
    return reconcilers::apply(desired_, plan(), client_for(), o);
  }
  json access() { return emu_->model().access(kA, kImage, emu_->server().clock().now()); }
  int disk_changes(const reconcilers::Plan& p) {
    int n = 0;
    for (const auto& a : p.accounts)
      for (const auto& c : a.changes) n += c.role == kDiskRole ? 1 : 0;
    return n;
  }

  std::unique_ptr<emulator::Emulator> emu_;
  std::unique_ptr<cloud::AlibabaClient> client_;
  config::DesiredState desired_;
};

TEST_F(DiskRoleEmulatorTest, WithoutTheSettingTheRoleStaysAbsentAndTheImageUnusable) {
  ASSERT_TRUE(converge().converged());
  ASSERT_TRUE(client_->modify_image_share_permission(kRegion, kImage, {kA}, {}).ok());
  const json verdict = access();
  EXPECT_FALSE(verdict.value("usable", true)) << verdict.dump();
  EXPECT_NE(verdict.dump().find(kDiskRole), std::string::npos) << verdict.dump();
  auto role = client_->get_role(kDiskRole);
  ASSERT_TRUE(role.ok());
  EXPECT_FALSE(role->has_value());
  EXPECT_EQ(disk_changes(plan()), 0);
}

TEST_F(DiskRoleEmulatorTest, TheSettingCreatesTheRoleOnceAndNeverRewritesIt) {
  desired_.settings.manage_disk_encrypt_role = true;
  EXPECT_EQ(disk_changes(plan()), 2);
  auto r = converge();
  ASSERT_TRUE(r.converged()) << r.failures();
  ASSERT_TRUE(client_->modify_image_share_permission(kRegion, kImage, {kA}, {}).ok());
  const json verdict = access();
  EXPECT_TRUE(verdict.value("usable", false)) << verdict.dump();

  auto role = client_->get_role(kDiskRole);
  ASSERT_TRUE(role.ok() && role->has_value());
  EXPECT_TRUE(reconcilers::policies_equivalent(
      (*role)->trust_policy, reconcilers::build_service_trust_policy("ecs.aliyuncs.com")));
  auto attached = client_->list_policies_for_role(kDiskRole);
  ASSERT_TRUE(attached.ok());
  ASSERT_EQ(attached->size(), 1U);
  EXPECT_EQ(attached->at(0).policy_name, "AliyunECSDiskEncryptRolePolicy");
  EXPECT_EQ(attached->at(0).policy_type, "System");
  auto tags = client_->list_tag_resources("role", {kDiskRole});
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 1U);
  EXPECT_FALSE(plan().has_changes());

  // A person narrows its trust and detaches its policy: reported, never rewritten or re-attached
  // beyond completing what is ours (the attachment of a role we created).
  const std::string other =
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",)"
      R"("Principal":{"Service":["ecs.aliyuncs.com"]},"Condition":{"Bool":{"acs:MFAPresent":"true"}}}]})";
  ASSERT_TRUE(client_->update_role_trust_policy(kDiskRole, other).ok());
  auto p = plan();
  EXPECT_EQ(disk_changes(p), 0);
  ASSERT_TRUE(
      client_->detach_policy_from_role("System", "AliyunECSDiskEncryptRolePolicy", kDiskRole).ok());
  p = plan();
  ASSERT_EQ(disk_changes(p), 1);
  ASSERT_TRUE(converge().converged());
  role = client_->get_role(kDiskRole);
  ASSERT_TRUE(role.ok() && role->has_value());
  EXPECT_TRUE(reconcilers::policies_equivalent((*role)->trust_policy, other));
}

}  // namespace
}  // namespace sharekeeper
