#pragma once
// The safety and liveness invariants of docs/reliability.md, as code over the emulator's model:
//
//   S1  nothing the config keeps (a principal in a share role's trust, a key granted to a share
//       role, a consumer's use of a shared image or snapshot, and with manageShares an account on
//       an image's share list or an Associated resource/target pair of a resource share) is ever
//       absent once it was present; protectedPrincipals count as kept wherever they are;
//   S2  nothing sharekeeper does not own is ever removed or changed (foreign roles and policies,
//       attachments not ours, principals of an adopted role; without manageShares every image
//       share list, with it the accounts an image's list had when the world started, unless
//       `adopt: authoritative`, and resource shares not ours), and nothing is granted or shared
//       that the config does not name;
//   S3  after faults stop, a bounded number of passes converges, and every grant's state matches
//       the emulator's access evaluator (GET /_emulator/access);
//   S4  the canary AccessKeySecret appears in no output.
//
// check() runs after every write the emulator commits (through its commit observer) and after
// every pass: transient violations count, not only the end state. Thread-safe (the commit observer
// runs on the emulator's thread).
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/desired_state.hpp"
#include "emulator/emulator.hpp"
#include "reconcilers/grant_status.hpp"

namespace sharekeeper::reliability {

class InvariantChecker {
 public:
  explicit InvariantChecker(emulator::Emulator& emu) : emu_(emu) {}

  // A new world: what is foreign is what exists now (the share roles' own objects aside). Clears
  // the violations of the previous world.
  void start_world();
  // The config in force (the last valid one). S1 then protects what it keeps and is present now.
  void set_config(const config::DesiredState& desired);
  // While paused (a person edits the cloud out of band), checks are skipped; resume() takes the
  // state then as the new baseline for S1 and for "nothing granted outside the config".
  void pause();
  void resume();

  // S1 and S2 over the model now. `when` names the step in a violation ("commit #3 UpdateRole").
  void check(const std::string& when);
  // S3: each resource of each grant is Ready-and-shared exactly when the target can use it.
  void check_grants(const std::vector<reconcilers::GrantStatus>& grants, const std::string& when);
  // S4: the canary secret is not in `text`.
  void check_output(std::string_view text, const std::string& where);
  // A liveness failure (S3: no convergence within the bound).
  void report_unconverged(const std::string& what);

  // What the checker remembers of a world (its baseline, what S1 protects, the config), to go
  // back to a prepared world (Harness::restore). recall() clears the violations.
  struct Memory {
    config::DesiredState desired;
    nlohmann::json initial;
    std::set<std::string> ever_present;
    std::set<std::string> previous;
    std::map<std::string, std::set<std::string>> adopted;
    std::set<std::string> foreign_perms;
    nlohmann::json foreign_shares;
  };
  Memory memory() const;
  void recall(const Memory& m);

  std::vector<std::string> violations() const;   // S1, S2, S3 (grant states), S4
  std::vector<std::string> unconverged() const;  // S3 (no convergence within the bound)
  int checks() const;

 private:
  using Items = std::set<std::string>;
  Items present(const nlohmann::json& state, bool with_access) const;
  Items kept(const nlohmann::json& state) const;
  void check_locked(const std::string& when);
  void violation(const std::string& v);

  emulator::Emulator& emu_;
  mutable std::mutex mutex_;
  bool paused_ = false;
  config::DesiredState desired_;
  nlohmann::json initial_;  // the sharer account when the world started
  Items ever_present_;      // S1: kept items once present
  Items previous_;          // grants present at the last check
  std::map<std::string, std::set<std::string>> adopted_;  // role -> its principals when adopted
  Items foreign_perms_;            // "perm <image> <uid>" on an image's list when the world started
  nlohmann::json foreign_shares_;  // resource shares not ours when the world started (as compared)
  std::vector<std::string> violations_;
  std::vector<std::string> unconverged_;
  int checks_ = 0;
};

// Principals (16-digit account UIDs) a trust policy document names under Principal.RAM.
std::set<std::string> trusted_accounts(const nlohmann::json& trust_policy);
// Key ARNs the Allow statements of a policy document name.
std::set<std::string> granted_keys(const nlohmann::json& document);

}  // namespace sharekeeper::reliability
