#pragma once
// The daemon's ConfigLoader over config::load(): what `sharekeeper run` starts and reloads with.
// Diagnostics are formatted and capped (config::format_diagnostics) since they go to /status and
// the log; `errors` keeps the real count.
#include <string>

#include "daemon/daemon.hpp"

namespace sharekeeper::daemon {

LoadedConfig load_config(const std::string& path);

}  // namespace sharekeeper::daemon
