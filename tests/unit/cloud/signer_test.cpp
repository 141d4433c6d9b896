// Reproduces every vector of reference/signature-vectors.json (computed by the official SDK's own
// signing functions), read at test time so a new vector is covered without touching this file.
#include "cloud/signer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sharekeeper::cloud {
namespace {

using nlohmann::json;

json load_vectors() {
  std::ifstream in(std::string(SHAREKEEPER_REFERENCE_DIR) + "/signature-vectors.json");
  EXPECT_TRUE(in.good()) << "cannot open signature-vectors.json under "
                         << SHAREKEEPER_REFERENCE_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

const json& vectors() {
  static const json v = load_vectors();
  return v.at("vectors");
}

bool is_v1(const json& v) { return v.at("algorithm").get<std::string>().starts_with("HMAC-SHA1"); }

Params to_params(const json& obj) {
  Params p;
  if (obj.is_null()) return p;
  for (const auto& [k, val] : obj.items()) p[k] = val.get<std::string>();
  return p;
}

TEST(Signer, PercentEncodeFollowsRfc3986) {
  EXPECT_EQ(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(percent_encode(" "), "%20");
  EXPECT_EQ(percent_encode("*"), "%2A");
  EXPECT_EQ(percent_encode("/+=&"), "%2F%2B%3D%26");
  EXPECT_EQ(percent_encode("!'()"), "%21%27%28%29");
  EXPECT_EQ(percent_encode("é"), "%C3%A9");
  EXPECT_EQ(percent_encode("%"), "%25");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(Signer, CanonicalizedQuerySortsByByteOrder) {
  Params p{{"b", "2"}, {"B", "1"}, {"a b", "x*y"}};
  EXPECT_EQ(canonicalized_query(p), "B=1&a%20b=x%2Ay&b=2");
  EXPECT_EQ(canonicalized_query({}), "");
}

TEST(Signer, HashPrimitives) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 2202 / RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha1_base64("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk=");
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Signer, VectorFileHasBothAlgorithms) {
  int v1 = 0;
  int v3 = 0;
  for (const auto& v : vectors()) (is_v1(v) ? v1 : v3)++;
  EXPECT_GE(v1, 5);
  EXPECT_GE(v3, 5);
}

TEST(Signer, ReproducesEveryV1Vector) {
  int checked = 0;
  for (const auto& v : vectors()) {
    if (!is_v1(v)) continue;
    SCOPED_TRACE(v.at("name").get<std::string>());
    // The signature covers query and form body together (docs/alibaba-api.md §1.2 step 1).
    Params params = to_params(v.at("query"));
    if (v.contains("body_params")) {
      for (auto& [k, val] : to_params(v.at("body_params"))) params[k] = val;
    }
    params.erase("Signature");
    if (v.contains("expected_canonicalized_query")) {
      EXPECT_EQ(canonicalized_query(params),
                v.at("expected_canonicalized_query").get<std::string>());
    }
    const V1Signature sig = sign_v1(v.at("method").get<std::string>(), params,
                                    v.at("access_key_secret").get<std::string>());
    EXPECT_EQ(sig.string_to_sign, v.at("expected_string_to_sign").get<std::string>());
    EXPECT_EQ(sig.signature, v.at("expected_signature").get<std::string>());
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(Signer, ReproducesEveryV3Vector) {
  int checked = 0;
  for (const auto& v : vectors()) {
    if (is_v1(v)) continue;
    SCOPED_TRACE(v.at("name").get<std::string>());
    V3Input in;
    in.method = v.at("method").get<std::string>();
    in.path = v.at("path").get<std::string>();
    in.query = to_params(v.at("query"));
    in.body = v.at("body").get<std::string>();
    // Hand over every header the SDK sent except Authorization; the signer picks the signed ones.
    for (const auto& [k, val] : v.at("headers").items()) {
      if (k == "Authorization" || k == "authorization") continue;
      in.headers.emplace_back(k, val.get<std::string>());
    }
    const V3Signature sig = sign_v3(in, v.at("access_key_id").get<std::string>(),
                                    v.at("access_key_secret").get<std::string>());
    EXPECT_EQ(sig.canonical_request, v.at("expected_canonical_request").get<std::string>());
    EXPECT_EQ(sig.string_to_sign, v.at("expected_string_to_sign").get<std::string>());
    EXPECT_EQ(sig.signature, v.at("expected_signature").get<std::string>());
    EXPECT_EQ(sig.authorization, v.at("expected_authorization").get<std::string>());
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

// The wire captures are real SDK requests: re-signing their decoded parameters must give the
// signature the SDK sent (both algorithms, with and without STS tokens).
TEST(Signer, ReproducesSignaturesOfSdkWireCaptures) {
  std::ifstream in(std::string(SHAREKEEPER_REFERENCE_DIR) + "/sdk-wire-captures.json");
  ASSERT_TRUE(in.good());
  const json captures = json::parse(in).at("captures");
  const std::map<std::string, std::string> secrets{
      {"LTAI5tTestAccessKeyId01", "TestAccessKeySecret0123456789ab"},
      {"STS.NTestTemporaryKeyId0001", "TestTemporarySecretXyz987654321"}};
  int checked = 0;
  for (const auto& c : captures) {
    if (!c.contains("signature_check")) continue;
    const json& ok = c.at("signature_check").at("ok");
    if (!ok.is_boolean() || !ok.get<bool>()) continue;
    SCOPED_TRACE(c.at("label").get<std::string>());
    const std::string scheme = c.at("signature_check").at("scheme");
    const std::string key_id = c.at("signature_check").at("access_key_id");
    ASSERT_TRUE(secrets.contains(key_id));
    Params query = to_params(c.at("query_decoded"));
    if (scheme == "V1") {
      const std::string sent = query.at("Signature");
      query.erase("Signature");
      if (c.contains("body_decoded")) {
        for (auto& [k, val] : to_params(c.at("body_decoded"))) query[k] = val;
      }
      EXPECT_EQ(sign_v1(c.at("method").get<std::string>(), query, secrets.at(key_id)).signature,
                sent);
    } else {
      V3Input v3;
      v3.method = c.at("method");
      v3.query = query;
      v3.body = c.at("body");
      std::string sent;
      for (const auto& [k, val] : c.at("headers").items()) {
        if (k == "authorization")
          sent = val.get<std::string>();
        else
          v3.headers.emplace_back(k, val.get<std::string>());
      }
      EXPECT_EQ(sign_v3(v3, key_id, secrets.at(key_id)).authorization, sent);
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(Signer, V1PlacementOfParametersDoesNotChangeSignature) {
  const json* form = nullptr;
  const json* query = nullptr;
  for (const auto& v : vectors()) {
    if (v.at("name") == "v1-ram-CreateRole-POST-form-body") form = &v;
    if (v.at("name") == "v1-ram-CreateRole-POST-all-in-query") query = &v;
  }
  ASSERT_NE(form, nullptr);
  ASSERT_NE(query, nullptr);
  EXPECT_EQ(form->at("expected_signature"), query->at("expected_signature"));
}

TEST(Signer, V3HeaderNamesAreLowerCasedTrimmedAndRepeatsJoined) {
  V3Input in;
  in.headers = {{"Host", " ram.aliyuncs.com "},
                {"X-Acs-Action", "GetRole"},
                {"x-acs-custom", "b"},
                {"x-acs-custom", "a"},
                {"User-Agent", "not signed"}};
  const V3Signature sig = sign_v3(in, "id", "secret");
  EXPECT_EQ(sig.signed_headers, "host;x-acs-action;x-acs-custom");
  EXPECT_NE(sig.canonical_request.find("host:ram.aliyuncs.com\n"), std::string::npos);
  EXPECT_NE(sig.canonical_request.find("x-acs-custom:b,a\n"), std::string::npos);
  EXPECT_EQ(sig.canonical_request.find("user-agent"), std::string::npos);
}

TEST(Signer, V3BodyHashComesFromTheBodyNotTheHeader) {
  V3Input a;
  a.headers = {{"host", "h"}, {"x-acs-content-sha256", "00"}};
  a.body = "x=1";
  V3Input b = a;
  b.body = "x=2";
  EXPECT_NE(sign_v3(a, "id", "s").signature, sign_v3(b, "id", "s").signature);
  EXPECT_TRUE(sign_v3(a, "id", "s").canonical_request.ends_with(sha256_hex("x=1")));
}

}  // namespace
}  // namespace sharekeeper::cloud
