// `sharekeeper plan -c PATH [-o text|json|markdown] [--detailed-exitcode]`: loads the config,
// observes every account (read-only calls only) and prints the plan. Exit codes follow
// `terraform plan`: 0 no changes (or changes without --detailed-exitcode), 2 changes with
// --detailed-exitcode, 1 error (invalid config, or an account that could not be fully observed; the
// plan is still printed so the error is visible in context).
#include <cstdio>
#include <string>

#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper::daemon {

int cmd_plan(const GlobalOptions& g, const PlanOptions& o) {
  CliSession s;
  if (!open_cli_session(g, o.config_path, s)) return 1;
  reconcilers::Plan p = plan_cli_session(s);
  std::string out = o.output == "json"       ? reconcilers::render_json(p)
                    : o.output == "markdown" ? reconcilers::render_markdown(p)
                                             : reconcilers::render_text(p);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (p.has_errors()) return 1;
  return o.detailed_exitcode && p.has_changes() ? 2 : 0;
}

}  // namespace sharekeeper::daemon
