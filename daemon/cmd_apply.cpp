// `sharekeeper apply`: its owning capability (the reconcilers issue) has not landed yet, so it says so and exits 1.
#include <cstdio>

#include "daemon/commands.hpp"

namespace sharekeeper::daemon {

int cmd_apply(const GlobalOptions& /*g*/, const ApplyOptions& /*o*/) {
  std::fprintf(stderr, "sharekeeper: 'apply' is not implemented yet (the reconcilers issue)\n");
  return 1;
}

}  // namespace sharekeeper::daemon
