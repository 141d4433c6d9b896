// `sharekeeper validate -c PATH [-o json]`: loads the config exactly as the daemon would and prints
// every diagnostic. Exit 0 when valid (one summary line on stdout), 1 otherwise. Text goes to
// stderr as `file:line:col: error: message` (what editors and pre-commit hooks parse); `-o json`
// prints a JSON array of {file, line, column, severity, message, hint} on stdout instead. Text
// prints at most config::kMaxPrintedDiagnostics of them and counts the rest; JSON prints all.
// Depends on config/ only, so it stays fast enough for a pre-commit hook.
#include <cstdio>
#include <string>

#include "config/loader.hpp"
#include "daemon/commands.hpp"

namespace sharekeeper::daemon {

int cmd_validate(const GlobalOptions& /*g*/, const ValidateOptions& o) {
  auto result = config::load(o.config_path);
  const std::string path = config::escape_for_text(o.config_path);
  if (o.output == "json") {
    std::string json = config::diagnostics_to_json(result.diagnostics);
    std::fprintf(stdout, "%s\n", json.c_str());
    return result.ok() ? 0 : 1;
  }
  for (const auto& line : config::format_diagnostics(result.diagnostics))
    std::fprintf(stderr, "%s\n", line.c_str());
  if (!result.ok()) {
    std::fprintf(stderr, "%s: invalid: %zu error(s), %zu warning(s)\n", path.c_str(),
                 result.error_count(), result.warning_count());
    return 1;
  }
  const auto& st = *result.state;
  std::fprintf(
      stdout,
      "%s: valid: %zu account(s), %zu share(s), %zu grant(s), %zu warning(s); revision %s\n",
      path.c_str(), st.accounts.size(), st.shares.size(), config::grant_count(st),
      result.warning_count(), st.revision.c_str());
  return 0;
}

}  // namespace sharekeeper::daemon
