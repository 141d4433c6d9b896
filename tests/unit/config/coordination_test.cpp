// settings.coordination (several replicas on etcd): the accepted shape, the defaults, and every
// rule with its exact file:line:col.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "config/loader.hpp"

namespace sharekeeper::config {
namespace {

// Lines 1-10: one share; `settings:` at line 11, `coordination:` at 12, `etcd:` at 13, then the
// etcd keys from line 14 at 6 spaces.
std::string with_etcd(const std::string& etcd_lines, const std::string& settings_tail = "") {
  return "apiVersion: sharekeeper/v1\n"
         "accounts:\n"
         "  - name: prod\n"
         "    uid: \"1234567890123456\"\n"
         "shares:\n"
         "  - name: s1\n"
         "    account: prod\n"
         "    region: cn-hangzhou\n"
         "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n"
         "    to: {accounts: [\"1111222233334444\"]}\n"
         "settings:\n"
         "  coordination:\n"
         "    etcd:\n" +
         etcd_lines + settings_tail;
}

LoadResult run(const std::string& yaml) { return load_sources({{"c.yaml", yaml}}); }

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "  " + format_diagnostic(d) + "\n";
  return out;
}

TEST(Coordination, AbsentMeansOneReplica) {
  auto r = load_sources({{"c.yaml",
                          "apiVersion: sharekeeper/v1\n"
                          "accounts: [{name: prod}]\n"
                          "shares: [{name: s1, account: prod, region: cn-hangzhou, images: "
                          "[m-bp1aaaaaaaaaaaaaaaaa], to: {accounts: [\"1111222233334444\"]}}]\n"}});
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_FALSE(r.state->settings.coordination.has_value());
}

TEST(Coordination, DefaultsAndEveryField) {
  auto r = run(with_etcd("      endpoints: [\"https://etcd-1:2379\", \"https://10.0.0.2:2379/\"]\n",
                         "  instanceName: images\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_TRUE(r.state->settings.coordination.has_value());
  const auto& c = *r.state->settings.coordination;
  EXPECT_EQ(c.etcd.endpoints,
            (std::vector<std::string>{"https://etcd-1:2379", "https://10.0.0.2:2379"}));
  EXPECT_EQ(c.etcd.lease_ttl, std::chrono::seconds(15));
  // The default prefix names the instance, even when instanceName comes after coordination.
  EXPECT_EQ(c.etcd.prefix, "/sharekeeper/images");
  EXPECT_EQ(c.where.line, 12);
  EXPECT_EQ(c.where.column, 3);

  r =
      run(with_etcd("      endpoints: [\"https://etcd-1:2379\", \"http://127.0.0.1:2379\", "
                    "\"https://[fd00::1]:2379\"]\n"
                    "      leaseTTL: 1m\n"
                    "      prefix: /sk/prod-fleet\n"
                    "      caFile: /etc/sharekeeper/etcd/ca.pem\n"
                    "      certFile: /etc/sharekeeper/etcd/client.pem\n"
                    "      keyFile: /etc/sharekeeper/etcd/client-key.pem\n"
                    "      username: sharekeeper\n"
                    "      passwordFile: /run/secrets/etcd-password\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& e = r.state->settings.coordination->etcd;
  EXPECT_EQ(e.endpoints.size(), 3u);
  EXPECT_EQ(e.lease_ttl, std::chrono::seconds(60));
  EXPECT_EQ(e.prefix, "/sk/prod-fleet");
  EXPECT_EQ(e.ca_file, "/etc/sharekeeper/etcd/ca.pem");
  EXPECT_EQ(e.cert_file, "/etc/sharekeeper/etcd/client.pem");
  EXPECT_EQ(e.key_file, "/etc/sharekeeper/etcd/client-key.pem");
  EXPECT_EQ(e.username, "sharekeeper");
  EXPECT_EQ(e.password_file, "/run/secrets/etcd-password");
}

TEST(Coordination, EqualityIgnoresWhereTheBlockIs) {
  auto a = run(with_etcd("      endpoints: [\"https://etcd-1:2379\"]\n"));
  auto b = run(with_etcd("      endpoints: [\"https://etcd-1:2379\"]\n", "  interval: 5m\n"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a.state->settings.coordination, *b.state->settings.coordination);
  auto c = run(with_etcd("      endpoints: [\"https://etcd-2:2379\"]\n"));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*a.state->settings.coordination == *c.state->settings.coordination);
}

struct Bad {
  const char* rule;
  std::string yaml;
  int line;
  int column;
  const char* message;
};

TEST(Coordination, EveryMistakeIsReportedWhereItIs) {
  const std::string ok_endpoints = "      endpoints: [\"https://etcd-1:2379\"]\n";
  const std::vector<Bad> cases = {
      {"no backend",
       "apiVersion: sharekeeper/v1\naccounts: [{name: prod}]\nsettings:\n  coordination: {}\n", 4,
       17, "`coordination` needs a backend: `etcd`"},
      {"null coordination",
       "apiVersion: sharekeeper/v1\naccounts: [{name: prod}]\nsettings:\n  coordination:\n", 4, 3,
       "`coordination` must be a mapping"},
      {"unknown backend key",
       "apiVersion: sharekeeper/v1\naccounts: [{name: prod}]\nsettings:\n  coordination:\n"
       "    zookeeper: {}\n",
       5, 5, "unknown key `zookeeper` in settings.coordination"},
      {"no endpoints", with_etcd("      leaseTTL: 15s\n"), 13, 5, "`etcd` needs `endpoints`"},
      {"empty endpoints", with_etcd("      endpoints: []\n"), 14, 18,
       "`endpoints` needs at least one etcd URL"},
      {"endpoints not a list", with_etcd("      endpoints: https://etcd-1:2379\n"), 14, 18,
       "`endpoints` must be a list"},
      {"no port", with_etcd("      endpoints: [\"https://etcd-1\"]\n"), 14, 19,
       "`https://etcd-1` is not an etcd endpoint"},
      {"plain http to a remote host", with_etcd("      endpoints: [\"http://etcd-1:2379\"]\n"), 14,
       19, "is not an etcd endpoint"},
      {"a path", with_etcd("      endpoints: [\"https://etcd-1:2379/v3\"]\n"), 14, 19,
       "is not an etcd endpoint"},
      {"upper case host", with_etcd("      endpoints: [\"https://ETCD:2379\"]\n"), 14, 19,
       "is not an etcd endpoint"},
      {"duplicate endpoint",
       with_etcd("      endpoints: [\"https://etcd-1:2379\", \"https://etcd-1:2379/\"]\n"), 14, 42,
       "is listed twice"},
      {"ttl too short", with_etcd(ok_endpoints + "      leaseTTL: 2s\n"), 15, 17,
       "`leaseTTL` must be between 3s and 5m"},
      {"ttl too long", with_etcd(ok_endpoints + "      leaseTTL: 10m\n"), 15, 17,
       "`leaseTTL` must be between 3s and 5m"},
      {"ttl not a duration", with_etcd(ok_endpoints + "      leaseTTL: 15\n"), 15, 17,
       "`leaseTTL`: `15` is not a duration"},
      {"relative prefix", with_etcd(ok_endpoints + "      prefix: sharekeeper\n"), 15, 15,
       "is not an etcd key prefix"},
      {"trailing slash", with_etcd(ok_endpoints + "      prefix: /sharekeeper/\n"), 15, 15,
       "is not an etcd key prefix"},
      {"dot segment", with_etcd(ok_endpoints + "      prefix: /sharekeeper/../x\n"), 15, 15,
       "is not an etcd key prefix"},
      {"relative ca file", with_etcd(ok_endpoints + "      caFile: ca.pem\n"), 15, 15,
       "`caFile`: `ca.pem` is not an absolute file path"},
      {"cert without key", with_etcd(ok_endpoints + "      certFile: /etc/c.pem\n"), 15, 7,
       "`certFile` and `keyFile` go together"},
      {"key without cert", with_etcd(ok_endpoints + "      keyFile: /etc/k.pem\n"), 13, 5,
       "`certFile` and `keyFile` go together"},
      {"tls over http",
       with_etcd("      endpoints: [\"http://127.0.0.1:2379\"]\n      caFile: /etc/ca.pem\n"), 15,
       7, "`caFile` needs https:// endpoints"},
      {"user without password", with_etcd(ok_endpoints + "      username: sk\n"), 15, 7,
       "`username` needs `passwordFile`"},
      {"password without user", with_etcd(ok_endpoints + "      passwordFile: /run/p\n"), 15, 7,
       "`passwordFile` needs `username`"},
      {"password in the config", with_etcd(ok_endpoints + "      password: hunter2\n"), 15, 7,
       "would hold a secret"},
      {"bad user name", with_etcd(ok_endpoints + "      username: \"a b\"\n"), 15, 17,
       "is not an etcd user name"},
      {"unknown etcd key", with_etcd(ok_endpoints + "      leaseTtl: 15s\n"), 15, 7,
       "unknown key `leaseTtl` in settings.coordination.etcd"},
  };
  for (const auto& c : cases) {
    auto r = run(c.yaml);
    EXPECT_FALSE(r.ok()) << c.rule;
    const Diagnostic* hit = nullptr;
    for (const auto& d : r.diagnostics)
      if (d.message.find(c.message) != std::string::npos) hit = &d;
    ASSERT_NE(hit, nullptr) << c.rule << ": no `" << c.message << "`\n" << dump(r);
    EXPECT_EQ(hit->where.line, c.line) << c.rule << "\n" << dump(r);
    EXPECT_EQ(hit->where.column, c.column) << c.rule << "\n" << dump(r);
  }
}

// The config inside a Kubernetes manifest's ConfigMap (`config.yaml: |` block), dedented.
std::string configmap_config(const std::string& manifest_path) {
  std::ifstream in(manifest_path);
  std::string line, out;
  std::size_t indent = std::string::npos;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside) {
      inside = line.find("config.yaml: |") != std::string::npos;
      continue;
    }
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) {
      out += "\n";
      continue;
    }
    if (indent == std::string::npos) indent = first;
    if (first < indent) break;
    out += line.substr(indent) + "\n";
  }
  return out;
}

TEST(Coordination, TheDeployManifestsCarryValidConfigs) {
  const std::string dir = std::string(SHAREKEEPER_SOURCE_DIR) + "/deploy/kubernetes/";
  auto single = load_sources({{"sharekeeper.yaml", configmap_config(dir + "sharekeeper.yaml")}});
  ASSERT_TRUE(single.ok()) << dump(single);
  EXPECT_FALSE(single.state->settings.coordination.has_value());
  auto replicated = load_sources(
      {{"sharekeeper-replicated.yaml", configmap_config(dir + "sharekeeper-replicated.yaml")}});
  ASSERT_TRUE(replicated.ok()) << dump(replicated);
  ASSERT_TRUE(replicated.state->settings.coordination.has_value());
  EXPECT_EQ(replicated.state->settings.coordination->etcd.endpoints.size(), 3u);
  std::ifstream in(dir + "sharekeeper-replicated.yaml");
  const std::string manifest((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  EXPECT_NE(manifest.find("replicas: 3"), std::string::npos);
  EXPECT_NE(manifest.find("kind: PodDisruptionBudget"), std::string::npos);
  EXPECT_NE(manifest.find("- --replica-id"), std::string::npos);
}

TEST(Coordination, ThePasswordIsNeverEchoed) {
  auto r = run(with_etcd("      endpoints: [\"https://etcd-1:2379\"]\n      password: hunter2\n"));
  ASSERT_FALSE(r.ok());
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(d.message.find("hunter2"), std::string::npos) << d.message;
    EXPECT_EQ(d.hint.find("hunter2"), std::string::npos) << d.hint;
  }
}

}  // namespace
}  // namespace sharekeeper::config
