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

namespace sharekeeper::cloud {
class CloudApi;
}
namespace sharekeeper::config {
struct Account;
}

namespace sharekeeper::daemon {

class ReconcileRunner final : public AccountRunner {
 public:
  // Builds the CloudApi of an account (nullptr with a reason in `error` when it cannot). Called
  // again only when the config's content changes, so credential caches survive between passes.
  using ClientFactory = std::function<std::shared_ptr<cloud::CloudApi>(
      const config::DesiredState& desired, const config::Account& account, std::string& error)>;

  struct Options {
    reconcilers::ApplyOptions apply;
    bool apply_changes = true;  // false: observe and plan only
  };

  ReconcileRunner(ClientFactory factory, Options options);
  PassOutcome run_pass(const config::DesiredState& desired, const std::string& account,
                       const std::atomic<bool>& stop) override;

 private:
  std::shared_ptr<cloud::CloudApi> client(const config::DesiredState& desired,
                                          const config::Account& account, std::string& error);

  ClientFactory factory_;
  Options options_;
  std::mutex mu_;
  struct Cached {
    std::string content_hash;
    std::shared_ptr<cloud::CloudApi> api;
  };
  std::map<std::string, Cached> clients_;
};

// Lowercase hex SHA-256 of a document ("" for an empty one): audit digests, never the document
// itself.
std::string digest(const std::string& document);

}  // namespace sharekeeper::daemon
