// `sharekeeper apply -c PATH [--auto-approve]`: one converge pass. Prints the plan; without
// --auto-approve asks for "yes" on a terminal and refuses when stdin is not one (a pipeline must
// say
// --auto-approve explicitly). Then applies in stages, re-observes, and prints what it did and what
// still differs. Exit 0 when converged or nothing to do, 1 otherwise (errors, or differences left).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/apply.hpp"
#include "reconcilers/render.hpp"

namespace sharekeeper::daemon {

int cmd_apply(const GlobalOptions& g, const ApplyOptions& o) {
  CliSession s;
  if (!open_cli_session(g, o.config_path, s)) return 1;
  reconcilers::Plan p = plan_cli_session(s);
  std::string text = reconcilers::render_text(p);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!p.has_changes()) {
    std::printf("\nNo changes to apply.\n");
    return p.has_errors() ? 1 : 0;
  }
  if (!o.auto_approve) {
    if (isatty(STDIN_FILENO) == 0) {
      std::fprintf(stderr,
                   "sharekeeper: refusing to apply without --auto-approve: stdin is not a "
                   "terminal\n");
      return 1;
    }
    std::printf("\nDo you want to apply these changes? Only 'yes' will be accepted: ");
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || answer != "yes") {
      std::printf("Apply cancelled.\n");
      return 1;
    }
  }
  std::fflush(stdout);
  reconcilers::ApplyResult r = reconcilers::apply(s.desired, p, s.client_for());
  std::string done = "\n" + reconcilers::render_apply_text(r);
  std::fwrite(done.data(), 1, done.size(), stdout);
  std::fflush(stdout);
  return r.converged() ? 0 : 1;
}

}  // namespace sharekeeper::daemon
