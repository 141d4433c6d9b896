// sharekeeper: one binary, subcommands validate | plan | apply | run | explain | import | version
// (docs/contract.md §3.1).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "daemon/commands.hpp"
#include "support/memory.hpp"
#include "support/open_files.hpp"

namespace {
constexpr const char* kVersion = SHAREKEEPER_VERSION;
}

int main(int argc, char** argv) {
  using namespace sharekeeper::daemon;
  // Up to 64 accounts at once, each with RAM and its regions read side by side (docs/reconcilers.md
  // "Observe"): several hundred connections; the limit is raised once, best effort.
  sharekeeper::support::raise_open_files_limit(8192);
  // Two malloc arenas, not glibc's 16 here: support/memory.hpp, bench/daemon/README.md "Memory".
  sharekeeper::support::limit_malloc_arenas(2);
  CLI::App app{
      "sharekeeper: keeps encrypted ECS snapshot and image sharing equal to a Git repository"};
  app.require_subcommand(1);
  GlobalOptions g;
  // Global flags are accepted before or after the subcommand (subcommands fall through to the app).
  app.add_option("--endpoint-override", g.endpoint_override,
                 "Send every product's calls to this URL");
  app.add_option("--ca-file", g.ca_file, "Extra CA certificate bundle (PEM) to trust")
      ->check(CLI::ExistingFile);
  app.add_option("--log-format", g.log_format, "json|text")->check(CLI::IsMember({"json", "text"}));
  app.add_option("--log-level", g.log_level, "debug|info|warn|error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  ValidateOptions vo;
  auto* validate =
      app.add_subcommand("validate", "Check a config file or directory; errors as file:line:col");
  validate->fallthrough();
  validate->add_option("-c,--config", vo.config_path, "Config file or directory of *.yaml")
      ->required();
  validate->add_option("-o,--output", vo.output, "text|json")
      ->check(CLI::IsMember({"text", "json"}));

  PlanOptions po;
  auto* plan = app.add_subcommand("plan", "Show what apply would change");
  plan->fallthrough();
  plan->add_option("-c,--config", po.config_path, "Config file or directory")->required();
  plan->add_option("-o,--output", po.output, "text|json|markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  plan->add_flag("--detailed-exitcode", po.detailed_exitcode,
                 "Exit 0 no changes, 2 changes, 1 error");

  ApplyOptions ao;
  auto* apply = app.add_subcommand("apply", "Run one converge pass");
  apply->fallthrough();
  apply->add_option("-c,--config", ao.config_path, "Config file or directory")->required();
  apply->add_flag("--auto-approve", ao.auto_approve, "Apply without asking");

  RunOptions ro;
  auto* run = app.add_subcommand("run", "Run the daemon");
  run->fallthrough();
  run->add_option("-c,--config", ro.config_path, "Config file or directory")->required();
  run->add_option("--listen", ro.listen, "HTTP listen address (metrics, status, admin)");
  run->add_option("--admin-token-file", ro.admin_token_file,
                  "File holding the bearer token for POST /reconcile");
  run->add_flag("--once", ro.once, "Run one pass and exit with apply's exit codes");
  run->add_option("--replica-id", ro.replica_id,
                  "This replica's name among several (settings.coordination); default "
                  "<hostname>-<pid>")
      ->envname("SHAREKEEPER_REPLICA_ID");
  run->add_flag("--confirm-shrink", ro.confirm_shrink,
                "Hold a reload that removes shares or targets until POST "
                "/config/confirm-shrink?revision=R (docs/runbook.md)");

  ExplainOptions eo;
  auto* explain = app.add_subcommand(
      "explain",
      "Can TARGET use RESOURCE? Every link, held or broken; exit 0 usable, 2 not, 1 error");
  explain->fallthrough();
  explain->add_option("-c,--config", eo.config_path, "Config file or directory")->required();
  explain->add_option("--resource", eo.resource, "Image (m-...) or snapshot (s-...) id")
      ->required();
  explain->add_option("--target", eo.target, "Account UID, rd- id or folder path")->required();
  explain->add_option("--region", eo.regions,
                      "Where to look (repeatable); default: the regions of the config's shares");
  explain->add_option("-o,--output", eo.output, "text|json")
      ->check(CLI::IsMember({"text", "json"}));

  ImportOptions io;
  auto* import = app.add_subcommand(
      "import", "Write a config reproducing the sharing that exists in the config's accounts");
  import->fallthrough();
  import->add_option("-c,--config", io.config_path, "Config with at least `accounts:`")->required();
  import->add_option("-o,--output", io.output_file, "File to write (default: stdout)");
  import->add_option("--region", io.regions,
                     "Region to observe (repeatable); default: the regions of the config's shares");

  auto* version = app.add_subcommand("version", "Print the version");
  version->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  try {
    if (*validate) return cmd_validate(g, vo);
    if (*plan) return cmd_plan(g, po);
    if (*apply) return cmd_apply(g, ao);
    if (*run) return cmd_run(g, ro);
    if (*explain) return cmd_explain(g, eo);
    if (*import) return cmd_import(g, io);
    if (*version) {
      std::printf("sharekeeper %s\n", kVersion);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sharekeeper: %s\n", e.what());
    return 1;
  }
  return 1;
}
