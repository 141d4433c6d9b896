#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "cloud/credential_providers.hpp"
#include "cloud/redact.hpp"
#include "cloud/signer.hpp"
#include "support/credentials_fakes.hpp"

namespace sharekeeper::cloud {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeEnv;
using testing::FakeImds;
using testing::FakeSts;
using testing::kT0;
using testing::TempDir;
using testing::TestRequest;

class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsDeps deps() {
    CredentialsDeps d;
    d.now = clock.fn();
    d.env = env.lookup();
    d.home_dir = home.path();
    d.sts_transport = transport;
    d.metadata_transport = transport;
    d.nonce = [] { return std::string("0123456789abcdef0123456789abcdef"); };
    return d;
  }
  std::shared_ptr<CredentialsProvider> make(const CredentialsOptions& o, const CredentialsDeps& d) {
    auto p = make_credentials_provider(o, d);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().to_string());
    return p.ok() ? p.value() : nullptr;
  }
  static std::shared_ptr<CredentialsProvider> static_ak(
      std::string id = "LTAI5tTestAccessKeyId01", std::string secret = "SourceSecretAbc123456") {
    Credentials c;
    c.access_key_id = std::move(id);
    c.access_key_secret = std::move(secret);
    return std::make_shared<StaticCredentialsProvider>(c);
  }

  FakeClock clock;
  FakeEnv env;
  TempDir home;
  std::shared_ptr<Transport> transport = testing::loopback_transport();
};

TEST(UtcTimestamp, ParsesBothSdkFormsAsUtc) {
  EXPECT_EQ(parse_utc_timestamp("2026-11-28T22:15:12Z"), kT0);
  EXPECT_EQ(parse_utc_timestamp("2026-11-28T22:15:12.250Z"), kT0 + 250ms);
  EXPECT_EQ(parse_utc_timestamp("2024-02-29T00:00:00Z"),
            std::chrono::system_clock::from_time_t(1709164800));
  EXPECT_EQ(format_utc_timestamp(kT0), "2026-11-28T22:15:12Z");
}

TEST(UtcTimestamp, RejectsEveryOtherForm) {
  for (const char* bad :
       {"", "2026-11-28 22:15:12Z", "2026-11-28T22:15:12", "2026-11-28T22:15:12+08:00",
        "2026-11-28T22:15:12.5Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-28T24:00:00Z", "26-11-28T22:15:12Z", "2026-11-28T22:15:1xZ", "1795904112"}) {
    EXPECT_FALSE(parse_utc_timestamp(bad)) << bad;
  }
}

TEST(UtcTimestamp, IgnoresTheProcessTimeZone) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "Asia/Shanghai", 1);
  tzset();
  const auto parsed = parse_utc_timestamp("2026-11-28T23:15:12Z");
  const auto formatted = format_utc_timestamp(kT0);
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(parsed, std::chrono::system_clock::from_time_t(1795907712));
  EXPECT_EQ(formatted, "2026-11-28T22:15:12Z");
}

TEST_F(CredentialsTest, StaticKeysNameTheirKind) {
  Credentials c;
  c.access_key_id = "id";
  c.access_key_secret = "secret-value";
  EXPECT_EQ(StaticCredentialsProvider(c).get()->provider, "static_ak");
  c.security_token = "token-value";
  EXPECT_EQ(StaticCredentialsProvider(c).get()->provider, "static_sts");
  CredentialsOptions o;
  o.source = CredentialsSource::kStatic;
  auto missing = make_credentials_provider(o, deps());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "Credentials.Invalid");
}

TEST_F(CredentialsTest, EnvWithDefaultAndNamedVariables) {
  CredentialsOptions o;
  o.source = CredentialsSource::kEnv;
  auto p = make(o, deps());
  auto r = p->get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Credentials.NotConfigured");
  EXPECT_NE(r.error().message.find("ALIBABA_CLOUD_ACCESS_KEY_ID"), std::string::npos);

  env.set("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv");
  env.set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "EnvSecretCANARY1");
  env.set("ALIBABA_CLOUD_SECURITY_TOKEN", "EnvTokenValue");
  r = p->get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->access_key_id, "LTAIenv");
  EXPECT_EQ(r->security_token, "EnvTokenValue");
  EXPECT_EQ(r->provider, "env");

  o.access_key_id_env = "PROD_AK";
  o.access_key_secret_env = "PROD_SK";
  auto named = make(o, deps());
  auto missing = named->get();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("PROD_AK"), std::string::npos);
  env.set("PROD_AK", "LTAIprod");
  env.set("PROD_SK", "ProdSecretValue");
  auto got = named->get();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->access_key_id, "LTAIprod");
  EXPECT_EQ(got->security_token, "");  // no token variable named: the default one is not read
}

TEST_F(CredentialsTest, AssumeRoleSendsTheSdkWireShapeSignedV1) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  CredentialsOptions o;
  o.source = CredentialsSource::kAssumeRole;
  o.role_arn = "acs:ram::1234567890123456:role/share-daemon";
  o.role_session_name = "share-daemon";
  o.external_id = "ext-42";
  o.from = static_ak();
  auto p = make(o, d);
  auto r = p->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "STS.KeyAssumeRole1");
  EXPECT_EQ(r->access_key_secret, sts.secret);
  EXPECT_EQ(r->security_token, sts.token);
  EXPECT_EQ(r->expiration, kT0 + 3600s);
  EXPECT_EQ(r->provider, "ram_role_arn");

  const TestRequest req = sts.received().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/");
  EXPECT_EQ(req.header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(req.header("x-acs-credentials-provider"), "static_ak");
  // Common parameters in the query, in the SDK's order; business parameters in the body.
  const std::string query = req.target.substr(req.target.find('?') + 1);
  EXPECT_EQ(query.substr(0, query.find("&Signature=")),
            "Version=2015-04-01&Action=AssumeRole&Format=JSON&Timestamp=2026-11-28T22%3A15%3A12Z"
            "&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0"
            "&SignatureNonce=0123456789abcdef0123456789abcdef&AccessKeyId=LTAI5tTestAccessKeyId01");
  EXPECT_EQ(req.body,
            "RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2Fshare-daemon"
            "&RoleSessionName=share-daemon&DurationSeconds=3600&ExternalId=ext-42");
  // The signature covers query and body together (docs/alibaba-api.md §1.2).
  Params all;
  for (const char* k : {"Version", "Action", "Format", "Timestamp", "SignatureMethod",
                        "SignatureVersion", "SignatureNonce", "AccessKeyId"}) {
    all[k] = req.query_param(k);
  }
  for (const char* k : {"RoleArn", "RoleSessionName", "DurationSeconds", "ExternalId"}) {
    all[k] = req.form_param(k);
  }
  EXPECT_EQ(req.query_param("Signature"), sign_v1("POST", all, "SourceSecretAbc123456").signature);
}

TEST_F(CredentialsTest, AssumeRoleFromStsCredentialsSignsTheSecurityToken) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  Credentials src;
  src.access_key_id = "STS.SourceKey";
  src.access_key_secret = "SourceStsSecret999";
  src.security_token = "SourceToken+/=";
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(std::make_shared<StaticCredentialsProvider>(src), role, d);
  ASSERT_TRUE(p.get().ok());
  const TestRequest req = sts.received().at(0);
  EXPECT_EQ(req.query_param("SecurityToken"), "SourceToken+/=");
  EXPECT_EQ(req.header("x-acs-credentials-provider"), "static_sts");
  EXPECT_EQ(req.form_param("RoleSessionName"), "sharekeeper");
}

TEST_F(CredentialsTest, AssumeRoleOverVerifiedTls) {
  const auto cert = testing::make_self_signed_cert({"localhost"}, {"127.0.0.1"});
  testing::TempFile ca(cert.cert_pem);
  FakeSts sts(clock, cert);
  TransportOptions to;
  to.ca_file = ca.path();
  to.use_system_ca = false;
  to.proxy = ProxySettings{};
  auto d = deps();
  d.sts_transport = std::shared_ptr<Transport>(HttpsTransport::create(to).value().release());
  d.sts_endpoint = sts.url();
  ASSERT_EQ(d.sts_endpoint.rfind("https://", 0), 0u);
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  auto r = p.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  // The same STS over plain http is refused by a transport that does not allow it.
  auto strict = deps();
  strict.sts_transport = d.sts_transport;
  strict.sts_endpoint = "http://127.0.0.1:1";
  AssumeRoleCredentialsProvider q(static_ak(), role, strict);
  auto refused = q.get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "Transport.Scheme");
}

TEST_F(CredentialsTest, OidcIsAnonymousWithAFormBodyAndRereadsTheTokenFile) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  const std::string token_file = home.write("token", "eyJhbGciOiJSUzI1NiJ9.first.sig\n");
  CredentialsOptions o;
  o.source = CredentialsSource::kOidc;
  o.role_arn = "acs:ram::1234567890123456:role/share-daemon";
  o.oidc_provider_arn = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c123";
  o.oidc_token_file = token_file;
  o.role_session_name = "share-daemon";
  auto p = make(o, d);
  auto r = p->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->provider, "oidc_role_arn");
  TestRequest req = sts.received().at(0);
  EXPECT_EQ(req.target,
            "/?Version=2015-04-01&Action=AssumeRoleWithOIDC&Format=JSON"
            "&Timestamp=2026-11-28T22%3A15%3A12Z");
  EXPECT_EQ(req.body,
            "OIDCProviderArn=acs%3Aram%3A%3A1234567890123456%3Aoidc-provider%2Fack-rrsa-c123"
            "&OIDCToken=eyJhbGciOiJSUzI1NiJ9.first.sig"
            "&RoleArn=acs%3Aram%3A%3A1234567890123456%3Arole%2Fshare-daemon"
            "&RoleSessionName=share-daemon&DurationSeconds=3600");
  EXPECT_EQ(req.header("authorization"), "");
  EXPECT_EQ(req.header("content-type"), "application/x-www-form-urlencoded");

  // The kubelet rotated the token; the next refresh must send the new one.
  home.write("token", "eyJhbGciOiJSUzI1NiJ9.second.sig");
  clock.advance(46min);
  ASSERT_TRUE(p->get().ok());
  ASSERT_EQ(sts.calls(), 2);
  EXPECT_EQ(sts.received().at(1).form_param("OIDCToken"), "eyJhbGciOiJSUzI1NiJ9.second.sig");
}

TEST_F(CredentialsTest, OidcWithoutTokenFileFails) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1:role/r";
  OidcCredentialsProvider p("acs:ram::1:oidc-provider/p", home.path() + "/missing", role, d);
  auto r = p.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Credentials.TokenFile");
  EXPECT_EQ(sts.calls(), 0);
}

TEST_F(CredentialsTest, RefreshesFifteenMinutesBeforeExpiry) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 1);
  clock.advance(44min);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 1);  // 16 min left: cached
  clock.advance(1min);
  auto r = p.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sts.calls(), 2);  // 15 min left: refreshed
  EXPECT_EQ(r->expiration, kT0 + 45min + 3600s);
}

TEST_F(CredentialsTest, FailedRefreshKeepsValidCredentialsThenGivesUpAtExpiry) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  auto first = p.get();
  ASSERT_TRUE(first.ok());

  sts.fail_status = 500;
  clock.advance(50min);
  auto kept = p.get();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, first->access_key_id);
  EXPECT_EQ(sts.calls(), 2);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 2);  // no new attempt within the retry interval
  clock.advance(kRefreshRetryInterval);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 3);

  clock.set(kT0 + 3600s);  // the old credentials have expired
  auto gone = p.get();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "InternalError");
  EXPECT_EQ(gone.error().cls, ErrorClass::kTransient);

  sts.fail_status = 0;
  auto back = p.get();
  ASSERT_TRUE(back.ok());
  EXPECT_NE(back->access_key_id, first->access_key_id);
}

TEST_F(CredentialsTest, InvalidateForcesOneFetchThroughTheChain) {
  FakeSts sts(clock);
  auto d = deps();
  d.sts_endpoint = sts.url();
  env.set("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
  home.write(".alibabacloud/credentials",
             "[default]\ntype = ram_role_arn\naccess_key_id = LTAIfile\n"
             "access_key_secret = FileSecret001\nrole_arn = acs:ram::1:role/r\n");
  DefaultCredentialsChain chain(d);
  auto first = chain.get();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  ASSERT_TRUE(chain.get().ok());
  EXPECT_EQ(sts.calls(), 1);
  chain.invalidate();  // e.g. the gateway answered InvalidSecurityToken.Expired
  auto second = chain.get();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(sts.calls(), 2);
  EXPECT_NE(second->access_key_id, first->access_key_id);
  ASSERT_TRUE(chain.get().ok());
  EXPECT_EQ(sts.calls(), 2);

  sts.fail_status = 503;
  chain.invalidate();
  auto kept = chain.get();  // the forced fetch failed; the old credentials are still valid
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, second->access_key_id);
  EXPECT_EQ(sts.calls(), 3);
}

TEST_F(CredentialsTest, ShortLivedCredentialsDoNotTurnEveryCallIntoAFetch) {
  FakeSts sts(clock);
  sts.lifetime = 900s;  // the STS minimum equals the stale window
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 1);
  clock.advance(kRefreshRetryInterval);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(sts.calls(), 2);
}

TEST_F(CredentialsTest, StsErrorsNeverCarrySecrets) {
  FakeSts sts(clock);
  // SignatureDoesNotMatch echoes the server's string to sign, which holds the caller's token.
  sts.error_message =
      "Specified signature is not matched with our calculation. server string to sign is:"
      "POST&%2F&AccessKeyId%3DSTS.Src%26SecurityToken%3DCanaryTokenQQQ999";
  sts.fail_status = 400;
  auto d = deps();
  d.sts_endpoint = sts.url();
  Credentials src;
  src.access_key_id = "STS.Src";
  src.access_key_secret = "CanarySecretZZZ777";
  src.security_token = "CanaryTokenQQQ999";
  StsRoleOptions role;
  role.role_arn = "acs:ram::1234567890123456:role/r";
  AssumeRoleCredentialsProvider p(std::make_shared<StaticCredentialsProvider>(src), role, d);
  auto r = p.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NoPermission");
  EXPECT_EQ(r.error().http_status, 400);
  const std::string text = r.error().to_string();
  EXPECT_EQ(text.find("Canary"), std::string::npos) << text;
  EXPECT_EQ(text.find("Signature="), std::string::npos) << text;
}

TEST_F(CredentialsTest, MalformedStsAnswersNameTheFieldNotTheBody) {
  testing::LoopbackServer sts([](const TestRequest&) {
    return testing::TestResponse{
        200,
        {},
        R"({"Credentials":{"AccessKeyId":"STS.x","AccessKeySecret":"LeakySecretCanary1"}})"};
  });
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  auto r = p.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Client.MalformedResponse");
  EXPECT_NE(r.error().message.find("SecurityToken"), std::string::npos);
  EXPECT_EQ(r.error().to_string().find("LeakySecretCanary1"), std::string::npos);
}

TEST_F(CredentialsTest, ImdsV2TokenRoleDiscoveryAndOneHourPrefetch) {
  FakeImds imds(clock);
  auto d = deps();
  d.metadata_base_url = imds.url();
  CredentialsOptions o;
  o.source = CredentialsSource::kEcsRamRole;
  auto p = make(o, d);
  auto r = p->get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "STS.Imds1");
  EXPECT_EQ(r->access_key_secret, imds.secret);
  EXPECT_EQ(r->security_token, "ImdsToken/+=");
  EXPECT_EQ(r->expiration, kT0 + 6h);
  EXPECT_EQ(r->provider, "ecs_ram_role");
  auto seen = imds.received();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].path, "/latest/api/token");
  EXPECT_EQ(seen[1].path, "/latest/meta-data/ram/security-credentials/");
  EXPECT_EQ(seen[2].path, "/latest/meta-data/ram/security-credentials/EcsShareRole");

  clock.advance(4h + 59min);
  ASSERT_TRUE(p->get().ok());
  EXPECT_EQ(imds.credential_calls(), 1);
  clock.advance(1min);  // one hour left: prefetch
  auto again = p->get();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(imds.credential_calls(), 2);
  EXPECT_EQ(again->access_key_id, "STS.Imds2");
  // The discovered role name is kept: no second discovery request.
  int discoveries = 0;
  for (const auto& req : imds.received()) {
    discoveries += req.path == "/latest/meta-data/ram/security-credentials/";
  }
  EXPECT_EQ(discoveries, 1);
}

TEST_F(CredentialsTest, ImdsFallsBackToV1UnlessDisabled) {
  FakeImds imds(clock);
  imds.v2_supported = false;
  auto d = deps();
  d.metadata_base_url = imds.url();
  EcsRamRoleCredentialsProvider v1("EcsShareRole", false, d);
  auto r = v1.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(imds.received().back().header("x-aliyun-ecs-metadata-token"), "");

  const auto before = imds.received().size();
  env.set("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
  CredentialsOptions o;
  o.source = CredentialsSource::kEcsRamRole;
  o.role_name = "EcsShareRole";
  auto strict = make(o, d);
  auto refused = strict->get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "Credentials.MetadataToken");
  EXPECT_EQ(imds.received().size(), before + 1);  // the PUT only; no v1 GET
}

TEST_F(CredentialsTest, ImdsRequiresCodeSuccess) {
  FakeImds imds(clock);
  imds.code = "Failed";
  auto d = deps();
  d.metadata_base_url = imds.url();
  EcsRamRoleCredentialsProvider p("EcsShareRole", false, d);
  auto r = p.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Credentials.MetadataNotSuccess");
  EXPECT_EQ(r.error().to_string().find(imds.secret), std::string::npos);
}

TEST_F(CredentialsTest, ImdsUnreachableIsATransportError) {
  auto d = deps();
  d.metadata_base_url = "http://127.0.0.1:1";
  EcsRamRoleCredentialsProvider p("", false, d);
  auto r = p.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Transport.Connect");
}

TEST_F(CredentialsTest, CredentialsUri) {
  std::atomic<bool> success{true};
  testing::LoopbackServer uri([&](const TestRequest& r) {
    if (r.path != "/creds") return testing::TestResponse{404, {}, ""};
    return testing::TestResponse{
        200,
        {},
        "{" +
            testing::credentials_json("STS.Uri", "UriSecretValue123", "UriToken", clock.now() + 1h,
                                      success ? R"(,"Code":"Success")" : R"(,"Code":"Failure")") +
            "}"};
  });
  auto d = deps();
  CredentialsUriProvider p(uri.url() + "/creds?key=UriQueryCanary", d);
  auto r = p.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->access_key_id, "STS.Uri");
  EXPECT_EQ(r->expiration, kT0 + 1h);
  EXPECT_EQ(uri.received().at(0).method, "GET");
  EXPECT_EQ(uri.received().at(0).target, "/creds?key=UriQueryCanary");

  success = false;
  CredentialsUriProvider failing(uri.url() + "/creds?key=UriQueryCanary", d);
  auto bad = failing.get();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "Credentials.UriNotSuccess");

  CredentialsUriProvider missing(uri.url() + "/nope?key=UriQueryCanary", d);
  auto gone = missing.get();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().http_status, 404);
  EXPECT_EQ(gone.error().to_string().find("UriQueryCanary"), std::string::npos);
}

TEST_F(CredentialsTest, FetchedSecretsAreRegisteredForRedaction) {
  FakeSts sts(clock);
  sts.secret = "FreshSecretRegistered42";
  auto d = deps();
  d.sts_endpoint = sts.url();
  StsRoleOptions role;
  role.role_arn = "acs:ram::1:role/r";
  AssumeRoleCredentialsProvider p(static_ak(), role, d);
  ASSERT_TRUE(p.get().ok());
  EXPECT_EQ(redact::scrub("boom FreshSecretRegistered42 boom").find("FreshSecret"),
            std::string::npos);
}

}  // namespace
}  // namespace sharekeeper::cloud
