#include <gtest/gtest.h>

#include "cloud/credential_providers.hpp"
#include "support/credentials_fakes.hpp"

namespace sharekeeper::cloud {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeEnv;
using testing::FakeImds;
using testing::FakeSts;
using testing::TempDir;

constexpr const char* kCliConfig = R"({
  "current": "ak",
  "profiles": [
    {"name": "ak", "mode": "AK", "access_key_id": "LTAIcliAk", "access_key_secret": "CliAkSecret001"},
    {"name": "sts", "mode": "StsToken", "access_key_id": "STS.cli", "access_key_secret": "CliStsSecret01",
     "sts_token": "CliStsToken01"},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIcliRole",
     "access_key_secret": "CliRoleSecret1", "ram_role_arn": "acs:ram::1234567890123456:role/cli",
     "ram_session_name": "cli-session", "expired_seconds": 1800},
    {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "EcsShareRole"},
    {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1234567890123456:role/o",
     "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/p", "oidc_token_file": "TOKEN_FILE"},
    {"name": "chain", "mode": "ChainableRamRoleArn", "source_profile": "role",
     "ram_role_arn": "acs:ram::1234567890123456:role/second"},
    {"name": "loop", "mode": "ChainableRamRoleArn", "source_profile": "loop",
     "ram_role_arn": "acs:ram::1234567890123456:role/loop"},
    {"name": "sso", "mode": "CloudSSO"}
  ]
})";

class ChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_file = home.write("oidc-token", "eyJ.oidc.tok");
    std::string cli = kCliConfig;
    cli.replace(cli.find("TOKEN_FILE"), std::string("TOKEN_FILE").size(), token_file);
    cli_config = cli;
    // Nothing may reach the real metadata address from a test.
    env.set("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
  }
  CredentialsDeps deps() {
    CredentialsDeps d;
    d.clock = clock.clock();
    d.env = env.lookup();
    d.home_dir = home.path();
    d.sts_transport = transport;
    d.metadata_transport = transport;
    d.sts_endpoint = sts.url();
    d.metadata_base_url = imds.url();
    return d;
  }
  std::shared_ptr<CredentialsProvider> chain() {
    return std::make_shared<DefaultCredentialsChain>(deps());
  }
  std::shared_ptr<CredentialsProvider> profile(const std::string& name) {
    CredentialsOptions o;
    o.source = CredentialsSource::kProfile;
    o.profile = name;
    auto p = make_credentials_provider(o, deps());
    EXPECT_TRUE(p.ok());
    return p.value();
  }
  void set_env_keys() {
    env.set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
    env.set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EnvSecret0001");
  }

  FakeClock clock;
  FakeEnv env;
  TempDir home;
  std::string token_file;
  std::string cli_config;
  FakeSts sts{clock};
  FakeImds imds{clock};
  std::shared_ptr<Transport> transport = testing::loopback_transport();
};

TEST_F(ChainTest, EnvironmentComesFirst) {
  set_env_keys();
  home.write(".aliyun/config.json", cli_config);
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "LTAIenv");
  EXPECT_EQ(r->provider, "default/env");
}

TEST_F(ChainTest, OidcBeforeCliProfile) {
  home.write(".aliyun/config.json", cli_config);
  env.set("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1234567890123456:role/rrsa");
  env.set("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1234567890123456:oidc-provider/p");
  env.set("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file);
  env.set("ALIBABA_CLOUD_ROLE_SESSION_NAME", "rrsa-session");
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "default/oidc_role_arn");
  EXPECT_EQ(r->access_key_id, "STS.KeyAssumeRoleWithOIDC1");
  const auto req = sts.received().at(0);
  EXPECT_EQ(req.form_param("RoleArn"), "acs:ram::1234567890123456:role/rrsa");
  EXPECT_EQ(req.form_param("RoleSessionName"), "rrsa-session");
  EXPECT_EQ(req.form_param("OIDCToken"), "eyJ.oidc.tok");
}

TEST_F(ChainTest, OidcNeedsAllThreeVariables) {
  home.write(".aliyun/config.json", cli_config);
  env.set("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1234567890123456:role/rrsa");
  env.set("ALIBABA_CLOUD_OIDC_TOKEN_FILE", token_file);
  auto r = chain()->get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "default/cli_profile/static_ak");
  EXPECT_EQ(sts.calls(), 0);
}

TEST_F(ChainTest, CliProfileUsesCurrentOrAlibabaCloudProfile) {
  home.write(".aliyun/config.json", cli_config);
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "LTAIcliAk");
  env.set("ALIBABA_CLOUD_PROFILE", "sts");
  auto s = chain()->get();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->security_token, "CliStsToken01");
  EXPECT_EQ(s->provider, "default/cli_profile/static_sts");
}

TEST_F(ChainTest, CliProfileCanBeDisabled) {
  home.write(".aliyun/config.json", cli_config);
  home.write(".alibabacloud/credentials",
             "[default]\ntype = access_key\naccess_key_id = LTAIfile\naccess_key_secret = "
             "FileSecret001\n");
  env.set("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "LTAIfile");
  EXPECT_EQ(r->provider, "default/profile/static_ak");
}

TEST_F(ChainTest, CredentialsFileFromEnvironmentPathAndSection) {
  const std::string path = home.write("elsewhere.ini",
                                      "# comment\n[default]\ntype = access_key\n"
                                      "access_key_id = LTAIdefault\naccess_key_secret = S1secret1\n"
                                      "[prod]\ntype = ram_role_arn\naccess_key_id = LTAIprod\n"
                                      "access_key_secret = ProdSecret01\n"
                                      "role_arn = acs:ram::1234567890123456:role/prod\n"
                                      "role_session_name = prod-session\n");
  env.set("ALIBABA_CLOUD_CREDENTIALS_FILE", path);
  env.set("ALIBABA_CLOUD_PROFILE", "prod");
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "default/profile/ram_role_arn");
  const auto req = sts.received().at(0);
  EXPECT_EQ(req.query_param("AccessKeyId"), "LTAIprod");
  EXPECT_EQ(req.form_param("RoleSessionName"), "prod-session");
  EXPECT_EQ(req.form_param("RoleArn"), "acs:ram::1234567890123456:role/prod");
}

TEST_F(ChainTest, MetadataServiceWhenNothingElse) {
  env.unset("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "default/ecs_ram_role");
  EXPECT_EQ(r->access_key_id, "STS.Imds1");
}

TEST_F(ChainTest, MetadataRoleNameFromEnvironmentSkipsDiscovery) {
  env.unset("ALIBABA_CLOUD_ECS_METADATA_DISABLED");
  env.set("ALIBABA_CLOUD_ECS_METADATA", "EcsShareRole");
  ASSERT_TRUE(chain()->get().ok());
  for (const auto& req : imds.received()) {
    EXPECT_NE(req.path, "/latest/meta-data/ram/security-credentials/");
  }
}

TEST_F(ChainTest, CredentialsUriIsLast) {
  testing::LoopbackServer uri([this](const testing::TestRequest&) {
    return testing::TestResponse{
        200,
        {},
        "{" + testing::credentials_json("STS.Uri", "UriSecret0001", "UriTok", clock.now() + 1h) +
            "}"};
  });
  env.set("ALIBABA_CLOUD_CREDENTIALS_URI", uri.url() + "/creds");
  auto r = chain()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "default/credentials_uri");
}

TEST_F(ChainTest, StaysOnTheFirstProviderThatAnswered) {
  set_env_keys();
  home.write(".aliyun/config.json", cli_config);
  auto c = chain();
  ASSERT_EQ(c->get()->provider, "default/env");
  env.unset("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
  auto r = c->get();
  ASSERT_FALSE(r.ok());  // not silently replaced by the CLI profile
  EXPECT_EQ(r.error().code, "Credentials.NotConfigured");
}

TEST_F(ChainTest, NothingConfiguredListsEveryProviderWithoutSecrets) {
  env.set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "OnlySecretCanary42");  // half-configured
  auto r = chain()->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Credentials.NotFound");
  const std::string text = r.error().to_string();
  for (const char* p : {"env", "cli_profile", "profile"}) {
    EXPECT_NE(text.find(p), std::string::npos) << p;
  }
  EXPECT_EQ(text.find("OnlySecretCanary42"), std::string::npos) << text;
}

TEST_F(ChainTest, CliRamRoleArnAssumesTheRole) {
  home.write(".aliyun/config.json", cli_config);
  auto r = profile("role")->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "profile/cli_profile/ram_role_arn");
  const auto req = sts.received().at(0);
  EXPECT_EQ(req.query_param("AccessKeyId"), "LTAIcliRole");
  EXPECT_EQ(req.form_param("RoleSessionName"), "cli-session");
  EXPECT_EQ(req.form_param("DurationSeconds"), "1800");
}

TEST_F(ChainTest, CliChainableRamRoleArnChainsTwoAssumeRoles) {
  home.write(".aliyun/config.json", cli_config);
  auto r = profile("chain")->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto seen = sts.received();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].form_param("RoleArn"), "acs:ram::1234567890123456:role/cli");
  EXPECT_EQ(seen[1].form_param("RoleArn"), "acs:ram::1234567890123456:role/second");
  // The second call is signed with the first call's temporary credentials.
  EXPECT_EQ(seen[1].query_param("AccessKeyId"), "STS.KeyAssumeRole1");
  EXPECT_EQ(seen[1].query_param("SecurityToken"), sts.token);
  EXPECT_EQ(seen[1].header("x-acs-credentials-provider"), "ram_role_arn");
}

TEST_F(ChainTest, CliEcsRamRoleAndOidcModes) {
  home.write(".aliyun/config.json", cli_config);
  auto ecs = profile("ecs")->get();
  ASSERT_TRUE(ecs.ok()) << ecs.error().to_string();
  EXPECT_EQ(ecs->access_key_id, "STS.Imds1");
  auto oidc = profile("oidc")->get();
  ASSERT_TRUE(oidc.ok()) << oidc.error().to_string();
  EXPECT_EQ(sts.received().back().form_param("OIDCToken"), "eyJ.oidc.tok");
}

TEST_F(ChainTest, CliProfileErrors) {
  home.write(".aliyun/config.json", cli_config);
  auto loop = profile("loop")->get();
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.error().message.find("too deep"), std::string::npos) << loop.error().message;
  auto sso = profile("sso")->get();
  ASSERT_FALSE(sso.ok());
  EXPECT_NE(sso.error().message.find("unsupported mode CloudSSO"), std::string::npos);
  auto none = profile("nonexistent")->get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "Credentials.NotFound");
}

TEST_F(ChainTest, ProfileSourceFallsBackToTheCredentialsFileSection) {
  home.write(".alibabacloud/credentials",
             "[team]\ntype = ecs_ram_role\nrole_name = EcsShareRole\n");
  auto r = profile("team")->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "profile/profile/ecs_ram_role");
}

TEST_F(ChainTest, AssumeRoleFromTheDefaultChain) {
  set_env_keys();
  CredentialsOptions o;
  o.source = CredentialsSource::kAssumeRole;
  o.role_arn = "acs:ram::1234567890123456:role/target";
  auto p = make_credentials_provider(o, deps());
  ASSERT_TRUE(p.ok());
  auto r = p.value()->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto req = sts.received().at(0);
  EXPECT_EQ(req.query_param("AccessKeyId"), "LTAIenv");
  EXPECT_EQ(req.header("x-acs-credentials-provider"), "default/env");
}

TEST_F(ChainTest, FactoryRejectsIncompleteOptions) {
  CredentialsOptions o;
  o.source = CredentialsSource::kOidc;
  o.role_arn = "acs:ram::1:role/r";
  auto oidc = make_credentials_provider(o, deps());
  ASSERT_FALSE(oidc.ok());
  EXPECT_EQ(oidc.error().code, "Credentials.Invalid");
  o.source = CredentialsSource::kAssumeRole;
  o.role_arn.clear();
  EXPECT_FALSE(make_credentials_provider(o, deps()).ok());
  o.source = CredentialsSource::kProfile;
  EXPECT_FALSE(make_credentials_provider(o, deps()).ok());
}

}  // namespace
}  // namespace sharekeeper::cloud
