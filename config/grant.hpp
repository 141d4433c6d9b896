#pragma once
// The grant vocabulary (docs/contract.md §1): a grant is one (share entry, target) pair of the
// config, in one of five states. reconcilers/ computes the states and daemon/ publishes them
// (metrics, /status), so both include this one header; it lives in config/ because the config
// defines what the grants are, and it is header-only because daemon_core sees config's headers but
// links nothing of it (daemon/README.md).
#include <algorithm>
#include <string>
#include <vector>

#include "config/desired_state.hpp"

namespace sharekeeper::config {

enum class TargetType { kAccount, kResourceDirectory, kFolder };
// The metric label values: "account" | "resource_directory" | "folder".
constexpr const char* to_string(TargetType t) {
  switch (t) {
    case TargetType::kAccount:
      return "account";
    case TargetType::kResourceDirectory:
      return "resource_directory";
    case TargetType::kFolder:
      return "folder";
  }
  return "unknown";
}

// Whom a share grants to.
struct GrantTarget {
  TargetType type = TargetType::kAccount;
  std::string id;  // 16-digit UID, rd- id, or folder path (bounded by the config)
  // NOLINTNEXTLINE(modernize-use-nullptr): the 0 is in libstdc++'s comparison categories
  friend auto operator<=>(const GrantTarget&, const GrantTarget&) = default;
};

// Every target of a share, sorted by (type, id), each once.
inline std::vector<GrantTarget> targets_of(const Share& s) {
  std::vector<GrantTarget> out;
  out.reserve(s.to.accounts.size() + s.to.folders.size() + 1);
  for (const auto& a : s.to.accounts) out.push_back({TargetType::kAccount, a});
  if (s.to.resource_directory)
    out.push_back({TargetType::kResourceDirectory, *s.to.resource_directory});
  for (const auto& f : s.to.folders) out.push_back({TargetType::kFolder, f});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The health of one grant. Until settings.manageShares, Ready means the RAM/KMS side (role, trust,
// KMS policy, attachment) is complete for every resource of the share; whether each resource is
// actually shared is reported apart (Sharing).
enum class GrantState { kReady, kPending, kBlocked, kFailed, kObserved };
inline constexpr GrantState kAllGrantStates[] = {GrantState::kReady, GrantState::kPending,
                                                 GrantState::kBlocked, GrantState::kFailed,
                                                 GrantState::kObserved};
// "Ready" | "Pending" | "Blocked" | "Failed" | "Observed" (plans, /status and metric labels).
constexpr const char* to_string(GrantState s) {
  switch (s) {
    case GrantState::kReady:
      return "Ready";
    case GrantState::kPending:
      return "Pending";
    case GrantState::kBlocked:
      return "Blocked";
    case GrantState::kFailed:
      return "Failed";
    case GrantState::kObserved:
      return "Observed";
  }
  return "Unknown";
}

// Whether a resource is actually shared with a grant's target (docs/contract.md §1 item 5):
// reported apart from the grant state until settings.manageShares.
enum class Sharing {
  kUnknown,    // not observed, or the listing failed
  kShared,     // in the image's share permissions, or an Associated Resource Sharing pair
  kPending,    // a Resource Sharing association in progress (or an invitation not accepted yet)
  kNotShared,  // neither (or the association Failed)
};
// "unknown" | "shared" | "pending" | "not_shared".
constexpr const char* to_string(Sharing s) {
  switch (s) {
    case Sharing::kUnknown:
      return "unknown";
    case Sharing::kShared:
      return "shared";
    case Sharing::kPending:
      return "pending";
    case Sharing::kNotShared:
      return "not_shared";
  }
  return "unknown";
}

}  // namespace sharekeeper::config
