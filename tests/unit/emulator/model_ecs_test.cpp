// ECS: snapshot and image listings with their filters and paging, image share permissions with the
// 10-per-call truncation, the 50-account quota and the encrypted-image rules.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;
using Params = std::map<std::string, std::string>;

std::vector<std::string> ids(const json& list, const char* field) {
  std::vector<std::string> out;
  for (const auto& e : list) out.push_back(e[field]);
  std::sort(out.begin(), out.end());
  return out;
}

std::string uid(int i);

class EcsTest : public ModelTest {
 protected:
  EcsTest() {
    // 60 more accounts, so the quota tests share with accounts that exist.
    nlohmann::json seed = base_seed();
    for (int i = 1; i <= 60; ++i) seed["accounts"].push_back({{"uid", uid(i)}});
    model_.load_seed(seed);
  }
  ApiResponse ecs(const std::string& action, Params p, const std::string& key = "AKSHARERROOT") {
    if (p.count("RegionId") == 0) p["RegionId"] = kRegion;
    return call("ecs", action, std::move(p), key);
  }
  std::vector<std::string> snapshots(Params p) {
    auto r = ecs("DescribeSnapshots", std::move(p));
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return ids(r.body["Snapshots"]["Snapshot"], "SnapshotId");
  }
  void image_role(const std::string& trust) {
    auto r = call("ram", "CreateRole",
                  {{"RoleName", "AliyunECSShareEncryptImageDefaultRole"},
                   {"AssumeRolePolicyDocument", trust}});
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }
  std::vector<std::string> shared_with(const std::string& image) {
    auto r = ecs("DescribeImageSharePermission", {{"ImageId", image}, {"PageSize", "100"}});
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return ids(r.body["Accounts"]["Account"], "AliyunId");
  }
};

std::string uid(int i) {
  std::string s = std::to_string(i);
  return "5" + std::string(15 - s.size(), '0') + s;
}

TEST_F(EcsTest, DescribeSnapshotsFilters) {
  EXPECT_EQ(code(call("ecs", "DescribeSnapshots", {})), "MissingParameter");
  EXPECT_EQ(snapshots({}), (std::vector<std::string>{"s-enc1", "s-enc2", "s-plain1", "s-svc1"}));
  EXPECT_EQ(snapshots({{"SnapshotIds", R"(["s-enc1","s-plain1","s-other"])"}}),
            (std::vector<std::string>{"s-enc1", "s-plain1"}));
  EXPECT_EQ(snapshots({{"Tag.1.Key", "share"}, {"Tag.1.Value", "yes"}}),
            (std::vector<std::string>{"s-enc1", "s-plain1"}));
  EXPECT_EQ(snapshots({{"Tag.1.Key", "share"}, {"Tag.1.Value", "yes"}, {"Tag.2.Key", "team"}}),
            (std::vector<std::string>{"s-plain1"}));
  EXPECT_EQ(snapshots({{"Encrypted", "true"}}),
            (std::vector<std::string>{"s-enc1", "s-enc2", "s-svc1"}));
  EXPECT_EQ(snapshots({{"Encrypted", "false"}}).size(), 4u);  // false is "no filter"
  EXPECT_EQ(snapshots({{"KMSKeyId", kCmk}}), (std::vector<std::string>{"s-enc1", "s-enc2"}));
  EXPECT_TRUE(snapshots({{"RegionId", "eu-central-1"}}).empty());
  // Other accounts' snapshots are not listed.
  EXPECT_TRUE(
      ids(ecs("DescribeSnapshots", {}, "AKRECIPIENTA").body["Snapshots"]["Snapshot"], "SnapshotId")
          .empty());
  auto one = ecs("DescribeSnapshots", {{"SnapshotIds", R"(["s-svc1"])"}});
  const auto& s = one.body["Snapshots"]["Snapshot"][0];
  EXPECT_EQ(s["Encrypted"], true);
  EXPECT_EQ(s["KMSKeyId"], kServiceKey);
  EXPECT_EQ(s["Status"], "accomplished");
  EXPECT_EQ(s["RegionId"], kRegion);
}

TEST_F(EcsTest, DescribeSnapshotsRejectsMalformedInput) {
  std::string many = "[";
  for (int i = 0; i < 101; ++i)
    many += std::string(i ? "," : "") + "\"s-" + std::to_string(i) + "\"";
  many += "]";
  auto r = ecs("DescribeSnapshots", {{"SnapshotIds", many}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "InvalidSnapshotIds.Malformed");
  EXPECT_EQ(code(ecs("DescribeSnapshots", {{"SnapshotIds", "s-enc1,s-enc2"}})),
            "InvalidSnapshotIds.Malformed");
  Params tags;
  for (int i = 1; i <= 21; ++i) tags["Tag." + std::to_string(i) + ".Key"] = "k";
  EXPECT_EQ(code(ecs("DescribeSnapshots", tags)), "InvalidTagCount");
  EXPECT_EQ(code(ecs("DescribeSnapshots", {{"Status", "nope"}})), "InvalidStatus.NotFound");
  EXPECT_EQ(code(ecs("DescribeSnapshots", {{"MaxResults", "101"}})), "InvalidParameter.MaxResults");
  EXPECT_EQ(code(ecs("DescribeSnapshots", {{"PageSize", "101"}})), "InvalidParameter.PageSize");
  EXPECT_EQ(code(ecs("DescribeSnapshots", {{"NextToken", "garbage"}})),
            "InvalidParameter.NextToken");
}

TEST(EcsPaging, DefaultsToTenAndPagesByTokenOrNumber) {
  json seed = base_seed();
  auto& snaps = seed["accounts"][0]["regions"]["cn-hangzhou"]["snapshots"];
  for (int i = 0; i < 21; ++i)
    snaps.push_back({{"snapshotId", "s-bulk" + std::to_string(100 + i)}});
  Model m;
  m.load_seed(seed);
  auto describe = [&](Params p) {
    ApiCall c;
    c.product = "ecs";
    c.action = "DescribeSnapshots";
    c.params = std::move(p);
    c.params["RegionId"] = kRegion;
    c.caller.account_uid = kSharer;
    c.now = Clock::now();
    return m.call(c);
  };
  auto first = describe({});
  EXPECT_EQ(first.body["Snapshots"]["Snapshot"].size(), 10u);
  EXPECT_EQ(first.body["TotalCount"], 25);
  EXPECT_EQ(first.body["PageSize"], 10);
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    Params p{{"MaxResults", "7"}};
    if (!token.empty()) p["NextToken"] = token;
    auto r = describe(p);
    for (const auto& s : r.body["Snapshots"]["Snapshot"]) seen.insert(s["SnapshotId"]);
    token = r.body["NextToken"];
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen.size(), 25u);
  auto third = describe({{"PageNumber", "3"}, {"PageSize", "10"}});
  EXPECT_EQ(third.body["Snapshots"]["Snapshot"].size(), 5u);
  EXPECT_EQ(third.body["PageNumber"], 3);
  EXPECT_EQ(describe({{"MaxResults", "100"}}).body["Snapshots"]["Snapshot"].size(), 25u);
}

TEST_F(EcsTest, DescribeImagesShapesAndFilters) {
  auto r = ecs("DescribeImages", {{"ImageId", "m-enc1,m-plain1"}, {"ImageOwnerAlias", "self"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto& images = r.body["Images"]["Image"];
  ASSERT_EQ(images.size(), 2u);
  const auto& enc = images[0]["ImageId"] == "m-enc1" ? images[0] : images[1];
  EXPECT_TRUE(enc["ImageOwnerId"].is_number_integer());
  EXPECT_EQ(enc["ImageOwnerId"].get<long long>(), 1000000000000001LL);
  EXPECT_EQ(enc["ImageOwnerAlias"], "self");
  EXPECT_EQ(enc["IsSelfShared"], "false");
  const auto& maps = enc["DiskDeviceMappings"]["DiskDeviceMapping"];
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[0]["SnapshotId"], "s-enc1");
  EXPECT_EQ(maps[0]["Type"], "system");
  EXPECT_EQ(maps[0]["Encrypted"], true);
  EXPECT_EQ(maps[1]["Type"], "data");
  EXPECT_EQ(ids(ecs("DescribeImages", {{"Tag.1.Key", "env"}, {"Tag.1.Value", "prod"}})
                    .body["Images"]["Image"],
                "ImageId"),
            (std::vector<std::string>{"m-plain1"}));
  EXPECT_EQ(code(ecs("DescribeImages", {{"ImageOwnerAlias", "mine"}})),
            "InvalidImageOwnerAlias.ValueNotSupported");
  EXPECT_EQ(ecs("DescribeImages", {{"PageSize", "1"}, {"PageNumber", "2"}})
                .body["Images"]["Image"]
                .size(),
            1u);
  EXPECT_EQ(ecs("DescribeImages", {}).body["TotalCount"], 3);
  // A recipient sees a shared image as "others" once shared.
  ASSERT_EQ(
      ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", kRecipientA}})
          .status,
      200);
  auto theirs = ecs("DescribeImages", {{"ImageOwnerAlias", "others"}}, "AKRECIPIENTA");
  ASSERT_EQ(theirs.body["Images"]["Image"].size(), 1u);
  EXPECT_EQ(theirs.body["Images"]["Image"][0]["ImageOwnerAlias"], "others");
  EXPECT_TRUE(ecs("DescribeImages", {{"ImageOwnerAlias", "self"}}, "AKRECIPIENTA")
                  .body["Images"]["Image"]
                  .empty());
  EXPECT_EQ(
      ecs("DescribeImages", {{"ImageId", "m-plain1"}}).body["Images"]["Image"][0]["IsSelfShared"],
      "true");
}

TEST_F(EcsTest, ModifyImageSharePermissionAppliesOnlyTheFirstTen) {
  Params p{{"ImageId", "m-plain1"}};
  for (int i = 1; i <= 12; ++i) p["AddAccount." + std::to_string(i)] = uid(i);
  auto r = ecs("ModifyImageSharePermission", p);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body.size(), 1u);  // RequestId only
  auto shared = shared_with("m-plain1");
  EXPECT_EQ(shared.size(), 10u);
  EXPECT_EQ(std::count(shared.begin(), shared.end(), uid(11)), 0);
  // DescribeImageSharePermission pages by 10 by default.
  auto page = ecs("DescribeImageSharePermission", {{"ImageId", "m-plain1"}});
  EXPECT_EQ(page.body["Accounts"]["Account"].size(), 10u);
  EXPECT_EQ(page.body["TotalCount"], 10);
  EXPECT_EQ(page.body["PageSize"], 10);
  auto second = ecs("DescribeImageSharePermission",
                    {{"ImageId", "m-plain1"}, {"PageSize", "4"}, {"PageNumber", "3"}});
  EXPECT_EQ(second.body["Accounts"]["Account"].size(), 2u);
  EXPECT_EQ(
      code(ecs("DescribeImageSharePermission", {{"ImageId", "m-plain1"}, {"PageSize", "101"}})),
      "InvalidParameter.PageSize");
  // RemoveAccount.N is truncated the same way.
  Params rm{{"ImageId", "m-plain1"}};
  for (int i = 1; i <= 11; ++i) rm["RemoveAccount." + std::to_string(i)] = uid(i);
  ASSERT_EQ(ecs("ModifyImageSharePermission", rm).status, 200);
  EXPECT_TRUE(shared_with("m-plain1").empty());
}

TEST_F(EcsTest, ModifyImageSharePermissionQuotaOfFifty) {
  for (int batch = 0; batch < 5; ++batch) {
    Params p{{"ImageId", "m-plain1"}};
    for (int i = 1; i <= 10; ++i) p["AddAccount." + std::to_string(i)] = uid(batch * 10 + i);
    ASSERT_EQ(ecs("ModifyImageSharePermission", p).status, 200);
  }
  EXPECT_EQ(shared_with("m-plain1").size(), 50u);
  auto over =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", uid(51)}});
  EXPECT_EQ(over.status, 403);
  EXPECT_EQ(code(over), "QuotaExceed.ShareImageUser");
  EXPECT_EQ(shared_with("m-plain1").size(), 50u);
  // Remove one and add one in the same call fits.
  EXPECT_EQ(ecs("ModifyImageSharePermission",
                {{"ImageId", "m-plain1"}, {"AddAccount.1", uid(51)}, {"RemoveAccount.1", uid(1)}})
                .status,
            200);
}

TEST_F(EcsTest, ModifyImageSharePermissionErrors) {
  auto self =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", kSharer}});
  EXPECT_EQ(self.status, 404);
  EXPECT_EQ(code(self), "InvalidAccount.Forbbiden");
  EXPECT_EQ(
      code(ecs("ModifyImageSharePermission", {{"ImageId", "m-plain1"}, {"AddAccount.1", "12"}})),
      "InvalidAccount.NotFound");
  EXPECT_EQ(code(ecs("ModifyImageSharePermission",
                     {{"ImageId", "m-nope"}, {"AddAccount.1", kRecipientA}})),
            "InvalidImageId.NotFound");
  // Another account cannot change the owner's image.
  EXPECT_EQ(code(ecs("ModifyImageSharePermission",
                     {{"ImageId", "m-plain1"}, {"AddAccount.1", kRecipientB}}, "AKRECIPIENTA")),
            "InvalidImageId.NotFound");
  auto svc =
      ecs("ModifyImageSharePermission", {{"ImageId", "m-svc1"}, {"AddAccount.1", kRecipientA}});
  EXPECT_EQ(svc.status, 403);
  EXPECT_EQ(code(svc), "InvalidOperation.ServiceKeyEncryptedImageUnsupported");
  auto dry = ecs("ModifyImageSharePermission",
                 {{"ImageId", "m-plain1"}, {"AddAccount.1", kRecipientA}, {"DryRun", "true"}});
  EXPECT_EQ(code(dry), "DryRunOperation");
  EXPECT_TRUE(shared_with("m-plain1").empty());
}

TEST_F(EcsTest, EncryptedImageNeedsTheImageRoleToTrustTheRecipient) {
  Params p{{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientA}};
  auto no_role = ecs("ModifyImageSharePermission", p);
  EXPECT_EQ(no_role.status, 403);
  EXPECT_EQ(code(no_role), "AssumeRoleError");
  // A plain ecs.aliyuncs.com principal is not enough.
  image_role(
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com"]}}]})");
  EXPECT_EQ(code(ecs("ModifyImageSharePermission", p)), "AssumeRoleError");
  ASSERT_EQ(
      call(
          "ram", "UpdateRole",
          {{"RoleName", "AliyunECSShareEncryptImageDefaultRole"},
           {"NewAssumeRolePolicyDocument",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["2000000000000002@ecs.aliyuncs.com"]}}]})"}})
          .status,
      200);
  EXPECT_EQ(ecs("ModifyImageSharePermission", p).status, 200);
  EXPECT_EQ(code(ecs("ModifyImageSharePermission",
                     {{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientB}})),
            "AssumeRoleError");
  // Removing never needs the role.
  EXPECT_EQ(
      ecs("ModifyImageSharePermission", {{"ImageId", "m-enc1"}, {"RemoveAccount.1", kRecipientA}})
          .status,
      200);
}

TEST_F(EcsTest, EncryptedImageWithRdWideTrust) {
  image_role(
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["*@ecs.aliyuncs.com"]},"Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc123/r-root1/fd-dev*"}}}]})");
  EXPECT_EQ(
      ecs("ModifyImageSharePermission", {{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientB}})
          .status,
      200);
  EXPECT_EQ(code(ecs("ModifyImageSharePermission",
                     {{"ImageId", "m-enc1"}, {"AddAccount.1", kRecipientA}})),
            "AssumeRoleError");  // fd-prod, not fd-dev
  EXPECT_EQ(
      code(ecs("ModifyImageSharePermission", {{"ImageId", "m-enc1"}, {"AddAccount.1", kOutsider}})),
      "AssumeRoleError");  // not in the RD
}

}  // namespace
}  // namespace sharekeeper::emulator::testing

namespace sharekeeper::emulator::testing {
namespace {

TEST(EcsCreationTime, FiltersByWindowAndRejectsUnknownKeys) {
  nlohmann::json seed = base_seed();
  auto& snaps = seed["accounts"][0]["regions"]["cn-hangzhou"]["snapshots"];
  snaps[0]["creationTime"] = "2024-01-01T00:00:00Z";
  snaps[1]["creationTime"] = "2023-06-01T00:00:00Z";
  seed["accounts"][0]["regions"]["cn-hangzhou"]["images"][1]["creationTime"] =
      "2024-01-01T12:00:00Z";
  Model m;
  m.load_seed(seed);
  auto call = [&](std::string action, std::map<std::string, std::string> p) {
    ApiCall c;
    c.product = "ecs";
    c.action = std::move(action);
    c.params = std::move(p);
    c.params["RegionId"] = kRegion;
    c.caller.account_uid = kSharer;
    c.now = Clock::now();
    return m.call(c);
  };
  auto r = call("DescribeSnapshots", {{"Filter.1.Key", "CreationStartTime"},
                                      {"Filter.1.Value", "2023-12-31T00:00Z"},
                                      {"Filter.2.Key", "CreationEndTime"},
                                      {"Filter.2.Value", "2024-01-02T00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  ASSERT_EQ(r.body["Snapshots"]["Snapshot"].size(), 1u);
  EXPECT_EQ(r.body["Snapshots"]["Snapshot"][0]["SnapshotId"], "s-enc1");
  auto older = call("DescribeSnapshots",
                    {{"Filter.1.Key", "CreationEndTime"}, {"Filter.1.Value", "2023-12-31T00:00Z"}});
  ASSERT_EQ(older.body["Snapshots"]["Snapshot"].size(), 1u);
  EXPECT_EQ(older.body["Snapshots"]["Snapshot"][0]["SnapshotId"], "s-enc2");
  EXPECT_EQ(call("DescribeSnapshots", {{"Filter.1.Key", "Colour"}, {"Filter.1.Value", "red"}})
                .body["Code"],
            "InvalidFilterKey.NotFound");
  EXPECT_EQ(call("DescribeSnapshots",
                 {{"Filter.1.Key", "CreationStartTime"}, {"Filter.1.Value", "yesterday"}})
                .body["Code"],
            "InvalidFilterValue");
  auto images = call("DescribeImages", {{"Filter.1.Key", "CreationStartTime"},
                                        {"Filter.1.Value", "2024-01-01T06:00Z"},
                                        {"Filter.2.Key", "CreationEndTime"},
                                        {"Filter.2.Value", "2024-01-02T00:00Z"}});
  ASSERT_EQ(images.body["Images"]["Image"].size(), 1u);
  EXPECT_EQ(images.body["Images"]["Image"][0]["ImageId"], "m-plain1");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
