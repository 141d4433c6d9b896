// The emulator's gateway against the shared references: every signing vector and every signed SDK
// capture must verify, and tampered copies must fail with the right code.
#include "emulator/verifier.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sharekeeper::emulator {
namespace {

using nlohmann::json;

constexpr const char* kKeyId = "LTAI5tTestAccessKeyId01";
constexpr const char* kSecret = "TestAccessKeySecret0123456789ab";
constexpr const char* kStsKeyId = "STS.NTestTemporaryKeyId0001";
constexpr const char* kStsSecret = "TestTemporarySecretXyz987654321";
constexpr const char* kStsToken = "CAIS+gF1q6Ft5B2yfSjIr5fSLo3+/rlt0/aaa==";

json load_reference(const std::string& file) {
  std::ifstream in(std::string(SHAREKEEPER_REFERENCE_DIR) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  return json::parse(in);
}

Clock::time_point at(const std::string& text) {
  const auto time = parse_timestamp(text);
  EXPECT_TRUE(time.has_value()) << text;
  return time.value_or(Clock::time_point{});
}

// A keyring standing in for Model::find_key.
struct Keyring {
  std::map<std::string, KeyRecord> keys;

  void add(const std::string& id, const std::string& secret,
           std::optional<std::string> token = std::nullopt,
           std::optional<Clock::time_point> expires = std::nullopt) {
    KeyRecord key;
    key.access_key_id = id;
    key.secret = secret;
    key.account_uid = "1234567890123456";
    key.arn = "acs:ram::1234567890123456:root";
    key.identity_type = "Account";
    key.security_token = std::move(token);
    key.expires = expires;
    keys[id] = key;
  }
  KeyLookup lookup() {
    return [this](std::string_view id, Clock::time_point) -> std::optional<KeyRecord> {
      const auto it = keys.find(std::string(id));
      if (it == keys.end()) return std::nullopt;
      return it->second;
    };
  }
};

// One request as the tests build it (owning storage for GatewayRequest's views).
struct Request {
  std::string method = "POST";
  std::string target = "/";
  std::map<std::string, std::string> headers;
  std::string body;

  GatewayRequest view() const { return GatewayRequest{method, target, &headers, body}; }
};

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string origin_form(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto slash = url.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

bool is_v1(const json& vector) {
  return vector.at("algorithm").get<std::string>().find("SHA1") != std::string::npos;
}

Request request_from_vector(const json& vector) {
  Request r;
  r.method = vector.at("method").get<std::string>();
  for (const auto& [name, value] : vector.at("headers").items()) {
    r.headers[lower(name)] = value.get<std::string>();
  }
  r.body = vector.value("body", "");
  if (vector.contains("wire_url")) {
    r.target = origin_form(vector.at("wire_url").get<std::string>());
  } else {
    // The published examples carry no wire URL: encode the decoded map, Signature last for V1.
    std::string query;
    for (const auto& [name, value] : vector.at("query").items()) {
      query += (query.empty() ? "" : "&") + pct_encode(name) + "=" +
               pct_encode(value.get<std::string>());
    }
    if (is_v1(vector)) {
      query += "&Signature=" + pct_encode(vector.at("expected_signature").get<std::string>());
    }
    r.target = query.empty() ? "/" : "/?" + query;
  }
  return r;
}

Clock::time_point vector_time(const json& vector) {
  if (vector.at("query").contains("Timestamp")) return at(vector.at("query").at("Timestamp"));
  return at(vector.at("headers").at("x-acs-date"));
}

Keyring vector_keys(const json& vector) {
  Keyring keys;
  const auto token = vector.at("security_token");
  if (token.is_null()) {
    keys.add(vector.at("access_key_id"), vector.at("access_key_secret"));
  } else {
    keys.add(vector.at("access_key_id"), vector.at("access_key_secret"), token.get<std::string>(),
             vector_time(vector) + std::chrono::hours(1));
  }
  return keys;
}

VerifierOptions without_catalogue() {
  VerifierOptions options;
  options.check_catalogue = false;  // the published examples include IMS and RunInstances
  return options;
}

TEST(VerifierTest, PercentEncodingFollowsRfc3986) {
  EXPECT_EQ(pct_encode("a b*c~d/e+f=g"), "a%20b%2Ac~d%2Fe%2Bf%3Dg");
  EXPECT_EQ(pct_encode("\xE4\xB8\xAD"), "%E4%B8%AD");
  EXPECT_EQ(pct_encode("!'()"), "%21%27%28%29");
  EXPECT_EQ(form_decode("a+b%20c%2B%zz"), "a b c+%zz");
}

TEST(VerifierTest, TimestampsRoundTrip) {
  const auto time = parse_timestamp("2024-01-02T03:04:05Z");
  ASSERT_TRUE(time);
  EXPECT_EQ(format_timestamp(*time), "2024-01-02T03:04:05Z");
  EXPECT_FALSE(parse_timestamp("2024-01-02T03:04:05.123Z"));
  EXPECT_FALSE(parse_timestamp("2024-02-30T03:04:05Z"));
  EXPECT_FALSE(parse_timestamp("2024-01-02 03:04:05Z"));
}

TEST(VerifierTest, V1StringToSignMatchesEveryVector) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  int checked = 0;
  for (const auto& vector : vectors) {
    if (!is_v1(vector)) continue;
    std::map<std::string, std::string> params;
    for (const auto& [name, value] : vector.at("query").items())
      params[name] = value.get<std::string>();
    if (vector.contains("body_params") && vector.at("body_params").is_object()) {
      for (const auto& [name, value] : vector.at("body_params").items()) {
        params[name] = value.get<std::string>();
      }
    }
    const std::string sts = v1_string_to_sign(vector.at("method").get<std::string>(), params);
    EXPECT_EQ(sts, vector.at("expected_string_to_sign").get<std::string>()) << vector.at("name");
    EXPECT_EQ(hmac_sha1_base64(vector.at("access_key_secret").get<std::string>() + "&", sts),
              vector.at("expected_signature").get<std::string>())
        << vector.at("name");
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

TEST(VerifierTest, EveryVectorVerifies) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  ASSERT_GE(vectors.size(), 15u);
  for (const auto& vector : vectors) {
    SCOPED_TRACE(vector.at("name").get<std::string>());
    Keyring keys = vector_keys(vector);
    Verifier verifier(keys.lookup(), without_catalogue());
    const Request request = request_from_vector(vector);
    const Verification v = verifier.verify(request.view(), vector_time(vector));
    EXPECT_TRUE(v.ok) << v.code << ": " << v.message;
    EXPECT_EQ(v.signature, is_v1(vector) ? SignatureVersion::kV1 : SignatureVersion::kV3);
    EXPECT_EQ(v.caller.access_key_id, vector.at("access_key_id").get<std::string>());
  }
}

TEST(VerifierTest, TamperedVectorsFail) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  for (const auto& vector : vectors) {
    SCOPED_TRACE(vector.at("name").get<std::string>());
    const auto now = vector_time(vector);
    {  // A parameter the signer never saw.
      Keyring keys = vector_keys(vector);
      Verifier verifier(keys.lookup(), without_catalogue());
      Request request = request_from_vector(vector);
      request.target += request.target.find('?') == std::string::npos ? "?Extra=1" : "&Extra=1";
      const auto v = verifier.verify(request.view(), now);
      EXPECT_FALSE(v.ok);
      EXPECT_EQ(v.code, "SignatureDoesNotMatch");
      EXPECT_EQ(v.status, 400);
      EXPECT_NE(v.message.find("server string to sign is:"), std::string::npos);
    }
    {  // Right key id, wrong secret.
      Keyring keys = vector_keys(vector);
      keys.keys.begin()->second.secret += "x";
      Verifier verifier(keys.lookup(), without_catalogue());
      const auto v = verifier.verify(request_from_vector(vector).view(), now);
      EXPECT_EQ(v.code, "SignatureDoesNotMatch");
    }
    {  // Unknown key.
      Keyring keys;
      Verifier verifier(keys.lookup(), without_catalogue());
      const auto v = verifier.verify(request_from_vector(vector).view(), now);
      EXPECT_EQ(v.code, "InvalidAccessKeyId.NotFound");
      EXPECT_EQ(v.status, 404);
    }
    {  // The method is part of the signature.
      Keyring keys = vector_keys(vector);
      Verifier verifier(keys.lookup(), without_catalogue());
      Request request = request_from_vector(vector);
      request.method = request.method == "GET" ? "POST" : "GET";
      EXPECT_EQ(verifier.verify(request.view(), now).code, "SignatureDoesNotMatch");
    }
  }
}

TEST(VerifierTest, V3BodyHashIsChecked) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  for (const auto& vector : vectors) {
    if (vector.at("name") != "v3-ram-CreatePolicyVersion-POST-form-body") continue;
    Keyring keys = vector_keys(vector);
    Verifier verifier(keys.lookup());
    Request request = request_from_vector(vector);
    request.body += "&SetAsDefault=false";
    const auto v = verifier.verify(request.view(), vector_time(vector));
    EXPECT_EQ(v.code, "SignatureDoesNotMatch");
    EXPECT_NE(v.message.find("x-acs-content-sha256"), std::string::npos);
    // Untampered, the form body joins the parameters.
    const auto ok = verifier.verify(request_from_vector(vector).view(), vector_time(vector));
    ASSERT_TRUE(ok.ok) << ok.code;
    EXPECT_EQ(ok.params.at("RotateStrategy"), "DeleteOldestNonDefaultVersionWhenLimitExceeded");
    EXPECT_EQ(ok.product, "ram");
    EXPECT_EQ(ok.action, "CreatePolicyVersion");
    return;
  }
  FAIL() << "vector missing";
}

TEST(VerifierTest, ReplayedNonceIsRefused) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  for (const auto& vector : vectors) {
    SCOPED_TRACE(vector.at("name").get<std::string>());
    Keyring keys = vector_keys(vector);
    Verifier verifier(keys.lookup(), without_catalogue());
    const Request request = request_from_vector(vector);
    const auto now = vector_time(vector);
    ASSERT_TRUE(verifier.verify(request.view(), now).ok);
    const auto replay = verifier.verify(request.view(), now + std::chrono::minutes(14));
    EXPECT_EQ(replay.code, "SignatureNonceUsed");
    EXPECT_EQ(replay.status, 400);
    // Past the window the timestamp alone refuses it, and the cache has let the nonce go.
    const auto late = verifier.verify(request.view(), now + std::chrono::minutes(16));
    EXPECT_EQ(late.code, "InvalidTimeStamp.Expired");
    EXPECT_EQ(verifier.nonce_count(), 0u);
    verifier.clear_nonces();
  }
}

TEST(VerifierTest, FailedSignatureDoesNotBurnTheNonce) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  const auto& vector = vectors.at(3);  // v1-ecs-DescribeImages-GET
  Keyring wrong = vector_keys(vector);
  wrong.keys.begin()->second.secret = "nope";
  Keyring right = vector_keys(vector);
  KeyLookup lookup = wrong.lookup();
  Verifier verifier([&](std::string_view id, Clock::time_point now) { return lookup(id, now); });
  const Request request = request_from_vector(vector);
  EXPECT_EQ(verifier.verify(request.view(), vector_time(vector)).code, "SignatureDoesNotMatch");
  lookup = right.lookup();
  EXPECT_TRUE(verifier.verify(request.view(), vector_time(vector)).ok);
}

TEST(VerifierTest, TimestampWindowIsFifteenMinutesEitherWay) {
  const json vectors = load_reference("signature-vectors.json").at("vectors");
  for (const auto& vector : vectors) {
    SCOPED_TRACE(vector.at("name").get<std::string>());
    const auto t = vector_time(vector);
    for (const auto& [skew, ok] :
         std::vector<std::pair<std::chrono::seconds, bool>>{{std::chrono::seconds(-900), true},
                                                            {std::chrono::seconds(900), true},
                                                            {std::chrono::seconds(-901), false},
                                                            {std::chrono::seconds(901), false}}) {
      Keyring keys = vector_keys(vector);
      Verifier verifier(keys.lookup(), without_catalogue());
      const auto v = verifier.verify(request_from_vector(vector).view(), t + skew);
      EXPECT_EQ(v.ok, ok) << skew.count();
      if (!ok) {
        EXPECT_EQ(v.code, "InvalidTimeStamp.Expired");
      }
    }
  }
}

TEST(VerifierTest, MalformedTimestampIsAFormatError) {
  Keyring keys;
  keys.add(kKeyId, kSecret);
  Verifier verifier(keys.lookup());
  Request request;
  request.target =
      "/?Action=GetCallerIdentity&Version=2015-04-01&AccessKeyId=" + std::string(kKeyId) +
      "&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n1&Timestamp=2024-01-02%2003%"
      "3A04%3A05"
      "&Signature=x";
  EXPECT_EQ(verifier.verify(request.view(), at("2024-01-02T03:04:05Z")).code,
            "InvalidTimeStamp.Format");
  request.target = "/?Action=GetCallerIdentity&Version=2015-04-01&AccessKeyId=k&Signature=x";
  const auto v = verifier.verify(request.view(), at("2024-01-02T03:04:05Z"));
  EXPECT_EQ(v.code, "MissingParameter");
  EXPECT_NE(v.message.find("SignatureMethod"), std::string::npos);
}

json vector_named(const std::string& name) {
  const json all = load_reference("signature-vectors.json");
  for (const auto& vector : all.at("vectors")) {
    if (vector.at("name") == name) return vector;
  }
  ADD_FAILURE() << name;
  return {};
}

TEST(VerifierTest, StsTokenExpiresAndMustMatch) {
  for (const std::string name : {"v3-sts-GetCallerIdentity-security-token",
                                 "v1-sts-GetCallerIdentity-POST-security-token"}) {
    SCOPED_TRACE(name);
    const json vector = vector_named(name);
    const auto now = vector_time(vector);
    {
      Keyring keys;
      keys.add(kStsKeyId, kStsSecret, kStsToken, now);  // expired exactly now
      Verifier verifier(keys.lookup());
      const auto v = verifier.verify(request_from_vector(vector).view(), now);
      EXPECT_EQ(v.code, "InvalidSecurityToken.Expired");
      EXPECT_EQ(v.status, 400);
    }
    {
      Keyring keys;
      keys.add(kStsKeyId, kStsSecret, "another-token", now + std::chrono::hours(1));
      Verifier verifier(keys.lookup());
      EXPECT_EQ(verifier.verify(request_from_vector(vector).view(), now).code,
                "InvalidSecurityToken.MismatchWithAccessKey");
    }
    {
      Keyring keys;
      keys.add(kStsKeyId, kStsSecret, kStsToken, now + std::chrono::hours(1));
      Verifier verifier(keys.lookup());
      const auto v = verifier.verify(request_from_vector(vector).view(), now);
      EXPECT_TRUE(v.ok) << v.code;
      EXPECT_EQ(v.product, "sts");
      EXPECT_EQ(v.action, "GetCallerIdentity");
    }
  }
}

TEST(VerifierTest, StsKeyWithoutTokenIsRefused) {
  const json vector = vector_named("v1-sts-GetCallerIdentity-POST-security-token");
  const auto now = vector_time(vector);
  Keyring keys;
  keys.add(kStsKeyId, kStsSecret, kStsToken, now + std::chrono::hours(1));
  Verifier verifier(keys.lookup());
  Request request = request_from_vector(vector);
  const auto token_at = request.target.find("&SecurityToken=");
  ASSERT_NE(token_at, std::string::npos);
  const auto token_end = request.target.find('&', token_at + 1);
  request.target.erase(token_at, token_end - token_at);
  EXPECT_EQ(verifier.verify(request.view(), now).code, "InvalidSecurityToken.Malformed");
}

TEST(VerifierTest, V1MismatchMessageNeverEchoesTheToken) {
  const json vector = vector_named("v1-sts-GetCallerIdentity-POST-security-token");
  const auto now = vector_time(vector);
  Keyring keys;
  keys.add(kStsKeyId, "wrong-secret", kStsToken, now + std::chrono::hours(1));
  Verifier verifier(keys.lookup());
  const auto v = verifier.verify(request_from_vector(vector).view(), now);
  ASSERT_EQ(v.code, "SignatureDoesNotMatch");
  EXPECT_NE(v.message.find("<redacted>"), std::string::npos);
  EXPECT_EQ(v.message.find("CAIS"), std::string::npos);
}

TEST(VerifierTest, V3SecurityTokenHeaderMustBeSigned) {
  const json vector = vector_named("v3-sts-GetCallerIdentity-security-token");
  const auto now = vector_time(vector);
  Keyring keys;
  keys.add(kStsKeyId, kStsSecret, kStsToken, now + std::chrono::hours(1));
  Verifier verifier(keys.lookup());
  Request request = request_from_vector(vector);
  auto& auth = request.headers.at("authorization");
  auth.replace(auth.find(";x-acs-security-token"), std::string(";x-acs-security-token").size(), "");
  EXPECT_EQ(verifier.verify(request.view(), now).code, "IncompleteSignature");
}

TEST(VerifierTest, GatewayCatalogueErrors) {
  Keyring keys;
  Verifier verifier(keys.lookup());
  const auto now = at("2024-01-02T03:04:05Z");
  Request request;
  request.target = "/?Action=GetCallerIdentity";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "MissingParameter");
  request.target = "/?Action=GetCallerIdentity&Version=2099-01-01";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "InvalidVersion");
  request.target = "/?Action=NoSuchThing&Version=2015-04-01";
  auto v = verifier.verify(request.view(), now);
  EXPECT_EQ(v.code, "InvalidAction.NotFound");
  EXPECT_EQ(v.status, 404);
  request.target = "/other?Action=GetCallerIdentity&Version=2015-04-01";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "InvalidAction.NotFound");
  request.target = "/?Version=2015-04-01";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "MissingParameter");
}

TEST(VerifierTest, AnonymousOnlyForFederation) {
  Keyring keys;
  Verifier verifier(keys.lookup());
  const auto now = at("2024-01-02T03:04:05Z");
  Request request;
  request.target =
      "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&Format=JSON&Timestamp=2024-01-02T03%3A04%"
      "3A05Z"
      "&SignatureNonce=abc&RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr";
  auto v = verifier.verify(request.view(), now);
  EXPECT_TRUE(v.ok) << v.code;
  EXPECT_TRUE(v.caller.anonymous);
  EXPECT_EQ(v.signature, SignatureVersion::kNone);
  EXPECT_EQ(verifier.verify(request.view(), now).code, "SignatureNonceUsed");
  request.target = "/?Action=AssumeRole&Version=2015-04-01&RoleArn=x";
  v = verifier.verify(request.view(), now);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.code, "MissingParameter");
  request.target =
      "/?Action=AssumeRoleWithSAML&Version=2015-04-01&Timestamp=2020-01-01T00%3A00%3A00Z";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "InvalidTimeStamp.Expired");
  request.headers["authorization"] = "Bearer abc";
  request.target = "/?Action=GetCallerIdentity&Version=2015-04-01";
  EXPECT_EQ(verifier.verify(request.view(), now).code, "IncompleteSignature");
}

TEST(VerifierTest, EverySignedCaptureVerifies) {
  const json captures = load_reference("sdk-wire-captures.json").at("captures");
  Keyring keys;
  const auto now = at("2026-11-28T22:15:12Z");
  keys.add(kKeyId, kSecret);
  keys.add(kStsKeyId, kStsSecret, kStsToken, now + std::chrono::hours(1));
  Verifier verifier(keys.lookup());
  int signed_count = 0, anonymous_count = 0;
  for (const auto& capture : captures) {
    SCOPED_TRACE(capture.at("label").get<std::string>());
    if (capture.at("path") != "/") continue;  // the credentials-URI GET is not an API call
    Request request;
    request.method = capture.at("method");
    request.target = capture.at("url");
    for (const auto& [name, value] : capture.at("headers").items()) {
      request.headers[lower(name)] = value.get<std::string>();
    }
    request.body = capture.at("body");
    const auto v = verifier.verify(request.view(), now);
    ASSERT_TRUE(v.ok) << v.code << ": " << v.message;
    EXPECT_EQ(v.action, capture.at("action").get<std::string>());
    const std::string scheme = capture.at("signature_check").at("scheme");
    if (scheme == "anonymous") {
      EXPECT_TRUE(v.caller.anonymous);
      ++anonymous_count;
    } else {
      EXPECT_EQ(std::string(to_string(v.signature)), scheme);
      EXPECT_EQ(v.caller.access_key_id,
                capture.at("signature_check").at("access_key_id").get<std::string>());
      ++signed_count;
    }
    // A tampered copy: the same request with one more query parameter.
    if (scheme != "anonymous") {
      Request tampered = request;
      tampered.target += tampered.target.find('?') == std::string::npos ? "?X=1" : "&X=1";
      EXPECT_EQ(verifier.verify(tampered.view(), now).code, "SignatureDoesNotMatch");
    }
  }
  EXPECT_EQ(signed_count, 13);
  EXPECT_EQ(anonymous_count, 2);
}

TEST(VerifierTest, NonceCacheIsBounded) {
  VerifierOptions options;
  options.max_nonces = 3;
  Keyring keys;
  Verifier verifier(keys.lookup(), options);
  const auto now = at("2024-01-02T03:04:05Z");
  for (int i = 0; i < 10; ++i) {
    Request request;
    request.target =
        "/?Action=AssumeRoleWithOIDC&Version=2015-04-01&Timestamp=2024-01-02T03%3A04%3A05Z"
        "&SignatureNonce=n" +
        std::to_string(i);
    EXPECT_TRUE(verifier.verify(request.view(), now).ok);
  }
  EXPECT_EQ(verifier.nonce_count(), 3u);
}

}  // namespace
}  // namespace sharekeeper::emulator
