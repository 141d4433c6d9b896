#include "daemon/account_runner.hpp"

#include <algorithm>

#include "config/desired_state.hpp"

namespace sharekeeper::daemon {

const char* to_string(GrantState s) {
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

const char* to_string(PassResult r) {
  switch (r) {
    case PassResult::kSuccess:
      return "success";
    case PassResult::kPartial:
      return "partial";
    case PassResult::kError:
      return "error";
  }
  return "error";
}

std::vector<GrantKey> grants_of(const config::DesiredState& desired, const std::string& account) {
  std::vector<GrantKey> out;
  for (const auto& s : desired.shares) {
    if (s.account != account) continue;
    for (const auto& uid : s.to.accounts) out.push_back({s.account, s.name, "account", uid});
    if (s.to.resource_directory)
      out.push_back({s.account, s.name, "resource_directory", *s.to.resource_directory});
    for (const auto& f : s.to.folders) out.push_back({s.account, s.name, "folder", f});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sharekeeper::daemon
