// The access evaluator: one positive case, and one negative case per prerequisite (shared,
// association state, invitation, service key, role, trust by account / RD id / RD path, KMS policy
// and explicit Deny).
#include <fstream>

#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;
using std::chrono::milliseconds;

const std::string kKeyArn = "acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001";

std::string trust_for(const std::string& services, const std::string& condition = "") {
  return R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":[)" +
         services + "]}" + (condition.empty() ? "" : ",\"Condition\":" + condition) + "}]}";
}

const std::string kFullKmsPolicy =
    R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:List*"],"Resource":["acs:kms:cn-hangzhou:1000000000000001:key"]},)"
    R"({"Effect":"Allow","Action":["kms:DescribeKey","kms:TagResource","kms:UntagResource","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":["acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001"]}]})";

class AccessTest : public ModelTest {
 protected:
  // ECS in the sharer account may use its CMKs (AliyunECSDiskEncryptDefaultRole), as in any account
  // that has made an encrypted disk; model_ecs_disks_test.cpp covers the role's absence.
  AccessTest() { authorise_ecs(); }
  void authorise_ecs() {
    ok(call("ram", "CreateRole",
            {{"RoleName", "AliyunECSDiskEncryptDefaultRole"},
             {"AssumeRolePolicyDocument", trust_for(R"("ecs.aliyuncs.com")")}}));
    ok(call("ram", "AttachPolicyToRole",
            {{"PolicyType", "System"},
             {"PolicyName", "AliyunECSDiskEncryptRolePolicy"},
             {"RoleName", "AliyunECSDiskEncryptDefaultRole"}}));
  }
  void ok(const ApiResponse& r) { ASSERT_EQ(r.status, 200) << r.body.dump(); }
  void role(const std::string& name, const std::string& trust,
            const std::string& policy = kFullKmsPolicy) {
    ok(call("ram", "CreateRole", {{"RoleName", name}, {"AssumeRolePolicyDocument", trust}}));
    if (policy.empty()) return;
    ok(call("ram", "CreatePolicy", {{"PolicyName", name + "-kms"}, {"PolicyDocument", policy}}));
    ok(call("ram", "AttachPolicyToRole",
            {{"PolicyType", "Custom"}, {"PolicyName", name + "-kms"}, {"RoleName", name}}));
  }
  void snapshot_role(const std::string& trust, const std::string& policy = kFullKmsPolicy) {
    role("AliyunECSShareEncryptSnapshotDefaultRole", trust, policy);
  }
  void share(const std::string& resource, const std::string& target, bool external = false) {
    Params p{{"ResourceShareName", "s" + std::to_string(++n_)},
             {"Resources.1.ResourceType", resource[0] == 's' ? "Snapshot" : "Image"},
             {"Resources.1.ResourceId", resource},
             {"Targets.1", target}};
    if (external) p["AllowExternalTargets"] = "true";
    ok(call("resourcesharing", "CreateResourceShare", p));
  }
  json access(const std::string& uid, const std::string& resource) {
    return model_.access(uid, resource, now_);
  }
  static std::string reasons(const json& a) { return a["reasons"].dump(); }
  static bool mentions(const json& a, const std::string& text) {
    return reasons(a).find(text) != std::string::npos;
  }
};

TEST_F(AccessTest, FullySetUpSnapshotShareIsUsable) {
  snapshot_role(trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  EXPECT_TRUE(a["usable"].get<bool>()) << reasons(a);
  EXPECT_TRUE(a["reasons"].empty());
  EXPECT_EQ(a["kmsKeyArn"], kKeyArn);
}

TEST_F(AccessTest, NotSharedAndStillAssociating) {
  snapshot_role(trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  json a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  ASSERT_EQ(a["reasons"].size(), 1u) << reasons(a);
  EXPECT_TRUE(mentions(a, "not shared")) << reasons(a);
  share("s-enc1", kRecipientA);
  a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  EXPECT_TRUE(mentions(a, "Associating")) << reasons(a);
  now_ += milliseconds(200);
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>());
  // Shared to A only: B is not covered.
  EXPECT_TRUE(mentions(access(kRecipientB, "s-enc1"), "not shared"));
}

TEST_F(AccessTest, ExternalShareNeedsTheInvitationAccepted) {
  snapshot_role(trust_for(R"("4000000000000004@ecs.aliyuncs.com")"));
  share("s-enc1", kOutsider, /*external=*/true);
  now_ += milliseconds(200);
  json a = access(kOutsider, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  EXPECT_TRUE(mentions(a, "accept its invitation")) << reasons(a);
  EXPECT_EQ(model_.accept_invitations(std::string(kOutsider), now_), 1);
  a = access(kOutsider, "s-enc1");
  EXPECT_TRUE(a["usable"].get<bool>()) << reasons(a);
}

TEST_F(AccessTest, ServiceKeyIsNeverUsable) {
  snapshot_role(trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  share("s-svc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-svc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  EXPECT_TRUE(mentions(a, "service key")) << reasons(a);
}

TEST_F(AccessTest, MissingShareRole) {
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  ASSERT_EQ(a["reasons"].size(), 1u) << reasons(a);
  EXPECT_TRUE(mentions(a, "AliyunECSShareEncryptSnapshotDefaultRole does not exist"));
  // The image role does not stand in for the snapshot role.
  role("AliyunECSShareEncryptImageDefaultRole",
       trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  EXPECT_FALSE(access(kRecipientA, "s-enc1")["usable"].get<bool>());
}

TEST_F(AccessTest, TrustMustAdmitTheRecipientsEcs) {
  snapshot_role(trust_for(R"("3000000000000003@ecs.aliyuncs.com","ecs.aliyuncs.com")"));
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  ASSERT_EQ(a["reasons"].size(), 1u) << reasons(a);
  EXPECT_TRUE(mentions(a, "does not admit 2000000000000002@ecs.aliyuncs.com")) << reasons(a);
}

TEST_F(AccessTest, TrustByResourceDirectoryId) {
  snapshot_role(trust_for(R"("*@ecs.aliyuncs.com")",
                          R"({"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc123"}})"));
  share("s-enc1", "rd-abc123");
  share("s-enc1", kOutsider, /*external=*/true);
  model_.accept_invitations(std::nullopt, now_);
  now_ += milliseconds(200);
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>())
      << reasons(access(kRecipientA, "s-enc1"));
  EXPECT_TRUE(access(kRecipientB, "s-enc1")["usable"].get<bool>());
  json out = access(kOutsider, "s-enc1");  // shared, but not in the RD the trust names
  EXPECT_FALSE(out["usable"].get<bool>());
  EXPECT_TRUE(mentions(out, "does not admit")) << reasons(out);
}

TEST_F(AccessTest, TrustByFolderPath) {
  snapshot_role(
      trust_for(R"("*@ecs.aliyuncs.com")",
                R"({"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc123/r-root1/fd-prod*"}})"));
  share("s-enc1", "r-root1");  // the root folder: every member
  now_ += milliseconds(200);
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>())
      << reasons(access(kRecipientA, "s-enc1"));
  json b = access(kRecipientB, "s-enc1");  // fd-dev
  EXPECT_FALSE(b["usable"].get<bool>());
  ASSERT_EQ(b["reasons"].size(), 1u) << reasons(b);
  EXPECT_TRUE(mentions(b, "does not admit"));
}

TEST_F(AccessTest, SharedThroughAFolderAboveTheAccount) {
  json seed = base_seed();
  seed["resourceDirectory"]["accounts"]["2000000000000002"] = "fd-prod-eu";
  model_.load_seed(seed);
  authorise_ecs();
  snapshot_role(trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  share("s-enc1", "fd-prod");
  now_ += milliseconds(200);
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>())
      << reasons(access(kRecipientA, "s-enc1"));
}

TEST_F(AccessTest, PoliciesMustAllowTheKeyActions) {
  snapshot_role(
      trust_for(R"("2000000000000002@ecs.aliyuncs.com")"),
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:List*"],"Resource":"acs:kms:cn-hangzhou:1000000000000001:key"},)"
      R"({"Effect":"Allow","Action":["kms:DescribeKey","kms:Encrypt"],"Resource":"acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001"}]})");
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  ASSERT_EQ(a["reasons"].size(), 1u) << reasons(a);
  EXPECT_TRUE(mentions(a, "do not allow kms:Decrypt, kms:GenerateDataKey on " + kKeyArn))
      << reasons(a);
}

TEST_F(AccessTest, PoliciesMustAllowListingAndNoRoleMeansNothing) {
  snapshot_role(
      trust_for(R"("2000000000000002@ecs.aliyuncs.com")"),
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:DescribeKey","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":"acs:kms:*:1000000000000001:key/*"}]})");
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  ASSERT_EQ(a["reasons"].size(), 1u) << reasons(a);
  EXPECT_TRUE(mentions(
      a, "do not allow kms:ListKeys, kms:ListAliases on acs:kms:cn-hangzhou:1000000000000001:key"))
      << reasons(a);
  // Attaching the system policy fixes it.
  ok(call("ram", "AttachPolicyToRole",
          {{"PolicyType", "System"},
           {"PolicyName", "AliyunKMSReadOnlyAccess"},
           {"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"}}));
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>());
}

TEST_F(AccessTest, ExplicitDenyWins) {
  snapshot_role(trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  ok(call(
      "ram", "CreatePolicy",
      {{"PolicyName", "deny-decrypt"},
       {"PolicyDocument",
        R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]})"}}));
  ok(call("ram", "AttachPolicyToRole",
          {{"PolicyType", "Custom"},
           {"PolicyName", "deny-decrypt"},
           {"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"}}));
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  json a = access(kRecipientA, "s-enc1");
  EXPECT_FALSE(a["usable"].get<bool>());
  EXPECT_TRUE(mentions(a, "explicitly deny kms:Decrypt")) << reasons(a);
}

TEST_F(AccessTest, OnlyTheDefaultPolicyVersionCounts) {
  snapshot_role(
      trust_for(R"("2000000000000002@ecs.aliyuncs.com")"),
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]})");
  ok(call("ram", "CreatePolicyVersion",
          {{"PolicyName", "AliyunECSShareEncryptSnapshotDefaultRole-kms"},
           {"PolicyDocument", kFullKmsPolicy}}));
  share("s-enc1", kRecipientA);
  now_ += milliseconds(200);
  EXPECT_FALSE(access(kRecipientA, "s-enc1")["usable"].get<bool>());
  ok(call("ram", "SetDefaultPolicyVersion",
          {{"PolicyName", "AliyunECSShareEncryptSnapshotDefaultRole-kms"}, {"VersionId", "v2"}}));
  EXPECT_TRUE(access(kRecipientA, "s-enc1")["usable"].get<bool>());
}

TEST_F(AccessTest, ImagesUseTheImageRoleAndSharePermissions) {
  role("AliyunECSShareEncryptImageDefaultRole",
       trust_for(R"("2000000000000002@ecs.aliyuncs.com")"));
  ok(call("ecs", "ModifyImageSharePermission",
          {{"RegionId", kRegion}, {"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientA}}));
  json a = access(kRecipientA, "m-enc1");
  EXPECT_TRUE(a["usable"].get<bool>()) << reasons(a);
  // Detaching the KMS policy later breaks it.
  ok(call("ram", "DetachPolicyFromRole",
          {{"PolicyType", "Custom"},
           {"PolicyName", "AliyunECSShareEncryptImageDefaultRole-kms"},
           {"RoleName", "AliyunECSShareEncryptImageDefaultRole"}}));
  EXPECT_FALSE(access(kRecipientA, "m-enc1")["usable"].get<bool>());
}

TEST_F(AccessTest, UnencryptedNeedsOnlyTheShareAndOwnersAlwaysCan) {
  EXPECT_TRUE(mentions(access(kRecipientA, "m-plain1"), "not shared"));
  ok(call("ecs", "ModifyImageSharePermission",
          {{"RegionId", kRegion}, {"ImageId", "m-plain1"}, {"AddAccount.1", kRecipientA}}));
  EXPECT_TRUE(access(kRecipientA, "m-plain1")["usable"].get<bool>());
  EXPECT_TRUE(access(kSharer, "s-enc1")["usable"].get<bool>());
  json missing = access(kRecipientA, "s-nope");
  EXPECT_FALSE(missing["usable"].get<bool>());
  EXPECT_TRUE(mentions(missing, "does not exist"));
}

}  // namespace
}  // namespace sharekeeper::emulator::testing

namespace sharekeeper::emulator::testing {
namespace {

nlohmann::json quickstart_seed() {
  std::ifstream in(std::string(SHAREKEEPER_SOURCE_DIR) + "/examples/seed/quickstart.json");
  return nlohmann::json::parse(in);
}

TEST(QuickstartSeed, FolderShareOfAForensicSnapshotEndToEnd) {
  Model m;
  ASSERT_NO_THROW(m.load_seed(quickstart_seed()));
  auto now = Clock::now();
  auto call = [&](std::string product, std::string action, std::map<std::string, std::string> p,
                  const std::string& key = "LTAI5tQuickstartSharer01") {
    auto k = m.find_key(key, now);
    EXPECT_TRUE(k.has_value());
    ApiCall c;
    c.product = std::move(product);
    c.action = std::move(action);
    c.params = std::move(p);
    c.caller.account_uid = k->account_uid;
    c.caller.access_key_id = k->access_key_id;
    c.caller.arn = k->arn;
    c.caller.identity_type = k->identity_type;
    c.now = now;
    auto r = m.call(c);
    EXPECT_EQ(r.status, 200) << action << " " << r.body.dump();
    return r;
  };
  call(
      "ram", "CreateRole",
      {{"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"},
       {"AssumeRolePolicyDocument",
        R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["*@ecs.aliyuncs.com"]},"Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc123/r-ab12cd/fd-abcdefghij*"}}}]})"}});
  call(
      "ram", "CreatePolicy",
      {{"PolicyName", "sharekeeper-snapshot-kms-1"},
       {"PolicyDocument",
        R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:List*"],"Resource":["acs:kms:cn-hangzhou:1234567890123456:key"]},{"Effect":"Allow","Action":["kms:DescribeKey","kms:TagResource","kms:UntagResource","kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":["acs:kms:cn-hangzhou:1234567890123456:key/key-hzz63a9b8c7d6e5f4g3h2i"]}]})"}});
  call("ram", "AttachPolicyToRole",
       {{"PolicyType", "Custom"},
        {"PolicyName", "sharekeeper-snapshot-kms-1"},
        {"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"}});
  call("resourcesharing", "CreateResourceShare",
       {{"ResourceShareName", "forensics-snapshots"},
        {"Resources.1.ResourceType", "Snapshot"},
        {"Resources.1.ResourceId", "s-bp1forensic00000001"},
        {"Resources.2.ResourceType", "Snapshot"},
        {"Resources.2.ResourceId", "s-bp1forensic00000002"},
        {"Targets.1", "fd-abcdefghij"}});
  now += std::chrono::milliseconds(200);
  auto staging = m.access("5555666677778888", "s-bp1forensic00000001", now);
  EXPECT_TRUE(staging["usable"].get<bool>()) << staging.dump();
  EXPECT_TRUE(m.access("5555666677778888", "s-bp1forensic00000002", now)["usable"].get<bool>());
  auto dev = m.access("1111222233334444", "s-bp1forensic00000001", now);  // other folder
  EXPECT_FALSE(dev["usable"].get<bool>());
  auto legacy = m.access("1111222233334444", "m-bp1legacy00000000001", now);
  EXPECT_NE(legacy["reasons"].dump().find("service key"), std::string::npos);
  EXPECT_TRUE(m.access("1111222233334444", "m-bp1plain000000000001", now)["usable"].get<bool>());
  auto who = call("sts", "GetCallerIdentity", {});
  EXPECT_EQ(who.body["Arn"], "acs:ram::1234567890123456:user/sharekeeper");
  auto images = call("ecs", "DescribeImages",
                     {{"RegionId", "cn-hangzhou"}, {"ImageId", "m-bp1aaaaaaaaaaaaaaaaa"}});
  EXPECT_EQ(images.body["Images"]["Image"][0]["DiskDeviceMappings"]["DiskDeviceMapping"].size(),
            2u);
  auto svc =
      call("kms", "ListKeys", {{"Filters", R"([{"Key":"CreatorType","Values":["Service"]}])"}});
  EXPECT_EQ(svc.body["Keys"]["Key"][0]["KeyId"], "key-hzz6svc0ecs0default0001");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
