// `sharekeeper run`: its owning capability (the daemon issue) has not landed yet, so it says so and exits 1.
#include <cstdio>

#include "daemon/commands.hpp"

namespace sharekeeper::daemon {

int cmd_run(const GlobalOptions& /*g*/, const RunOptions& /*o*/) {
  std::fprintf(stderr, "sharekeeper: 'run' is not implemented yet (the daemon issue)\n");
  return 1;
}

}  // namespace sharekeeper::daemon
