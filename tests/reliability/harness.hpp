#pragma once
// One reliability run's machinery: the in-process emulator (one per Harness, reseeded per world),
// the real AlibabaClient (signing, HTTP transport, retries) with a simulated clock (a retry's or a
// verification's sleep moves the emulated clock instead of sleeping), the reconcilers' pass
// (observe, plan, apply, verify), and the InvariantChecker wired to the emulator's commit observer
// so S1/S2 are checked after every committed write.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud/alibaba_client.hpp"
#include "config/desired_state.hpp"
#include "emulator/emulator.hpp"
#include "invariants.hpp"
#include "reconcilers/plan.hpp"
#include "world.hpp"

namespace sharekeeper::reliability {

struct HarnessOptions {
  int page_size = 2;  // small pages: every listing has several, so a failed page is reachable
  // Per HTTP attempt. Fault rules that stand for a timeout hold the answer `hold` longer than this.
  std::chrono::milliseconds client_timeout{200};
  std::chrono::milliseconds consistency_lag{0};
  // Resource Sharing's Associating -> Associated (and Disassociating -> Disassociated), emulated
  // time.
  std::chrono::milliseconds association_delay{200};
  // settle() moves the emulated clock this much before each pass after its first: the daemon's
  // next pass comes one interval later (0: passes back to back).
  std::chrono::milliseconds settle_interval{0};
};

struct PassOutcome {
  bool converged = false;  // nothing to do, or applied and the residual plan is empty
  int writes = 0;
  std::uint64_t calls = 0;  // API calls the emulator answered during the pass
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {});
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // A fresh world: reseeded model, no faults, empty journal, real-time clock, a new client.
  void load(const WorldSpec& world, std::uint64_t fault_seed = 1);
  // The prepared world as it is now (model, emulated clock, config, the checker's memory), and a
  // return to it: faults cleared, journal emptied, a new client, violations cleared.
  struct Checkpoint {
    std::shared_ptr<const emulator::ModelSnapshot> model;
    std::chrono::milliseconds clock_offset{0};
    std::optional<config::DesiredState> desired;
    InvariantChecker::Memory checker;
  };
  Checkpoint checkpoint();
  void restore(const Checkpoint& c);

  // The config a user commits; false when the loader refuses it (the last good one stays, as the
  // daemon keeps it).
  bool configure(const ConfigSpec& config);
  bool has_config() const { return desired_.has_value(); }
  // One pass through the real client; S4 over its outputs, S1/S2 after it (and after each write).
  PassOutcome pass(const std::string& label);
  // S3: up to `max_passes` passes until one converges, then every grant state against the
  // emulator's access evaluator. False (and reported) when none converged.
  bool settle(int max_passes, const std::string& label);
  // A person edits the cloud between passes: checks pause, and the result is the new baseline.
  void out_of_band(const std::function<void(cloud::CloudApi&)>& edit);

  void add_faults(const nlohmann::json& rules);
  void clear_faults();
  // Actions of the calls journaled after `seq` (the journal's sequence numbers).
  std::vector<std::string> actions_since(std::uint64_t seq) const;
  std::uint64_t last_seq() const;
  // Called after each committed write, before the invariants (crash tests kill a process here).
  void on_write(std::function<void(int n, const std::string& action)> hook);

  // Writes committed since load().
  int writes();
  InvariantChecker& checker() { return checker_; }
  emulator::Emulator& emulator() { return *emu_; }
  const HarnessOptions& options() const { return options_; }

  static bool is_write(const std::string& action);

 private:
  void fresh_client();

  HarnessOptions options_;
  std::unique_ptr<emulator::Emulator> emu_;
  InvariantChecker checker_;
  std::unique_ptr<cloud::AlibabaClient> client_;
  std::optional<config::DesiredState> desired_;
  std::mutex hook_mutex_;
  std::function<void(int, const std::string&)> hook_;
  int writes_ = 0;
};

}  // namespace sharekeeper::reliability
