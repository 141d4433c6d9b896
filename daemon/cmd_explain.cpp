// `sharekeeper explain -c PATH --resource ID --target T [--region R]... [-o text|json]`: walks
// every link that must hold for the target to use the resource (reconcilers/explain.hpp) with
// read-only calls, prints each as held or broken with what was observed and the remedy, then the
// verdict. Exit 0 the target can use it, 2 it cannot (a link is broken), 1 error (invalid config or
// arguments, or the observation could not tell).
#include <cstdio>
#include <string>

#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/explain.hpp"

namespace sharekeeper::daemon {

int cmd_explain(const GlobalOptions& g, const ExplainOptions& o) {
  auto target = reconcilers::parse_target(o.target);
  if (!target) {
    std::fprintf(stderr, "sharekeeper: %s\n", target.error().message.c_str());
    return 1;
  }
  CliSession s;
  if (!open_cli_session(g, o.config_path, s)) return 1;
  for (const auto& [name, why] : s.client_errors)
    std::fprintf(stderr, "sharekeeper: account %s: %s\n", name.c_str(), why.c_str());
  auto e = reconcilers::explain(s.desired, o.resource, *target, o.regions, s.client_for());
  if (!e) {
    std::fprintf(stderr, "sharekeeper: %s\n", e.error().message.c_str());
    return 1;
  }
  const std::string out = o.output == "json" ? reconcilers::render_explanation_json(*e)
                                             : reconcilers::render_explanation_text(*e);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return e->exit_code();
}

}  // namespace sharekeeper::daemon
