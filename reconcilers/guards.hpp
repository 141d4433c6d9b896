#pragma once
// Planner phase 2 — removal candidates and the guards (docs/contract.md §2): every principal and
// KMS resource a role we are authoritative for holds and the config no longer asks for is a
// candidate; apply_guards decides which may go this cycle. Internal to the planner
// (plan_context.hpp).
#include <vector>

#include "reconcilers/plan_context.hpp"

namespace sharekeeper::reconcilers::planner {

// A removal the plan would like to make, before the guards decide.
struct Candidate {
  Revocation revocation;
  bool partial = false;  // its account's observation is partial
};

// What the guards read: the settings behind them, and whether the config has any share at all.
struct GuardSettings {
  bool prune = true;
  bool allow_mass_revoke = false;
  double max_revoke_fraction = 0.5;
  int max_revocations_per_cycle = 50;
  bool config_has_shares = true;
  static GuardSettings of(const config::DesiredState& d);
};

struct GuardOutcome {
  std::vector<Revocation> allowed;         // sorted by (account, object, item)
  std::vector<BlockedRevocation> blocked;  // sorted by (account, object, item)
};

// PURE: which candidates may be revoked this cycle, given the grants in place (the denominator of
// maxRevokeFraction). A partial observation blocks its own candidates; prune disabled and an empty
// config (without allowMassRevoke) block all; then, unless allowMassRevoke, more open candidates
// than maxRevokeFraction x in_place block all of them; the first maxRevocationsPerCycle of the rest
// (in sorted order) go, the others wait for the next cycle.
GuardOutcome apply_guards(std::vector<Candidate> candidates, int in_place,
                          const GuardSettings& settings);

// The candidates of one plannable account (after phase 1), and how many grants its roles hold in
// objects we read (trust principals of roles we are authoritative for, resources of our
// policies). Notes the principals kept because they are protected or foreign.
struct Removals {
  std::vector<Candidate> candidates;
  int in_place = 0;
};
Removals removal_candidates(AccountContext& a);

}  // namespace sharekeeper::reconcilers::planner
