#include "daemon/config_loader.hpp"

#include "config/loader.hpp"

namespace sharekeeper::daemon {

LoadedConfig load_config(const std::string& path) {
  config::LoadResult r = config::load(path);
  LoadedConfig out;
  // Capped: they also go to /status and the log, where 100,000 of them would be megabytes.
  out.diagnostics = config::format_diagnostics(r.diagnostics);
  out.errors = r.error_count();
  if (r.ok()) out.state = std::make_shared<const config::DesiredState>(std::move(*r.state));
  return out;
}

}  // namespace sharekeeper::daemon
