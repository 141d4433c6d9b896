// Every validation rule of config::load with a good and a bad example, and the bad one's exact
// position.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/loader.hpp"

namespace sharekeeper::config {
namespace {

// Lines 1-8; a share case continues at line 9 with 4-space indented share keys.
constexpr const char* kHead =
    "apiVersion: sharekeeper/v1\n"
    "accounts:\n"
    "  - name: prod\n"
    "    uid: \"1234567890123456\"\n"
    "shares:\n"
    "  - name: s1\n"
    "    account: prod\n"
    "    region: cn-hangzhou\n";
constexpr const char* kImage = "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n";
constexpr const char* kTarget = "    to: {accounts: [\"1111222233334444\"]}\n";

std::string share(const std::string& tail) { return std::string(kHead) + tail; }
// A complete share (image + target at lines 9-10) followed by `tail` from line 11.
std::string full(const std::string& tail = "") {
  return std::string(kHead) + kImage + kTarget + tail;
}
// A valid config whose top-level `settings:` starts at line 11 with `tail` at line 12.
std::string settings(const std::string& tail) { return full("settings:\n" + tail); }
// The account `prod` credentials block: `credentials:` at line 11, `tail` from line 12.
std::string creds(const std::string& tail) {
  return std::string(
             "apiVersion: sharekeeper/v1\n"
             "shares:\n"
             "  - {name: s1, account: prod, region: cn-hangzhou, images: "
             "[m-bp1aaaaaaaaaaaaaaaaa],\n"
             "     to: {accounts: [\"1111222233334444\"]}}\n"
             "accounts:\n"
             "  - name: base\n"
             "    credentials: {source: default}\n"
             "  - name: prod\n"
             "    uid: \"1234567890123456\"\n"
             "    adopt: additive\n"
             "    credentials:\n") +
         tail;
}

LoadResult run(const std::string& yaml) { return load_sources({{"c.yaml", yaml}}); }

// The first diagnostic whose message contains `text` (tests below do not depend on unrelated ones).
const Diagnostic& find(const LoadResult& r, const std::string& text) {
  static const Diagnostic kNone{{"", -1, -1}, Severity::kError, "(none)", ""};
  for (const auto& d : r.diagnostics)
    if (d.message.find(text) != std::string::npos) return d;
  return kNone;
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "  " + format_diagnostic(d) + "\n";
  return out;
}

struct Case {
  const char* rule;
  std::string yaml;
  // Expected first error (or warning when `warning`); line 0 = the config must be valid and clean.
  int line = 0;
  int column = 0;
  const char* message = "";
  const char* hint = "";
  bool warning = false;
};

class Rule : public ::testing::TestWithParam<Case> {};

TEST_P(Rule, ReportsExactlyWhereAndWhat) {
  const Case& c = GetParam();
  auto r = run(c.yaml);
  if (c.line == 0) {
    EXPECT_TRUE(r.ok()) << c.rule << "\n" << dump(r);
    EXPECT_TRUE(r.diagnostics.empty()) << c.rule << "\n" << dump(r);
    return;
  }
  EXPECT_EQ(r.ok(), c.warning) << c.rule << "\n" << dump(r);
  auto want = c.warning ? Severity::kWarning : Severity::kError;
  auto it = std::find_if(r.diagnostics.begin(), r.diagnostics.end(), [&](const Diagnostic& d) {
    return d.severity == want && d.message.find(c.message) != std::string::npos;
  });
  ASSERT_NE(it, r.diagnostics.end())
      << c.rule << ": no diagnostic containing `" << c.message << "`\n"
      << dump(r);
  EXPECT_EQ(it->where.file, "c.yaml");
  EXPECT_EQ(it->where.line, c.line) << c.rule << "\n" << dump(r);
  EXPECT_EQ(it->where.column, c.column) << c.rule << "\n" << dump(r);
  EXPECT_NE(it->hint.find(c.hint), std::string::npos) << c.rule << ": hint `" << it->hint << "`";
}

std::string name_of(const ::testing::TestParamInfo<Case>& info) {
  std::string n;
  bool up = true;
  for (const char* p = info.param.rule; *p; ++p) {
    if (std::isalnum(static_cast<unsigned char>(*p))) {
      n.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(*p))) : *p);
      up = false;
    } else {
      up = true;
    }
  }
  return n + (info.param.line == 0 ? "Good" : "Bad") + std::to_string(info.index);
}

// ---- the YAML layer: what the node API would hide
INSTANTIATE_TEST_SUITE_P(
    Yaml, Rule,
    ::testing::Values(
        Case{"duplicate key", full(), 0},
        Case{"duplicate key", share("    region: cn-shanghai\n") + kImage + kTarget, 9, 5,
             "duplicate key `region`", "first defined on line 8"},
        Case{"duplicate top-level key", full("shares: []\n"), 11, 1, "duplicate key `shares`"},
        Case{"anchor", share("    images: &img [m-bp1aaaaaaaaaaaaaaaaa]\n") + kTarget, 9, 13,
             "anchors (`&img`)"},
        Case{"alias",
             share("    images: &img [m-bp1aaaaaaaaaaaaaaaaa]\n") + kTarget +
                 "  - {name: s2, account: prod, region: cn-hangzhou, images: *img}\n",
             11, 60, "aliases"},
        Case{"merge key", full("  - <<: {name: s2}\n"), 11, 5, "merge keys (`<<`)"},
        Case{"custom tag", share("    images: !golden [m-bp1aaaaaaaaaaaaaaaaa]\n") + kTarget, 9, 13,
             "tags (`!golden`)"},
        Case{"standard tag", share("    mode: !!str enforce\n") + kImage + kTarget, 9, 11,
             "tags (`tag:yaml.org,2002:str`)"},
        Case{"nesting", share("    selector: {tags: {a: {b: c}}}\n") + kTarget, 9, 26,
             "nesting deeper"},
        Case{"complex key", full("  - {[a]: b}\n"), 11, 6, "mapping keys must be plain strings"},
        Case{"syntax", full("  - name: [\n"), 12, 1, "YAML syntax"},
        Case{"utf8", full("# caf\xc3\xa9\n"), 0},
        Case{"utf8", full("# caf\xe9\n"), 11, 6, "not UTF-8"},
        Case{"control character", full("# a\x01\n"), 11, 4, "control character U+0001"},
        Case{"access key id value", full("  - name: LTAI5tAbCdEfGhIjKlMnOpQr\n"), 11, 11,
             "looks like an AccessKey ID"}),
    name_of);

// ---- schema: keys and value formats
INSTANTIATE_TEST_SUITE_P(
    Keys, Rule,
    ::testing::Values(
        Case{"api version", full(), 0},
        Case{"api version", "apiVersion: sharekeeper/v2\n", 1, 13, "unsupported apiVersion",
             "sharekeeper/v1"},
        Case{"missing api version", "shares: []\n", 1, 1, "missing `apiVersion`"},
        Case{"not a mapping", "- a\n", 1, 1, "must be a mapping"},
        Case{"unknown key", share("    snapshot: [s-bp1bbbbbbbbbbbbbbbbb]\n") + kTarget, 9, 5,
             "unknown key `snapshot`", "did you mean `snapshots`?"},
        Case{"snake case key", settings("  max_revoke_fraction: 0.5\n"), 12, 3, "unknown key",
             "`maxRevokeFraction`"},
        Case{"key in the wrong place", share("    tags: {a: b}\n") + kTarget, 9, 5,
             "unknown key `tags`", "belongs in selector"},
        Case{"secret key", creds("      source: default\n      accessKeySecret: abc\n"), 13, 7,
             "would hold a secret", "accessKeySecretEnv"},
        Case{"list expected", share("    images: m-bp1aaaaaaaaaaaaaaaaa\n") + kTarget, 9, 13,
             "`images` must be a list", "[m-bp1aaaaaaaaaaaaaaaaa]"},
        Case{"null list", share("    images:\n") + kTarget, 9, 5, "`images` must be a list",
             "write `[]`"},
        Case{"account name", full(), 0},
        Case{"account name", "apiVersion: sharekeeper/v1\naccounts:\n  - name: default\n", 3, 11,
             "`default` is reserved"},
        Case{"account name", "apiVersion: sharekeeper/v1\naccounts:\n  - name: -x\n", 3, 11,
             "is not a valid account name"},
        Case{"account without name",
             "apiVersion: sharekeeper/v1\naccounts:\n  - uid: \"1234567890123456\"\n", 3, 5,
             "an account needs a `name`"},
        Case{"bad share name", full("  - {name: \"a b\", account: prod, region: cn-hangzhou}\n"),
             11, 12, "is not a valid share name"}),
    name_of);

INSTANTIATE_TEST_SUITE_P(
    Ids, Rule,
    ::testing::Values(
        Case{"uid quoted", full(), 0},
        Case{"uid unquoted", share(kImage) + "    to: {accounts: [1111222233334444]}\n", 0},
        Case{"uid float", share(kImage) + "    to: {accounts: [2000000000000002.0]}\n", 10, 21,
             "is not an account UID", "quote UIDs"},
        Case{"uid 15 digits", share(kImage) + "    to: {accounts: [\"111122223333444\"]}\n", 10, 21,
             "is not an account UID"},
        Case{"account uid", "apiVersion: sharekeeper/v1\naccounts:\n  - {name: a, uid: 12345}\n", 3,
             20, "is not an account UID"},
        Case{"image id", share("    images: [M-BP1]\n") + kTarget, 9, 14, "is not an image id"},
        Case{"snapshot in images", share("    images: [s-bp1bbbbbbbbbbbbbbbbb]\n") + kTarget, 9, 14,
             "is a snapshot id, listed under `images`", "move it to `snapshots`"},
        Case{"image in snapshots", share("    snapshots: [m-bp1aaaaaaaaaaaaaaaaa]\n") + kTarget, 9,
             17, "is an image id, listed under `snapshots`", "move it to `images`"},
        Case{"snapshot id", share("    snapshots: [s-bp1bbbbbbbbbbbbbbbbb]\n") + kTarget, 0},
        Case{"resource directory", share(kImage) + "    to: {resourceDirectory: rd-abc123}\n", 0},
        Case{"resource directory", share(kImage) + "    to: {resourceDirectory: rd-abc12}\n", 10,
             29, "is not a resource directory id"},
        Case{
            "folder path",
            share(kImage) + "    to: {folders: [rd-abc123/r-ab12cd/fd-0123456789/fd-abcdefghij]}\n",
            0},
        Case{"folder dotdot",
             share(kImage) + "    to: {folders: [rd-abc123/r-ab12cd/../fd-0123456789]}\n", 10, 20,
             "is not a folder path", "`..`"},
        Case{"folder root only", share(kImage) + "    to: {folders: [rd-abc123/r-ab12cd]}\n", 10,
             20, "is not a folder path", "resourceDirectory: rd-abc123"},
        Case{"folder id alone", share(kImage) + "    to: {folders: [fd-0123456789]}\n", 10, 20,
             "is not a folder path", "full path"},
        Case{"folder too deep",
             share(kImage) +
                 "    to: {folders: [rd-abc123/r-ab12cd/fd-0000000001/fd-0000000002/fd-0000000003/"
                 "fd-0000000004/fd-0000000005/fd-0000000006]}\n",
             10, 20, "is not a folder path"},
        Case{"folder trailing slash",
             share(kImage) + "    to: {folders: [\"rd-abc123/r-ab12cd/fd-0123456789/\"]}\n", 10, 20,
             "is not a folder path"},
        Case{"folder quote",
             share(kImage) + "    to: {folders: ['rd-abc123/r-ab12cd/fd-0123456789\"']}\n", 10, 20,
             "is not a folder path"},
        Case{"region", share(kImage + std::string("    to: {accounts: [\"1111222233334444\"]}\n")),
             0},
        Case{"region format", full("  - {name: s2, account: prod, region: CN_Hangzhou}\n"), 11, 39,
             "is not a region id"},
        Case{"region unknown",
             std::string(kHead).replace(std::string(kHead).find("cn-hangzhou"), 11, "cn-hangzou") +
                 kImage + kTarget,
             8, 13, "is not a region sharekeeper knows", "did you mean `cn-hangzhou`?", true},
        Case{"principal",
             creds("      source: default\n    protectedPrincipals: [\"9999888877776666\", "
                   "rd-abc123]\n"),
             0},
        Case{"principal", creds("      source: default\n    protectedPrincipals: [\"*\"]\n"), 13,
             27, "is not a principal"}),
    name_of);

INSTANTIATE_TEST_SUITE_P(
    Values, Rule,
    ::testing::Values(
        Case{"duration", settings("  interval: 1h30m\n"), 0},
        Case{"duration", settings("  interval: 5 minutes\n"), 12, 13, "is not a duration", "`5m`"},
        Case{"duration order", settings("  interval: 30s5m\n"), 12, 13, "is not a duration"},
        Case{"duration zero", settings("  interval: 0s\n"), 12, 13, "between 1s and 24h"},
        Case{"duration long", settings("  interval: 25h\n"), 12, 13, "between 1s and 24h"},
        Case{"instance name", settings("  instanceName: team-a\n"), 0},
        Case{"instance name", settings("  instanceName: Team_A\n"), 12, 17,
             "is not an instance name"},
        Case{"instance name reserved", settings("  instanceName: aliyun-x\n"), 12, 17,
             "is not an instance name"},
        Case{"boolean", settings("  prune: false\n"), 0},
        Case{"boolean yes", settings("  prune: yes\n"), 12, 10, "must be `true` or `false`"},
        Case{"boolean capital", settings("  prune: True\n"), 12, 10, "must be `true` or `false`"},
        Case{"boolean quoted", settings("  prune: \"true\"\n"), 12, 10, "not a quoted string",
             "remove the quotes"},
        Case{"integer", settings("  maxRevocationsPerCycle: 10\n"), 0},
        Case{"integer negative", settings("  maxRevocationsPerCycle: -1\n"), 12, 27,
             "must be a whole number"},
        Case{"integer leading zero", settings("  maxRevocationsPerCycle: 010\n"), 12, 27,
             "must be a whole number"},
        Case{"integer quoted", settings("  maxRevocationsPerCycle: \"10\"\n"), 12, 27,
             "must be a whole number", "remove the quotes"},
        Case{"integer range", settings("  maxRevocationsPerCycle: 100001\n"), 12, 27,
             "between 0 and 100000"},
        Case{"fraction", settings("  maxRevokeFraction: 0.25\n"), 0},
        Case{"fraction", settings("  maxRevokeFraction: 1.5\n"), 12, 22, "from 0 to 1"},
        Case{"jitter", settings("  jitter: 0.6\n"), 12, 11, "from 0 to 0.5"},
        Case{"endpoint",
             settings("  endpoints: {ecs: \"https://ecs-vpc.{region}.aliyuncs.com\"}\n"), 0},
        Case{"endpoint http", settings("  endpoints: {ecs: \"http://ecs.example.com\"}\n"), 12, 20,
             "is not an endpoint URL"},
        Case{"endpoint placeholder",
             settings("  endpoints: {ecs: \"https://ecs.{regoin}.aliyuncs.com\"}\n"), 12, 20,
             "is not an endpoint URL"},
        Case{"endpoint product", settings("  endpoints: {vpc: \"https://vpc.aliyuncs.com\"}\n"), 12,
             15, "unknown key `vpc`"},
        Case{"mode", share("    mode: observe\n") + kImage + kTarget, 0},
        Case{"mode", share("    mode: enforcing\n") + kImage + kTarget, 9, 11, "must be one of",
             "did you mean `enforce`?"},
        Case{"adopt", "apiVersion: sharekeeper/v1\naccounts:\n  - {name: a, adopt: authoritativ}\n",
             3, 22, "must be one of", "did you mean `authoritative`?"},
        Case{"selector", share("    selector: {tags: {share: golden, team: \"\"}}\n") + kTarget, 0},
        Case{"selector empty", share("    selector: {tags: {}}\n") + kTarget, 9, 22,
             "needs at least one tag"},
        Case{"selector reserved tag", share("    selector: {tags: {\"acs:x\": y}}\n") + kTarget, 9,
             23, "is not a valid tag key"},
        Case{"selector null value", share("    selector: {tags: {share: }}\n") + kTarget, 9, 23,
             "must be a single value", "\"\""}),
    name_of);

INSTANTIATE_TEST_SUITE_P(
    Credentials, Rule,
    ::testing::Values(
        Case{"source", creds("      source: profile\n      profile: ops\n"), 0},
        Case{"source missing", creds("      profile: ops\n"), 12, 7, "needs a `source`"},
        Case{"source typo", creds("      source: ecsRAMRole\n"), 12, 15, "must be one of",
             "`ecsRamRole`"},
        Case{"env",
             creds("      source: env\n      accessKeyIdEnv: AK_ID\n      accessKeySecretEnv: "
                   "AK_SECRET\n"),
             0},
        Case{"env incomplete", creds("      source: env\n      accessKeyIdEnv: AK_ID\n"), 12, 15,
             "needs `accessKeySecretEnv`"},
        Case{"env name",
             creds("      source: env\n      accessKeyIdEnv: 1AK\n      accessKeySecretEnv: S\n"),
             13, 23, "is not an environment variable name"},
        Case{"field of another source",
             creds("      source: profile\n      profile: ops\n      roleName: r\n"), 14, 7,
             "does not apply to `source: profile`"},
        Case{"oidc",
             creds("      source: oidc\n      roleArn: acs:ram::1234567890123456:role/sk\n"
                   "      oidcProviderArn: acs:ram::1234567890123456:oidc-provider/ack\n"
                   "      oidcTokenFile: /var/run/token\n"),
             0},
        Case{"oidc relative file",
             creds("      source: oidc\n      roleArn: acs:ram::1234567890123456:role/sk\n"
                   "      oidcProviderArn: acs:ram::1234567890123456:oidc-provider/ack\n"
                   "      oidcTokenFile: var/run/token\n"),
             15, 22, "is not an absolute file path"},
        Case{"role arn", creds("      source: assumeRole\n      roleArn: acs:ram::123:role/sk\n"),
             13, 16, "is not a role ARN"},
        Case{"role arn injection",
             creds("      source: assumeRole\n      roleArn: "
                   "'acs:ram::1234567890123456:role/sk\",\"x'\n"),
             13, 16, "is not a role ARN"},
        Case{"from",
             creds("      source: assumeRole\n      roleArn: acs:ram::1234567890123456:role/sk\n   "
                   "   from: base\n"),
             0},
        Case{"from unknown",
             creds("      source: assumeRole\n      roleArn: acs:ram::1234567890123456:role/sk\n   "
                   "   from: bsae\n"),
             14, 13, "unknown account `bsae`", "did you mean `base`?"},
        Case{"from itself",
             creds("      source: assumeRole\n      roleArn: acs:ram::1234567890123456:role/sk\n   "
                   "   from: prod\n"),
             14, 13, "from itself"},
        Case{"from loop",
             creds("      source: assumeRole\n      roleArn: acs:ram::1234567890123456:role/sk\n   "
                   "   from: other\n"
                   "  - name: other\n    credentials: {source: assumeRole, roleArn: "
                   "\"acs:ram::1234567890123456:role/x\", from: prod}\n"),
             14, 13, "assumeRole credentials loop: other -> prod -> other"}),
    name_of);

INSTANTIATE_TEST_SUITE_P(
    Semantics, Rule,
    ::testing::Values(
        Case{"unknown account",
             std::string(kHead).replace(std::string(kHead).find("account: prod"), 13,
                                        "account: prd") +
                 kImage + kTarget,
             7, 14, "unknown account `prd`", "did you mean `prod`?"},
        Case{"no resources", share(kTarget), 6, 11, "selects no resources"},
        Case{"no targets", share(kImage) + "    to: {accounts: []}\n", 10, 9, "has no targets"},
        Case{"missing to", share(kImage), 6, 5, "needs `to`"},
        Case{"self share", share(kImage) + "    to: {accounts: [\"1234567890123456\"]}\n", 10, 21,
             "shares with its own account"},
        Case{"duplicate grant",
             full("  - {name: s2, account: prod, region: cn-hangzhou, images: "
                  "[m-bp1aaaaaaaaaaaaaaaaa],\n"
                  "     to: {accounts: [\"1111222233334444\"]}}\n"),
             11, 61, "is shared with account 1111222233334444 by both share `s1` and share `s2`",
             "c.yaml:9:14"},
        Case{"same resource other targets",
             full("  - {name: s2, account: prod, region: cn-hangzhou, images: "
                  "[m-bp1aaaaaaaaaaaaaaaaa],\n"
                  "     to: {accounts: [\"5555666677778888\"]}}\n"),
             0},
        Case{"resource with two owners",
             full("  - {name: s2, account: prod, region: cn-shanghai, images: "
                  "[m-bp1aaaaaaaaaaaaaaaaa],\n"
                  "     to: {accounts: [\"5555666677778888\"]}}\n"),
             11, 61, "is listed by share `s1` under account `prod` in cn-hangzhou", "one owner"},
        Case{"duplicate share name", full("  - {name: s1, account: prod, region: cn-hangzhou}\n"),
             11, 12, "share `s1` is defined twice", "c.yaml:6:11"},
        Case{"duplicate in list",
             share("    images: [m-bp1aaaaaaaaaaaaaaaaa, m-bp1aaaaaaaaaaaaaaaaa]\n") + kTarget, 9,
             38, "is listed twice", "", true},
        Case{"folder outside directory",
             share(kImage) + "    to: {resourceDirectory: rd-abc123, folders: "
                             "[rd-xyz789/r-ab12cd/fd-0123456789]}\n",
             10, 50, "is not in resource directory `rd-abc123`"},
        Case{"folder covered",
             share(kImage) + "    to: {resourceDirectory: rd-abc123, folders: "
                             "[rd-abc123/r-ab12cd/fd-0123456789]}\n",
             10, 50, "already covered", "", true}),
    name_of);

// Messages above that need a computed config.
TEST(Loader, TwoDocumentsInOneFileAreAnError) {
  auto r = run(full("---\napiVersion: sharekeeper/v1\n"));
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  EXPECT_EQ(r.diagnostics[0].message, "more than one YAML document in the file");
}

TEST(Loader, EmptyFileIsAnError) {
  auto r = run("# nothing\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.at(0).message, "file is empty");
  EXPECT_EQ(r.diagnostics.at(0).where.line, 0);
}

TEST(Loader, FileOverOneMebibyteIsRejectedBeforeParsing) {
  std::string big = full("# " + std::string(kMaxFileBytes, 'x') + "\n");
  auto r = run(big);
  ASSERT_EQ(r.diagnostics.size(), 1u) << dump(r);
  EXPECT_NE(r.diagnostics[0].message.find("larger than 1 MiB"), std::string::npos);
  EXPECT_TRUE(run(full("# " + std::string(kMaxFileBytes - full().size() - 3, 'x') + "\n")).ok());
}

TEST(Loader, SelfReferencingAnchorIsRejectedWithoutRecursing) {
  auto r = run("apiVersion: sharekeeper/v1\nshares: &a [*a]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(find(r, "anchors (`&a`)").where.line, 2) << dump(r);
  EXPECT_EQ(find(r, "aliases").where.column, 13) << dump(r);
}

TEST(Loader, BillionLaughsIsRejectedQuickly) {
  std::string y =
      "apiVersion: sharekeeper/v1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i)
    y += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + std::string("*a") +
         std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" + std::to_string(i - 1) +
         ", *a" + std::to_string(i - 1) + "]\n";
  auto r = run(y);
  ASSERT_FALSE(r.ok());
  EXPECT_GT(r.error_count(), 10u);
}

TEST(Loader, DeepNestingStopsEarly) {
  std::string y = "apiVersion: sharekeeper/v1\nshares: " + std::string(100000, '[') + "\n";
  auto r = run(y);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.at(0).message.find("nesting deeper"), std::string::npos) << dump(r);
}

TEST(Loader, ImageFanOutLimitIsFiftyAccounts) {
  auto accounts = [](int n) {
    std::string s = "    to:\n      accounts:\n";
    for (int i = 0; i < n; ++i)
      s += "        - \"" + std::to_string(5000000000000000LL + i) + "\"\n";
    return s;
  };
  EXPECT_TRUE(run(share(kImage) + accounts(50)).ok());
  auto r = run(share(kImage) + accounts(51));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.at(0).message.find("would be shared with 51 accounts; the limit is 50"),
            std::string::npos)
      << dump(r);
  EXPECT_EQ(r.diagnostics.at(0).where.line, 9);
  EXPECT_EQ(r.diagnostics.at(0).where.column, 14);
  std::string snap = "    snapshots: [s-bp1bbbbbbbbbbbbbbbbb]\n";
  EXPECT_TRUE(run(share(snap) + accounts(64)).ok());
  EXPECT_FALSE(run(share(snap) + accounts(65)).ok());
}

TEST(Loader, FanOutCountsTheUnionAcrossShares) {
  std::string y = kHead;
  y += kImage;
  y += "    to: {accounts: [";
  for (int i = 0; i < 30; ++i)
    y += std::string(i ? ", " : "") + "\"" + std::to_string(5000000000000000LL + i) + "\"";
  y += "]}\n  - {name: s2, account: prod, region: cn-hangzhou, images: [m-bp1aaaaaaaaaaaaaaaaa], "
       "to: {accounts: [";
  for (int i = 30; i < 51; ++i)
    y += std::string(i > 30 ? ", " : "") + "\"" + std::to_string(5000000000000000LL + i) + "\"";
  y += "]}}\n";
  auto r = run(y);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.at(0).message.find("51 accounts"), std::string::npos) << dump(r);
  EXPECT_EQ(r.diagnostics.at(0).where.line, 11);
}

TEST(Loader, SelectorShareWithTooManyAccounts) {
  std::string y = share("    selector: {tags: {a: b}}\n    to: {accounts: [");
  for (int i = 0; i < 65; ++i)
    y += std::string(i ? ", " : "") + "\"" + std::to_string(5000000000000000LL + i) + "\"";
  y += "]}\n";
  auto r = run(y);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.at(0).message.find("at most 64"), std::string::npos) << dump(r);
}

TEST(Loader, DuplicateAccountUidIsAnError) {
  auto r =
      run("apiVersion: sharekeeper/v1\naccounts:\n  - {name: a, uid: \"1234567890123456\"}\n"
          "  - {name: b, uid: \"1234567890123456\"}\n");
  ASSERT_FALSE(r.ok());
  const auto& d = find(r, "accounts `a` and `b` have the same uid");
  EXPECT_EQ(d.where.line, 4) << dump(r);
  EXPECT_EQ(d.where.column, 20);
  EXPECT_EQ(d.hint, "first at c.yaml:3:20");
}

TEST(Loader, SecretValueIsNeverEchoed) {
  auto r = run(creds("      source: default\n      accessKeySecret: TopSecretValue123\n"));
  ASSERT_FALSE(r.ok());
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(format_diagnostic(d).find("TopSecretValue123"), std::string::npos);
  }
  auto k = run(full("  - name: LTAI5tAbCdEfGhIjKlMnOpQr\n"));
  for (const auto& d : k.diagnostics)
    EXPECT_EQ(format_diagnostic(d).find("LTAI5t"), std::string::npos);
}

TEST(Loader, ReportsEveryErrorAtOnceSortedByPosition) {
  auto r = run(share("    images: [bad]\n    snapshots: [worse]\n    mode: sometimes\n") +
               "    to: {accounts: [\"1\"]}\n");
  ASSERT_EQ(r.error_count(), 4u) << dump(r);
  for (std::size_t i = 1; i < r.diagnostics.size(); ++i)
    EXPECT_LE(r.diagnostics[i - 1].where.line, r.diagnostics[i].where.line);
}

TEST(Loader, ResultIsTypedSortedAndUnique) {
  auto r = run(
      share(
          "    images: [m-bp1zzzzzzzzzzzzzzzzz, m-bp1aaaaaaaaaaaaaaaaa, m-bp1zzzzzzzzzzzzzzzzz]\n"
          "    mode: observe\n"
          "    to:\n"
          "      accounts: [\"9999999999999999\", 1111222233334444]\n"
          "      folders: [rd-abc123/r-ab12cd/fd-bbbbbbbbbb, rd-abc123/r-ab12cd/fd-aaaaaaaaaa]\n") +
      "  - {name: a-first, account: prod, region: cn-hangzhou, snapshots: "
      "[s-bp1bbbbbbbbbbbbbbbbb], "
      "to: {resourceDirectory: rd-abc123}}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& st = *r.state;
  ASSERT_EQ(st.shares.size(), 2u);
  EXPECT_EQ(st.shares[0].name, "a-first");
  EXPECT_EQ(st.shares[0].to.resource_directory, "rd-abc123");
  const auto& s = st.shares[1];
  EXPECT_EQ(s.images,
            (std::vector<std::string>{"m-bp1aaaaaaaaaaaaaaaaa", "m-bp1zzzzzzzzzzzzzzzzz"}));
  EXPECT_EQ(s.to.accounts, (std::vector<std::string>{"1111222233334444", "9999999999999999"}));
  EXPECT_EQ(s.to.folders.front(), "rd-abc123/r-ab12cd/fd-aaaaaaaaaa");
  EXPECT_EQ(s.mode, ShareMode::kObserve);
  EXPECT_EQ(s.where.line, 6);
  EXPECT_EQ(st.find_account("prod")->uid, "1234567890123456");
  EXPECT_EQ(st.settings.interval, std::chrono::seconds(300));
  EXPECT_EQ(st.settings.instance_name, "sharekeeper");
  EXPECT_EQ(grant_count(st), 5u);
  EXPECT_EQ(st.revision, st.content_hash);
}

TEST(Loader, SettingsAndCredentialsAreTyped) {
  auto r = run(full(
      "settings:\n  interval: 1h30m\n  jitter: 0.25\n  prune: false\n  maxRevocationsPerCycle: 7\n"
      "  maxRevokeFraction: 1\n  allowMassRevoke: true\n  instanceName: team-a\n  "
      "allowServiceKeyShares: true\n"
      "  manageShares: false\n  manageDiskEncryptRole: true\n  endpoints: {kms: "
      "\"https://kms.{region}.aliyuncs.com:8443\"}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& s = r.state->settings;
  EXPECT_EQ(s.interval, std::chrono::seconds(5400));
  EXPECT_DOUBLE_EQ(s.jitter, 0.25);
  EXPECT_FALSE(s.prune);
  EXPECT_EQ(s.max_revocations_per_cycle, 7);
  EXPECT_DOUBLE_EQ(s.max_revoke_fraction, 1.0);
  EXPECT_TRUE(s.allow_mass_revoke);
  EXPECT_EQ(s.instance_name, "team-a");
  EXPECT_TRUE(s.allow_service_key_shares);
  EXPECT_FALSE(s.manage_shares);  // the default is true (docs/config.md)
  EXPECT_TRUE(s.manage_disk_encrypt_role);
  EXPECT_EQ(s.endpoints.at("kms"), "https://kms.{region}.aliyuncs.com:8443");

  auto c =
      run(creds("      source: assumeRole\n      roleArn: acs:ram::1234567890123456:role/sk\n"
                "      externalId: ext-1\n"));
  ASSERT_TRUE(c.ok()) << dump(c);
  const auto& spec = c.state->find_account("prod")->credentials;
  EXPECT_EQ(spec.source, CredentialSource::kAssumeRole);
  EXPECT_EQ(spec.from, "default");
  EXPECT_EQ(spec.role_session_name, "sharekeeper");
  EXPECT_EQ(spec.external_id, "ext-1");
  EXPECT_EQ(c.state->find_account("prod")->adopt, AdoptMode::kAdditive);
}

TEST(Loader, FormatsLikeACompiler) {
  Diagnostic d{{"a.yaml", 3, 7},
               Severity::kError,
               "unknown key `snapshot` in a share",
               "did you mean `snapshots`?"};
  EXPECT_EQ(format_diagnostic(d),
            "a.yaml:3:7: error: unknown key `snapshot` in a share (did you mean `snapshots`?)");
  Diagnostic w{{"a.yaml", 0, 0}, Severity::kWarning, "no shares", ""};
  EXPECT_EQ(format_diagnostic(w), "a.yaml: warning: no shares");
  EXPECT_EQ(
      diagnostics_to_json({d}),
      R"([{"column":7,"file":"a.yaml","hint":"did you mean `snapshots`?","line":3,"message":"unknown key `snapshot` in a share","severity":"error"}])");
}

}  // namespace
}  // namespace sharekeeper::config
