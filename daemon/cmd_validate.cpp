// `sharekeeper validate`: its owning capability (the config issue) has not landed yet, so it says so and exits 1.
#include <cstdio>

#include "daemon/commands.hpp"

namespace sharekeeper::daemon {

int cmd_validate(const GlobalOptions& /*g*/, const ValidateOptions& /*o*/) {
  std::fprintf(stderr, "sharekeeper: 'validate' is not implemented yet (the config issue)\n");
  return 1;
}

}  // namespace sharekeeper::daemon
