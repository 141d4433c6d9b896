#include "daemon/account_runner.hpp"

#include <algorithm>

#include "config/desired_state.hpp"

namespace sharekeeper::daemon {

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
    for (const auto& t : config::targets_of(s)) out.push_back(GrantKey::of(s.account, s.name, t));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace sharekeeper::daemon
