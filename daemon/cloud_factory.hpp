#pragma once
// Builds the real CloudApi (cloud::AlibabaClient) of a config account: its credentials provider
// (config CredentialsSpec -> cloud::CredentialsOptions, assumeRole `from:` chained), one shared
// HTTPS transport (--ca-file, plain http only for an http:// --endpoint-override), one endpoint
// resolver (settings.endpoints, then --endpoint-override for every product and STS), one retry
// quota. Used by `plan`, `apply` and the daemon's ReconcileRunner.
//
// Thread-safety: make() may be called from several threads; the clients it returns are thread-safe.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cloud/alibaba_client.hpp"
#include "cloud/api.hpp"
#include "cloud/credential_providers.hpp"
#include "config/desired_state.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/observe.hpp"
#include "reconcilers/plan.hpp"

namespace sharekeeper::daemon {

class CloudFactory {
 public:
  explicit CloudFactory(GlobalOptions global, cloud::CallObserver on_call = {});

  // Wraps the transport of each account's client (the cloud calls of that account, not the
  // credential providers' STS calls): `sharekeeper run` with coordination puts the fence there.
  using TransportWrapper = std::function<std::shared_ptr<cloud::Transport>(
      const config::Account& account, std::shared_ptr<cloud::Transport> inner)>;
  void set_account_transport_wrapper(TransportWrapper wrap) { wrap_ = std::move(wrap); }

  // The client of `account`, or why it cannot be built (one line, no secret in it).
  support::Result<std::shared_ptr<cloud::CloudApi>, support::Failure> make(
      const config::DesiredState& desired, const config::Account& account);

 private:
  cloud::Result<std::shared_ptr<cloud::CredentialsProvider>> provider(
      const config::DesiredState& desired, const config::Account& account, int depth);
  cloud::Result<std::shared_ptr<cloud::Transport>> transport();

  GlobalOptions global_;
  cloud::CallObserver on_call_;
  // The credential providers' dependencies, completed once and shared by every account: completing
  // them creates a metadata transport (an SSL context with the system CA store and an I/O thread),
  // which per account cost 200 accounts ~330 MB and a second of CPU.
  cloud::Result<cloud::CredentialsDeps> deps();

  std::mutex mu_;
  std::shared_ptr<cloud::Transport> transport_;
  std::mutex deps_mu_;
  std::optional<cloud::CredentialsDeps> deps_;
  std::shared_ptr<cloud::RetryQuota> retry_quota_;
  TransportWrapper wrap_;
};

// What `plan` and `apply` share: the loaded config and one client per account.
struct CliSession {
  config::DesiredState desired;
  std::unique_ptr<CloudFactory> factory;
  std::map<std::string, std::shared_ptr<cloud::CloudApi>> clients;
  std::map<std::string, std::string> client_errors;  // account -> why it has no client

  reconcilers::ClientFor client_for();
};

// Loads the config (diagnostics to stderr) and builds every account's client; false when the
// config is invalid. An account without a client is reported in the plan as an error.
bool open_cli_session(const GlobalOptions& g, const std::string& config_path, CliSession& s);

// Observes every account (read-only) and plans; the observation into `observation` when given
// (apply verifies from it).
reconcilers::Plan plan_cli_session(CliSession& s, reconcilers::Observation* observation = nullptr);

}  // namespace sharekeeper::daemon
