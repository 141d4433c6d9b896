#pragma once
// Several `sharekeeper run` replicas as processes, coordinated by a real etcd, against one
// sharekeeper-emulator with N sharer accounts (one encrypted snapshot each, shared with one
// recipient). Used by the process tests and by bench/coordination (takeover and churn figures).
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../daemon_harness.hpp"
#include "../emulator_client.hpp"
#include "coordination/etcd_client.hpp"
#include "coordination/hrw.hpp"
#include "etcd_server.hpp"

namespace sharekeeper::coordination::testing {

using daemon::testing::Daemon;
using daemon::testing::Emulator;
using daemon::testing::http_request;
using daemon::testing::write_file_atomic;
using nlohmann::json;

inline constexpr const char* kSnapshotRole = "AliyunECSShareEncryptSnapshotDefaultRole";
inline constexpr const char* kSnapshotPolicy =
    "coordtest-ecs-share-snapshot-kms-1";  // instanceName coordtest
inline constexpr const char* kRecipient = "1111222233334444";

struct SharerAccount {
  std::string name;  // acct-NN
  std::string uid;
  std::string key_id;
  std::string secret;
  std::string snapshot;
};

inline std::vector<SharerAccount> sharer_accounts(int n) {
  std::vector<SharerAccount> out;
  for (int i = 0; i < n; ++i) {
    char buf[64];
    SharerAccount a;
    std::snprintf(buf, sizeof buf, "acct-%03d", i);
    a.name = buf;
    std::snprintf(buf, sizeof buf, "2%015d", 100 + i);
    a.uid = buf;
    std::snprintf(buf, sizeof buf, "LTAI5tCoordSharer%05d", i);
    a.key_id = buf;
    std::snprintf(buf, sizeof buf, "CoordSharerSecret%015d", i);
    a.secret = buf;
    std::snprintf(buf, sizeof buf, "s-bp1coord%011d", i);
    a.snapshot = buf;
    out.push_back(a);
  }
  return out;
}

inline std::string seed_json(const std::vector<SharerAccount>& accounts) {
  json seed;
  seed["description"] = "coordination tests: N sharers, one encrypted snapshot each";
  json list = json::array();
  for (const auto& a : accounts) {
    const std::string key = "key-coord" + a.uid.substr(4);
    list.push_back({{"uid", a.uid},
                    {"name", a.name},
                    {"accessKeys", json::array({{{"id", a.key_id}, {"secret", a.secret}}})},
                    {"regions",
                     {{"cn-hangzhou",
                       {{"kmsKeys", json::array({{{"keyId", key}}})},
                        {"snapshots", json::array({{{"snapshotId", a.snapshot},
                                                    {"encrypted", true},
                                                    {"kmsKeyId", key},
                                                    {"sourceDiskType", "Data"},
                                                    {"sourceDiskSize", 20}}})}}}}}});
  }
  list.push_back({{"uid", kRecipient},
                  {"name", "recipient"},
                  {"accessKeys", json::array({{{"id", "LTAI5tCoordRecipient01"},
                                               {"secret", "CoordRecipientSecret0123456789ab"}}})}});
  seed["accounts"] = list;
  return seed.dump(2);
}

inline std::string fleet_config(const std::vector<SharerAccount>& accounts,
                                const std::string& etcd_endpoint, int ttl_seconds,
                                const std::string& interval) {
  std::ostringstream c;
  c << "apiVersion: sharekeeper/v1\n"
    << "settings:\n"
    << "  interval: " << interval << "\n"
    << "  instanceName: coordtest\n"
    << "  coordination:\n"
    << "    etcd:\n"
    << "      endpoints: [\"" << etcd_endpoint << "\"]\n"
    << "      leaseTTL: " << ttl_seconds
    << "s\n"
    // (After the coordination block, whose line tests name.) The RAM/KMS side only: the recipients
    // are outside any resource directory, so with the shares managed their snapshot grants would
    // wait for invitations nobody accepts here.
    << "  manageShares: false\n"
    << "accounts:\n";
  for (const auto& a : accounts)
    c << "  - name: " << a.name << "\n    uid: \"" << a.uid << "\"\n"
      << "    credentials: {source: env, accessKeyIdEnv: AK_" << a.uid
      << ", accessKeySecretEnv: SK_" << a.uid << "}\n";
  c << "shares:\n";
  for (const auto& a : accounts)
    c << "  - name: share-" << a.name << "\n    account: " << a.name
      << "\n    region: cn-hangzhou\n    snapshots: [" << a.snapshot << "]\n"
      << "    to: {accounts: [\"" << kRecipient << "\"]}\n";
  return c.str();
}

// Journal entries of writes (not Get/List/Describe) sent with V3 signatures: the daemon's. The
// tests' own console calls use V1, so they never count.
inline bool is_daemon_write(const json& e) {
  const std::string action = e.value("action", "");
  const bool read =
      action.starts_with("Get") || action.starts_with("List") || action.starts_with("Describe");
  return !read && e.value("signatureVersion", "") == "V3";
}

class Fleet {
 public:
  struct Options {
    int accounts = 6;
    int ttl_seconds = 3;
    std::string interval = "2s";
  };

  explicit Fleet(const fs::path& dir, Options o) : dir_(dir), options_(o) {
    accounts_ = sharer_accounts(o.accounts);
    etcd_ = std::make_unique<EtcdServer>(dir_ / "etcd");
    write_file_atomic(dir_ / "seed.json", seed_json(accounts_));
    emulator_ = std::make_unique<Emulator>(dir_, (dir_ / "seed.json").string());
    config_ = fleet_config(accounts_, etcd_->endpoint(), o.ttl_seconds, o.interval);
    for (const auto& a : accounts_) {
      env_["AK_" + a.uid] = a.key_id;
      env_["SK_" + a.uid] = a.secret;
    }
    EtcdClientOptions co;
    co.endpoints = {etcd_->endpoint()};
    co.timeout = std::chrono::milliseconds(2000);
    EtcdTlsOptions tls;
    tls.allow_http = true;
    etcd_client_ = std::move(EtcdClient::create(co, make_etcd_transport(tls).value()).value());
  }
  ~Fleet() { stop_all(); }

  // Starts replica `name` (again, when it was killed: a new process, same id).
  void start(const std::string& name) {
    const fs::path d = dir_ / name;
    fs::create_directories(d);
    // Keep the log of an earlier process of this replica (the harness truncates it on start).
    if (fs::exists(d / "daemon.err"))
      fs::rename(d / "daemon.err", d / ("daemon." + std::to_string(++restarts_) + ".err"));
    write_file_atomic(d / "config.yaml", config_);
    replicas_[name] = std::make_unique<Daemon>(
        d, emulator_->url, std::vector<std::string>{"--replica-id", name}, env_);
  }
  // SIGKILL (or another signal: SIGTERM is a graceful stop that hands the accounts back).
  void kill(const std::string& name, int signo = SIGKILL) {
    auto it = replicas_.find(name);
    if (it == replicas_.end()) return;
    it->second->proc->signal(signo);
    it->second->proc->wait(std::chrono::seconds(30));
    replicas_.erase(it);
  }
  void stop_all() {
    for (auto& [n, d] : replicas_)
      if (d->proc->running()) d->proc->signal(SIGTERM);
    for (auto& [n, d] : replicas_) d->proc->wait(std::chrono::seconds(30));
    replicas_.clear();
  }
  std::vector<std::string> live() const {
    std::vector<std::string> out;
    for (const auto& [n, d] : replicas_) out.push_back(n);
    return out;
  }
  Daemon& replica(const std::string& name) { return *replicas_.at(name); }

  // One replica's claims: account -> the create revision is not exposed, the set is.
  std::optional<std::set<std::string>> owned_by(const std::string& name) {
    auto r = replicas_.at(name)->get("/status");
    if (r.status != 200) return std::nullopt;
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("coordination")) return std::nullopt;
    std::set<std::string> out;
    for (const auto& a : j["coordination"]["owned"]) out.insert(a.get<std::string>());
    return out;
  }

  // A sample: every live replica's claims read twice in a row (P1 Q1 R1 P2 Q2 R2). An account
  // counts as doubly owned only if two replicas claimed it in both of their reads: their claims
  // then overlapped in time (P held it over [P1, P2], Q over [Q1, Q2], and Q1 < P2), so read skew
  // between replicas cannot fake a double, and a double cannot hide between the reads unless an
  // owner released and retook an account within milliseconds (a full etcd round trip and a read).
  struct Sample {
    std::map<std::string, std::vector<std::string>> owners;  // account -> replicas (both reads)
    int doubles = 0;                                         // accounts with >1 owner
    bool complete = false;                                   // every live replica answered
  };
  Sample sample() {
    Sample s;
    std::map<std::string, std::set<std::string>> first, second;
    s.complete = true;
    for (const auto& n : live()) {
      auto o = owned_by(n);
      if (!o) s.complete = false;
      first[n] = o.value_or(std::set<std::string>{});
    }
    for (const auto& n : live()) {
      auto o = owned_by(n);
      if (!o) s.complete = false;
      second[n] = o.value_or(std::set<std::string>{});
    }
    for (const auto& n : live())
      for (const auto& a : first[n])
        if (second[n].count(a) != 0) s.owners[a].push_back(n);
    for (const auto& [a, who] : s.owners)
      if (who.size() > 1) ++s.doubles;
    return s;
  }
  bool each_owned_once(const Sample& s) const {
    if (!s.complete) return false;
    for (const auto& a : accounts_) {
      auto it = s.owners.find(a.name);
      if (it == s.owners.end() || it->second.size() != 1) return false;
    }
    return true;
  }

  // Settled: each account owned once, by the rendezvous winner among the live replicas (no handover
  // left to do).
  bool settled(const Sample& s) const {
    if (!each_owned_once(s)) return false;
    const auto members = live();
    for (const auto& a : accounts_)
      if (s.owners.at(a.name).front() != hrw_owner(a.name, members)) return false;
    return true;
  }

  // The owner keys in etcd: account -> replica id.
  std::map<std::string, std::string> etcd_owners() {
    std::map<std::string, std::string> out;
    const std::string p = "/sharekeeper/coordtest/owners/";
    auto r = etcd_client_->range(p, "/sharekeeper/coordtest/owners0");
    if (!r.ok()) return out;
    for (const auto& kv : r->kvs) out[kv.key.substr(p.size())] = kv.value;
    return out;
  }

  // The sharer's own signed calls (V1, so the journal tells them from the daemon's V3 calls).
  std::unique_ptr<cloud::AlibabaClient> console(const SharerAccount& a) {
    auto o = sharekeeper::testing::emulator_client_options(emulator_->url, a.key_id, a.secret);
    o.signature = cloud::SignatureAlgorithm::kV1;
    return std::make_unique<cloud::AlibabaClient>(std::move(o));
  }
  static bool policy_attached(cloud::CloudApi& api) {
    auto r = api.list_policies_for_role(kSnapshotRole);
    if (!r.ok()) return false;
    for (const auto& p : r.value())
      if (p.policy_name == kSnapshotPolicy) return true;
    return false;
  }

  // The emulator's admin API with a JSON body (the tests' tiny HTTP client sends none).
  cloud::Result<cloud::HttpResponse> emulator_call(const std::string& method,
                                                   const std::string& path,
                                                   const std::string& body) {
    if (!admin_) {
      cloud::TransportOptions o;
      o.allow_http = true;
      admin_ = std::move(cloud::HttpsTransport::create(o).value());
    }
    cloud::HttpRequest req;
    req.method = method;
    req.scheme = "http";
    req.host = "127.0.0.1";
    req.port = emulator_->port;
    req.target = path;
    req.headers.emplace_back("content-type", "application/json");
    req.body = body;
    return admin_->send(req, std::chrono::seconds(10));
  }
  int emulator_admin(const std::string& method, const std::string& path, const std::string& body) {
    auto r = emulator_call(method, path, body);
    return r.ok() ? r->status : 0;
  }

  json journal(std::uint64_t since = 0) {
    auto r = emulator_call("GET", "/_emulator/requests?since=" + std::to_string(since), "");
    if (!r.ok() || r->status != 200) throw std::runtime_error("GET /_emulator/requests failed");
    return json::parse(r->body);
  }
  std::uint64_t journal_head() {
    std::uint64_t head = 0;
    const json j = journal();  // a named copy: a temporary's member would dangle in the loop
    for (const auto& e : j["requests"]) head = std::max(head, e.value("seq", std::uint64_t{0}));
    return head;
  }

  const std::vector<SharerAccount>& accounts() const { return accounts_; }
  const SharerAccount& account(const std::string& name) const {
    for (const auto& a : accounts_)
      if (a.name == name) return a;
    throw std::out_of_range(name);
  }
  EtcdServer& etcd() { return *etcd_; }
  Emulator& emulator() { return *emulator_; }
  const Options& options() const { return options_; }
  std::string logs(const std::string& name) { return replicas_.at(name)->logs(); }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  Options options_;
  std::vector<SharerAccount> accounts_;
  std::unique_ptr<EtcdServer> etcd_;
  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<EtcdClient> etcd_client_;
  std::string config_;
  std::map<std::string, std::string> env_;
  std::map<std::string, std::unique_ptr<Daemon>> replicas_;
  std::unique_ptr<cloud::HttpsTransport> admin_;
  int restarts_ = 0;
};

}  // namespace sharekeeper::coordination::testing
