#pragma once
// The CLI's subcommands (docs/contract.md §3.1). main.cpp parses flags with CLI11 and calls one of
// these; each returns the process exit code. Each lives in its own file so the folders that own the
// behaviour can grow them independently.
#include <optional>
#include <string>
#include <vector>

namespace sharekeeper::daemon {

struct GlobalOptions {
  std::string endpoint_override;    // send every product's calls here (e.g. the emulator)
  std::string ca_file;              // extra CA bundle (PEM)
  std::string log_format = "json";  // json | text
  std::string log_level = "info";   // debug | info | warn | error
};

struct ValidateOptions {
  std::string config_path;
  std::string output = "text";  // text | json
};

struct PlanOptions {
  std::string config_path;
  std::string output = "text";  // text | json | markdown
  bool detailed_exitcode = false;
};

struct ApplyOptions {
  std::string config_path;
  bool auto_approve = false;
};

struct ExplainOptions {
  std::string config_path;
  std::string resource;              // m-... | s-...
  std::string target;                // UID | rd-... | folder path
  std::vector<std::string> regions;  // where to look; default: the regions of the config's shares
  std::string output = "text";       // text | json
};

struct ImportOptions {
  std::string config_path;
  std::string output_file;           // "" = stdout
  std::vector<std::string> regions;  // default: the regions of the config's shares
};

struct RunOptions {
  std::string config_path;
  std::string listen = "127.0.0.1:9464";
  std::string admin_token_file;
  bool once = false;
  std::string replica_id;       // with settings.coordination; default: <hostname>-<pid>
  bool confirm_shrink = false;  // DaemonOptions::confirm_shrink
};

int cmd_validate(const GlobalOptions& g, const ValidateOptions& o);
int cmd_plan(const GlobalOptions& g, const PlanOptions& o);
int cmd_apply(const GlobalOptions& g, const ApplyOptions& o);
int cmd_run(const GlobalOptions& g, const RunOptions& o);
int cmd_explain(const GlobalOptions& g, const ExplainOptions& o);
int cmd_import(const GlobalOptions& g, const ImportOptions& o);

}  // namespace sharekeeper::daemon
