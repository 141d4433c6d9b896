#pragma once
// The typed, validated, immutable desired state (docs/contract.md §3.2). Produced only by
// config::load(); everything in it has passed validation, so consumers need not re-check formats.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sharekeeper::config {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based

  friend bool operator==(const SourceLocation&, const SourceLocation&) = default;
};

enum class CredentialSource { kDefault, kEnv, kProfile, kEcsRamRole, kOidc, kAssumeRole };

// Where to find credentials; never the secrets themselves.
struct CredentialsSpec {
  CredentialSource source = CredentialSource::kDefault;
  std::string access_key_id_env;      // env
  std::string access_key_secret_env;  // env
  std::string security_token_env;     // env (optional)
  std::string profile;                // profile
  std::string role_name;              // ecsRamRole
  std::string role_arn;               // oidc, assumeRole
  std::string oidc_provider_arn;      // oidc
  std::string oidc_token_file;        // oidc
  std::string external_id;            // assumeRole (optional)
  std::string role_session_name;      // assumeRole / oidc (optional; default "sharekeeper")
  std::string from;                   // assumeRole: account name or "default"

  friend bool operator==(const CredentialsSpec&, const CredentialsSpec&) = default;
};

enum class AdoptMode { kAdditive, kAuthoritative };

struct Account {
  std::string name;
  std::optional<std::string> uid;  // 16 digits; checked against GetCallerIdentity
  CredentialsSpec credentials;
  AdoptMode adopt = AdoptMode::kAdditive;
  // Never removed from a trust policy. Each is an account UID, an "rd-..." id or a folder path.
  std::vector<std::string> protected_principals;
  SourceLocation where;

  // Memberwise, positions included; config::diff() compares without them.
  friend bool operator==(const Account&, const Account&) = default;
};

struct Targets {
  std::vector<std::string> accounts;              // 16-digit UIDs, sorted, unique
  std::optional<std::string> resource_directory;  // "rd-xxxxxx"
  std::vector<std::string> folders;  // "rd-xxxxxx/r-xxxxxx/.../fd-xxxxxxxxxx", sorted, unique

  friend bool operator==(const Targets&, const Targets&) = default;
};

enum class ShareMode { kEnforce, kObserve };

struct Share {
  std::string name;     // unique; used in metric labels
  std::string account;  // Account::name
  std::string region;
  std::vector<std::string> images;     // "m-...", sorted, unique
  std::vector<std::string> snapshots;  // "s-...", sorted, unique
  std::map<std::string, std::string>
      selector_tags;  // resources carrying all these tags also belong
  Targets to;
  ShareMode mode = ShareMode::kEnforce;
  SourceLocation where;

  friend bool operator==(const Share&, const Share&) = default;
};

// settings.coordination.etcd (docs/config.md "Several replicas"): how replicas reach etcd. Secrets
// are never here: the password is read from `password_file` when the daemon starts.
struct EtcdSettings {
  std::vector<std::string> endpoints;  // "https://host:port" (http:// only for loopback hosts)
  std::chrono::seconds lease_ttl{15};
  std::string prefix;  // "/sharekeeper/<instanceName>" unless given; no trailing '/'
  std::string ca_file;
  std::string cert_file;  // client certificate (mTLS), with key_file
  std::string key_file;
  std::string username;  // etcd auth, with password_file
  std::string password_file;

  friend bool operator==(const EtcdSettings&, const EtcdSettings&) = default;
};

// settings.coordination: absent = one replica, exactly as without it.
struct CoordinationSettings {
  EtcdSettings etcd;
  SourceLocation where;  // of the `coordination` key; not part of equality

  friend bool operator==(const CoordinationSettings& a, const CoordinationSettings& b) {
    return a.etcd == b.etcd;
  }
};

struct Settings {
  std::chrono::seconds interval{300};
  double jitter = 0.1;  // fraction of interval
  bool prune = true;
  int max_revocations_per_cycle = 50;
  double max_revoke_fraction = 0.5;
  bool allow_mass_revoke = false;
  std::string instance_name = "sharekeeper";
  bool allow_service_key_shares = false;
  bool manage_shares = true;  // converge the shares themselves (docs/config.md)
  // Create AliyunECSDiskEncryptDefaultRole when absent (never rewritten when it exists).
  bool manage_disk_encrypt_role = false;
  std::map<std::string, std::string> endpoints;      // product -> URL template with {region}
  std::optional<CoordinationSettings> coordination;  // several replicas on etcd

  friend bool operator==(const Settings&, const Settings&) = default;
};

struct DesiredState {
  Settings settings;
  std::vector<Account> accounts;  // sorted by name
  std::vector<Share> shares;      // sorted by name
  std::string content_hash;  // sha256 of the files' bytes (with names and sizes), in path order
  std::string revision;      // git HEAD of the config dir when present, else content_hash

  const Account* find_account(const std::string& name) const {
    for (const auto& a : accounts)
      if (a.name == name) return &a;
    return nullptr;
  }
};

}  // namespace sharekeeper::config
