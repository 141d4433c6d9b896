// Issue 11: every field of the schema refuses an empty, whitespace-only or null-like value with
// file:line:col, and a share whose account resolves to nothing is always a load error. One config
// uses every field once, one per line; each case replaces one field's value and expects an error on
// that line (and no DesiredState).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.hpp"

namespace sharekeeper::config {
namespace {

struct Line {
  const char* text;   // the line up to its value ("    account: "), or the whole line
  const char* value;  // the good value; nullptr: not a field line
  const char* field;  // the case name
  bool name = false;  // a name or account reference: a quoted "null" is refused too
};

// Every key that takes a value, plus one item of every list and a tag value.
const std::vector<Line> kLines = {
    {"apiVersion: ", "sharekeeper/v1", "ApiVersion"},
    {"settings:", nullptr, ""},
    {"  interval: ", "5m", "Interval"},
    {"  jitter: ", "0.1", "Jitter"},
    {"  prune: ", "true", "Prune"},
    {"  maxRevocationsPerCycle: ", "50", "MaxRevocationsPerCycle"},
    {"  maxRevokeFraction: ", "0.5", "MaxRevokeFraction"},
    {"  allowMassRevoke: ", "false", "AllowMassRevoke"},
    {"  instanceName: ", "sharekeeper", "InstanceName"},
    {"  allowServiceKeyShares: ", "false", "AllowServiceKeyShares"},
    {"  manageShares: ", "false", "ManageShares"},
    {"  manageDiskEncryptRole: ", "false", "ManageDiskEncryptRole"},
    {"  endpoints:", nullptr, ""},
    {"    ecs: ", "https://ecs.{region}.aliyuncs.com", "EndpointEcs"},
    {"    ram: ", "https://ram.aliyuncs.com", "EndpointRam"},
    {"    sts: ", "https://sts.aliyuncs.com", "EndpointSts"},
    {"    kms: ", "https://kms.{region}.aliyuncs.com", "EndpointKms"},
    {"    resourcesharing: ", "https://resourcesharing.{region}.aliyuncs.com", "EndpointRs"},
    {"  coordination:", nullptr, ""},
    {"    etcd:", nullptr, ""},
    {"      endpoints:", nullptr, ""},
    {"        - ", "\"https://etcd-1:2379\"", "EtcdEndpoint"},
    {"      leaseTTL: ", "15s", "EtcdLeaseTtl"},
    {"      prefix: ", "/sharekeeper/prod", "EtcdPrefix"},
    {"      caFile: ", "/etc/sharekeeper/etcd/ca.pem", "EtcdCaFile"},
    {"      certFile: ", "/etc/sharekeeper/etcd/client.pem", "EtcdCertFile"},
    {"      keyFile: ", "/etc/sharekeeper/etcd/client-key.pem", "EtcdKeyFile"},
    {"      username: ", "sharekeeper", "EtcdUsername"},
    {"      passwordFile: ", "/run/secrets/etcd-password", "EtcdPasswordFile"},
    {"accounts:", nullptr, ""},
    {"  - name: ", "prod", "AccountName", true},
    {"    uid: ", "\"1234567890123456\"", "AccountUid"},
    {"    adopt: ", "additive", "Adopt"},
    {"    protectedPrincipals:", nullptr, ""},
    {"      - ", "\"9999888877776666\"", "ProtectedPrincipal"},
    {"    credentials:", nullptr, ""},
    {"      source: ", "env", "Source"},
    {"      accessKeyIdEnv: ", "AK_ID", "AccessKeyIdEnv"},
    {"      accessKeySecretEnv: ", "AK_SECRET", "AccessKeySecretEnv"},
    {"      securityTokenEnv: ", "AK_TOKEN", "SecurityTokenEnv"},
    {"  - name: p2", nullptr, ""},
    {"    credentials:", nullptr, ""},
    {"      source: profile", nullptr, ""},
    {"      profile: ", "dev", "Profile"},
    {"  - name: p3", nullptr, ""},
    {"    credentials:", nullptr, ""},
    {"      source: ecsRamRole", nullptr, ""},
    {"      roleName: ", "reader", "RoleName"},
    {"  - name: p4", nullptr, ""},
    {"    credentials:", nullptr, ""},
    {"      source: oidc", nullptr, ""},
    {"      roleArn: ", "\"acs:ram::1234567890123456:role/sk\"", "OidcRoleArn"},
    {"      oidcProviderArn: ", "\"acs:ram::1234567890123456:oidc-provider/k8s\"",
     "OidcProviderArn"},
    {"      oidcTokenFile: ", "/var/run/token", "OidcTokenFile"},
    {"      roleSessionName: ", "sk-oidc", "OidcRoleSessionName"},
    {"  - name: p5", nullptr, ""},
    {"    credentials:", nullptr, ""},
    {"      source: assumeRole", nullptr, ""},
    {"      roleArn: ", "\"acs:ram::1234567890123456:role/sk\"", "AssumeRoleArn"},
    {"      externalId: ", "ext-1", "ExternalId"},
    {"      roleSessionName: ", "sk-assume", "AssumeRoleSessionName"},
    {"      from: ", "prod", "From", true},
    {"shares:", nullptr, ""},
    {"  - name: ", "s1", "ShareName", true},
    {"    account: ", "prod", "ShareAccount", true},
    {"    region: ", "cn-hangzhou", "Region"},
    {"    mode: ", "enforce", "Mode"},
    {"    images:", nullptr, ""},
    {"      - ", "m-bp1aaaaaaaaaaaaaaaaa", "Image"},
    {"    snapshots:", nullptr, ""},
    {"      - ", "s-bp1bbbbbbbbbbbbbbbbb", "Snapshot"},
    {"    selector:", nullptr, ""},
    {"      tags:", nullptr, ""},
    {"        team: ", "golden", "TagValue"},
    {"    to:", nullptr, ""},
    {"      accounts:", nullptr, ""},
    {"        - ", "\"1111222233334444\"", "TargetAccount"},
    {"      resourceDirectory: ", "rd-abc123", "ResourceDirectory"},
    {"  - name: s2", nullptr, ""},
    {"    account: p2", nullptr, ""},
    {"    region: cn-hangzhou", nullptr, ""},
    {"    snapshots: [s-bp1ccccccccccccccccc]", nullptr, ""},
    {"    to:", nullptr, ""},
    {"      folders:", nullptr, ""},
    {"        - ", "rd-abc123/r-ab12cd/fd-0123456789", "Folder"},
};

// The config with `field`'s value replaced by `value` (nullptr: every value good); `line` gets the
// field's 1-based line.
std::string config_with(const std::string& field, const char* value, int* line = nullptr) {
  std::string out;
  for (std::size_t i = 0; i < kLines.size(); ++i) {
    const Line& l = kLines[i];
    out += l.text;
    if (l.value) {
      if (value && field == l.field) {
        out += value;
        if (line) *line = static_cast<int>(i + 1);
      } else {
        out += l.value;
      }
    }
    out += "\n";
  }
  return out;
}

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "  " + format_diagnostic(d) + "\n";
  return out;
}

TEST(BlankValues, TheBaseConfigUsesEveryFieldAndIsValid) {
  auto r = load_sources({{"c.yaml", config_with("", nullptr)}});
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  // Every key of every mapping the loader accepts appears in the base config (a new key must be
  // added to kLines, and so to this table).
  const std::string base = "\n" + config_with("", nullptr);
  for (const auto& [context, keys] : accepted_keys())
    for (const auto& k : keys)
      EXPECT_TRUE(base.find(" " + k + ":") != std::string::npos ||
                  base.find("\n" + k + ":") != std::string::npos)
          << context << "." << k << " is not in the table";
}

struct BlankClass {
  const char* name;
  const char* yaml;
  bool names_only;  // refused for names and account references; other fields may accept it
};

// Quoted blanks are errors at the value; YAML nulls (plain empty, `~`, `null` in any case YAML
// knows) are "needs a value" at the key. A quoted "null" is a string, refused as a name.
const std::vector<BlankClass> kClasses = {
    {"EmptyDoubleQuoted", "\"\"", false},
    {"EmptySingleQuoted", "''", false},
    {"Space", "\" \"", false},
    {"Tab", "\"\\t\"", false},
    {"Newline", "\"\\n\"", false},
    {"SpacesSingleQuoted", "'   '", false},
    {"PlainEmpty", "", false},
    {"Tilde", "~", false},
    {"PlainNull", "null", false},
    {"PlainNullCapital", "Null", false},
    {"PlainNullUpper", "NULL", false},
    {"QuotedNull", "\"null\"", true},
    {"QuotedTilde", "\"~\"", true},
};

TEST(BlankValues, EveryFieldRefusesEveryBlankClassOnItsOwnLine) {
  int cases = 0;
  for (const Line& l : kLines) {
    if (!l.value) continue;
    for (const BlankClass& c : kClasses) {
      if (c.names_only && !l.name) continue;
      // A tag value may be empty (Alibaba allows it) or spaces; only nulls are refused there.
      const bool quoted = c.yaml[0] == '"' || c.yaml[0] == '\'';
      if (std::string(l.field) == "TagValue" && quoted) continue;
      int line = 0;
      const std::string yaml = config_with(l.field, c.yaml, &line);
      auto r = load_sources({{"c.yaml", yaml}});
      ++cases;
      const std::string what = std::string(l.field) + " = " + c.name + " (`" + c.yaml + "`)";
      EXPECT_FALSE(r.ok()) << what << " was accepted\n" << yaml;
      bool on_line = false;
      for (const auto& d : r.diagnostics)
        on_line |= d.severity == Severity::kError && d.where.file == "c.yaml" &&
                   d.where.line == line && d.where.column > 0;
      EXPECT_TRUE(on_line) << what << ": no error at c.yaml:" << line << "\n" << dump(r);
    }
  }
  EXPECT_GE(cases, 450);  // 475 today: the table, not a sample
}

TEST(BlankValues, AnEmptyTagValueIsAValue) {
  auto r = load_sources({{"c.yaml", config_with("TagValue", "\"\"")}});
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.state->shares.at(0).selector_tags.at("team"), "");
}

// The reported case, with its exact diagnostic: `account: ""` validated, then planned as
// `Failed (unknown account '')` and revoked the share's principals.
TEST(BlankValues, EmptyShareAccountIsAnErrorWithItsPosition) {
  const std::string yaml =
      "apiVersion: sharekeeper/v1\n"
      "accounts: [{name: prod}]\n"
      "shares:\n"
      "  - name: s1\n"
      "    account: \"\"\n"
      "    region: cn-hangzhou\n"
      "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n"
      "    to: {accounts: [\"1111222233334444\"]}\n";
  auto r = load_sources({{"c.yaml", yaml}});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  EXPECT_EQ(format_diagnostic(r.diagnostics.at(0)),
            "c.yaml:5:14: error: `account` is empty (give it a value, or remove the key)");
}

// A reference that reads as a name but names nothing is the loader's error, whatever the text.
TEST(BlankValues, EveryShareAccountIsLookedUp) {
  for (const char* account : {"nobody", "Prod", "prod.", "0"}) {
    const std::string yaml =
        std::string("apiVersion: sharekeeper/v1\naccounts: [{name: prod}]\nshares:\n") +
        "  - {name: s1, account: \"" + account +
        "\", region: cn-hangzhou, images: [m-bp1aaaaaaaaaaaaaaaaa], to: {accounts: "
        "[\"1111222233334444\"]}}\n";
    auto r = load_sources({{"c.yaml", yaml}});
    EXPECT_FALSE(r.ok()) << account;
    ASSERT_FALSE(r.diagnostics.empty()) << account;
    EXPECT_NE(r.diagnostics[0].message.find("unknown account"), std::string::npos)
        << account << "\n"
        << dump(r);
  }
}

}  // namespace
}  // namespace sharekeeper::config
