// What `sharekeeper import` writes of the given config (accounts and settings) loads back into the
// same accounts and settings: every setting that differs from its default, every credential source.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/loader.hpp"
#include "reconcilers/import.hpp"

namespace sharekeeper::reconcilers {
namespace {

namespace fs = std::filesystem;

config::LoadResult load_text(const std::string& text, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("sharekeeper-import-render-" + name + ".yaml");
  std::ofstream(p) << text;
  auto r = config::load(p);
  fs::remove(p);
  return r;
}

std::string diagnostics(const config::LoadResult& r) {
  std::string out;
  for (const auto& l : config::format_diagnostics(r.diagnostics)) out += l + "\n";
  return out;
}

TEST(ImportRender, AccountsAndSettingsRoundTrip) {
  const std::string given = R"(apiVersion: sharekeeper/v1
settings:
  interval: 1h30m
  jitter: 0.25
  prune: false
  maxRevocationsPerCycle: 7
  maxRevokeFraction: 0.75
  allowMassRevoke: true
  instanceName: team-a
  allowServiceKeyShares: true
  manageShares: true
  manageDiskEncryptRole: true
  endpoints:
    kms: "https://kms.{region}.aliyuncs.com:8443"
  coordination:
    etcd:
      endpoints: ["https://etcd-1:2379", "https://etcd-2:2379"]
      leaseTTL: 20s
      prefix: /custom/prefix
      caFile: /etc/etcd/ca.pem
accounts:
  - name: prod
    uid: "1234567890123456"
    credentials:
      source: env
      accessKeyIdEnv: PROD_AK
      accessKeySecretEnv: PROD_SK
      securityTokenEnv: PROD_TOKEN
    adopt: authoritative
    protectedPrincipals: ["1111222233334444", "rd-abc123"]
  - name: dev
    credentials:
      source: assumeRole
      roleArn: acs:ram::1111222233334444:role/sharekeeper
      externalId: ext-1
      roleSessionName: sk-dev
      from: prod
  - name: ops
    credentials:
      source: profile
      profile: ops
  - name: rrsa
    credentials:
      source: oidc
      roleArn: acs:ram::5555666677778888:role/sk
      oidcProviderArn: acs:ram::5555666677778888:oidc-provider/ack
      oidcTokenFile: /var/run/secrets/token
  - name: node
    credentials:
      source: ecsRamRole
      roleName: node-role
shares: []
)";
  auto a = load_text(given, "given");
  ASSERT_TRUE(a.ok()) << diagnostics(a);
  const std::string written = render_accounts_and_settings(*a.state) + "shares: []\n";
  auto b = load_text(written, "written");
  ASSERT_TRUE(b.ok()) << diagnostics(b) << written;
  EXPECT_EQ(b.state->settings, a.state->settings) << written;
  ASSERT_EQ(b.state->accounts.size(), a.state->accounts.size());
  for (std::size_t i = 0; i < a.state->accounts.size(); ++i) {
    const auto& x = a.state->accounts[i];
    const auto& y = b.state->accounts[i];
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.uid, x.uid);
    EXPECT_EQ(y.credentials, x.credentials) << x.name << "\n" << written;
    EXPECT_EQ(y.adopt, x.adopt);
    EXPECT_EQ(y.protected_principals, x.protected_principals);
  }
}

TEST(ImportRender, DefaultsWriteNoSettings) {
  auto a = load_text(
      "apiVersion: sharekeeper/v1\naccounts:\n  - name: prod\n    credentials:\n"
      "      source: default\n",
      "defaults");
  ASSERT_TRUE(a.ok()) << diagnostics(a);
  const std::string written = render_accounts_and_settings(*a.state);
  EXPECT_EQ(written.find("settings:"), std::string::npos) << written;
  EXPECT_EQ(written,
            "apiVersion: sharekeeper/v1\naccounts:\n  - name: prod\n    credentials:\n"
            "      source: default\n");
}

}  // namespace
}  // namespace sharekeeper::reconcilers
