#pragma once
// The production AccountRunner: one pass of reconcilers/ for one account (observe -> plan -> apply
// -> verify), reduced to a PassOutcome for the scheduler, metrics, status and the audit log.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "daemon/account_runner.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/observe_rd.hpp"
#include "reconcilers/plan.hpp"
#include "support/clock.hpp"
#include "support/result.hpp"

namespace sharekeeper::cloud {
class CloudApi;
}
namespace sharekeeper::config {
struct Account;
}

namespace sharekeeper::daemon {

class ReconcileRunner final : public AccountRunner {
 public:
  // The CloudApi of an account, or why it cannot be built (one line, no secret).
  using ClientResult = support::Result<std::shared_ptr<cloud::CloudApi>, support::Failure>;
  // Builds the CloudApi of an account. Called again only when the config's content changes, so
  // credential caches survive between passes.
  using ClientFactory = std::function<ClientResult(const config::DesiredState& desired,
                                                   const config::Account& account)>;

  struct Options {
    reconcilers::ApplyOptions apply;
    bool apply_changes = true;  // false: observe and plan only
  };

  ReconcileRunner(ClientFactory factory, Options options);
  PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                       const std::atomic<bool>& stop) override;

 private:
  ClientResult client(const config::DesiredState& desired, const config::Account& account);
  // The Resource Directory membership the grants of `desired` need (reconcilers/observe_rd.hpp),
  // read with the management account's client at most once per settings.interval (and again when
  // the config changes); nullptr when no grant names a directory or folder.
  std::shared_ptr<const reconcilers::Directories> directories(const config::DesiredState& desired);

  ClientFactory factory_;
  Options options_;
  std::mutex mu_;
  struct Cached {
    std::string content_hash;
    std::shared_ptr<cloud::CloudApi> api;
  };
  std::map<std::string, Cached> clients_;
  std::map<std::string, std::string> uids_;  // account name -> UID observed by its last pass
  std::mutex rd_mu_;                         // one directory read at a time
  struct CachedDirectories {
    std::string content_hash;
    support::SteadyTime read_at{};
    std::shared_ptr<const reconcilers::Directories> value;
  } directories_;
};

// The sharekeeper_revocations_blocked_total{reason} label of a guard (one of
// Metrics::kBlockedReasons).
const char* blocked_reason_label(reconcilers::Guard g);
// The sharekeeper_drift_detected_total{object} label of a drifted object (one of
// Metrics::kDriftObjects).
const char* drift_label(reconcilers::ObjectKind k);

// Lowercase hex SHA-256 of a document ("" for an empty one): audit digests, never the document
// itself.
std::string digest(const std::string& document);

}  // namespace sharekeeper::daemon
