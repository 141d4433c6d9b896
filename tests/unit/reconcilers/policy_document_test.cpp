#include "reconcilers/policy_document.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace sharekeeper::reconcilers {
namespace {

struct EquivalenceCase {
  const char* name;
  const char* a;
  const char* b;
  bool equal;
};

class EquivalenceTest : public ::testing::TestWithParam<EquivalenceCase> {};

TEST_P(EquivalenceTest, ComparesCanonically) {
  const auto& c = GetParam();
  EXPECT_EQ(policies_equivalent(c.a, c.b), c.equal) << c.name;
  EXPECT_EQ(policies_equivalent(c.b, c.a), c.equal) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EquivalenceTest,
    ::testing::Values(
        EquivalenceCase{
            "Whitespace",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["a"]}]})",
            "{\n  \"Statement\": [\n    {\n      \"Action\": [\"kms:Decrypt\"],\n      \"Effect\": "
            "\"Allow\",\n      \"Resource\": [\"a\"]\n    }\n  ],\n  \"Version\": \"1\"\n}",
            true},
        EquivalenceCase{
            "StringVersusList",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"a"}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["a"]}]})",
            true},
        EquivalenceCase{
            "StatementOrder",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"a:x","Resource":"1"},)"
            R"({"Effect":"Allow","Action":"a:y","Resource":"2"}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"a:y","Resource":"2"},)"
            R"({"Effect":"Allow","Action":"a:x","Resource":"1"}]})",
            true},
        EquivalenceCase{
            "ListOrderAndDuplicates",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["a:x","a:y","a:x"],"Resource":["2","1"]}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":["a:y","a:x"],"Resource":["1","2"]}]})",
            true},
        EquivalenceCase{
            "ActionCase",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"KMS:Decrypt","Resource":"a"}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:decrypt","Resource":"a"}]})",
            true},
        EquivalenceCase{
            "ResourceCaseMatters",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"key/A"}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"key/a"}]})",
            false},
        EquivalenceCase{
            "PrincipalKeyCase",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"service":"1@ECS.aliyuncs.com"}}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["1@ecs.aliyuncs.com"]}}]})",
            true},
        EquivalenceCase{
            "ConditionValueScalarVersusList",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-a"}}}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":["rd-a"]}}}]})",
            true},
        EquivalenceCase{
            "ConditionValueDiffers",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-a"}}}]})",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-b"}}}]})",
            false},
        EquivalenceCase{
            "EffectDiffers",
            R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"a:x","Resource":"1"}]})",
            R"({"Version":"1","Statement":[{"Effect":"Deny","Action":"a:x","Resource":"1"}]})",
            false},
        EquivalenceCase{"UnparsableEqualsNothing", "{not json", "{not json", false},
        EquivalenceCase{"WrongVersion", R"({"Version":"2","Statement":[]})",
                        R"({"Version":"2","Statement":[]})", false}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(TrustPolicyTest, ParsesAllThreeKindsAndForeignStatements) {
  const char* doc = R"({
    "Statement": [
      {"Action": "sts:AssumeRole", "Effect": "Allow",
       "Principal": {"Service": ["2222333344445555@ecs.aliyuncs.com", "1111222233334444@ECS.aliyuncs.com", "ecs.aliyuncs.com"]}},
      {"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": "*@ecs.aliyuncs.com"},
       "Condition": {"StringEquals": {"sts:ServiceOwnerRDId": "rd-abc123"}}},
      {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["*@ecs.aliyuncs.com"]},
       "Condition": {"StringLike": {"sts:ServiceOwnerRDPath": ["rd-abc123/r-ab12cd/fd-0123456789*"]}}},
      {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": "acs:ram::9999888877776666:root"}}
    ],
    "Version": "1"})";
  auto tp = parse_trust_policy(doc);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->accounts, (std::vector<std::string>{"1111222233334444", "2222333344445555"}));
  EXPECT_EQ(tp->rds, (std::vector<std::string>{"rd-abc123"}));
  EXPECT_EQ(tp->folders, (std::vector<std::string>{"rd-abc123/r-ab12cd/fd-0123456789"}));
  ASSERT_EQ(tp->foreign.size(), 2U);  // the plain ecs.aliyuncs.com remainder and the RAM statement
}

TEST(TrustPolicyTest, BuildIsStableAcrossParseAndRebuild) {
  TrustPrincipals tp;
  tp.accounts = {"2222333344445555", "1111222233334444"};
  tp.rds = {"rd-abc123"};
  tp.folders = {"rd-abc123/r-ab12cd/fd-0123456789"};
  std::string built = build_trust_policy(tp);
  auto parsed = parse_trust_policy(built);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(build_trust_policy(*parsed), built);
  EXPECT_TRUE(verify_written_form(built, built).ok());
  // One stable form: compact, keys sorted, lists everywhere.
  EXPECT_EQ(built.find('\n'), std::string::npos);
  EXPECT_NE(
      built.find(
          R"("Service":["1111222233334444@ecs.aliyuncs.com","2222333344445555@ecs.aliyuncs.com"])"),
      std::string::npos);
  EXPECT_NE(built.find(
                R"("StringLike":{"sts:ServiceOwnerRDPath":["rd-abc123/r-ab12cd/fd-0123456789*"]})"),
            std::string::npos);
}

TEST(TrustPolicyTest, ForeignStatementsSurviveARewriteUnchangedInMeaning) {
  const char* doc =
      R"({"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::9999888877776666:root"]}},)"
      R"({"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"1111222233334444@ecs.aliyuncs.com"}}]})";
  auto tp = parse_trust_policy(doc);
  ASSERT_TRUE(tp);
  EXPECT_TRUE(policies_equivalent(build_trust_policy(*tp), doc));
}

TEST(TrustPolicyTest, TwoSpellingsOfServiceKeepEveryOtherPrincipal) {
  // Found by the policy fuzzer: only the last spelling was split, and ecs.aliyuncs.com was lost.
  const char* doc = R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",
    "Principal":{"SERVICE":["ecs.aliyuncs.com"],"Service":["1111222233334444@ecs.aliyuncs.com"]}}]})";
  auto tp = parse_trust_policy(doc);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->accounts, (std::vector<std::string>{"1111222233334444"}));
  ASSERT_EQ(tp->foreign.size(), 1U);
  EXPECT_NE(tp->foreign[0].find("ecs.aliyuncs.com"), std::string::npos);
  const std::string rebuilt = build_trust_policy(*tp);
  EXPECT_NE(rebuilt.find("\"ecs.aliyuncs.com\""), std::string::npos) << rebuilt;
}

TEST(TrustPolicyTest, DeeplyNestedDocumentsAreRefusedNotRecursedInto) {
  // Re-serialising thousands of nested arrays would exhaust the stack (found by the fuzzer).
  std::string deep = R"({"Version":"1","Statement":[{"Effect":)";
  deep += std::string(5000, '[') + "1" + std::string(5000, ']') + "}]}";
  auto parsed = parse_trust_policy(deep);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("deeper than"), std::string::npos)
      << parsed.error().message;
  EXPECT_FALSE(canonicalize_policy(deep));
}

// parse_trust_policy reads a document exactly as build_trust_policy writes an accounts-only one
// without parsing it (written_accounts_only): the same text with one space after its first brace
// is no longer that form and goes through the parse, which must say the same.
TrustPrincipals parsed_in_full(std::string doc) {
  doc.insert(1, " ");
  auto tp = parse_trust_policy(doc);
  EXPECT_TRUE(tp) << doc;
  return tp ? *tp : TrustPrincipals{};
}

TEST(TrustPolicyTest, OurAccountsOnlyDocumentReadsAsTheParseReadsIt) {
  for (const std::vector<std::string>& accounts :
       {std::vector<std::string>{"1111222233334444"},
        std::vector<std::string>{"9999888877776666", "1111222233334444", "5555666677778888"}}) {
    TrustPrincipals tp;
    tp.accounts = accounts;
    const std::string doc = build_trust_policy(tp);
    auto fast = parse_trust_policy(doc);
    ASSERT_TRUE(fast) << doc;
    EXPECT_EQ(*fast, parsed_in_full(doc)) << doc;
    std::vector<std::string> sorted = accounts;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(fast->accounts, sorted);
    EXPECT_TRUE(fast->foreign.empty() && fast->rds.empty() && fast->folders.empty());
    // As RAM's GetRole returns it (re-serialised: 2-space indentation, keys sorted), and the same
    // text with one space more.
    const std::string returned = nlohmann::json::parse(doc).dump(2);
    auto as_returned = parse_trust_policy(returned);
    ASSERT_TRUE(as_returned) << returned;
    EXPECT_EQ(*as_returned, *fast) << returned;
    EXPECT_EQ(*as_returned, parsed_in_full(returned)) << returned;
  }
}

TEST(TrustPolicyTest, NearlyOurFormIsParsedInFull) {
  // Each differs from our writing in one place the recognition checks; each must read as the parse
  // reads it (a foreign statement, another spelling of the same account, a second principal).
  const std::string head =
      R"({"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Allow","Principal":{"Service":[)";
  const std::string tail = R"(]}}],"Version":"1"})";
  const std::vector<std::string> lists = {
      R"("111122223333444@ecs.aliyuncs.com")",                                        // 15 digits
      R"("11112222333344445@ecs.aliyuncs.com")",                                      // 17 digits
      R"("111122223333444x@ecs.aliyuncs.com")",                                       // not a digit
      R"("1111222233334444@ECS.aliyuncs.com")",                                       // case
      R"("1111222233334444@ecs.aliyuncs.com","ecs.aliyuncs.com")",                    // a service
      R"("1111222233334444@ecs.aliyuncs.com", "2222333344445555@ecs.aliyuncs.com")",  // a space
      R"("1111222233334444@ecs.aliyuncs.com",)",                                      // a comma
      R"()",                                                                          // empty
  };
  for (const auto& list : lists) {
    const std::string doc = head + list + tail;
    auto tp = parse_trust_policy(doc);
    if (!tp) {
      EXPECT_FALSE(parse_trust_policy(" " + doc)) << doc;  // malformed either way
      continue;
    }
    EXPECT_EQ(*tp, parsed_in_full(doc)) << doc;
  }
  // Upper-case ECS folds to the same account in the parse.
  auto folded = parse_trust_policy(head + R"("1111222233334444@ECS.aliyuncs.com")" + tail);
  ASSERT_TRUE(folded);
  EXPECT_EQ(folded->accounts, (std::vector<std::string>{"1111222233334444"}));
  // Fifteen digits is not an account principal: it is kept as a foreign statement.
  auto short_uid = parse_trust_policy(head + R"("111122223333444@ecs.aliyuncs.com")" + tail);
  ASSERT_TRUE(short_uid);
  EXPECT_TRUE(short_uid->accounts.empty());
  EXPECT_EQ(short_uid->foreign.size(), 1U);
}

TEST(TrustPolicyTest, NestingIsCountedOutsideStrings) {
  // 32 levels are a policy's business (the parse decides), 33 are refused; brackets inside a
  // string, escaped quotes included, are not nesting.
  auto nested = [](int levels, const std::string& leaf) {
    // The document and the statement list are two levels, the statement a third.
    std::string d = R"({"Version":"1","Statement":[{"Effect":"Allow","Sid":)";
    d += std::string(static_cast<std::size_t>(levels - 3), '[') + leaf +
         std::string(static_cast<std::size_t>(levels - 3), ']') + "}]}";
    return d;
  };
  EXPECT_TRUE(parse_trust_policy(nested(32, "1")));
  auto refused = parse_trust_policy(nested(33, "1"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("deeper than"), std::string::npos);
  const std::string brackets = R"("[[[[\"{{{{)" + std::string(40, '[') + R"(")";
  auto in_strings = parse_trust_policy(nested(30, brackets));
  EXPECT_TRUE(in_strings) << (in_strings ? "" : in_strings.error().message) << nested(30, brackets);
}

TEST(TrustPolicyTest, EmptyPrincipalsGiveADenyPlaceholderReadBackAsEmpty) {
  std::string doc = build_trust_policy({});
  EXPECT_EQ(doc,
            R"({"Statement":[{"Action":["sts:AssumeRole"],"Effect":"Deny","Principal":{"Service":)"
            R"(["*@ecs.aliyuncs.com"]}}],"Version":"1"})");
  auto tp = parse_trust_policy(doc);
  ASSERT_TRUE(tp);
  EXPECT_TRUE(tp->empty());
}

TEST(KmsPolicyTest, BuildAndParseRoundTrip) {
  KmsPolicyContent c;
  c.list_resources = {"acs:kms:cn-hangzhou:1234567890123456:key"};
  c.key_arns = {"acs:kms:cn-hangzhou:1234567890123456:key/k2",
                "acs:kms:cn-hangzhou:1234567890123456:key/k1"};
  std::string doc = build_kms_policy(c);
  auto back = parse_kms_policy(doc);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->list_resources, c.list_resources);
  EXPECT_EQ(back->key_arns,
            (std::vector<std::string>{"acs:kms:cn-hangzhou:1234567890123456:key/k1",
                                      "acs:kms:cn-hangzhou:1234567890123456:key/k2"}));
  auto j = nlohmann::json::parse(doc);
  EXPECT_EQ(j["Statement"][1]["Action"].size(), 6U);
}

TEST(KmsPolicyTest, SplitsAtTheSizeLimitAndEveryPartFits) {
  KmsPolicyContent c;
  c.list_resources = {"acs:kms:cn-hangzhou:1234567890123456:key"};
  for (int i = 0; i < 250; ++i)
    c.key_arns.push_back("acs:kms:cn-hangzhou:1234567890123456:key/key-hzz" +
                         std::to_string(100000 + i) + "abcdefghijklmnop");
  auto parts = split_kms_policy(c, 6144);
  ASSERT_GE(parts.size(), 3U);
  std::size_t total = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string doc = build_kms_policy(parts[i]);
    EXPECT_LE(doc.size(), 6144U) << i;
    EXPECT_EQ(parts[i].list_resources.empty(), i != 0) << "only the first part lists keys";
    total += parts[i].key_arns.size();
  }
  EXPECT_EQ(total, 250U);
  // Tight: one more key in the first part would not fit.
  KmsPolicyContent first = parts[0];
  first.key_arns.push_back(parts[1].key_arns.front());
  EXPECT_GT(build_kms_policy(first).size(), 6144U);
}

TEST(KmsPolicyTest, SmallContentIsOnePolicyAndEmptyIsNone) {
  KmsPolicyContent c;
  c.list_resources = {"acs:kms:cn-hangzhou:1:key"};
  c.key_arns = {"acs:kms:cn-hangzhou:1:key/k1"};
  EXPECT_EQ(split_kms_policy(c, 6144).size(), 1U);
  EXPECT_TRUE(split_kms_policy({}, 6144).empty());
}

TEST(VerifyWrittenFormTest, DetectsADifference) {
  auto r = verify_written_form(
      R"({"Version":"1","Statement":[]})",
      R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "document we built differs from the intended one");
}

TEST(VerifyWrittenFormTest, SaysWhichDocumentDoesNotParse) {
  auto r = verify_written_form("{not json", R"({"Version":"1","Statement":[]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("document we built does not parse: ", 0), 0U)
      << r.error().message;
  auto i = verify_written_form(R"({"Version":"1","Statement":[]})", "[]");
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.error().message.rfind("intended document does not parse: ", 0), 0U)
      << i.error().message;
}

TEST(CanonicalizeTest, AFailureSaysWhy) {
  auto c = canonicalize_policy(R"({"Version":"2","Statement":[]})");
  ASSERT_FALSE(c.ok());
  EXPECT_FALSE(c.error().message.empty());
}

}  // namespace
}  // namespace sharekeeper::reconcilers
