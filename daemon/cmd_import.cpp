// `sharekeeper import -c PATH [-o FILE] [--region R]...`: observes the config's accounts (read-only
// calls) and writes a config that reproduces the sharing that exists (reconcilers/import.hpp):
// `plan --detailed-exitcode` on it exits 0 against the same cloud. Exit 0 written, 1 error (invalid
// config, an account that could not be fully read, or the file could not be written).
#include <cstdio>
#include <fstream>
#include <string>

#include "daemon/cloud_factory.hpp"
#include "daemon/commands.hpp"
#include "reconcilers/import.hpp"

namespace sharekeeper::daemon {

int cmd_import(const GlobalOptions& g, const ImportOptions& o) {
  CliSession s;
  if (!open_cli_session(g, o.config_path, s)) return 1;
  // Every account must be read in full, or the import would silently drop its shares.
  for (const auto& [name, why] : s.client_errors)
    std::fprintf(stderr, "sharekeeper: account %s: %s\n", name.c_str(), why.c_str());
  if (!s.client_errors.empty()) return 1;
  auto r = reconcilers::import_config(s.desired, o.regions, s.client_for());
  if (!r) {
    std::fprintf(stderr, "sharekeeper: import: %s\n", r.error().message.c_str());
    return 1;
  }
  if (o.output_file.empty()) {
    std::fwrite(r->yaml.data(), 1, r->yaml.size(), stdout);
    std::fflush(stdout);
  } else {
    std::ofstream out(o.output_file, std::ios::binary | std::ios::trunc);
    out << r->yaml;
    out.close();
    if (!out) {
      std::fprintf(stderr, "sharekeeper: import: cannot write %s\n", o.output_file.c_str());
      return 1;
    }
  }
  std::fprintf(
      stderr,
      "sharekeeper: imported %d share(s) holding %d (resource, target) pair(s); %d comment(s)\n",
      r->shares, r->pairs, r->comments);
  return 0;
}

}  // namespace sharekeeper::daemon
