// Subcommands whose owning capability has not landed yet. Each says so plainly and exits 1; when the
// capability lands, its file replaces the function here.
#include <cstdio>

#include "daemon/commands.hpp"

namespace sharekeeper::daemon {
namespace {
int missing(const char* what, const char* issue) {
  std::fprintf(stderr, "sharekeeper: '%s' is not implemented yet (%s)\n", what, issue);
  return 1;
}
}  // namespace

int cmd_validate(const GlobalOptions&, const ValidateOptions&) { return missing("validate", "config issue"); }
int cmd_plan(const GlobalOptions&, const PlanOptions&) { return missing("plan", "reconcilers issue"); }
int cmd_apply(const GlobalOptions&, const ApplyOptions&) { return missing("apply", "reconcilers issue"); }
int cmd_run(const GlobalOptions&, const RunOptions&) { return missing("run", "daemon issue"); }

}  // namespace sharekeeper::daemon
