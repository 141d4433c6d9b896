// AlibabaClient against a fake Transport: exact wire parameters (byte-identical to the official
// SDK's captures), signing headers, pagination, chunking, retries, outcome-unknown, idempotency,
// and a canary secret that must never reach an Error or the observer.
#include "cloud/alibaba_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "alibaba_client_fakes.hpp"
#include "cloud/client_internal.hpp"
#include "cloud/redact.hpp"
#include "cloud/request_ids.hpp"
#include "cloud/signer.hpp"

namespace sharekeeper::cloud {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::FakeCredentials;
using testing::FakeTransport;
using testing::header_of;
using testing::query_of;

constexpr const char* kAkId = "LTAI5tTestAccessKeyId01";
constexpr const char* kAkSecret = "TestAccessKeySecret0123456789ab";
constexpr const char* kStsId = "STS.NTestTemporaryKeyId0001";
constexpr const char* kStsSecret = "TestTemporarySecretXyz987654321";
constexpr const char* kStsToken = "CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==";

std::chrono::system_clock::time_point utc(const std::string& iso) {
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Credentials ak(std::string provider = "static_ak") {
  Credentials c;
  c.access_key_id = kAkId;
  c.access_key_secret = kAkSecret;
  c.provider = std::move(provider);
  return c;
}

Credentials sts(std::string provider = "static_sts") {
  Credentials c;
  c.access_key_id = kStsId;
  c.access_key_secret = kStsSecret;
  c.security_token = kStsToken;
  c.provider = std::move(provider);
  return c;
}

struct Observed {
  std::string product, action, code;
  int attempt;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transport = std::make_shared<FakeTransport>();
    credentials = std::make_shared<FakeCredentials>(ak());
    clock = std::make_shared<support::ManualClock>(utc("2024-01-02T03:04:05Z"));
  }
  void TearDown() override { redact::clear_registered_secrets(); }

  AlibabaClientOptions options() {
    AlibabaClientOptions o;
    o.transport = transport;
    o.credentials = credentials;
    o.clock = clock;
    o.nonce = [this] { return "nonce-" + std::to_string(++nonces); };
    o.random = [] { return 1.0; };  // the top of every jitter window: deterministic delays
    o.on_call = [this](std::string_view p, std::string_view a, std::string_view c,
                       std::chrono::nanoseconds, int attempt) {
      const std::lock_guard lock(observed_mu);  // the client calls it from its fan-out threads
      observed.push_back({std::string(p), std::string(a), std::string(c), attempt});
    };
    return o;
  }
  AlibabaClient client(AlibabaClientOptions o) { return AlibabaClient(std::move(o)); }

  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<FakeCredentials> credentials;
  std::shared_ptr<support::ManualClock> clock;
  std::mutex observed_mu;
  std::vector<Observed> observed;
  std::atomic<int> nonces{0};  // nonce() too is called from the fan-out threads
};

// ---------------------------------------------------------------- byte-identical to the SDK

json load_captures() {
  std::ifstream in(std::string(SHAREKEEPER_REFERENCE_DIR) + "/sdk-wire-captures.json");
  return json::parse(in).at("captures");
}

const json& capture(const std::string& label) {
  static const json all = load_captures();
  for (const auto& c : all) {
    if (c.at("label") == label) return c;
  }
  throw std::runtime_error("no capture " + label);
}

// Replays one V3 capture: same clock, nonce, credentials and endpoint; our request must carry the
// same decoded query, the same signed headers and therefore the same Authorization, byte for byte.
class CaptureTest : public ClientTest {
 protected:
  AlibabaClient client_for(const json& c, Credentials creds) {
    clock = std::make_shared<support::ManualClock>(utc(c.at("headers").at("x-acs-date")));
    credentials = std::make_shared<FakeCredentials>(std::move(creds));
    AlibabaClientOptions o = options();
    const std::string nonce = c.at("headers").at("x-acs-signature-nonce");
    o.nonce = [nonce] { return nonce; };
    EndpointOptions eo;
    // Every product to the captured host, which is also the Host header the SDK sent
    // (override_all would send the product's public host name instead).
    for (const char* product : {"ram", "sts", "ecs", "kms", "resourcesharing", "resourcemanager"})
      eo.product_overrides[product] = "http://" + c.at("headers").at("host").get<std::string>();
    o.endpoints = std::make_shared<const EndpointResolver>(*EndpointResolver::create(eo));
    transport->push(testing::json_response(c.at("response_status"), c.at("response_body")));
    return AlibabaClient(std::move(o));
  }

  void expect_same_wire(const json& c) {
    ASSERT_EQ(transport->count(), 1u);
    const HttpRequest r = transport->requests()[0];
    EXPECT_EQ(r.method, c.at("method"));
    EXPECT_EQ(r.body, "");
    std::map<std::string, std::string> want;
    for (const auto& [k, v] : c.at("query_decoded").items()) want[k] = v;
    EXPECT_EQ(query_of(r), want);
    for (const char* h :
         {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce",
          "x-acs-content-sha256", "x-acs-credentials-provider", "authorization"}) {
      EXPECT_EQ(header_of(r, h), c.at("headers").value(h, "")) << h;
    }
    EXPECT_EQ(header_of(r, "x-acs-security-token"),
              c.at("headers").value("x-acs-security-token", ""));
    EXPECT_EQ(header_of(r, "x-acs-accesskey-id"), c.at("headers").value("x-acs-accesskey-id", ""));
  }
};

TEST_F(CaptureTest, CreateRoleMatchesSdk) {
  const json& c = capture("ram.CreateRole default(V3)");
  const json& q = c.at("query_decoded");
  auto cl = client_for(c, ak());
  auto role = cl.create_role(
      q.at("RoleName").get<std::string>(), q.at("AssumeRolePolicyDocument").get<std::string>(),
      q.at("Description").get<std::string>(), {{"managed-by", "share-daemon"}});
  ASSERT_TRUE(role.ok()) << role.error().to_string();
  expect_same_wire(c);
  EXPECT_EQ(role->role_id, "301234567890123456");
  EXPECT_EQ(role->trust_policy, c.at("response_body").at("Role").at("AssumeRolePolicyDocument"));
}

TEST_F(CaptureTest, ModifyImageSharePermissionMatchesSdk) {
  const json& c = capture("ecs.ModifyImageSharePermission default(V3)");
  auto cl = client_for(c, ak());
  ASSERT_TRUE(cl.modify_image_share_permission("cn-hangzhou", "m-bp1testimage0001",
                                               {"1111111111111111", "2222222222222222"},
                                               {"3333333333333333"})
                  .ok());
  expect_same_wire(c);
}

TEST_F(CaptureTest, GetCallerIdentityMatchesSdk) {
  const json& c = capture("sts.GetCallerIdentity default(V3)");
  auto cl = client_for(c, ak());
  auto id = cl.get_caller_identity();
  ASSERT_TRUE(id.ok());
  expect_same_wire(c);
  EXPECT_EQ(id->account_id, "1234567890123456");
  EXPECT_EQ(id->identity_type, "AssumedRoleUser");
}

TEST_F(CaptureTest, StsTokenGoesInSignedHeadersLikeSdk) {
  const json& c = capture("sts.GetCallerIdentity STS token default(V3)");
  auto cl = client_for(c, sts());
  ASSERT_TRUE(cl.get_caller_identity().ok());
  expect_same_wire(c);
}

TEST_F(CaptureTest, CreatePolicyVersionMatchesSdk) {
  const json& c = capture("ram.CreatePolicyVersion default(V3)");
  const json& q = c.at("query_decoded");
  auto cl = client_for(c, ak());
  auto v = cl.create_policy_version(q.at("PolicyName").get<std::string>(),
                                    q.at("PolicyDocument").get<std::string>(), true, true);
  ASSERT_TRUE(v.ok());
  expect_same_wire(c);
  EXPECT_EQ(v->version_id, "v2");
  EXPECT_TRUE(v->is_default);
}

TEST_F(CaptureTest, TagResourcesJsonStyleParamsMatchSdk) {
  const json& c = capture("ram.TagResources default(V3) JSON-style list params");
  auto cl = client_for(c, ak());
  ASSERT_TRUE(cl.tag_resources("role", {"AliyunECSShareEncryptSnapshotDefaultRole"},
                               {{"managed-by", "share-daemon"}})
                  .ok());
  expect_same_wire(c);
}

TEST_F(CaptureTest, GetRoleNotFoundIsAbsent) {
  const json& c = capture("ram.GetRole -> 404 EntityNotExist.Role");
  auto cl = client_for(c, ak());
  auto role = cl.get_role("missing-role");
  ASSERT_TRUE(role.ok());
  EXPECT_FALSE(role->has_value());
  expect_same_wire(c);
}

TEST_F(CaptureTest, DescribeSnapshotsParamsMatchSdkStyle) {
  const json& c = capture("ecs.DescribeSnapshots default(V3) tags+SnapshotIds");
  auto cl = client_for(c, ak());
  auto snaps = cl.describe_snapshots("cn-hangzhou", {"s-bp1aaaa", "s-bp1bbbb"}, {{"share", "yes"}});
  ASSERT_TRUE(snaps.ok());
  auto q = query_of(transport->requests()[0]);
  // The capture also filtered Encrypted=true; we list all and look at Encrypted ourselves.
  json want = c.at("query_decoded");
  want.erase("Encrypted");
  std::map<std::string, std::string> w;
  for (const auto& [k, v] : want.items()) w[k] = v;
  EXPECT_EQ(q, w);
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].snapshot_id, "s-bp1aaaa");
  EXPECT_TRUE((*snaps)[0].encrypted);
  EXPECT_EQ((*snaps)[0].kms_key_id, "key-hzz63a1b2c3d4e5f6****");
}

// ---------------------------------------------------------------- signing details

TEST_F(ClientTest, V3RequestVerifiesLikeTheEmulatorWould) {
  credentials = std::make_shared<FakeCredentials>(sts(""));
  auto cl = client(options());
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("a b*c~/é").ok());
  const HttpRequest r = transport->requests()[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.scheme, "https");
  EXPECT_EQ(r.host, "ram.aliyuncs.com");
  EXPECT_EQ(r.port, 443);
  EXPECT_EQ(r.target, "/?RoleName=a%20b%2Ac~%2F%C3%A9");
  EXPECT_EQ(header_of(r, "x-acs-date"), "2024-01-02T03:04:05Z");
  EXPECT_EQ(header_of(r, "x-acs-content-sha256"), sha256_hex(""));
  EXPECT_EQ(header_of(r, "x-acs-security-token"), kStsToken);
  EXPECT_EQ(header_of(r, "x-acs-credentials-provider"), "");  // none named: not sent
  // Re-verify from the decoded wire request, as a server does.
  V3Input in;
  in.query = query_of(r);
  for (const auto& [k, v] : r.headers) {
    if (k != "authorization") in.headers.emplace_back(k, v);
  }
  EXPECT_EQ(sign_v3(in, kStsId, kStsSecret).authorization, header_of(r, "authorization"));
  EXPECT_NE(
      header_of(r, "authorization").find("SignedHeaders=host;x-acs-accesskey-id;x-acs-action;"),
      std::string::npos);
}

TEST_F(ClientTest, V1PutsEverythingInTheSignedQuery) {
  credentials = std::make_shared<FakeCredentials>(sts());
  AlibabaClientOptions o = options();
  o.signature = SignatureAlgorithm::kV1;
  auto cl = client(std::move(o));
  transport->push(testing::ok());
  ASSERT_TRUE(cl.modify_image_share_permission("cn-beijing", "m-1", {"1111222233334444"}, {}).ok());
  const HttpRequest r = transport->requests()[0];
  EXPECT_EQ(r.host, "ecs.cn-beijing.aliyuncs.com");
  auto q = query_of(r);
  EXPECT_EQ(q["Action"], "ModifyImageSharePermission");
  EXPECT_EQ(q["Version"], "2014-05-26");
  EXPECT_EQ(q["Format"], "JSON");
  EXPECT_EQ(q["AccessKeyId"], kStsId);
  EXPECT_EQ(q["SecurityToken"], kStsToken);
  EXPECT_EQ(q["SignatureMethod"], "HMAC-SHA1");
  EXPECT_EQ(q["SignatureVersion"], "1.0");
  EXPECT_EQ(q["Timestamp"], "2024-01-02T03:04:05Z");
  EXPECT_EQ(q["RegionId"], "cn-beijing");
  EXPECT_EQ(q["AddAccount.1"], "1111222233334444");
  EXPECT_EQ(header_of(r, "authorization"), "");
  const std::string signature = q["Signature"];
  q.erase("Signature");
  Params p(q.begin(), q.end());
  EXPECT_EQ(sign_v1("POST", p, kStsSecret).signature, signature);
  EXPECT_TRUE(r.target.find("&Signature=") != std::string::npos);
}

TEST_F(ClientTest, EveryAttemptGetsAFreshNonce) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(503, "ServiceUnavailable"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("r").ok());
  const auto rs = transport->requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_NE(header_of(rs[0], "x-acs-signature-nonce"), header_of(rs[1], "x-acs-signature-nonce"));
}

// ---------------------------------------------------------------- retries

TEST_F(ClientTest, RetriesTransientWithBackoffThenSucceeds) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(503, "ServiceUnavailable"));
  transport->push(testing::alibaba_error(500, "InternalError"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  auto role = cl.get_role("r");
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(transport->count(), 3u);
  EXPECT_EQ(clock->slept(), milliseconds(100 + 200));
  ASSERT_EQ(observed.size(), 3u);
  EXPECT_EQ(observed[0].code, "ServiceUnavailable");
  EXPECT_EQ(observed[0].attempt, 1);
  EXPECT_EQ(observed[2].code, "OK");
  EXPECT_EQ(observed[2].attempt, 3);
  EXPECT_EQ(observed[2].product, "ram");
  EXPECT_EQ(observed[2].action, "GetRole");
}

TEST_F(ClientTest, GivesUpAfterFourAttempts) {
  auto cl = client(options());
  transport->set_handler(
      [](const HttpRequest&) { return testing::alibaba_error(503, "ServiceUnavailable"); });
  auto r = cl.list_policies_for_role("r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "ServiceUnavailable");
  EXPECT_EQ(r.error().cls, ErrorClass::kTransient);
  EXPECT_EQ(transport->count(), 4u);
  EXPECT_EQ(clock->slept(), milliseconds(100 + 200 + 400));
}

TEST_F(ClientTest, ThrottlingBacksOffLongerHonoursRetryAfterAndSlowsTheLimiter) {
  AlibabaClientOptions o = options();
  auto limiters = std::make_shared<RateLimiterSet>();
  o.rate_limiters = limiters;
  auto cl = client(std::move(o));
  const double before = limiters->for_product("ram", clock->now()).rate();
  transport->push(testing::json_response(400,
                                         {{"Code", "Throttling.User"}, {"Message", "flow control"}},
                                         {{"x-acs-retry-after", "1500"}}));
  transport->push(testing::alibaba_error(400, "Throttling.Api"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("r").ok());
  // 1500 (retry-after beats 500) + 1000 (throttle base doubled), plus limiter pacing after the
  // cut.
  EXPECT_GE(clock->slept(), milliseconds(1500 + 1000));
  EXPECT_LT(limiters->for_product("ram", clock->now()).rate(), before);
}

TEST_F(ClientTest, TerminalErrorsAreNotRetried) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(403, "NoPermission", "You are not authorized"));
  auto r = cl.get_role("r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(transport->count(), 1u);
  EXPECT_EQ(r.error().cls, ErrorClass::kTerminal);
  EXPECT_EQ(r.error().code, "NoPermission");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_EQ(r.error().request_id, "REQ-ERR");
  EXPECT_EQ(r.error().message, "You are not authorized");
  EXPECT_EQ(r.error().recommend, "https://api.aliyun.com/troubleshoot?q=NoPermission");
  EXPECT_EQ(r.error().product, "ram");
  EXPECT_EQ(r.error().action, "GetRole");
}

TEST_F(ClientTest, ReadsRetryAnUnknownOutcome) {
  auto cl = client(options());
  transport->push(testing::transport_error("Transport.Timeout", "read timed out"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("r").ok());
  EXPECT_EQ(transport->count(), 2u);
}

TEST_F(ClientTest, WritesReturnAnUnknownOutcomeForReobservation) {
  auto cl = client(options());
  transport->push(testing::transport_error("Transport.Timeout", "read timed out"));
  auto r = cl.attach_policy_to_role("Custom", "p", "r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(r.error().code, "Transport.Timeout");
  EXPECT_EQ(r.error().product, "ram");
  EXPECT_EQ(r.error().action, "AttachPolicyToRole");
  EXPECT_EQ(transport->count(), 1u);
}

// ADR 0003: a write the server may have carried out is never retried blind.
TEST_F(ClientTest, AWriteAnswered5xxIsAnUnknownOutcomeNotARetry) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(500, "InternalError"));
  auto r = cl.create_policy_version("p", R"({"Version":"1","Statement":[]})", true, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(r.error().code, "InternalError");
  EXPECT_EQ(transport->count(), 1u);
}

TEST_F(ClientTest, SignatureNonceUsedIsAnUnknownOutcomeForWritesAndRetriedForReads) {
  auto cl = client(options());
  // A copy of this write (re-sent by the transport after a stale connection broke) had arrived.
  transport->push(testing::alibaba_error(400, "SignatureNonceUsed"));
  auto w = cl.attach_policy_to_role("Custom", "p", "r");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().cls, ErrorClass::kOutcomeUnknown);
  EXPECT_EQ(transport->count(), 1u);
  // A read is simply asked again with a fresh nonce.
  transport->push(testing::alibaba_error(400, "SignatureNonceUsed"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  EXPECT_TRUE(cl.get_role("r").ok());
  EXPECT_EQ(transport->count(), 3u);
}

TEST_F(ClientTest, AThrottledWriteIsRetriedWhateverItsStatus) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(503, "Throttling.User"));
  transport->push(testing::ok());
  EXPECT_TRUE(cl.attach_policy_to_role("Custom", "p", "r").ok());
  EXPECT_EQ(transport->count(), 2u);
}

TEST_F(ClientTest, ConnectFailuresBeforeSendingAreRetriedEvenForWrites) {
  auto cl = client(options());
  transport->push(testing::transport_error("Transport.Connect", "connection refused"));
  transport->push(testing::ok());
  ASSERT_TRUE(cl.attach_policy_to_role("Custom", "p", "r").ok());
  EXPECT_EQ(transport->count(), 2u);
}

// Audit records carry the RequestId of each write: the client reports every successful call to the
// collectors alive on the calling thread (failed attempts and other threads are not reported).
TEST_F(ClientTest, SuccessfulCallsReportTheirRequestIdToCollectorsOnThisThread) {
  auto cl = client(options());
  CallCollector outer;
  {
    CallCollector inner;
    transport->push(testing::transport_error("Transport.Connect", "connection refused"));
    transport->push(testing::ok());  // RequestId "REQ-OK"
    ASSERT_TRUE(cl.attach_policy_to_role("Custom", "p", "r").ok());
    ASSERT_EQ(inner.calls().size(), 1u);
    EXPECT_EQ(inner.calls()[0].action, "AttachPolicyToRole");
    EXPECT_EQ(inner.calls()[0].request_id, "REQ-OK");
  }
  // Pretty-printed bodies, and an id-looking key inside an embedded (escaped) document that must
  // not be taken for the response's own.
  HttpResponse spaced;
  spaced.status = 200;
  spaced.body =
      R"({"Role": {"RoleName": "r", "AssumeRolePolicyDocument": "{\"RequestId\":\"FAKE\"}"},
    "RequestId" :  "4C46-AB12_9"})";
  transport->push(spaced);
  ASSERT_TRUE(cl.get_role("r").ok());
  std::thread([&] {
    transport->push(testing::ok());
    ASSERT_TRUE(cl.attach_policy_to_role("Custom", "p", "r").ok());
  }).join();
  ASSERT_EQ(outer.calls().size(), 2u);  // not the other thread's call
  EXPECT_FALSE(outer.calls()[0].read_only);
  EXPECT_EQ(outer.calls()[1].action, "GetRole");
  EXPECT_EQ(outer.calls()[1].request_id, "4C46-AB12_9");
  EXPECT_TRUE(outer.calls()[1].read_only);
}

TEST(RequestIdOf, ScansTheBodyForAPlainId) {
  using detail::request_id_of;
  EXPECT_EQ(request_id_of(R"({"RequestId":"A-1","Role":{}})"), "A-1");
  EXPECT_EQ(request_id_of(R"({"Role":{},"RequestId" : "B_2"})"), "B_2");
  EXPECT_EQ(request_id_of(R"({"Role":{}})"), "");
  EXPECT_EQ(request_id_of(R"({"RequestId":12345})"), "") << "not a string";
  EXPECT_EQ(request_id_of(R"({"RequestId":"has space"})"), "");
  EXPECT_EQ(request_id_of(R"({"RequestId":""})"), "");
  EXPECT_EQ(request_id_of(R"({"RequestId":"unterminated)"), "");
  EXPECT_EQ(request_id_of(R"({"Doc":"{\"RequestId\":\"X\"}","RequestId":"Y"})"), "Y");
  EXPECT_EQ(request_id_of("{\"RequestId\":\"" + std::string(128, 'a') + "\"}"),
            std::string(128, 'a'));
  EXPECT_EQ(request_id_of("{\"RequestId\":\"" + std::string(129, 'a') + "\"}"), "") << "too long";
  EXPECT_EQ(request_id_of(""), "");
}

TEST(CallCollector, ADestroyedCollectorLeavesTheThread) {
  EXPECT_FALSE(collecting());
  {
    CallCollector gone;
    EXPECT_TRUE(collecting());
  }
  EXPECT_FALSE(collecting());  // so the client skips scanning bodies again
  CallCollector c;
  { CallCollector inner; }
  note_call("AttachPolicyToRole", "X", false);
  ASSERT_EQ(c.calls().size(), 1u);  // the outer one still collects after the inner one went
  EXPECT_EQ(c.calls()[0].request_id, "X");
}

TEST_F(ClientTest, SharedRetryQuotaStopsRetriesInAStorm) {
  AlibabaClientOptions o = options();
  RetryQuota::Options qo;
  qo.capacity = 10;  // two retries' worth
  o.retry_quota = std::make_shared<RetryQuota>(qo);
  auto cl = client(std::move(o));
  transport->set_handler(
      [](const HttpRequest&) { return testing::alibaba_error(503, "ServiceUnavailable"); });
  EXPECT_FALSE(cl.get_role("a").ok());  // 1 + 2 retries, quota now empty
  EXPECT_FALSE(cl.get_role("b").ok());  // 1, no retry
  EXPECT_EQ(transport->count(), 4u);
}

TEST_F(ClientTest, ExpiredTokenRefreshesCredentialsOnce) {
  credentials = std::make_shared<FakeCredentials>(sts());
  Credentials fresh = sts();
  fresh.security_token = "CAISfreshTokenAfterRefresh";
  credentials->then(fresh);
  auto cl = client(options());
  transport->push(testing::alibaba_error(400, "InvalidSecurityToken.Expired"));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("r").ok());
  const auto rs = transport->requests();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(header_of(rs[1], "x-acs-security-token"), "CAISfreshTokenAfterRefresh");
  EXPECT_EQ(credentials->invalidations(), 1);  // the cache is bypassed, not just asked again
  EXPECT_EQ(clock->slept(), milliseconds(0));

  transport->set_handler([](const HttpRequest&) {
    return testing::alibaba_error(400, "InvalidSecurityToken.Expired");
  });
  auto again = cl.get_role("r");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().cls, ErrorClass::kTerminal);
  EXPECT_EQ(transport->count(), 4u);  // once more, then give up
  EXPECT_EQ(credentials->invalidations(), 2);
}

TEST_F(ClientTest, CredentialFailureIsReturnedRedacted) {
  Error e;
  e.code = "Credentials.Unavailable";
  e.message = "metadata said AccessKeySecret=abcdefghijk";
  e.cls = ErrorClass::kTerminal;
  credentials->fail_with(e);
  auto cl = client(options());
  auto r = cl.get_role("r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().product, "credentials");
  EXPECT_EQ(r.error().message.find("abcdefghijk"), std::string::npos);
  EXPECT_EQ(transport->count(), 0u);
}

TEST_F(ClientTest, PassesThePerCallTimeout) {
  AlibabaClientOptions o = options();
  o.timeout = milliseconds(2500);
  auto cl = client(std::move(o));
  transport->push(testing::ok({{"Role", {{"RoleName", "r"}}}}));
  ASSERT_TRUE(cl.get_role("r").ok());
  EXPECT_EQ(transport->timeouts().at(0), milliseconds(2500));
}

// ---------------------------------------------------------------- idempotency and documents

TEST_F(ClientTest, AlreadyAttachedAndNotAttachedAreSuccess) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(409, "EntityAlreadyExists.Role.Policy"));
  EXPECT_TRUE(cl.attach_policy_to_role("Custom", "p", "r").ok());
  transport->push(testing::alibaba_error(404, "EntityNotExist.Role.Policy"));
  EXPECT_TRUE(cl.detach_policy_from_role("Custom", "p", "r").ok());
  transport->push(testing::alibaba_error(404, "EntityNotExist.Role"));
  auto r = cl.attach_policy_to_role("Custom", "p", "r");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kNotFound);
  auto q = transport->queries()[0];
  EXPECT_EQ(q["PolicyType"], "Custom");
  EXPECT_EQ(q["PolicyName"], "p");
  EXPECT_EQ(q["RoleName"], "r");
}

TEST_F(ClientTest, CreateRoleConflictIsReturnedAsConflict) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(409, "EntityAlreadyExists.Role"));
  auto r = cl.create_role("r", "{}", "", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().cls, ErrorClass::kConflict);
  auto q = transport->queries()[0];
  EXPECT_FALSE(q.contains("Tag"));
  EXPECT_FALSE(q.contains("Description"));
}

TEST_F(ClientTest, DocumentsAreDecodedTwice) {
  auto cl = client(options());
  const std::string trust =
      "{\n  \"Statement\": [\n    {\n      \"Action\": \"sts:AssumeRole\",\n      \"Effect\": "
      "\"Allow\"\n    }\n  ],"
      "\n  \"Version\": \"1\"\n}";
  transport->push(testing::ok({{"Role",
                                {{"RoleName", "r"},
                                 {"RoleId", "3"},
                                 {"AssumeRolePolicyDocument", trust},
                                 {"MaxSessionDuration", 7200},
                                 {"UpdateDate", "2024-01-02T03:04:05Z"}}}}));
  auto role = cl.get_role("r");
  ASSERT_TRUE(role.ok());
  ASSERT_TRUE(role->has_value());
  EXPECT_EQ((*role)->trust_policy, trust);
  EXPECT_EQ((*role)->max_session_duration, 7200);
  EXPECT_EQ((*role)->update_date, "2024-01-02T03:04:05Z");
  EXPECT_TRUE(json::parse((*role)->trust_policy).is_object());

  // Double-encoded (a JSON string holding a JSON string) is unwrapped; an object is re-serialised.
  const std::string doc = R"({"Version":"1","Statement":[]})";
  transport->push(testing::ok(
      {{"Policy",
        {{"PolicyName", "p"},
         {"PolicyType", "Custom"},
         {"DefaultVersion", "v3"},
         {"AttachmentCount", 2}}},
       {"DefaultPolicyVersion", {{"VersionId", "v3"}, {"PolicyDocument", json(doc).dump()}}}}));
  auto policy = cl.get_policy("p", "Custom");
  ASSERT_TRUE(policy.ok());
  ASSERT_TRUE(policy->has_value());
  EXPECT_EQ((*policy)->default_document, doc);
  EXPECT_EQ((*policy)->default_version, "v3");
  EXPECT_EQ((*policy)->attachment_count, 2);

  transport->push(
      testing::ok({{"PolicyVersions",
                    {{"PolicyVersion",
                      {{{"VersionId", "v1"}, {"IsDefaultVersion", false}, {"PolicyDocument", doc}},
                       {{"VersionId", "v2"},
                        {"IsDefaultVersion", true},
                        {"PolicyDocument", json::parse(doc)}}}}}}}));
  auto versions = cl.list_policy_versions("p", "Custom");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].document, doc);
  EXPECT_TRUE((*versions)[1].is_default);
  EXPECT_EQ(json::parse((*versions)[1].document), json::parse(doc));
}

TEST_F(ClientTest, GetPolicyAbsentAndMalformedAnswers) {
  auto cl = client(options());
  transport->push(testing::alibaba_error(404, "EntityNotExist.Policy"));
  auto p = cl.get_policy("p", "Custom");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->has_value());
  HttpResponse garbage;
  garbage.status = 200;
  garbage.body = "<html>captive portal</html>";
  transport->push(garbage);
  auto m = cl.get_policy("p", "Custom");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "Client.MalformedResponse");
  transport->push(testing::ok({{"NotAPolicy", 1}}));
  EXPECT_EQ(cl.get_policy("p", "Custom").error().code, "Client.MalformedResponse");
}

// ---------------------------------------------------------------- pagination

TEST_F(ClientTest, ImageSharePermissionReadsEveryPage) {
  AlibabaClientOptions o = options();
  o.page_size = 2;
  auto cl = client(std::move(o));
  transport->push(
      testing::ok({{"TotalCount", 5},
                   {"Accounts", {{"Account", {{{"AliyunId", "1"}}, {{"AliyunId", "2"}}}}}}}));
  transport->push(testing::ok(
      {{"TotalCount", 5}, {"Accounts", {{"Account", {{{"AliyunId", 3}}, {{"AliyunId", "4"}}}}}}}));
  transport->push(
      testing::ok({{"TotalCount", 5}, {"Accounts", {{"Account", {{{"AliyunId", "5"}}}}}}}));
  auto ids = cl.describe_image_share_permission("cn-hangzhou", "m-1");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(qs[i].at("PageNumber"), std::to_string(i + 1));
    EXPECT_EQ(qs[i].at("PageSize"), "2");
    EXPECT_EQ(qs[i].at("ImageId"), "m-1");
    EXPECT_EQ(qs[i].at("RegionId"), "cn-hangzhou");
  }
  EXPECT_EQ(transport->requests()[0].host, "ecs-cn-hangzhou.aliyuncs.com");
}

TEST_F(ClientTest, AFailedPageFailsTheWholeListing) {
  AlibabaClientOptions o = options();
  o.page_size = 2;
  auto cl = client(std::move(o));
  transport->push(
      testing::ok({{"TotalCount", 5},
                   {"Accounts", {{"Account", {{{"AliyunId", "1"}}, {{"AliyunId", "2"}}}}}}}));
  transport->push(testing::alibaba_error(403, "Forbidden.RAM"));
  auto ids = cl.describe_image_share_permission("cn-hangzhou", "m-1");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.error().code, "Forbidden.RAM");
}

TEST_F(ClientTest, SnapshotsFollowNextTokenAndChunkIdsByHundred) {
  auto cl = client(options());
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) ids.push_back("s-" + std::to_string(i));
  transport->set_handler([](const HttpRequest& r) -> Result<HttpResponse> {
    auto q = query_of(r);
    const json chunk = json::parse(q.at("SnapshotIds"));
    const std::string first = chunk.at(0);
    if (first == "s-0" && !q.contains("NextToken")) {
      return testing::ok(
          {{"NextToken", "t1"}, {"Snapshots", {{"Snapshot", {{{"SnapshotId", "s-0"}}}}}}});
    }
    return testing::ok(
        {{"NextToken", ""},
         {"Snapshots", {{"Snapshot", {{{"SnapshotId", first}, {"Encrypted", "true"}}}}}}});
  });
  auto snaps = cl.describe_snapshots("cn-shanghai", ids, {});
  ASSERT_TRUE(snaps.ok());
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 4u);  // chunk 1 (two pages), chunk 2, chunk 3
  EXPECT_EQ(json::parse(qs[0].at("SnapshotIds")).size(), 100u);
  EXPECT_EQ(qs[1].at("NextToken"), "t1");
  EXPECT_EQ(json::parse(qs[2].at("SnapshotIds")).at(0), "s-100");
  EXPECT_EQ(json::parse(qs[3].at("SnapshotIds")).size(), 50u);
  EXPECT_EQ(qs[0].at("MaxResults"), "100");
  EXPECT_EQ(snaps->size(), 4u);
  EXPECT_EQ((*snaps)[1].region_id, "cn-shanghai");
  EXPECT_TRUE((*snaps)[1].encrypted);
}

TEST_F(ClientTest, NothingToDescribeSendsNothing) {
  auto cl = client(options());
  EXPECT_TRUE(cl.describe_snapshots("cn-hangzhou", {}, {})->empty());
  EXPECT_TRUE(cl.describe_images("cn-hangzhou", {}, {})->empty());
  EXPECT_TRUE(cl.modify_image_share_permission("cn-hangzhou", "m-1", {}, {}).ok());
  EXPECT_TRUE(cl.list_tag_resources("role", {})->empty());
  EXPECT_TRUE(cl.tag_resources("role", {}, {{"k", "v"}}).ok());
  EXPECT_EQ(transport->count(), 0u);
}

TEST_F(ClientTest, NextTokenThatDoesNotAdvanceIsMalformed) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest&) {
    return testing::ok({{"NextToken", "same"}, {"ResourceShares", json::array()}});
  });
  auto r = cl.list_resource_shares("cn-hangzhou", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Client.MalformedResponse");
  EXPECT_EQ(transport->count(), 2u);
}

TEST_F(ClientTest, ImagesKeepInt64OwnerIdsExactAndPageByNumber) {
  AlibabaClientOptions o = options();
  o.page_size = 1;
  auto cl = client(std::move(o));
  // 2^53 + 1 cannot survive a double.
  transport->push(testing::ok(json::parse(R"({"TotalCount":2,"Images":{"Image":[{"ImageId":"m-1",
      "ImageOwnerId":9007199254740993,"IsPublic":false,"Status":"Available",
      "DiskDeviceMappings":{"DiskDeviceMapping":[{"SnapshotId":"s-1","Type":"system","Device":"/dev/xvda"}]},
      "Tags":{"Tag":[{"TagKey":"share","TagValue":"golden"}]}}]}})")));
  transport->push(testing::ok(json::parse(
      R"({"TotalCount":2,"Images":{"Image":[{"ImageId":"m-2","ImageOwnerId":1234567890123456}]}})")));
  auto images = cl.describe_images("cn-hangzhou", {}, {{"share", "golden"}});
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].owner_id, "9007199254740993");
  EXPECT_EQ((*images)[0].disks.at(0).snapshot_id, "s-1");
  EXPECT_EQ((*images)[0].disks.at(0).type, "system");
  EXPECT_EQ((*images)[0].tags, (std::vector<Tag>{{"share", "golden"}}));
  EXPECT_EQ((*images)[1].owner_id, "1234567890123456");
  const auto qs = transport->queries();
  EXPECT_EQ(qs[0].at("Tag.1.Key"), "share");
  EXPECT_EQ(qs[0].at("Tag.1.Value"), "golden");
  EXPECT_EQ(qs[0].at("ImageOwnerAlias"), "self");
  EXPECT_EQ(qs[1].at("PageNumber"), "2");
  EXPECT_FALSE(qs[0].contains("ImageId"));
}

// An account that owns images m-1 .. m-<owned> in one region, answering DescribeImages as ECS
// does: ImageOwnerAlias=self, an optional single ImageId, PageNumber/PageSize, TotalCount.
HttpResponse own_images_page(const HttpRequest& r, int owned) {
  const auto q = query_of(r);
  const int size = std::stoi(q.at("PageSize"));
  const int page = std::stoi(q.at("PageNumber"));
  json list = json::array();
  int total = owned;
  auto image = [](int n) {
    return json{{"ImageId", "m-" + std::to_string(n)},
                {"ImageOwnerId", 1234567890123456},
                {"Status", "Available"},
                {"DiskDeviceMappings", {{"DiskDeviceMapping", json::array()}}}};
  };
  if (auto id = q.find("ImageId"); id != q.end()) {
    const int n = std::stoi(id->second.substr(2));
    total = n >= 1 && n <= owned ? 1 : 0;
    if (total == 1 && page == 1) list.push_back(image(n));
  } else {
    for (int n = (page - 1) * size + 1; n <= std::min(owned, page * size); ++n)
      list.push_back(image(n));
  }
  return testing::ok({{"TotalCount", total}, {"Images", {{"Image", list}}}});
}

std::vector<std::string> image_ids_of(const std::vector<Image>& images) {
  std::vector<std::string> out;
  for (const auto& i : images) out.push_back(i.image_id);
  return out;
}

TEST_F(ClientTest, SeveralImagesAreReadFromOnePageOfTheAccountsOwnImages) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest& r) { return own_images_page(r, 3); });
  auto images = cl.describe_images("cn-hangzhou", {"m-3", "m-1"}, {});
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  EXPECT_EQ(image_ids_of(*images), (std::vector<std::string>{"m-3", "m-1"}));  // as asked
  ASSERT_EQ(transport->count(), 1u);
  EXPECT_FALSE(transport->queries()[0].contains("ImageId"));
  EXPECT_EQ(transport->queries()[0].at("ImageOwnerAlias"), "self");
}

TEST_F(ClientTest, AnImageTheListingDidNotShowIsLookedUpByItsId) {
  // m-9 is not the account's: the listing alone never calls it absent, its own lookup does.
  auto cl = client(options());
  transport->set_handler([](const HttpRequest& r) { return own_images_page(r, 3); });
  auto images = cl.describe_images("cn-hangzhou", {"m-2", "m-9"}, {});
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  EXPECT_EQ(image_ids_of(*images), (std::vector<std::string>{"m-2"}));
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_FALSE(qs[0].contains("ImageId"));
  EXPECT_EQ(qs[1].at("ImageId"), "m-9");
}

TEST_F(ClientTest, TheListingStopsWhenItsPagesLeftCostMoreThanLookingUpTheRest) {
  AlibabaClientOptions o = options();
  o.page_size = 10;
  auto cl = client(std::move(o));
  // 45 images, 5 pages: m-43 and m-44 are on the last. After page 1, 4 pages are left for 2
  // unseen ids: two lookups are cheaper (3 calls, not 5).
  transport->set_handler([](const HttpRequest& r) { return own_images_page(r, 45); });
  auto far = cl.describe_images("cn-hangzhou", {"m-43", "m-44"}, {});
  ASSERT_TRUE(far.ok()) << far.error().to_string();
  EXPECT_EQ(image_ids_of(*far), (std::vector<std::string>{"m-43", "m-44"}));
  EXPECT_EQ(transport->count(), 3u);
  // Four ids spread over 25 images (3 pages): after page 1, 2 pages are left for 3 unseen ids,
  // so the listing goes on to its end (3 calls, not 1 + 3).
  transport->set_handler([](const HttpRequest& r) { return own_images_page(r, 25); });
  auto spread = cl.describe_images("cn-hangzhou", {"m-1", "m-12", "m-21", "m-25"}, {});
  ASSERT_TRUE(spread.ok()) << spread.error().to_string();
  EXPECT_EQ(image_ids_of(*spread), (std::vector<std::string>{"m-1", "m-12", "m-21", "m-25"}));
  auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 6u);
  qs.erase(qs.begin(), qs.begin() + 3);
  for (const auto& q : qs) EXPECT_FALSE(q.contains("ImageId"));
  EXPECT_EQ(qs[2].at("PageNumber"), "3");
}

TEST_F(ClientTest, KmsDescribeKeyAndAliases) {
  auto cl = client(options());
  transport->push(testing::ok({{"KeyMetadata",
                                {{"KeyId", "key-1"},
                                 {"Arn", "acs:kms:cn-hangzhou:1234567890123456:key/key-1"},
                                 {"Creator", 1234567890123456},
                                 {"KeyState", "Enabled"}}}}));
  auto key = cl.describe_key("cn-hangzhou", "key-1");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->creator, "1234567890123456");
  EXPECT_EQ(transport->requests()[0].host, "kms.cn-hangzhou.aliyuncs.com");
  EXPECT_EQ(header_of(transport->requests()[0], "x-acs-version"), "2016-01-20");
  transport->push(testing::alibaba_error(404, "Forbidden.KeyNotFound"));
  auto missing = cl.describe_key("cn-hangzhou", "key-2");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  transport->push(testing::ok(
      {{"TotalCount", 1}, {"Aliases", {{"Alias", {{{"AliasName", "alias/acs/ecs"}}}}}}}));
  auto aliases = cl.list_aliases_by_key_id("cn-hangzhou", "key-3");
  ASSERT_TRUE(aliases.ok());
  EXPECT_EQ(*aliases, (std::vector<std::string>{"alias/acs/ecs"}));
}

TEST_F(ClientTest, TagResourcesListFollowsNextToken) {
  auto cl = client(options());
  transport->push(testing::ok({{"NextToken", "n1"},
                               {"TagResources",
                                {{{"ResourceType", "role"},
                                  {"ResourceName", "r1"},
                                  {"TagKey", "k"},
                                  {"TagValue", "v"}}}}}));
  transport->push(testing::ok(
      {{"TagResources", {{"TagResource", {{{"ResourceName", "r2"}, {"TagKey", "k"}}}}}}}));
  auto tags = cl.list_tag_resources("role", {"r1", "r2"});
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[1].resource_name, "r2");
  const auto qs = transport->queries();
  EXPECT_EQ(qs[0].at("ResourceNames"), R"(["r1","r2"])");
  EXPECT_EQ(qs[1].at("NextToken"), "n1");
}

// ---------------------------------------------------------------- chunking

TEST_F(ClientTest, ImageSharesGoTenAccountsPerCallAndNeverIsPublic) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest&) { return testing::ok(); });
  std::vector<std::string> add;
  for (int i = 0; i < 23; ++i) add.push_back(std::to_string(1000000000000000 + i));
  const std::vector<std::string> remove{"9999999999999991", "9999999999999992"};
  ASSERT_TRUE(cl.modify_image_share_permission("cn-hangzhou", "m-1", add, remove).ok());
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 3u);
  std::vector<std::string> sent;
  for (const auto& q : qs) {
    EXPECT_FALSE(q.contains("IsPublic"));
    EXPECT_FALSE(q.contains("AddAccount.11"));
    for (int i = 1; i <= 10; ++i) {
      if (q.contains("AddAccount." + std::to_string(i)))
        sent.push_back(q.at("AddAccount." + std::to_string(i)));
    }
  }
  EXPECT_EQ(sent, add);
  EXPECT_EQ(qs[0].at("RemoveAccount.2"), "9999999999999992");
  EXPECT_FALSE(qs[1].contains("RemoveAccount.1"));
  EXPECT_EQ(qs[2].at("AddAccount.3"), add[22]);
}

TEST_F(ClientTest, ResourceSharingGoesFivePerCall) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest& r) {
    auto q = query_of(r);
    json assoc = json::array();
    for (int i = 1; i <= 5; ++i) {
      const std::string k = "Resources." + std::to_string(i) + ".ResourceId";
      if (q.contains(k))
        assoc.push_back({{"EntityId", q.at(k)}, {"AssociationStatus", "Associating"}});
    }
    return testing::ok({{"ResourceShareAssociations", assoc}});
  });
  std::vector<ShareResource> resources;
  for (int i = 0; i < 7; ++i) resources.push_back({"Snapshot", "s-" + std::to_string(i)});
  std::vector<std::string> targets;
  for (int i = 0; i < 12; ++i) targets.push_back("rd-" + std::to_string(i));
  auto r = cl.associate_resource_share("cn-hangzhou", "rs-1", resources, targets);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 7u);
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].at("ResourceShareId"), "rs-1");
  EXPECT_EQ(qs[0].at("Resources.5.ResourceType"), "Snapshot");
  EXPECT_FALSE(qs[0].contains("Resources.6.ResourceId"));
  EXPECT_EQ(qs[1].at("Resources.2.ResourceId"), "s-6");
  EXPECT_EQ(qs[2].at("Targets.2"), "rd-11");
  EXPECT_FALSE(qs[2].contains("Resources.1.ResourceId"));
  EXPECT_EQ(header_of(transport->requests()[0], "x-acs-version"), "2020-01-10");
  EXPECT_EQ(transport->requests()[0].host, "resourcesharing.cn-hangzhou.aliyuncs.com");
}

TEST_F(ClientTest, CreateResourceShareAssociatesTheRest) {
  auto cl = client(options());
  transport->push(testing::ok({{"ResourceShare",
                                {{"ResourceShareId", "rs-9"},
                                 {"ResourceShareName", "n"},
                                 {"ResourceShareStatus", "Active"},
                                 {"AllowExternalTargets", true}}}}));
  transport->push(testing::ok({{"ResourceShareAssociations", json::array()}}));
  std::vector<ShareResource> resources;
  for (int i = 0; i < 7; ++i) resources.push_back({"Image", "m-" + std::to_string(i)});
  auto share = cl.create_resource_share("cn-hangzhou", "n", resources, {"1111222233334444"}, true,
                                        {{"sharekeeper:managed-by", "sk"}});
  ASSERT_TRUE(share.ok()) << share.error().to_string();
  EXPECT_EQ(share->resource_share_id, "rs-9");
  EXPECT_TRUE(share->allow_external_targets);
  EXPECT_EQ(share->tags, (std::vector<Tag>{{"sharekeeper:managed-by", "sk"}}))
      << "the answer carries no tags: the ones sent are reported";
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].at("AllowExternalTargets"), "true");
  EXPECT_EQ(qs[0].at("Resources.5.ResourceId"), "m-4");
  EXPECT_EQ(qs[0].at("Targets.1"), "1111222233334444");
  EXPECT_EQ(qs[0].at("Tag.1.Key"), "sharekeeper:managed-by");
  EXPECT_EQ(qs[0].at("Tag.1.Value"), "sk");
  EXPECT_EQ(header_of(transport->requests()[1], "x-acs-action"), "AssociateResourceShare");
  EXPECT_EQ(qs[1].at("ResourceShareId"), "rs-9");
  EXPECT_EQ(qs[1].at("Resources.2.ResourceId"), "m-6");
  EXPECT_FALSE(qs[1].contains("Targets.1"));
}

TEST_F(ClientTest, AssociationListingChunksShareIdsAndPages) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest& r) {
    auto q = query_of(r);
    if (q.at("ResourceShareIds.1") == "rs-0" && !q.contains("NextToken")) {
      return testing::ok(
          {{"NextToken", "p2"},
           {"ResourceShareAssociations", {{{"EntityId", "a"}, {"External", true}}}}});
    }
    return testing::ok(
        {{"ResourceShareAssociations", {{{"EntityId", q.at("ResourceShareIds.1")}}}}});
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back("rs-" + std::to_string(i));
  auto r = cl.list_resource_share_associations("cn-hangzhou", "Target", ids);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_TRUE((*r)[0].external);
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 3u);
  EXPECT_EQ(qs[0].at("AssociationType"), "Target");
  EXPECT_EQ(qs[0].at("ResourceShareIds.5"), "rs-4");
  EXPECT_FALSE(qs[0].contains("ResourceShareIds.6"));
  EXPECT_EQ(qs[1].at("NextToken"), "p2");
  EXPECT_EQ(qs[2].at("ResourceShareIds.2"), "rs-6");
}

TEST_F(ClientTest, TagResourcesChunksFiftyNames) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest&) { return testing::ok(); });
  std::vector<std::string> names;
  for (int i = 0; i < 60; ++i) names.push_back("role-" + std::to_string(i));
  ASSERT_TRUE(cl.tag_resources("role", names, {{"k", "v"}}).ok());
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(json::parse(qs[0].at("ResourceNames")).size(), 50u);
  EXPECT_EQ(json::parse(qs[1].at("ResourceNames")).size(), 10u);
  EXPECT_EQ(qs[0].at("Tag"), R"([{"Key":"k","Value":"v"}])");
}

TEST_F(ClientTest, EcsTagResourcesChunksFiftyIdsAndTwentyTags) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest&) { return testing::ok(); });
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back("m-" + std::to_string(i));
  std::vector<Tag> tags;
  for (int i = 0; i < 25; ++i) tags.push_back({"k" + std::to_string(i), i == 0 ? "" : "v"});
  ASSERT_TRUE(cl.tag_ecs_resources("cn-hangzhou", "image", ids, tags).ok());
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 4u);  // (50 + 10 ids) x (20 + 5 tags)
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& q : qs) {
    EXPECT_EQ(q.at("ResourceType"), "image");
    EXPECT_EQ(q.at("RegionId"), "cn-hangzhou");
    EXPECT_FALSE(q.contains("ResourceId.51"));
    EXPECT_FALSE(q.contains("Tag.21.Key"));
    for (int i = 1; i <= 50; ++i) {
      if (!q.contains("ResourceId." + std::to_string(i))) continue;
      for (int t = 1; t <= 20; ++t)
        if (q.contains("Tag." + std::to_string(t) + ".Key"))
          pairs.insert(
              {q.at("ResourceId." + std::to_string(i)), q.at("Tag." + std::to_string(t) + ".Key")});
    }
  }
  EXPECT_EQ(pairs.size(), 60u * 25u) << "every id gets every tag";
  EXPECT_EQ(qs[0].at("Tag.1.Value"), "") << "an empty value is sent, not dropped";
  EXPECT_EQ(header_of(transport->requests()[0], "x-acs-action"), "TagResources");
  EXPECT_EQ(header_of(transport->requests()[0], "x-acs-version"), "2014-05-26");

  ASSERT_TRUE(cl.untag_ecs_resources("cn-hangzhou", "image", {"m-1", "m-2"}, {"a", "b"}).ok());
  ASSERT_EQ(transport->count(), 5u);
  const auto uq = transport->queries().back();
  EXPECT_EQ(header_of(transport->requests().back(), "x-acs-action"), "UntagResources");
  EXPECT_EQ(uq.at("ResourceId.2"), "m-2");
  EXPECT_EQ(uq.at("TagKey.2"), "b");
  EXPECT_FALSE(uq.contains("All")) << "never every tag of the resources";

  EXPECT_TRUE(cl.tag_ecs_resources("cn-hangzhou", "image", {}, tags).ok());
  EXPECT_TRUE(cl.tag_ecs_resources("cn-hangzhou", "image", ids, {}).ok());
  EXPECT_TRUE(cl.untag_ecs_resources("cn-hangzhou", "image", ids, {}).ok());
  EXPECT_EQ(transport->count(), 5u) << "nothing to tag sends nothing";
}

TEST_F(ClientTest, EcsTagResourcesStopsAtTheFirstFailedRequest) {
  auto cl = client(options());
  transport->push(testing::ok());
  transport->push(testing::alibaba_error(404, "InvalidResourceId.NotFound"));
  std::vector<std::string> ids;
  for (int i = 0; i < 120; ++i) ids.push_back("m-" + std::to_string(i));
  auto r = cl.tag_ecs_resources("cn-hangzhou", "image", ids, {{"k", "v"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "InvalidResourceId.NotFound");
  EXPECT_EQ(transport->count(), 2u);
}

TEST_F(ClientTest, ListResourceSharesFiltersChunksIdsAndReadsTags) {
  auto cl = client(options());
  transport->set_handler([](const HttpRequest& r) {
    auto q = query_of(r);
    return testing::ok(json::parse(R"({"ResourceShares":[{"ResourceShareId":")" +
                                   q.at("ResourceShareIds.1") + R"(","ResourceShareName":"golden",
        "ResourceShareOwner":1234567890123456,"ResourceShareStatus":"Active",
        "AllowExternalTargets":false,"CreateTime":"2020-12-03T02:20:31.292Z",
        "UpdateTime":"2020-12-03T08:01:43.638Z",
        "Tags":[{"Key":"sharekeeper:managed-by","Value":"sk"},{"Key":"team","Value":""}]}]})"));
  });
  ResourceShareFilter f;
  for (int i = 0; i < 7; ++i) f.resource_share_ids.push_back("rs-" + std::to_string(i));
  f.name = "golden";
  f.status = "Active";
  f.tags = {{"sharekeeper:managed-by", "sk"}};
  auto r = cl.list_resource_shares("cn-hangzhou", f);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  const ResourceShare& s = (*r)[0];
  EXPECT_EQ(s.resource_share_id, "rs-0");
  EXPECT_EQ(s.resource_share_owner, "1234567890123456") << "an int64 owner, digit for digit";
  EXPECT_EQ(s.tags, (std::vector<Tag>{{"sharekeeper:managed-by", "sk"}, {"team", ""}}));
  EXPECT_EQ(s.create_time, "2020-12-03T02:20:31.292Z");
  EXPECT_EQ(s.update_time, "2020-12-03T08:01:43.638Z");
  EXPECT_EQ((*r)[1].resource_share_id, "rs-5");
  const auto qs = transport->queries();
  ASSERT_EQ(qs.size(), 2u);
  for (const auto& q : qs) {
    EXPECT_EQ(q.at("ResourceOwner"), "Self");
    EXPECT_EQ(q.at("ResourceShareName"), "golden");
    EXPECT_EQ(q.at("ResourceShareStatus"), "Active");
    EXPECT_EQ(q.at("Tag.1.Key"), "sharekeeper:managed-by");
    EXPECT_EQ(q.at("Tag.1.Value"), "sk");
    EXPECT_FALSE(q.contains("ResourceShareIds.6"));
    EXPECT_FALSE(q.contains("RegionId")) << "Resource Sharing takes the region from the endpoint";
  }
  EXPECT_EQ(qs[0].at("ResourceShareIds.5"), "rs-4");
  EXPECT_EQ(qs[1].at("ResourceShareIds.2"), "rs-6");

  // No filter: one unfiltered listing of our own shares, nothing else sent.
  transport->set_handler([](const HttpRequest&) {
    return testing::ok({{"ResourceShares", json::array()}});
  });
  ASSERT_TRUE(cl.list_resource_shares("cn-hangzhou", {}).ok());
  ASSERT_EQ(transport->count(), 3u);
  const auto q0 = transport->queries().back();
  EXPECT_EQ(q0.size(), 2u) << "ResourceOwner and MaxResults only";
  EXPECT_EQ(q0.at("MaxResults"), "100");
  // A share without an id is not a share.
  transport->set_handler([](const HttpRequest&) {
    return testing::ok({{"ResourceShares", {{{"ResourceShareName", "x"}}}}});
  });
  EXPECT_EQ(cl.list_resource_shares("cn-hangzhou", {}).error().code, "Client.MalformedResponse");
}

TEST_F(ClientTest, AssociationFailureDetailsAndTimesAreRead) {
  auto cl = client(options());
  transport->push(testing::ok(json::parse(R"({"ResourceShareAssociations":[
      {"ResourceShareId":"rs-1","ResourceShareName":"n","EntityId":"s-1","EntityType":"Snapshot",
       "AssociationType":"Resource","AssociationStatus":"Failed","External":false,
       "AssociationStatusMessage":"The reason for the association failure.",
       "CreateTime":"2020-12-07T07:39:01.818Z","UpdateTime":"2020-12-07T07:39:02.920Z",
       "AssociationFailedDetails":[
         {"Status":"无","StatusMessage":"无","AssociateType":"无","EntityId":"2000000000000002",
          "EntityType":"Account","FailureReason":"Unavailable",
          "FailureDescription":"You cannot access the specified resource at this time.",
          "OperationType":"Associate"},
         {"EntityId":"fd-1","EntityType":"Folder","Status":"LimitExceeded",
          "StatusMessage":"old spelling","AssociateType":"Associate"}]},
      {"ResourceShareId":"rs-1","EntityId":"s-2","AssociationType":"Resource",
       "AssociationStatus":"Associated"}]})")));
  auto r = cl.list_resource_share_associations("cn-hangzhou", "Resource", {"rs-1"});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->size(), 2u);
  const ResourceShareAssociation& a = (*r)[0];
  EXPECT_EQ(a.create_time, "2020-12-07T07:39:01.818Z");
  EXPECT_EQ(a.update_time, "2020-12-07T07:39:02.920Z");
  ASSERT_EQ(a.failures.size(), 2u);
  EXPECT_EQ(
      a.failures[0],
      (AssociationFailure{"2000000000000002", "Account", "Unavailable",
                          "You cannot access the specified resource at this time.", "Associate"}));
  // Only the deprecated names: read them rather than lose the reason.
  EXPECT_EQ(a.failures[1],
            (AssociationFailure{"fd-1", "Folder", "LimitExceeded", "old spelling", "Associate"}));
  EXPECT_TRUE((*r)[1].failures.empty());

  transport->push(testing::ok(
      {{"ResourceShareAssociations", {{{"EntityId", "s-1"}, {"AssociationFailedDetails", 7}}}}}));
  EXPECT_EQ(cl.list_resource_share_associations("cn-hangzhou", "Resource", {}).error().code,
            "Client.MalformedResponse");
  transport->push(
      testing::ok({{"ResourceShareAssociations", {{{"AssociationStatus", "Associated"}}}}}));
  EXPECT_EQ(cl.list_resource_share_associations("cn-hangzhou", "Resource", {}).error().code,
            "Client.MalformedResponse")
      << "an association without EntityId";
}

TEST_F(ClientTest, UpdateAndDeleteResourceShare) {
  auto cl = client(options());
  transport->push(testing::ok({{"ResourceShare",
                                {{"ResourceShareId", "rs-1"},
                                 {"ResourceShareName", "renamed"},
                                 {"ResourceShareStatus", "Active"},
                                 {"AllowExternalTargets", true}}}}));
  auto u = cl.update_resource_share("cn-hangzhou", "rs-1", "renamed", true);
  ASSERT_TRUE(u.ok()) << u.error().to_string();
  EXPECT_EQ(u->resource_share_name, "renamed");
  EXPECT_TRUE(u->allow_external_targets);
  auto q = transport->queries().at(0);
  EXPECT_EQ(header_of(transport->requests()[0], "x-acs-action"), "UpdateResourceShare");
  EXPECT_EQ(q.at("ResourceShareId"), "rs-1");
  EXPECT_EQ(q.at("ResourceShareName"), "renamed");
  EXPECT_EQ(q.at("AllowExternalTargets"), "true");
  transport->push(testing::ok({{"ResourceShare", {{"ResourceShareName", "x"}}}}));
  EXPECT_EQ(cl.update_resource_share("cn-hangzhou", "rs-1", "x", false).error().code,
            "Client.MalformedResponse");

  transport->push(testing::ok());
  EXPECT_TRUE(cl.delete_resource_share("cn-hangzhou", "rs-1").ok());
  EXPECT_EQ(transport->queries().back().at("ResourceShareId"), "rs-1");
  EXPECT_EQ(header_of(transport->requests().back(), "x-acs-action"), "DeleteResourceShare");
  // Already gone (a retry after an unknown outcome): success.
  transport->push(testing::alibaba_error(404, "EntityNotExists.ResourceShare"));
  EXPECT_TRUE(cl.delete_resource_share("cn-hangzhou", "rs-1").ok());
  transport->push(testing::alibaba_error(409, "DeleteResourceShareConflict"));
  auto d = cl.delete_resource_share("cn-hangzhou", "rs-1");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().cls, ErrorClass::kConflict);
}

// What the share driver is told about each answer it has to act on (docs and metadata codes).
TEST_F(ClientTest, ShareErrorsAreClassifiedForTheDriver) {
  struct Row {
    const char* action;
    int status;
    const char* code;
    ErrorClass cls;
  };
  const Row rows[] = {
      {"ModifyImageSharePermission", 403, "AssumeRoleError", ErrorClass::kTerminal},
      {"ModifyImageSharePermission", 403, "QuotaExceed.ShareImageUser", ErrorClass::kTerminal},
      {"ModifyImageSharePermission", 403, "OperationDeined.FullImage", ErrorClass::kTerminal},
      {"ModifyImageSharePermission", 403, "InvalidOperation.ServiceKeyEncryptedImageUnsupported",
       ErrorClass::kTerminal},
      {"ModifyImageSharePermission", 403, "InvalidParameter.KMSKeyId.CMKNotEnabled",
       ErrorClass::kTerminal},
      {"ModifyImageSharePermission", 404, "InvalidImageId.NotFound", ErrorClass::kNotFound},
      {"ModifyImageSharePermission", 404, "InvalidAccount.Forbbiden", ErrorClass::kTerminal},
      {"AssociateResourceShare", 409, "AssociateConflict", ErrorClass::kConflict},
      {"DisassociateResourceShare", 409, "DisassociateConflict", ErrorClass::kConflict},
      {"AssociateResourceShare", 409, "ResourceShareStatusMismatchAction", ErrorClass::kConflict},
      {"AssociateResourceShare", 400, "InvalidTarget", ErrorClass::kTerminal},
      {"AssociateResourceShare", 409, "QuotaExceeded.PendingInvitations", ErrorClass::kTerminal},
      {"AssociateResourceShare", 404, "EntityNotExists.ResourceShare", ErrorClass::kNotFound},
      {"AssociateResourceShare", 409, "ExternalTargetsNotAllowed.ResourceType",
       ErrorClass::kTerminal},
      {"TagResources", 404, "InvalidResourceType.NotFound", ErrorClass::kTerminal},
  };
  auto cl = client(options());
  for (const Row& row : rows) {
    transport->push(testing::alibaba_error(row.status, row.code));
    Result<void> r;
    const std::string action = row.action;
    if (action == "ModifyImageSharePermission") {
      r = cl.modify_image_share_permission("cn-hangzhou", "m-1", {"2000000000000002"}, {});
    } else if (action == "TagResources") {
      r = cl.tag_ecs_resources("cn-hangzhou", "image", {"m-1"}, {{"k", "v"}});
    } else {
      auto a = action == "AssociateResourceShare"
                   ? cl.associate_resource_share("cn-hangzhou", "rs-1", {}, {"fd-1"})
                   : cl.disassociate_resource_share("cn-hangzhou", "rs-1", {}, {"fd-1"});
      if (!a) r = a.error();
    }
    ASSERT_FALSE(r.ok()) << row.code;
    EXPECT_EQ(r.error().code, row.code);
    EXPECT_EQ(r.error().cls, row.cls) << row.code << " is " << to_string(r.error().cls);
  }
  EXPECT_EQ(transport->count(), std::size(rows)) << "none of them is retried";
}

// ---------------------------------------------------------------- secrets

// A canary secret and token are planted in the credentials, echoed back by a hostile server in
// every field and quoted by a transport in a URL: no Error text and no observer output may contain
// them.
TEST_F(ClientTest, CanarySecretNeverReachesAnErrorOrTheObserver) {
  const std::string secret = "CanarySecret-d41d8cd98f00b204";
  const std::string token = "CanaryToken+/=e9800998ecf8427e";
  Credentials c = sts();
  c.access_key_secret = secret;
  c.security_token = token;
  credentials = std::make_shared<FakeCredentials>(c);
  auto cl = client(options());

  std::vector<std::string> signatures;
  transport->set_handler([&](const HttpRequest& r) -> Result<HttpResponse> {
    const std::string auth = header_of(r, "authorization");
    signatures.push_back(auth.substr(auth.find("Signature=") + 10));
    const std::string everything = "token " + token + " secret " + secret + " " + r.target + " " +
                                   auth + " x-acs-security-token: " + token;
    if (signatures.size() % 2 == 1) {
      return testing::json_response(400, {{"Code", "SignatureDoesNotMatch"},
                                          {"Message", everything},
                                          {"RequestId", everything},
                                          {"Recommend", everything}});
    }
    return testing::transport_error("Transport.Tls", "handshake with https://ram.aliyuncs.com" +
                                                         r.target + " failed; " + everything);
  });
  std::vector<Error> errors;
  for (int i = 0; i < 4; ++i) {
    auto r = cl.get_role("r");
    ASSERT_FALSE(r.ok());
    errors.push_back(r.error());
  }
  ASSERT_FALSE(signatures.empty());
  auto leaks = [&](const std::string& text) {
    if (text.find(secret) != std::string::npos) return true;
    if (text.find(token) != std::string::npos) return true;
    if (text.find(percent_encode(token)) != std::string::npos) return true;
    for (const auto& s : signatures) {
      if (!s.empty() && text.find(s) != std::string::npos) return true;
    }
    return false;
  };
  for (const Error& e : errors) {
    for (const std::string& text :
         {e.to_string(), e.message, e.code, e.request_id, e.recommend, e.product, e.action}) {
      EXPECT_FALSE(leaks(text)) << text;
    }
  }
  for (const Observed& o : observed) {
    EXPECT_FALSE(leaks(o.product + o.action + o.code)) << o.code;
  }
}

// One client, many threads (the daemon reconciles several shares of an account at once).
TEST_F(ClientTest, ConcurrentCallsShareOneClient) {
  AlibabaClientOptions o = options();
  o.on_call = {};  // the fixture's observer appends to a vector without a lock
  RateLimiterOptions fast;
  fast.initial_rate = 1e6;
  fast.max_rate = 1e6;
  fast.burst = 1e6;
  o.rate_limiters = std::make_shared<RateLimiterSet>(fast);
  std::atomic<int> counter{0};
  o.nonce = [&counter] { return "n" + std::to_string(counter.fetch_add(1)); };
  auto cl = client(std::move(o));
  std::mutex mu;
  std::set<std::string> failed_once;
  transport->set_handler([&](const HttpRequest& r) -> Result<HttpResponse> {
    // Every role whose index is a multiple of 3 fails once with a transient error: retries run
    // concurrently with first attempts.
    const std::string name = query_of(r).at("RoleName");
    if (name.back() % 3 == 0) {
      std::lock_guard lock(mu);
      if (failed_once.insert(name).second) return testing::alibaba_error(503, "ServiceUnavailable");
    }
    return testing::ok({{"Role", {{"RoleName", name}}}});
  });
  constexpr int kThreads = 8;
  constexpr int kCalls = 40;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string name = "role-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = cl.get_role(name);
        if (r.ok() && r->has_value() && (*r)->role_name == name) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), kThreads * kCalls);
  std::set<std::string> seen_nonces;
  for (const auto& r : transport->requests())
    seen_nonces.insert(header_of(r, "x-acs-signature-nonce"));
  EXPECT_EQ(seen_nonces.size(), transport->count());
}

TEST_F(ClientTest, EndpointOverrideSendsEveryProductToOnePlace) {
  AlibabaClientOptions o = options();
  EndpointOptions eo;
  eo.override_all = "https://127.0.0.1:8443";
  o.endpoints = std::make_shared<const EndpointResolver>(*EndpointResolver::create(eo));
  auto cl = client(std::move(o));
  transport->set_handler([](const HttpRequest&) {
    return testing::ok({{"AccountId", "1234567890123456"}});
  });
  ASSERT_TRUE(cl.get_caller_identity().ok());
  const HttpRequest r = transport->requests()[0];
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 8443);
  // The Host (and V3's signed host) is the endpoint the call addresses, as Alibaba's gateway reads
  // it; only the connection goes to the override.
  EXPECT_EQ(header_of(r, "host"), "sts.aliyuncs.com");
}

TEST_F(ClientTest, BadRegionFailsWithoutSending) {
  auto cl = client(options());
  auto r = cl.describe_key("cn-hangzhou.attacker.example", "k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "Client.InvalidEndpoint");
  EXPECT_EQ(transport->count(), 0u);
}

}  // namespace
}  // namespace sharekeeper::cloud
