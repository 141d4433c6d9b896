#pragma once
// EtcdCoordinator: the thin threaded driver of OwnershipMachine against etcd (EtcdClient). One
// driver thread asks the machine what to do, does it (one etcd call at a time, each with its
// deadline), tells the machine the result, and applies the machine's fence state to the Fence
// before the next step (so an account's fence is closed before its owner key can be deleted). A
// second thread only delivers on_change, so a slow consumer never delays a lease renewal.
//
// Thread-safe.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "coordination/coordinator.hpp"
#include "coordination/etcd_client.hpp"
#include "coordination/fence.hpp"
#include "coordination/ownership.hpp"

namespace sharekeeper::coordination {

class EtcdCoordinator final : public Coordinator {
 public:
  // A protocol event (acquired, released, lease_lost, ...) or an etcd failure ("etcd_error", the
  // first of a streak, and "etcd_recovered"); called on the driver thread: keep it quick (a log
  // line).
  using EventSink = std::function<void(const OwnershipMachine::Event&)>;

  EtcdCoordinator(OwnershipOptions options, std::unique_ptr<EtcdClient> client,
                  std::shared_ptr<Fence> fence, EventSink on_event = {});
  ~EtcdCoordinator() override;
  EtcdCoordinator(const EtcdCoordinator&) = delete;
  EtcdCoordinator& operator=(const EtcdCoordinator&) = delete;

  void start(std::function<void()> on_change) override;
  void stop(std::chrono::milliseconds timeout) override;
  void set_accounts(const std::vector<std::string>& accounts) override;
  void pass_started(const std::string& account) override;
  void pass_finished(const std::string& account) override;
  CoordinationView view() const override;

  const Timing& timing() const { return machine_.timing(); }

 private:
  void drive();
  void notify_loop();
  void step_done_locked(Time now);  // fence, events, change detection (mu_ held)
  void perform(const Action& a, std::unique_lock<std::mutex>& lock);
  void failed(const Action& a, const cloud::Error& e, std::unique_lock<std::mutex>& lock);
  void succeeded(Action::Kind k, std::unique_lock<std::mutex>& lock);
  void emit(const std::vector<OwnershipMachine::Event>& events, std::unique_lock<std::mutex>& lock);
  CoordinationView view_locked(Time now) const;

  std::unique_ptr<EtcdClient> client_;
  std::shared_ptr<Fence> fence_;
  EventSink on_event_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  OwnershipMachine machine_;
  bool started_ = false;
  bool abandon_ = false;  // stop() ran out of time: exit without revoking
  bool finished_ = false;
  std::condition_variable finished_cv_;
  std::map<Action::Kind, bool> failing_;
  CoordinationView published_;

  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  bool dirty_ = false;
  bool notify_stop_ = false;
  std::function<void()> on_change_;

  std::thread driver_;
  std::thread notifier_;
};

}  // namespace sharekeeper::coordination
