// KMS: DescribeKey by id, alias and ARN; ListKeys filters (CreatorType); aliases; DisableKey and
// EnableKey with KMS's key-state rules.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;

class KmsTest : public ModelTest {
 protected:
  ApiResponse kms(const std::string& action, Params p = {},
                  const std::string& key = "AKSHARERROOT") {
    return call("kms", action, std::move(p), key);
  }
  std::vector<std::string> key_ids(Params p) {
    auto r = kms("ListKeys", std::move(p));
    EXPECT_EQ(r.status, 200) << r.body.dump();
    std::vector<std::string> out;
    for (const auto& k : r.body["Keys"]["Key"]) out.push_back(k["KeyId"]);
    return out;
  }
};

TEST_F(KmsTest, DescribeKeyByIdAliasAndArn) {
  for (std::string ref : {std::string(kCmk), std::string("alias/share-cmk"),
                          std::string("acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001"),
                          std::string("acs:kms:cn-hangzhou:1000000000000001:alias/share-cmk")}) {
    auto r = kms("DescribeKey", {{"KeyId", ref}});
    ASSERT_EQ(r.status, 200) << ref << r.body.dump();
    EXPECT_EQ(r.body["KeyMetadata"]["KeyId"], kCmk);
    EXPECT_EQ(r.body["KeyMetadata"]["Arn"], "acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001");
    EXPECT_EQ(r.body["KeyMetadata"]["Creator"], kSharer);
    EXPECT_EQ(r.body["KeyMetadata"]["KeyState"], "Enabled");
  }
  auto svc = kms("DescribeKey", {{"KeyId", "alias/acs/ecs"}});
  EXPECT_EQ(svc.body["KeyMetadata"]["Creator"], "Ecs");
  EXPECT_EQ(kms("DescribeKey", {{"KeyId", "key-hzz0002"}}).body["KeyMetadata"]["KeyState"],
            "Disabled");
  auto missing = kms("DescribeKey", {{"KeyId", "key-nope"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(code(missing), "Forbidden.KeyNotFound");
  EXPECT_EQ(code(kms("DescribeKey", {{"KeyId", "alias/nope"}})), "Forbidden.AliasNotFound");
  EXPECT_EQ(
      code(kms("DescribeKey", {{"KeyId", "acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001"}},
               "AKRECIPIENTA")),
      "Forbidden.NoPermission");
  EXPECT_EQ(code(kms("DescribeKey", {{"KeyId", kCmk}, {"RegionId", "eu-central-1"}})),
            "Forbidden.KeyNotFound");
  EXPECT_EQ(code(kms("DescribeKey")), "MissingParameter");
}

TEST_F(KmsTest, ListKeysFilters) {
  EXPECT_EQ(key_ids({}).size(), 3u);
  EXPECT_EQ(key_ids({{"Filters", R"([{"Key":"CreatorType","Values":["Service"]}])"}}),
            (std::vector<std::string>{kServiceKey}));
  EXPECT_EQ(key_ids({{"Filters", R"([{"Key":"CreatorType","Values":["User"]}])"}}).size(), 2u);
  EXPECT_EQ(
      key_ids(
          {{"Filters",
            R"([{"Key":"CreatorType","Values":["User"]},{"Key":"KeyState","Values":["Enabled"]}])"}}),
      (std::vector<std::string>{kCmk}));
  EXPECT_EQ(
      key_ids({{"Filters", R"([{"Key":"KeyState","Values":["Enabled","Disabled"]}])"}}).size(), 3u);
  EXPECT_EQ(key_ids({{"PageSize", "2"}, {"PageNumber", "2"}}).size(), 1u);
  EXPECT_EQ(code(kms("ListKeys", {{"Filters", "CreatorType=User"}})), "InvalidParameter");
  EXPECT_EQ(code(kms("ListKeys", {{"Filters", R"([{"Key":"Colour","Values":["x"]}])"}})),
            "InvalidParameter");
  EXPECT_EQ(code(kms("ListKeys", {{"PageSize", "101"}})), "InvalidParameter.PageSize");
  auto r = kms("ListKeys", {{"RegionId", kRegion}});
  EXPECT_EQ(r.body["TotalCount"], 3);
  EXPECT_EQ(r.body["Keys"]["Key"][0]["KeyArn"],
            "acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001");
}

TEST_F(KmsTest, Aliases) {
  auto all = kms("ListAliases");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.body["TotalCount"], 2);
  auto by = kms("ListAliasesByKeyId", {{"KeyId", kServiceKey}});
  ASSERT_EQ(by.body["Aliases"]["Alias"].size(), 1u);
  EXPECT_EQ(by.body["Aliases"]["Alias"][0]["AliasName"], "alias/acs/ecs");
  EXPECT_EQ(by.body["Aliases"]["Alias"][0]["AliasArn"],
            "acs:kms:cn-hangzhou:1000000000000001:alias/acs/ecs");
  EXPECT_TRUE(
      kms("ListAliasesByKeyId", {{"KeyId", "key-hzz0002"}}).body["Aliases"]["Alias"].empty());
  EXPECT_EQ(code(kms("ListAliasesByKeyId", {{"KeyId", "key-nope"}})), "Forbidden.KeyNotFound");
}

// KMS's key-state table: DisableKey and EnableKey succeed on Enabled and Disabled keys (repeating
// one is harmless) and answer Rejected.StateModifiedFailed (409) on PendingDeletion and
// PendingImport keys.
TEST_F(KmsTest, DisableAndEnableKey) {
  auto state = [&](const std::string& id) {
    return kms("DescribeKey", {{"KeyId", id}}).body["KeyMetadata"]["KeyState"].get<std::string>();
  };
  auto off = kms("DisableKey", {{"KeyId", kCmk}});
  ASSERT_EQ(off.status, 200) << off.body.dump();
  EXPECT_TRUE(off.body.contains("RequestId"));
  EXPECT_EQ(state(kCmk), "Disabled");
  EXPECT_EQ(key_ids({{"Filters", R"([{"Key":"KeyState","Values":["Disabled"]}])"}}).size(), 2u);
  EXPECT_EQ(kms("DisableKey", {{"KeyId", kCmk}}).status, 200);  // already Disabled
  EXPECT_EQ(state(kCmk), "Disabled");
  // By alias and by ARN, like DescribeKey.
  EXPECT_EQ(kms("EnableKey", {{"KeyId", "alias/share-cmk"}}).status, 200);
  EXPECT_EQ(state(kCmk), "Enabled");
  EXPECT_EQ(kms("EnableKey", {{"KeyId", kCmk}}).status, 200);  // already Enabled
  EXPECT_EQ(
      kms("DisableKey", {{"KeyId", "acs:kms:cn-hangzhou:1000000000000001:key/key-hzz0001"}}).status,
      200);
  EXPECT_EQ(state(kCmk), "Disabled");
  EXPECT_EQ(kms("EnableKey", {{"KeyId", "key-hzz0002"}}).status, 200);  // seeded Disabled
  EXPECT_EQ(state("key-hzz0002"), "Enabled");
}

TEST_F(KmsTest, KeyStateChangeErrors) {
  json seed = base_seed();
  auto& keys = seed["accounts"][0]["regions"]["cn-hangzhou"]["kmsKeys"];
  keys.push_back({{"keyId", "key-hzzdel01"}, {"state", "PendingDeletion"}});
  keys.push_back({{"keyId", "key-hzzimp01"}, {"state", "PendingImport"}});
  model_.load_seed(seed);
  for (const char* action : {"DisableKey", "EnableKey"}) {
    for (const char* id : {"key-hzzdel01", "key-hzzimp01"}) {
      auto r = kms(action, {{"KeyId", id}});
      EXPECT_EQ(r.status, 409) << action << " " << id;
      EXPECT_EQ(code(r), "Rejected.StateModifiedFailed") << action << " " << id;
    }
    auto missing = kms(action, {{"KeyId", "key-nope"}});
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(code(missing), "Forbidden.KeyNotFound");
    EXPECT_EQ(code(kms(action, {{"KeyId", "alias/nope"}})), "Forbidden.AliasNotFound");
    EXPECT_EQ(code(kms(action)), "MissingParameter");
    // Another account's key, and a key of this account asked for in another region.
    EXPECT_EQ(code(kms(action, {{"KeyId", kCmk}}, "AKRECIPIENTA")), "Forbidden.KeyNotFound");
    EXPECT_EQ(code(kms(action, {{"KeyId", kCmk}, {"RegionId", "eu-central-1"}})),
              "Forbidden.KeyNotFound");
    // The ECS service key belongs to ECS.
    auto svc = kms(action, {{"KeyId", "alias/acs/ecs"}});
    EXPECT_EQ(svc.status, 403);
    EXPECT_EQ(code(svc), "Forbidden.NoPermission");
  }
  auto state = [&](const std::string& id) {
    return kms("DescribeKey", {{"KeyId", id}}).body["KeyMetadata"]["KeyState"].get<std::string>();
  };
  EXPECT_EQ(state("key-hzzdel01"), "PendingDeletion");
  EXPECT_EQ(state("key-hzzimp01"), "PendingImport");
  EXPECT_EQ(state(kServiceKey), "Enabled");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
