#pragma once
// `sharekeeper import`: a config that reproduces the sharing that already exists (issue 16).
//
// From a config holding the accounts (and optionally settings), it observes, in each region (the
// ones given, else every region the account uses: ECS DescribeRegions, then the regions holding
// own images or resources of its resource shares, and those of the config's shares): every image
// the account owns and whom it is shared with, every snapshot and image in the account's own
// resource shares and their targets, the share roles (trust principals) and the policies attached
// to them. Then each (resource, target) pair whose chain (chain.hpp) has the share role, its trust
// and a KMS grant in place is written as config: resources grouped per target set into shares named
// from their `Name` tag, the image's name, or their id. A pair whose role, trust or KMS grant is
// missing is written as a comment instead (adopting it would change the cloud), as is a principal a
// role trusts with no resource shared to it, a folder whose path is unknown, and any other broken
// link of a written pair. Its contract: `plan --detailed-exitcode` on the result against the same
// cloud exits 0 (adoption changes nothing; roles and policies it found are adopted additively,
// docs/contract.md §2).
//
// An account or region that cannot be fully read fails the import (a partial one would drop
// shares).
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "reconcilers/observe.hpp"
#include "support/result.hpp"

namespace sharekeeper::reconcilers {

struct ImportResult {
  std::string yaml;  // the whole config
  int shares = 0;    // share entries written
  int pairs = 0;     // (resource, target) pairs they hold
  int comments = 0;  // pairs and principals written as comments
};

support::Result<ImportResult, support::Failure> import_config(
    const config::DesiredState& given, const std::vector<std::string>& regions,
    const ClientFor& client_for);

// The config's accounts and settings as YAML (`apiVersion`, `settings` with the values that differ
// from the defaults, `accounts`), as import writes them; `shares:` is not included.
std::string render_accounts_and_settings(const config::DesiredState& d);

}  // namespace sharekeeper::reconcilers
