#pragma once
// Every series of docs/contract.md §3.4, on a prometheus-cpp registry, serialized by /metrics.
// Thread-safe. Labels carry only config names (account, share, target) and bounded enums: never
// resource IDs, request IDs or secrets. Grant series exist exactly for the grants of the current
// config.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/account_runner.hpp"

namespace sharekeeper::daemon {

class Metrics {
 public:
  explicit Metrics(std::string version);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A config became current: pre-creates every per-account and per-grant series at zero and deletes
  // the series of accounts and grants that left it. `revision` replaces sharekeeper_config_info.
  void set_config(const std::vector<std::string>& accounts, const std::vector<GrantKey>& grants,
                  const std::string& revision);
  // A pass's grant verdicts. Grants not in the current config are ignored (a stale pass must not
  // resurrect deleted series).
  void publish_grants(const std::vector<GrantReport>& grants,
                      std::chrono::system_clock::time_point now);
  void observe_pass(const std::string& account, PassResult result, double seconds,
                    std::chrono::system_clock::time_point finished);
  void count_drift(const std::string& account, const std::string& object, int n);
  void count_change(const std::string& account, const std::string& operation);
  void count_revocations_blocked(const std::string& reason, int n);
  // Fed by the AlibabaClient's per-call observer. `code` is "OK" or the Alibaba error Code.
  void observe_api_call(std::string_view product, std::string_view action, std::string_view code,
                        double seconds);
  void count_config_reload(std::string_view result);  // success | rejected | unchanged
  // A reload that removes shares or targets: applied | held (--confirm-shrink) | confirmed.
  void count_config_shrink(std::string_view result);

  // Several replicas (settings.coordination); never called without it, so a single replica shows
  // none of these series. `owned`: sharekeeper_account_owned{account} 1 for each, the series of
  // accounts no longer owned removed. The cumulative counts advance
  // sharekeeper_coordination_lease_renewals_total{result="success|failure|lost"} and
  // sharekeeper_account_handoffs_total (accounts this replica took over) to those values;
  // sharekeeper_coordination_ready is 1 while coordination lets this replica write.
  struct CoordinationCounts {
    bool ready = false;  // sharekeeper_coordination_ready
    std::size_t members = 0;
    std::uint64_t renewals_ok = 0, renewals_failed = 0, renewals_lost = 0;
    std::uint64_t handoffs = 0;
  };
  void set_coordination(const std::set<std::string>& owned, const CoordinationCounts& counts);
  static constexpr const char* kRenewalResults[] = {"success", "failure", "lost"};

  // The Prometheus text exposition (format 0.0.4).
  std::string serialize() const;

  // Bounded label values: anything else is folded into "other" so a bug can never explode
  // cardinality.
  static constexpr const char* kDriftObjects[] = {"trust_policy", "kms_policy", "attachment",
                                                  "image_share", "resource_share"};
  static constexpr const char* kReloadResults[] = {"success", "rejected", "unchanged"};
  static constexpr const char* kShrinkResults[] = {"applied", "held", "confirmed"};
  static constexpr const char* kPassResults[] = {"success", "error", "partial"};
  static constexpr const char* kBlockedReasons[] = {"prune_disabled", "max_revocations_per_cycle",
                                                    "max_revoke_fraction", "empty_config",
                                                    "partial_observation"};

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Buckets (seconds): API calls take milliseconds to seconds, passes seconds to minutes.
std::vector<double> api_call_buckets();
std::vector<double> pass_buckets();

}  // namespace sharekeeper::daemon
