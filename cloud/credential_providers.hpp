#pragma once
// The credential providers of docs/alibaba-api.md §8 and docs/contract.md §3.2, and the official
// default chain: environment, OIDC/RRSA, CLI profile (~/.aliyun/config.json), credentials file
// (~/.alibabacloud/credentials), ECS instance RAM role (metadata service), credentials URI; plus
// static keys, named environment variables and STS AssumeRole chained from another provider.
// docs/credentials.md explains the order, the fields and the refresh rules.
//
// cloud/ does not know config/: the daemon maps config's CredentialsSpec onto CredentialsOptions.
// Every outside touch (clock, environment, home directory, metadata address, STS endpoint,
// transports) is in CredentialsDeps so tests point them at loopback fakes.
//
// Thread-safety: every provider is thread-safe; a refresh runs under the provider's lock, so
// concurrent callers wait for one fetch instead of each starting their own.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/credentials.hpp"
#include "cloud/http.hpp"
#include "cloud/result.hpp"
#include "cloud/transport.hpp"

namespace sharekeeper::cloud {

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// Refresh windows (Node @alicloud/credentials SessionCredentialProvider).
inline constexpr std::chrono::minutes kStaleWindow{15};  // STS-issued credentials
inline constexpr std::chrono::hours kMetadataStaleWindow{
    1};  // the IMDS role: prefetch an hour early
// After a failed refresh while the old credentials are still valid, wait this long before the next
// attempt instead of hammering STS on every call.
inline constexpr std::chrono::seconds kRefreshRetryInterval{10};

struct CredentialsDeps {
  // HTTPS to STS: verifying, proxy-aware. Default: HttpsTransport with the system CA store and
  // the environment's proxy.
  std::shared_ptr<Transport> sts_transport;
  // The metadata service and the credentials URI: plain http allowed, never through a proxy (the
  // metadata address is link-local). Default: HttpsTransport{allow_http, no proxy}.
  std::shared_ptr<Transport> metadata_transport;
  WallClock now;         // default: std::chrono::system_clock::now
  EnvLookup env;         // default: process_env()
  std::string home_dir;  // default: $HOME
  std::string metadata_base_url = "http://100.100.100.200";
  // Wins over every other STS endpoint setting (the emulator, loopback fakes). Empty:
  // https://sts.aliyuncs.com, or sts[-vpc].<region>.aliyuncs.com when a region is configured.
  std::string sts_endpoint;
  std::chrono::milliseconds sts_timeout{10'000};
  std::chrono::milliseconds metadata_timeout{
      1'000};                          // the SDK's 1 s connect + 1 s read, as one budget
  std::function<std::string()> nonce;  // SignatureNonce; default: 32 random hex characters
};

// Fills every empty field of `deps` with its default (creating the default transports).
Result<CredentialsDeps> complete_deps(CredentialsDeps deps);

// Mirrors config/desired_state.hpp's CredentialSource plus kStatic (tests, the emulator
// quickstart).
enum class CredentialsSource { kDefault, kStatic, kEnv, kProfile, kEcsRamRole, kOidc, kAssumeRole };

struct CredentialsOptions {
  CredentialsSource source = CredentialsSource::kDefault;
  Credentials static_credentials;       // static
  std::string access_key_id_env;        // env (default ALIBABA_CLOUD_ACCESS_KEY_ID)
  std::string access_key_secret_env;    // env (default ALIBABA_CLOUD_ACCESS_KEY_SECRET)
  std::string security_token_env;       // env (optional; default ALIBABA_CLOUD_SECURITY_TOKEN)
  std::string profile;                  // profile: CLI profile name, else credentials-file section
  std::string role_name;                // ecsRamRole (empty: discovered from the metadata service)
  std::string role_arn;                 // oidc, assumeRole
  std::string oidc_provider_arn;        // oidc
  std::string oidc_token_file;          // oidc
  std::string external_id;              // assumeRole (optional)
  std::string role_session_name;        // assumeRole / oidc (default "sharekeeper")
  std::string policy;                   // assumeRole / oidc (optional; only narrows permissions)
  std::chrono::seconds duration{3600};  // assumeRole / oidc: DurationSeconds (>= 900)
  std::string sts_region;               // assumeRole / oidc: sts.<region>.aliyuncs.com
  bool sts_vpc = false;                 // sts-vpc.<region>.aliyuncs.com
  // assumeRole: the provider whose keys sign AssumeRole (the daemon builds it from `from:`);
  // null: the default chain.
  std::shared_ptr<CredentialsProvider> from;
};

Result<std::shared_ptr<CredentialsProvider>> make_credentials_provider(
    const CredentialsOptions& options, const CredentialsDeps& deps);

// ---- Building blocks (exposed for tests and composition)

// "yyyy-MM-ddTHH:mm:ssZ" or with ".sss" milliseconds, read as UTC whatever TZ says (timegm). Any
// other form is rejected, as the SDK's parseUTC does.
std::optional<std::chrono::system_clock::time_point> parse_utc_timestamp(std::string_view text);
// "yyyy-MM-ddTHH:mm:ssZ".
std::string format_utc_timestamp(std::chrono::system_clock::time_point t);

class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials);
  Result<Credentials> get() override;
  std::string name() const override { return credentials_.provider; }

 private:
  Credentials credentials_;
};

// Reads the variables on every get() (cheap, and a rotated secret is picked up).
class EnvCredentialsProvider final : public CredentialsProvider {
 public:
  EnvCredentialsProvider(EnvLookup env, std::string id_var, std::string secret_var,
                         std::string token_var);
  Result<Credentials> get() override;
  std::string name() const override { return "env"; }

 private:
  EnvLookup env_;
  std::string id_var_;
  std::string secret_var_;
  std::string token_var_;
};

// Caches temporary credentials and refreshes them once they are within `stale_window` of expiry.
// A failed refresh keeps the old credentials while they are valid (next attempt after
// kRefreshRetryInterval); once they have expired the error is returned.
class RefreshingCredentialsProvider : public CredentialsProvider {
 public:
  Result<Credentials> get() final;
  void invalidate() final;

 protected:
  RefreshingCredentialsProvider(WallClock now, std::chrono::seconds stale_window);
  // Fetches new credentials; called under the provider's lock.
  virtual Result<Credentials> fetch() = 0;

 private:
  WallClock now_;
  std::chrono::seconds stale_window_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
  std::chrono::system_clock::time_point next_attempt_{};
  bool invalidated_ = false;
};

struct StsRoleOptions {
  std::string role_arn;
  std::string role_session_name = "sharekeeper";
  std::chrono::seconds duration{3600};
  std::string policy;
  std::string external_id;  // AssumeRole only
  std::string endpoint;     // full URL; empty: from deps / region
  std::string region;
  bool vpc = false;
};

// STS AssumeRole, signed V1 with the source's keys; parameters in a form body as the official
// credentials provider sends them (reference/sdk-wire-captures.json).
class AssumeRoleCredentialsProvider final : public RefreshingCredentialsProvider {
 public:
  AssumeRoleCredentialsProvider(std::shared_ptr<CredentialsProvider> source, StsRoleOptions role,
                                CredentialsDeps deps);
  std::string name() const override { return "ram_role_arn"; }

 protected:
  Result<Credentials> fetch() override;

 private:
  std::shared_ptr<CredentialsProvider> source_;
  StsRoleOptions role_;
  CredentialsDeps deps_;
};

// Anonymous STS AssumeRoleWithOIDC (RRSA); the token file is re-read on every refresh because the
// kubelet rotates it.
class OidcCredentialsProvider final : public RefreshingCredentialsProvider {
 public:
  OidcCredentialsProvider(std::string oidc_provider_arn, std::string token_file,
                          StsRoleOptions role, CredentialsDeps deps);
  std::string name() const override { return "oidc_role_arn"; }

 protected:
  Result<Credentials> fetch() override;

 private:
  std::string provider_arn_;
  std::string token_file_;
  StsRoleOptions role_;
  CredentialsDeps deps_;
};

// ECS instance RAM role from the metadata service: IMDSv2 token (PUT, 6 h TTL), falling back to
// v1 unless `imdsv1_disabled`; the role name is discovered when not given.
class EcsRamRoleCredentialsProvider final : public RefreshingCredentialsProvider {
 public:
  EcsRamRoleCredentialsProvider(std::string role_name, bool imdsv1_disabled, CredentialsDeps deps);
  std::string name() const override { return "ecs_ram_role"; }

 protected:
  Result<Credentials> fetch() override;

 private:
  std::string role_name_;
  bool imdsv1_disabled_;
  CredentialsDeps deps_;
};

// GET <uri> -> {AccessKeyId, AccessKeySecret, SecurityToken, Expiration}.
class CredentialsUriProvider final : public RefreshingCredentialsProvider {
 public:
  CredentialsUriProvider(std::string uri, CredentialsDeps deps);
  std::string name() const override { return "credentials_uri"; }

 protected:
  Result<Credentials> fetch() override;

 private:
  std::string uri_;
  CredentialsDeps deps_;
};

// A profile of ~/.aliyun/config.json (the aliyun CLI): `profile` names it, else
// ALIBABA_CLOUD_PROFILE, else the file's "current". Read on first use; the provider the profile
// describes is then kept (so its refresh state survives).
class CliProfileCredentialsProvider final : public CredentialsProvider {
 public:
  CliProfileCredentialsProvider(std::string profile, CredentialsDeps deps);
  Result<Credentials> get() override;
  void invalidate() override;
  std::string name() const override { return "cli_profile"; }

 private:
  std::string profile_;
  CredentialsDeps deps_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> inner_;
};

// A section of the INI credentials file (ALIBABA_CLOUD_CREDENTIALS_FILE, else
// ~/.alibabacloud/credentials): `profile` names it, else ALIBABA_CLOUD_PROFILE, else "default".
class CredentialsFileProvider final : public CredentialsProvider {
 public:
  CredentialsFileProvider(std::string profile, CredentialsDeps deps);
  Result<Credentials> get() override;
  void invalidate() override;
  std::string name() const override { return "profile"; }

 private:
  std::string profile_;
  CredentialsDeps deps_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> inner_;
};

// The official default chain (env, OIDC, CLI profile, credentials file, ECS RAM role, credentials
// URI). The first provider that answers wins and the chain stays on it from then on, as the SDK's
// lastUsedProvider does: a later failure of that provider is returned, not hidden by another.
class DefaultCredentialsChain final : public CredentialsProvider {
 public:
  explicit DefaultCredentialsChain(CredentialsDeps deps);
  Result<Credentials> get() override;
  void invalidate() override;
  std::string name() const override { return "default"; }

 private:
  std::shared_ptr<CredentialsProvider> chain_;
};

}  // namespace sharekeeper::cloud
