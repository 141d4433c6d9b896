#include "daemon/cloud_factory.hpp"

#include <cstdio>

#include "cloud/credential_providers.hpp"
#include "cloud/endpoints.hpp"
#include "cloud/transport.hpp"
#include "config/loader.hpp"
#include "reconcilers/observe.hpp"

namespace sharekeeper::daemon {
namespace {

cloud::CredentialsSource map_source(config::CredentialSource s) {
  switch (s) {
    case config::CredentialSource::kDefault:
      return cloud::CredentialsSource::kDefault;
    case config::CredentialSource::kEnv:
      return cloud::CredentialsSource::kEnv;
    case config::CredentialSource::kProfile:
      return cloud::CredentialsSource::kProfile;
    case config::CredentialSource::kEcsRamRole:
      return cloud::CredentialsSource::kEcsRamRole;
    case config::CredentialSource::kOidc:
      return cloud::CredentialsSource::kOidc;
    case config::CredentialSource::kAssumeRole:
      return cloud::CredentialsSource::kAssumeRole;
  }
  return cloud::CredentialsSource::kDefault;
}

bool starts_with_http(const std::string& url) { return url.rfind("http://", 0) == 0; }

}  // namespace

CloudFactory::CloudFactory(GlobalOptions global, cloud::CallObserver on_call)
    : global_(std::move(global)),
      on_call_(std::move(on_call)),
      retry_quota_(std::make_shared<cloud::RetryQuota>()) {}

cloud::Result<std::shared_ptr<cloud::Transport>> CloudFactory::transport() {
  std::lock_guard<std::mutex> lock(mu_);
  if (transport_) return transport_;
  cloud::TransportOptions o;
  o.ca_file = global_.ca_file;
  o.allow_http = starts_with_http(global_.endpoint_override);
  // Every account of a pass may be in flight to one host at once (docs/architecture.md): keep
  // that many connections alive, so no call of a pass pays a new TLS handshake.
  o.max_idle_per_host =
      static_cast<std::size_t>(reconcilers::kMaxAccountWorkers) * reconcilers::kAccountFanOut;
  o.max_idle_total = 2 * o.max_idle_per_host;
  auto t = cloud::HttpsTransport::create(o);
  if (!t.ok()) return t.error();
  transport_ = std::shared_ptr<cloud::Transport>(std::move(t.value()));
  return transport_;
}

cloud::Result<std::shared_ptr<cloud::CredentialsProvider>> CloudFactory::provider(
    const config::DesiredState& desired, const config::Account& account, int depth) {
  const config::CredentialsSpec& spec = account.credentials;
  cloud::CredentialsOptions o;
  o.source = map_source(spec.source);
  o.access_key_id_env = spec.access_key_id_env;
  o.access_key_secret_env = spec.access_key_secret_env;
  o.security_token_env = spec.security_token_env;
  o.profile = spec.profile;
  o.role_name = spec.role_name;
  o.role_arn = spec.role_arn;
  o.oidc_provider_arn = spec.oidc_provider_arn;
  o.oidc_token_file = spec.oidc_token_file;
  o.external_id = spec.external_id;
  o.role_session_name = spec.role_session_name.empty() ? "sharekeeper" : spec.role_session_name;
  if (spec.source == config::CredentialSource::kAssumeRole && !spec.from.empty() &&
      spec.from != "default") {
    const config::Account* from = desired.find_account(spec.from);
    if (from == nullptr || depth > 8) {
      cloud::Error e;
      e.product = "credentials";
      e.code = "Credentials.BadChain";
      e.message = "assumeRole of account '" + account.name + "' chains from '" + spec.from +
                  "', which is unknown or part of a cycle";
      return e;
    }
    auto chained = provider(desired, *from, depth + 1);
    if (!chained.ok()) return chained.error();
    o.from = chained.value();
  }
  auto full = deps();
  if (!full.ok()) return full.error();
  return cloud::make_credentials_provider(o, full.value());
}

cloud::Result<cloud::CredentialsDeps> CloudFactory::deps() {
  auto t = transport();
  if (!t.ok()) return t.error();
  std::lock_guard<std::mutex> lock(deps_mu_);
  if (deps_) return *deps_;
  cloud::CredentialsDeps d;
  d.sts_transport = t.value();
  d.sts_endpoint = global_.endpoint_override;
  auto full = cloud::complete_deps(std::move(d));
  if (!full.ok()) return full.error();
  deps_ = std::move(full).value();
  return *deps_;
}

support::Result<std::shared_ptr<cloud::CloudApi>, support::Failure> CloudFactory::make(
    const config::DesiredState& desired, const config::Account& account) {
  auto t = transport();
  if (!t.ok()) return support::Failure{"cannot set up HTTPS: " + t.error().to_string()};
  cloud::EndpointOptions eo;
  for (const auto& [product, url] : desired.settings.endpoints) eo.product_overrides[product] = url;
  if (!global_.endpoint_override.empty()) eo.override_all = global_.endpoint_override;
  auto endpoints = cloud::EndpointResolver::create(eo);
  if (!endpoints.ok()) return support::Failure{"bad endpoint: " + endpoints.error().to_string()};
  auto creds = provider(desired, account, 0);
  if (!creds.ok())
    return support::Failure{"credentials of account '" + account.name +
                            "': " + creds.error().to_string()};
  cloud::AlibabaClientOptions o;
  o.transport = wrap_ ? wrap_(account, t.value()) : t.value();
  o.credentials = creds.value();
  o.endpoints = std::make_shared<const cloud::EndpointResolver>(std::move(endpoints.value()));
  o.retry_quota = retry_quota_;
  o.on_call = on_call_;
  return std::make_shared<cloud::AlibabaClient>(std::move(o));
}

reconcilers::ClientFor CliSession::client_for() {
  return [this](const config::Account& a) -> cloud::CloudApi* {
    auto it = clients.find(a.name);
    return it == clients.end() ? nullptr : it->second.get();
  };
}

bool open_cli_session(const GlobalOptions& g, const std::string& config_path, CliSession& s) {
  auto loaded = config::load(config_path);
  for (const auto& line : config::format_diagnostics(loaded.diagnostics))
    std::fprintf(stderr, "%s\n", line.c_str());
  if (!loaded.ok()) {
    std::fprintf(stderr, "sharekeeper: %s: invalid config (%zu error(s))\n", config_path.c_str(),
                 loaded.error_count());
    return false;
  }
  s.desired = std::move(*loaded.state);
  s.factory = std::make_unique<CloudFactory>(g);
  for (const auto& a : s.desired.accounts) {
    auto api = s.factory->make(s.desired, a);
    if (api) {
      s.clients[a.name] = std::move(api).value();
    } else {
      s.client_errors[a.name] = std::move(api).error().message;
    }
  }
  return true;
}

reconcilers::Plan plan_cli_session(CliSession& s, reconcilers::Observation* observation) {
  auto observed = reconcilers::observe(s.desired, s.client_for());
  for (auto& [name, o] : observed.accounts) {
    auto e = s.client_errors.find(name);
    if (e != s.client_errors.end()) o.fatal_error = e->second;
  }
  reconcilers::Plan p = reconcilers::plan(s.desired, observed);
  if (observation != nullptr) *observation = std::move(observed);
  return p;
}

}  // namespace sharekeeper::daemon
