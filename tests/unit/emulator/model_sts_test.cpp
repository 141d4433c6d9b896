// STS: GetCallerIdentity per identity type, AssumeRole honouring trust policies,
// AssumeRoleWithOIDC.
#include "tests/unit/emulator/model_fixture.hpp"

namespace sharekeeper::emulator::testing {
namespace {

TEST_F(ModelTest, GetCallerIdentityForRootAndUser) {
  auto r = call("sts", "GetCallerIdentity");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["AccountId"], kSharer);
  EXPECT_TRUE(r.body["AccountId"].is_string());
  EXPECT_EQ(r.body["IdentityType"], "Account");
  EXPECT_EQ(r.body["Arn"], "acs:ram::1000000000000001:root");
  r = call("sts", "GetCallerIdentity", {}, "AKSHARERUSER");
  EXPECT_EQ(r.body["IdentityType"], "RAMUser");
  EXPECT_EQ(r.body["Arn"], "acs:ram::1000000000000001:user/daemon");
  EXPECT_TRUE(r.body.contains("UserId"));
}

TEST_F(ModelTest, AssumeRoleIssuesWorkingStsCredentials) {
  auto r = call("sts", "AssumeRole",
                {{"RoleArn", "acs:ram::1000000000000001:role/CI-Deployer"},
                 {"RoleSessionName", "deploy@1"},
                 {"DurationSeconds", "900"}},
                "AKSHARERUSER");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const auto& creds = r.body["Credentials"];
  std::string id = creds["AccessKeyId"];
  EXPECT_EQ(id.rfind("STS.", 0), 0u);
  std::string exp = creds["Expiration"];
  EXPECT_EQ(exp.size(), 20u) << exp;  // yyyy-MM-ddTHH:mm:ssZ, no milliseconds
  EXPECT_EQ(exp.back(), 'Z');
  EXPECT_EQ(r.body["AssumedRoleUser"]["Arn"],
            "acs:ram::1000000000000001:role/ci-deployer/deploy@1");
  auto key = model_.find_key(id, now_);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->security_token, creds["SecurityToken"].get<std::string>());
  EXPECT_EQ(key->secret, creds["AccessKeySecret"].get<std::string>());
  EXPECT_FALSE(model_.find_key(id, now_ + std::chrono::seconds(901)));

  auto who = call("sts", "GetCallerIdentity", {}, id);
  EXPECT_EQ(who.body["IdentityType"], "AssumedRoleUser");
  EXPECT_EQ(who.body["AccountId"], kSharer);
  EXPECT_EQ(who.body["Arn"], "acs:ram::1000000000000001:assumed-role/ci-deployer/deploy@1");
  EXPECT_TRUE(who.body.contains("RoleId"));
}

TEST_F(ModelTest, AssumeRoleRefusals) {
  std::map<std::string, std::string> p{{"RoleArn", "acs:ram::1000000000000001:role/ci-deployer"},
                                       {"RoleSessionName", "s1"}};
  // The account's root key may not assume roles.
  EXPECT_EQ(code(call("sts", "AssumeRole", p)), "NoPermission");
  // Another account is not in the trust policy.
  auto r = call("sts", "AssumeRole", p, "AKRECIPIENTA");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(code(r), "NoPermission");
  auto q = p;
  q["RoleArn"] = "acs:ram::1000000000000001:role/missing";
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "EntityNotExist.Role");
  q = p;
  q["RoleArn"] = "arn:aws:iam::1:role/x";
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "InvalidParameter.RoleArn");
  q = p;
  q["RoleSessionName"] = "a";
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "InvalidParameter.RoleSessionName");
  q = p;
  q["DurationSeconds"] = "3601";  // above the role's MaxSessionDuration
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "InvalidParameter.DurationSeconds");
  q = p;
  q["Policy"] = "{not json";
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "InvalidParameter.PolicyGrammar");
  q = p;
  q.erase("RoleSessionName");
  EXPECT_EQ(code(call("sts", "AssumeRole", q, "AKSHARERUSER")), "MissingParameter");
}

TEST_F(ModelTest, AssumeRoleWithOidcIsAnonymousAndChecksTheProvider) {
  std::map<std::string, std::string> p{
      {"OIDCProviderArn", "acs:ram::1000000000000001:oidc-provider/ack-rrsa"},
      {"RoleArn", "acs:ram::1000000000000001:role/oidc-role"},
      {"OIDCToken", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYTpkZWZhdWx0In0.sig"},
      {"RoleSessionName", "pod"}};
  auto r = call("sts", "AssumeRoleWithOIDC", p, "");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["OIDCTokenInfo"]["Subject"], "sa:default");
  EXPECT_TRUE(r.body["OIDCTokenInfo"]["ClientIds"].is_string());
  EXPECT_TRUE(model_.find_key(r.body["Credentials"]["AccessKeyId"].get<std::string>(), now_));

  auto q = p;
  q["OIDCToken"] = "";
  EXPECT_EQ(code(call("sts", "AssumeRoleWithOIDC", q, "")), "MissingParameter");
  q = p;
  q["OIDCProviderArn"] = "acs:ram::1000000000000001:oidc-provider/other";
  EXPECT_EQ(code(call("sts", "AssumeRoleWithOIDC", q, "")), "EntityNotExist.OIDCProvider");
  q = p;
  q["RoleArn"] = "acs:ram::1000000000000001:role/ci-deployer";  // trusts RAM, not the provider
  EXPECT_EQ(code(call("sts", "AssumeRoleWithOIDC", q, "")), "NoPermission");
  // Anonymous calls to anything else are refused.
  EXPECT_EQ(code(call("sts", "GetCallerIdentity", {}, "")), "MissingParameter");
}

}  // namespace
}  // namespace sharekeeper::emulator::testing
