// The RAM policy evaluator: wildcards, Action/NotAction, Resource, conditions, Deny, grammar.
#include <gtest/gtest.h>

#include "emulator/policy_eval.hpp"

namespace sharekeeper::emulator::policy {
namespace {

using nlohmann::json;

TEST(PolicyWildcard, Table) {
  struct Case {
    const char* pattern;
    const char* value;
    bool icase;
    bool match;
  } cases[] = {
      {"*", "", false, true},
      {"*", "anything", false, true},
      {"kms:List*", "kms:ListKeys", false, true},
      {"kms:List*", "kms:Decrypt", false, false},
      {"kms:list*", "kms:ListKeys", true, true},
      {"kms:list*", "kms:ListKeys", false, false},
      {"kms:?ecrypt", "kms:Decrypt", false, true},
      {"kms:?ecrypt", "kms:ecrypt", false, false},
      {"*@ecs.aliyuncs.com", "2000000000000002@ecs.aliyuncs.com", false, true},
      {"*@ecs.aliyuncs.com", "ecs.aliyuncs.com", false, false},
      {"rd-1/r-1/fd-a*", "rd-1/r-1/fd-a/fd-b", false, true},
      {"rd-1/r-1/fd-a*", "rd-1/r-1/fd-b", false, false},
      {"a*b*c", "axxbyyc", false, true},
      {"a*b*c", "axxbyy", false, false},
      {"acs:kms:*:1:key/*", "acs:kms:cn-hangzhou:1:key/k1", false, true},
      {"", "", false, true},
      {"", "x", false, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(wildcard_match(c.pattern, c.value, c.icase), c.match)
        << c.pattern << " vs " << c.value;
  }
}

TEST(PolicyConditions, Table) {
  Context ctx{{"sts:ServiceOwnerRDId", "rd-abc"}, {"sts:ServiceOwnerRDPath", "rd-abc/r-1/fd-x"}};
  struct Case {
    const char* condition;
    bool holds;
  } cases[] = {
      {R"({"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc"}})", true},
      {R"({"StringEquals":{"sts:ServiceOwnerRDId":["rd-zzz","rd-abc"]}})", true},  // values ORed
      {R"({"StringEquals":{"sts:ServiceOwnerRDId":"RD-ABC"}})", false},
      {R"({"StringEqualsIgnoreCase":{"sts:ServiceOwnerRDId":"RD-ABC"}})", true},
      {R"({"StringEquals":{"STS:serviceownerrdid":"rd-abc"}})", true},  // keys case-insensitive
      {R"({"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc/r-1/*"}})", true},
      {R"({"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc/r-1/fd-y*"}})", false},
      {R"({"StringLikeIgnoreCase":{"sts:ServiceOwnerRDPath":"RD-ABC/*"}})", true},
      {R"({"StringNotEquals":{"sts:ServiceOwnerRDId":"rd-abc"}})", false},
      {R"({"StringNotEquals":{"sts:Missing":"x"}})", true},
      {R"({"StringEquals":{"sts:Missing":"x"}})", false},
      {R"({"StringNotLike":{"sts:ServiceOwnerRDPath":"rd-zzz*"}})", true},
      // keys ANDed, operators ANDed
      {R"({"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc","sts:ServiceOwnerRDPath":"nope"}})",
       false},
      {R"({"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc"},"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc*"}})",
       true},
      {R"({"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}})", false},  // unsupported: does not apply
  };
  for (const auto& c : cases) {
    EXPECT_EQ(conditions_hold(json::parse(c.condition), ctx), c.holds) << c.condition;
  }
}

TEST(PolicyEvaluate, AllowDenyAndNotAction) {
  auto doc = json::parse(R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":["KMS:decrypt","kms:Describe*"],"Resource":["acs:kms:*:1:key/k1","acs:kms:*:1:key/k?"]},
    {"Effect":"Allow","NotAction":"kms:*","Resource":"*"},
    {"Effect":"Deny","Action":"kms:Decrypt","Resource":"acs:kms:*:1:key/k9"}]})");
  struct Case {
    const char* action;
    const char* resource;
    Decision want;
  } cases[] = {
      {"kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k1", Decision::Allow},
      {"kms:DescribeKey", "acs:kms:cn-hangzhou:1:key/k2", Decision::Allow},
      {"kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k10", Decision::ImplicitDeny},
      {"kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k9", Decision::ExplicitDeny},
      {"kms:Encrypt", "acs:kms:cn-hangzhou:1:key/k1", Decision::ImplicitDeny},
      {"ecs:DescribeImages", "*", Decision::Allow},  // NotAction kms:*
      {"kms:Decrypt", "ACS:KMS:cn-hangzhou:1:key/k1",
       Decision::ImplicitDeny},  // resources case-sensitive
  };
  for (const auto& c : cases) {
    EXPECT_EQ(evaluate({doc}, {c.action, c.resource, {}}), c.want) << c.action << " " << c.resource;
  }
  // A Deny in another document wins too.
  auto deny =
      json::parse(R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]})");
  EXPECT_EQ(evaluate({doc, deny}, {"kms:Decrypt", "acs:kms:cn-hangzhou:1:key/k1", {}}),
            Decision::ExplicitDeny);
  EXPECT_EQ(evaluate({}, {"kms:Decrypt", "x", {}}), Decision::ImplicitDeny);
}

TEST(PolicyEvaluate, TrustPrincipals) {
  auto doc = json::parse(R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"service":"*@ecs.aliyuncs.com"},
     "Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-1"}}},
    {"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["1111111111111111@ecs.aliyuncs.com"]}},
    {"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"Service":"9999999999999999@ecs.aliyuncs.com"}}]})");
  auto service = [](std::string principal) {
    return [principal](std::string_view kind, std::string_view value) {
      return kind == "Service" && wildcard_match(value, principal, true);
    };
  };
  EXPECT_EQ(evaluate_trust(doc, "sts:AssumeRole", service("1111111111111111@ecs.aliyuncs.com"), {}),
            Decision::Allow);
  EXPECT_EQ(evaluate_trust(doc, "sts:AssumeRole", service("2222222222222222@ecs.aliyuncs.com"), {}),
            Decision::ImplicitDeny);
  EXPECT_EQ(evaluate_trust(doc, "sts:AssumeRole", service("2222222222222222@ecs.aliyuncs.com"),
                           {{"sts:ServiceOwnerRDId", "rd-1"}}),
            Decision::Allow);
  EXPECT_EQ(evaluate_trust(doc, "sts:AssumeRole", service("9999999999999999@ecs.aliyuncs.com"),
                           {{"sts:ServiceOwnerRDId", "rd-1"}}),
            Decision::ExplicitDeny);
  EXPECT_EQ(evaluate_trust(doc, "sts:GetCallerIdentity",
                           service("1111111111111111@ecs.aliyuncs.com"), {}),
            Decision::ImplicitDeny);
}

TEST(PolicyValidate, Grammar) {
  struct Case {
    const char* doc;
    DocKind kind;
    bool valid;
  } cases[] = {
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
       DocKind::Identity, true},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","NotAction":["a"],"Resource":["*"],"Condition":{"StringEquals":{"k":["v"]}}}]})",
       DocKind::Identity, true},
      {R"({"Version":"2","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":1,"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[]})", DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotAction":"x","Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]})", DocKind::Identity,
       false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Colour":"red"}]})",
       DocKind::Identity, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["x"]}}]})",
       DocKind::Trust, true},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::1:root"}}]})",
       DocKind::Trust, true},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"x"}}]})",
       DocKind::Trust, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]})",
       DocKind::Trust, false},
      {R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"RAM":"x"}}]})",
       DocKind::Identity, false},
      {R"([])", DocKind::Identity, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(!validate(json::parse(c.doc), c.kind).has_value(), c.valid) << c.doc;
  }
}

}  // namespace
}  // namespace sharekeeper::emulator::policy
