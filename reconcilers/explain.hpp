#pragma once
// `sharekeeper explain`: can this target use this resource, and if not, which link is broken?
// Finds the resource among the config's accounts (the accounts and regions of the shares naming it,
// else every account in the regions given or the config's shares use), observes exactly what its
// chain needs (read-only calls, through observe() with a one-resource share per candidate) and
// builds the chain (chain.hpp), the same function /status and plan use.
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "config/grant.hpp"
#include "reconcilers/chain.hpp"
#include "reconcilers/observe.hpp"

namespace sharekeeper::reconcilers {

struct Explanation {
  std::string resource_id;
  config::GrantTarget target;
  std::string account;  // config account name where it was found (or first looked in)
  std::string uid;
  std::string region;
  bool found = false;                  // the resource was observed present
  std::vector<std::string> looked_in;  // "<account>/<region>", in order
  std::vector<std::string> errors;     // why some candidates could not be read (redacted)
  Chain chain;                         // empty links when nothing could be looked at

  // 0: the target can use the resource; 2: a link is broken; 1: it could not be told (errors, or
  // links unknown).
  int exit_code() const;
};

// A --target value: a 16-digit UID, an rd- id, or a folder path rd-.../r-.../fd-...; a failure
// says what was expected.
support::Result<config::GrantTarget, support::Failure> parse_target(const std::string& text);

// `regions` empty: the regions of the config's shares (those naming the resource first).
// A failure when there is nothing to look in (no account, or no region).
support::Result<Explanation, support::Failure> explain(const config::DesiredState& desired,
                                                       const std::string& resource_id,
                                                       const config::GrantTarget& target,
                                                       const std::vector<std::string>& regions,
                                                       const ClientFor& client_for);

// The text explain prints: one line per link (held / BROKEN / unknown / not needed, the link, what
// was observed), the remedy under each broken one, then the verdict.
std::string render_explanation_text(const Explanation& e);
std::string render_explanation_json(const Explanation& e);

}  // namespace sharekeeper::reconcilers
