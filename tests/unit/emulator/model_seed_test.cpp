// Seed loader: a malformed seed is a SeedError naming the JSON path (never a crash), and the
// previous state is kept; make_error, find_key, state(), reset(), unknown actions.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

using nlohmann::json;

std::string seed_error(const json& seed) {
  Model m;
  try {
    m.load_seed(seed);
  } catch (const SeedError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelSeed, MalformedSeedsNameTheJsonPath) {
  json s = base_seed();
  s["accounts"][0]["accessKeys"][1].erase("secret");
  EXPECT_NE(seed_error(s).find("accounts[0].accessKeys[1].secret"), std::string::npos)
      << seed_error(s);

  s = base_seed();
  s["accounts"][1]["uid"] = 2000000000000002LL;
  EXPECT_NE(seed_error(s).find("accounts[1].uid"), std::string::npos) << seed_error(s);

  s = base_seed();
  s["accounts"][0]["regions"]["cn-hangzhou"]["snapshots"][1]["kmsKeyId"] = "key-nope";
  EXPECT_NE(seed_error(s).find("accounts[0].regions.cn-hangzhou.snapshots[1].kmsKeyId"),
            std::string::npos)
      << seed_error(s);

  s = base_seed();
  s["accounts"][0]["roles"][0]["trustPolicy"]["Version"] = "2";
  EXPECT_NE(seed_error(s).find("accounts[0].roles[0].trustPolicy"), std::string::npos);

  s = base_seed();
  s["resourceDirectory"]["folders"][0]["parentId"] = "fd-prod-eu";  // a cycle
  EXPECT_NE(seed_error(s).find("resourceDirectory.folders"), std::string::npos) << seed_error(s);

  s = base_seed();
  s["resourceDirectory"]["masterAccountId"] = "9999999999999990";  // not a member
  EXPECT_NE(seed_error(s).find("resourceDirectory.masterAccountId"), std::string::npos)
      << seed_error(s);

  s = base_seed();
  s["accounts"][0]["regions"]["cn-hangzhou"]["images"][0]["snapshotIds"][0] = "s-missing";
  EXPECT_NE(seed_error(s).find("images[0].snapshotIds[0]"), std::string::npos) << seed_error(s);

  EXPECT_NE(seed_error(json::array()).find("expected an object"), std::string::npos);
  EXPECT_NE(seed_error(json{{"acounts", json::array()}}).find("acounts: unknown field"),
            std::string::npos);
  s = base_seed();
  s["accounts"][2]["accessKeys"][0]["id"] = "AKSHARERROOT";
  EXPECT_NE(seed_error(s).find("duplicate access key"), std::string::npos);
}

TEST(ModelSeed, FailedLoadKeepsThePreviousState) {
  Model m;
  m.load_seed(base_seed());
  json bad = base_seed();
  bad["accounts"][0]["accessKeys"] = "nope";
  EXPECT_THROW(m.load_seed(bad), SeedError);
  EXPECT_TRUE(m.find_key("AKSHARERROOT", Clock::now()).has_value());
  EXPECT_EQ(m.state()["accounts"].size(), 4u);
}

TEST(ModelSeed, FindKeyReturnsIdentityAndHonoursExpiry) {
  json s = base_seed();
  s["accounts"][0]["accessKeys"].push_back({{"id", "STS.Captured"},
                                            {"secret", "sts-secret"},
                                            {"securityToken", "CAIS+/="},
                                            {"role", "share-daemon"},
                                            {"expiration", "2030-01-01T00:00:00Z"}});
  Model m;
  m.load_seed(s);
  auto root = m.find_key("AKSHARERROOT", Clock::now());
  ASSERT_TRUE(root);
  EXPECT_EQ(root->secret, "sharer-root-secret");
  EXPECT_EQ(root->account_uid, kSharer);
  EXPECT_EQ(root->arn, "acs:ram::1000000000000001:root");
  EXPECT_EQ(root->identity_type, "Account");
  auto user = m.find_key("AKSHARERUSER", Clock::now());
  ASSERT_TRUE(user);
  EXPECT_EQ(user->identity_type, "RAMUser");
  EXPECT_EQ(user->arn, "acs:ram::1000000000000001:user/daemon");
  auto sts = m.find_key("STS.Captured", Clock::now());
  ASSERT_TRUE(sts);
  EXPECT_EQ(sts->security_token, "CAIS+/=");
  EXPECT_EQ(sts->identity_type, "AssumedRoleUser");
  auto after = Clock::from_time_t(1893456000 + 1);  // 2030-01-01T00:00:01Z
  EXPECT_FALSE(m.find_key("STS.Captured", after));
  EXPECT_FALSE(m.find_key("AKNOPE", Clock::now()));
}

TEST(ModelSeed, StateNeverCarriesSecrets) {
  Model m;
  m.load_seed(base_seed());
  std::string dumped = m.state().dump();
  EXPECT_EQ(dumped.find("sharer-root-secret"), std::string::npos);
  EXPECT_NE(dumped.find("AKSHARERROOT"), std::string::npos);
  EXPECT_NE(dumped.find("rd-abc123"), std::string::npos);
}

TEST_F(ModelTest, ResetGoesBackToTheSeed) {
  auto r =
      call("sts", "AssumeRole",
           {{"RoleArn", "acs:ram::1000000000000001:role/ci-deployer"}, {"RoleSessionName", "s1"}},
           "AKSHARERUSER");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  std::string sts_id = r.body["Credentials"]["AccessKeyId"];
  EXPECT_TRUE(model_.find_key(sts_id, now_));
  model_.reset();
  EXPECT_FALSE(model_.find_key(sts_id, now_));
  EXPECT_TRUE(model_.find_key("AKSHARERROOT", now_));
}

TEST_F(ModelTest, RestoreReturnsToTheSnapshotNotToTheSeed) {
  auto created =
      call("ram", "CreateRole",
           {{"RoleName", "kept"},
            {"AssumeRolePolicyDocument",
             R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",)"
             R"("Principal":{"RAM":["acs:ram::1000000000000001:root"]}}]})"}},
           "AKSHARERROOT");
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const auto snapshot = model_.snapshot();
  const std::string at_snapshot = model_.state().dump();
  ASSERT_EQ(call("ram", "DeleteRole", {{"RoleName", "kept"}}, "AKSHARERROOT").status, 200);
  ASSERT_EQ(call("ram", "DeleteRole", {{"RoleName", "ci-deployer"}}, "AKSHARERROOT").status, 200);
  model_.restore(*snapshot);
  EXPECT_EQ(model_.state().dump(), at_snapshot);
  EXPECT_EQ(call("ram", "GetRole", {{"RoleName", "kept"}}, "AKSHARERROOT").status, 200);
  // The seed is still the loaded one: reset forgets what was created after it.
  model_.reset();
  EXPECT_EQ(call("ram", "GetRole", {{"RoleName", "kept"}}, "AKSHARERROOT").status, 404);
}

TEST_F(ModelTest, SeededRolesAndPoliciesAreVisibleAtAnyEmulatedTime) {
  // Replays of captures move the clock back before the seed was loaded.
  now_ = Clock::from_time_t(1700000000);  // 2023-11-14
  auto r = call("ram", "GetRole", {{"RoleName", "ci-deployer"}});
  EXPECT_EQ(r.status, 200) << r.body.dump();
}

TEST_F(ModelTest, UnknownActionIsInvalidActionNotFound) {
  auto r = call("sts", "NoSuchThing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code(r), "InvalidAction.NotFound");
  EXPECT_EQ(r.body["RequestId"], "REQ-1");
  EXPECT_EQ(r.body["HostId"], "127.0.0.1");
  EXPECT_EQ(r.body["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=InvalidAction.NotFound&product=Sts");
  r = call("nosuchproduct", "GetCallerIdentity");
  EXPECT_EQ(code(r), "InvalidAction.NotFound");
}

TEST(ModelErrors, MakeErrorHasAlibabaShape) {
  ApiCall c;
  c.version = "2015-05-01";
  c.request_id = "R1";
  ApiResponse r = make_error(c, 404, "EntityNotExist.Role", "The role not exists: x.");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["HostId"], "ram.aliyuncs.com");
  EXPECT_EQ(r.body["Code"], "EntityNotExist.Role");
  EXPECT_EQ(r.body["Message"], "The role not exists: x.");
  EXPECT_EQ(r.body["RequestId"], "R1");
  EXPECT_EQ(r.body["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=EntityNotExist.Role&product=Ram");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
