#include "cloud/redact.hpp"

#include <gtest/gtest.h>

#include <random>

#include "cloud/signer.hpp"

namespace sharekeeper::cloud {
namespace {

class Redact : public ::testing::Test {
 protected:
  void TearDown() override { redact::clear_registered_secrets(); }
};

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST_F(Redact, ScrubsQueryParametersThatCarrySecrets) {
  const std::string s = redact::scrub(
      "GET Action=GetRole&AccessKeyId=LTAI5tAbc&SecurityToken=CAIS%2Bxyz&Signature=e2rVAq%3D"
      "&SignatureMethod=HMAC-SHA1&SignatureNonce=abc123");
  EXPECT_FALSE(has(s, "LTAI5tAbc"));
  EXPECT_FALSE(has(s, "CAIS%2Bxyz"));
  EXPECT_FALSE(has(s, "e2rVAq"));
  EXPECT_TRUE(has(s, "Action=GetRole"));
  EXPECT_TRUE(has(s, "SignatureMethod=HMAC-SHA1"));
  EXPECT_TRUE(has(s, "SignatureNonce=abc123"));
}

// SignatureDoesNotMatch quotes the server's V1 string to sign, where every pair is encoded once
// more.
TEST_F(Redact, ScrubsAV1StringToSign) {
  const std::string s = redact::scrub(
      "Specified signature is not matched with our calculation. server string to sign is:"
      "POST&%2F&AccessKeyId%3DSTS.NTestKey%26Action%3DGetRole%26SecurityToken%3DCAIS%252BgF1%"
      "252Fabc%253D%253D"
      "%26SignatureMethod%3DHMAC-SHA1%26Timestamp%3D2024-01-02T03%253A04%253A05Z");
  EXPECT_FALSE(has(s, "STS.NTestKey"));
  EXPECT_FALSE(has(s, "CAIS"));
  EXPECT_FALSE(has(s, "gF1"));
  EXPECT_TRUE(has(s, "%26Action%3DGetRole"));
  EXPECT_TRUE(has(s, "%26SignatureMethod%3DHMAC-SHA1"));
}

TEST_F(Redact, ScrubsHeaders) {
  const std::string s = redact::scrub(
      "authorization: ACS3-HMAC-SHA256 "
      "Credential=LTAI5tAbc,SignedHeaders=host;x-acs-security-token,"
      "Signature=deadbeef\r\nx-acs-security-token: CAISsecret==\r\nx-acs-accesskey-id: STS.Nabc\r\n"
      "host: ram.aliyuncs.com\r\n");
  EXPECT_FALSE(has(s, "LTAI5tAbc"));
  EXPECT_FALSE(has(s, "deadbeef"));
  EXPECT_FALSE(has(s, "CAISsecret"));
  EXPECT_FALSE(has(s, "STS.Nabc"));
  EXPECT_TRUE(has(s, "host: ram.aliyuncs.com"));
}

TEST_F(Redact, ScrubsJsonFields) {
  const std::string s = redact::scrub(
      R"({"AccessKeyId":"STS.Nkey","AccessKeySecret":"sec\"ret","SecurityToken":"tok+/=","Expiration":"2026"})");
  EXPECT_FALSE(has(s, "STS.Nkey"));
  EXPECT_FALSE(has(s, "sec\\\"ret"));
  EXPECT_TRUE(has(s, R"("AccessKeySecret":"***")"));
  EXPECT_FALSE(has(s, "tok+/="));
  EXPECT_TRUE(has(s, R"("Expiration":"2026")"));
}

TEST_F(Redact, ScrubsIniAndEnvStyle) {
  const std::string s = redact::scrub(
      "access_key_secret = "
      "abcdefSECRET\nALIBABA_CLOUD_ACCESS_KEY_SECRET=envSECRET\nsts_token=stsSECRET\n");
  EXPECT_FALSE(has(s, "abcdefSECRET"));
  EXPECT_FALSE(has(s, "envSECRET"));
  EXPECT_FALSE(has(s, "stsSECRET"));
}

TEST_F(Redact, StripsQueryStringsOfUrls) {
  const std::string s = redact::scrub(
      "connect to https://ecs.cn-hangzhou.aliyuncs.com/?Action=X&Foo=bar failed; POST /?Bar=baz "
      "HTTP/1.1; "
      "is this a question? yes");
  EXPECT_FALSE(has(s, "Foo=bar"));
  EXPECT_FALSE(has(s, "Bar=baz"));
  EXPECT_TRUE(has(s, "https://ecs.cn-hangzhou.aliyuncs.com/?***"));
  EXPECT_TRUE(has(s, "POST /?*** HTTP/1.1"));
  EXPECT_TRUE(has(s, "is this a question? yes"));
  EXPECT_EQ(redact::scrub_keep_urls("https://api.aliyun.com/troubleshoot?q=Throttling&product=Ram"),
            "https://api.aliyun.com/troubleshoot?q=Throttling&product=Ram");
}

// A canary secret registered once never leaves in any of its spellings, wherever it sits.
TEST_F(Redact, RegisteredCanaryNeverLeaves) {
  const std::string canary = "Canary+Secret/Value=0123456789";
  redact::register_secret(canary);
  const std::string spellings[] = {canary, percent_encode(canary),
                                   percent_encode(percent_encode(canary)),
                                   "Canary+Secret\\/Value=0123456789"};
  for (const auto& sp : spellings) {
    for (const std::string& text :
         {"plain " + sp + " text", "k:" + sp, "[" + sp + "]", sp, "prefix" + sp + "suffix"}) {
      const std::string out = redact::scrub(text);
      EXPECT_FALSE(has(out, canary)) << out;
      EXPECT_FALSE(has(out, percent_encode(canary))) << out;
      EXPECT_FALSE(has(out, "Secret\\/Value")) << out;
      EXPECT_TRUE(has(out, redact::kMask)) << out;
    }
  }
}

// Property: wherever a registered secret lands in arbitrary text (next to separators, quotes, URL
// syntax, other secrets), none of its spellings survive. Deterministic seed, so a failure replays.
TEST_F(Redact, CanarySurvivesNoRandomSurroundings) {
  const std::string canaries[] = {"CanaryAlpha+/=0123456789", "CanaryBeta~_.-9876543210"};
  for (const auto& c : canaries) redact::register_secret(c);
  const std::string pieces[] = {"&", "=",   ":",   " ",           "\"",        "'",     "?",  "/",
                                "%", "%3D", "%26", "https://h/?", "Signature", "token", "\n", "{",
                                "}", ",",   "a",   "Z",           "é",         "\\"};
  std::mt19937 rng(20261129);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) {
      const auto pick = rng() % 5;
      if (pick == 0) {
        const std::string& c = canaries[rng() % 2];
        const auto form = rng() % 3;
        text += form == 0 ? c : form == 1 ? percent_encode(c) : percent_encode(percent_encode(c));
      } else {
        text += pieces[rng() % std::size(pieces)];
      }
    }
    const std::string out = redact::scrub(text);
    for (const auto& c : canaries) {
      ASSERT_FALSE(has(out, c)) << text;
      ASSERT_FALSE(has(out, percent_encode(c))) << text;
      ASSERT_FALSE(has(out, percent_encode(percent_encode(c)))) << text;
    }
  }
}

TEST_F(Redact, ShortStringsAreNotRegistered) {
  redact::register_secret("abc");
  EXPECT_EQ(redact::scrub("abc abc"), "abc abc");
}

TEST_F(Redact, RegistryIsBounded) {
  for (std::size_t i = 0; i < redact::kMaxSecrets + 10; ++i) {
    redact::register_secret("secret-number-" + std::to_string(i));
  }
  EXPECT_EQ(redact::scrub("secret-number-0"), "secret-number-0");  // evicted, oldest first
  EXPECT_EQ(redact::scrub("secret-number-" + std::to_string(redact::kMaxSecrets + 9)), "***");
}

TEST_F(Redact, LeavesOrdinaryTextAlone) {
  const std::string text =
      "ram GetRole: EntityNotExist.Role (HTTP 404): The role not exists: x. [RequestId R]";
  EXPECT_EQ(redact::scrub(text), text);
}

}  // namespace
}  // namespace sharekeeper::cloud
