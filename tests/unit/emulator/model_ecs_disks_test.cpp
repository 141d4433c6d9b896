// ECS's use of the account's KMS keys: CopySnapshot with Encrypted/KMSKeyId and its errors, the
// AliyunECSDiskEncryptDefaultRole that ECS needs for CMKs
// (InvalidParameter.KMSKeyId.KMSUnauthorized without it), and the access evaluator reporting the
// role and the key state for owner and recipient.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;
using std::chrono::milliseconds;

constexpr const char* kDest = "cn-shanghai";
constexpr const char* kDestCmk = "key-shz0001";
constexpr const char* kDiskRole = "AliyunECSDiskEncryptDefaultRole";

std::string trust_for(const std::string& principal) {
  return R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":)" +
         principal + "}]}";
}
const std::string kEcsTrust = trust_for(R"({"Service":["ecs.aliyuncs.com"]})");

class EcsDisksTest : public ModelTest {
 protected:
  EcsDisksTest() {
    json seed = base_seed();
    seed["accounts"][0]["regions"][kDest] = json::parse(R"({"kmsKeys": [
        {"keyId": "key-shz0001", "aliases": ["alias/dest-cmk"]},
        {"keyId": "key-shz0002", "state": "Disabled"}]})");
    model_.load_seed(seed);
  }
  void ok(const ApiResponse& r) { ASSERT_EQ(r.status, 200) << r.body.dump(); }
  ApiResponse copy(Params p) {
    Params base{{"RegionId", kRegion}, {"DestinationRegionId", kDest}, {"SnapshotId", "s-enc1"}};
    for (auto& [k, v] : p) base[k] = v;
    return call("ecs", "CopySnapshot", base);
  }
  ApiResponse copy_with_cmk() { return copy({{"Encrypted", "true"}, {"KMSKeyId", kDestCmk}}); }
  void disk_role(const std::string& trust, bool attach = true) {
    ok(call("ram", "CreateRole", {{"RoleName", kDiskRole}, {"AssumeRolePolicyDocument", trust}}));
    if (attach) {
      ok(call("ram", "AttachPolicyToRole",
              {{"PolicyType", "System"},
               {"PolicyName", "AliyunECSDiskEncryptRolePolicy"},
               {"RoleName", kDiskRole}}));
    }
  }
  json snapshots(const std::string& region) {
    auto r = call("ecs", "DescribeSnapshots", {{"RegionId", region}, {"MaxResults", "100"}});
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body["Snapshots"]["Snapshot"];
  }
  static void expect_error(const ApiResponse& r, int status, const std::string& c) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    EXPECT_EQ(code(r), c) << r.body.dump();
  }
};

TEST_F(EcsDisksTest, CopyWithACmkNeedsTheDiskEncryptRole) {
  auto refused = copy_with_cmk();
  expect_error(refused, 403, "InvalidParameter.KMSKeyId.KMSUnauthorized");
  EXPECT_NE(refused.body["Message"].get<std::string>().find("ECS service have no right to access"),
            std::string::npos);
  EXPECT_NE(refused.body["Message"].get<std::string>().find(kDiskRole), std::string::npos);
  EXPECT_TRUE(snapshots(kDest).empty()) << "nothing is copied when ECS may not use the key";

  // The role without its policy is not enough.
  disk_role(kEcsTrust, /*attach=*/false);
  auto no_policy = copy_with_cmk();
  expect_error(no_policy, 403, "InvalidParameter.KMSKeyId.KMSUnauthorized");
  EXPECT_NE(no_policy.body["Message"].get<std::string>().find("kms:Decrypt"), std::string::npos);

  ok(call("ram", "AttachPolicyToRole",
          {{"PolicyType", "System"},
           {"PolicyName", "AliyunECSDiskEncryptRolePolicy"},
           {"RoleName", kDiskRole}}));
  auto r = copy({{"Encrypted", "true"},
                 {"KMSKeyId", kDestCmk},
                 {"DestinationSnapshotName", "golden-copy"},
                 {"DestinationSnapshotDescription", "copied with a CMK"},
                 {"Tag.1.Key", "share"},
                 {"Tag.1.Value", "golden"}});
  ok(r);
  const std::string id = r.body["SnapshotId"];
  json list = snapshots(kDest);
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["SnapshotId"], id);
  EXPECT_EQ(list[0]["RegionId"], kDest);
  EXPECT_EQ(list[0]["Encrypted"], true);
  EXPECT_EQ(list[0]["KMSKeyId"], kDestCmk);
  EXPECT_EQ(list[0]["SnapshotName"], "golden-copy");
  EXPECT_EQ(list[0]["Description"], "copied with a CMK");
  EXPECT_EQ(list[0]["Status"], "accomplished");
  EXPECT_EQ(list[0]["Tags"]["Tag"][0]["TagKey"], "share");
  // The source stays where it was; the alias names the same key.
  EXPECT_EQ(snapshots(kRegion).size(), 4u);
  ok(copy({{"Encrypted", "true"}, {"KMSKeyId", "alias/dest-cmk"}}));
  EXPECT_EQ(snapshots(kDest).size(), 2u);
}

TEST_F(EcsDisksTest, TheRoleMustTrustTheEcsService) {
  disk_role(trust_for(R"({"RAM":["acs:ram::1000000000000001:root"]})"));
  auto r = copy_with_cmk();
  expect_error(r, 403, "InvalidParameter.KMSKeyId.KMSUnauthorized");
  EXPECT_NE(r.body["Message"].get<std::string>().find("does not admit Service ecs.aliyuncs.com"),
            std::string::npos);
  ok(call("ram", "UpdateRole",
          {{"RoleName", kDiskRole},
           {"NewAssumeRolePolicyDocument",
            trust_for(R"({"Service":["1000000000000001@ecs.aliyuncs.com"]})")}}));
  expect_error(copy_with_cmk(), 403, "InvalidParameter.KMSKeyId.KMSUnauthorized");
  ok(call("ram", "UpdateRole",
          {{"RoleName", kDiskRole}, {"NewAssumeRolePolicyDocument", kEcsTrust}}));
  ok(copy_with_cmk());
}

TEST_F(EcsDisksTest, TheServiceKeyNeedsNoRoleAndIsCreatedOnFirstUse) {
  // A snapshot under the hangzhou service key, copied to shanghai under shanghai's service key,
  // which does not exist yet: ECS creates it.
  auto r = copy({{"SnapshotId", "s-svc1"}, {"Encrypted", "true"}});
  ok(r);
  auto key = call("kms", "DescribeKey", {{"KeyId", "alias/acs/ecs"}, {"RegionId", kDest}});
  ok(key);
  EXPECT_EQ(key.body["KeyMetadata"]["Creator"], "Ecs");
  const std::string svc = key.body["KeyMetadata"]["KeyId"];
  json list = snapshots(kDest);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["KMSKeyId"], svc);
  // A second copy reuses it.
  ok(copy({{"SnapshotId", "s-plain1"}, {"Encrypted", "true"}}));
  auto services =
      call("kms", "ListKeys",
           {{"RegionId", kDest}, {"Filters", R"([{"Key":"CreatorType","Values":["Service"]}])"}});
  EXPECT_EQ(services.body["TotalCount"], 1) << services.body.dump();
  // Unencrypted to unencrypted needs no key at all.
  auto plain = copy({{"SnapshotId", "s-plain1"}});
  ok(plain);
  EXPECT_EQ(snapshots(kDest).back()["Encrypted"], false);
}

TEST_F(EcsDisksTest, ParameterAndKeyErrors) {
  disk_role(kEcsTrust);
  expect_error(call("ecs", "CopySnapshot", {{"RegionId", kRegion}, {"SnapshotId", "s-enc1"}}), 400,
               "MissingParameter");
  expect_error(copy({{"DestinationRegionId", kRegion}, {"Encrypted", "true"}}), 403,
               "InvalidOperation.NotSupportCopyInSameRegion");
  expect_error(copy({{"DestinationRegionId", "Shanghai!"}}), 400, "InvalidRegionId.MalFormed");
  expect_error(copy({{"SnapshotId", "s-nope"}}), 403, "InvalidSnapshotId.NotFound");
  expect_error(
      copy({{"SnapshotId", "s-enc1"}, {"RegionId", kDest}, {"DestinationRegionId", kRegion}}), 403,
      "InvalidSnapshotId.NotFound");
  expect_error(copy({{"SnapshotId", "s-plain1"}, {"KMSKeyId", kDestCmk}}), 403,
               "InvalidEncrypted.NotMatchKmsKeyId");
  expect_error(copy({{"SnapshotId", "s-enc1"}}), 403, "InvalidEncrypted.NotSupportDecrypt");
  expect_error(copy({{"Encrypted", "true"}, {"KMSKeyId", kCmk}}), 403,
               "InvalidParameter.KMSKeyId.NotFound");  // a hangzhou key for a shanghai copy
  expect_error(copy({{"Encrypted", "true"}, {"KMSKeyId", "key-shz0002"}}), 403,
               "InvalidParameter.KMSKeyId.CMKNotEnabled");
  expect_error(copy({{"DestinationSnapshotName", "1-starts-with-a-digit"}}), 403,
               "InvalidSnapshotName.Malformed");
  expect_error(copy({{"DestinationSnapshotDescription", "https://example.com"}}), 403,
               "InvalidDescription.Malformed");
  expect_error(
      copy({{"Encrypted", "true"}, {"KMSKeyId", kDestCmk}, {"Tag.1.Key", "a"}, {"Tag.2.Key", "a"}}),
      400, "Duplicate.TagKey");
  // ECS reads the source through its own key: a disabled source CMK stops the copy too.
  ok(call("kms", "DisableKey", {{"KeyId", kCmk}}));
  expect_error(copy_with_cmk(), 403, "InvalidParameter.KMSKeyId.CMKNotEnabled");
  ok(call("kms", "EnableKey", {{"KeyId", kCmk}}));
  ok(copy_with_cmk());
  EXPECT_EQ(snapshots(kDest).size(), 1u) << "only the last call copied";
}

// /_emulator/access: a CMK-encrypted resource is usable, by its owner or a recipient, only while
// ECS may use the key (the owner's AliyunECSDiskEncryptDefaultRole) and the key is enabled.
TEST_F(EcsDisksTest, AccessNeedsTheDiskEncryptRoleAndAnEnabledKey) {
  ok(call("ram", "CreateRole",
          {{"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"},
           {"AssumeRolePolicyDocument",
            trust_for(R"({"Service":["2000000000000002@ecs.aliyuncs.com"]})")}}));
  ok(call("ram", "AttachPolicyToRole",
          {{"PolicyType", "System"},
           {"PolicyName", "AliyunKMSFullAccess"},
           {"RoleName", "AliyunECSShareEncryptSnapshotDefaultRole"}}));
  ok(call("resourcesharing", "CreateResourceShare",
          {{"ResourceShareName", "disk-role"},
           {"Resources.1.ResourceType", "Snapshot"},
           {"Resources.1.ResourceId", "s-enc1"},
           {"Targets.1", kRecipientA}}));
  now_ += milliseconds(200);
  auto access = [&](const std::string& uid, const std::string& resource = "s-enc1") {
    return model_.access(uid, resource, now_);
  };
  for (const char* uid : {kRecipientA, kSharer}) {
    json a = access(uid);
    EXPECT_FALSE(a["usable"].get<bool>()) << uid;
    ASSERT_EQ(a["reasons"].size(), 1u) << a.dump();
    EXPECT_NE(
        a["reasons"][0].get<std::string>().find(
            "role AliyunECSDiskEncryptDefaultRole does not exist in account 1000000000000001"),
        std::string::npos)
        << a.dump();
  }
  // Unencrypted and service-key resources do not depend on the role.
  EXPECT_TRUE(access(kSharer, "s-plain1")["usable"].get<bool>());
  EXPECT_TRUE(access(kSharer, "s-svc1")["usable"].get<bool>());

  disk_role(kEcsTrust);
  for (const char* uid : {kRecipientA, kSharer}) {
    EXPECT_TRUE(access(uid)["usable"].get<bool>()) << access(uid).dump();
  }
  // Breaking the key link as a user would: DisableKey.
  ok(call("kms", "DisableKey", {{"KeyId", kCmk}}));
  for (const char* uid : {kRecipientA, kSharer}) {
    json a = access(uid);
    EXPECT_FALSE(a["usable"].get<bool>());
    ASSERT_EQ(a["reasons"].size(), 1u) << a.dump();
    EXPECT_EQ(a["reasons"][0], "KMS key key-hzz0001 is Disabled");
  }
  ok(call("kms", "EnableKey", {{"KeyId", kCmk}}));
  EXPECT_TRUE(access(kRecipientA)["usable"].get<bool>());
  // A role whose policy is detached no longer lets ECS use the key.
  ok(call("ram", "DetachPolicyFromRole",
          {{"PolicyType", "System"},
           {"PolicyName", "AliyunECSDiskEncryptRolePolicy"},
           {"RoleName", kDiskRole}}));
  json a = access(kRecipientA);
  EXPECT_FALSE(a["usable"].get<bool>());
  EXPECT_NE(a["reasons"].dump().find("policies attached to AliyunECSDiskEncryptDefaultRole"),
            std::string::npos)
      << a.dump();
}

TEST_F(EcsDisksTest, TheSystemPolicyIsListedAndAttachable) {
  auto g = call("ram", "GetPolicy",
                {{"PolicyName", "aliyunecsdiskencryptrolepolicy"}, {"PolicyType", "System"}});
  ok(g);
  EXPECT_EQ(g.body["Policy"]["PolicyName"], "AliyunECSDiskEncryptRolePolicy");
  EXPECT_EQ(g.body["Policy"]["PolicyType"], "System");
  disk_role(kEcsTrust);
  auto l = call("ram", "ListPoliciesForRole", {{"RoleName", kDiskRole}});
  ok(l);
  ASSERT_EQ(l.body["Policies"]["Policy"].size(), 1u);
  EXPECT_EQ(l.body["Policies"]["Policy"][0]["PolicyName"], "AliyunECSDiskEncryptRolePolicy");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
