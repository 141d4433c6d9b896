#pragma once
// What `sharekeeper run` sees of coordination: which accounts this replica owns, may reconcile,
// and whether it is ready. One implementation today (EtcdCoordinator, etcd_coordinator.hpp); a
// Kubernetes Lease backend would be a second one (coordination/README.md).
//
// Thread-safe. on_change is called from the coordinator's own notifier thread, never from the
// thread that renews the lease, so a slow consumer cannot delay a renewal.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sharekeeper::coordination {

struct CoordinationView {
  std::string backend;  // "etcd"
  std::string replica;
  std::vector<std::string> members;   // live replicas (sorted), as last read
  std::set<std::string> owned;        // accounts whose owner key this replica holds
  std::set<std::string> schedulable;  // owned, not being handed over, with lease time to write
  bool ready = false;
  std::string reason;  // why not ready
  std::optional<std::chrono::milliseconds> lease_left;
  // Cumulative counts since start.
  std::uint64_t renewals_ok = 0, renewals_failed = 0, renewals_lost = 0;
  std::uint64_t handoffs = 0;  // accounts this replica took (created their owner key)
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;
  // Starts the background work. on_change: the view may have changed.
  virtual void start(std::function<void()> on_change) = 0;
  // Hands every account back (revoking the lease) after requests in flight end; returns within
  // about `timeout`.
  virtual void stop(std::chrono::milliseconds timeout) = 0;
  // The accounts of the current config.
  virtual void set_accounts(const std::vector<std::string>& accounts) = 0;
  // The scheduler started / finished a pass of `account` (a handover waits for it).
  virtual void pass_started(const std::string& account) = 0;
  virtual void pass_finished(const std::string& account) = 0;
  virtual CoordinationView view() const = 0;
};

}  // namespace sharekeeper::coordination
