#pragma once
// Reload for the daemon (docs/contract.md §2: keep the last good config when a new one is invalid).
// Each reload reads the files again; identical content is "unchanged" without re-validating,
// invalid content is "rejected" and the previous DesiredState stays current, valid content becomes
// current and the report says what changed. Outcomes match
// sharekeeper_config_reloads_total{result}.
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/desired_state.hpp"
#include "config/loader.hpp"

namespace sharekeeper::config {

// Differences by name; source positions are ignored (moving a share between files changes nothing).
struct ConfigChanges {
  std::vector<std::string> shares_added;
  std::vector<std::string> shares_removed;
  std::vector<std::string> shares_modified;
  std::vector<std::string> accounts_added;
  std::vector<std::string> accounts_removed;
  std::vector<std::string> accounts_modified;
  bool settings_changed = false;

  bool empty() const;
  std::string summary() const;  // "shares +1 -0 ~2, accounts +0 -0 ~0, settings unchanged"
};

ConfigChanges diff(const DesiredState& before, const DesiredState& after);

enum class ReloadOutcome { kSuccess, kRejected, kUnchanged };
std::string_view to_string(ReloadOutcome o);  // "success" | "rejected" | "unchanged"

struct ReloadReport {
  ReloadOutcome outcome = ReloadOutcome::kRejected;
  std::vector<Diagnostic> diagnostics;  // of this attempt (warnings too); empty when unchanged
  ConfigChanges changes;  // vs the previous good state; on the first success everything is "added"
  bool revision_changed = false;  // e.g. a new commit that left the config's bytes alone
  std::shared_ptr<const DesiredState>
      state;  // current after this reload (null until a first success)
};

// Thread-safe: reload() calls are serialized; current() may be called from any thread at any time.
class Reloader {
 public:
  explicit Reloader(std::filesystem::path path);

  ReloadReport reload();
  std::shared_ptr<const DesiredState> current() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::mutex reload_mu_;
  mutable std::mutex state_mu_;
  std::shared_ptr<const DesiredState> current_;
  std::string rejected_hash_;  // content of the last rejected attempt, with its diagnostics
  std::vector<Diagnostic> rejected_diagnostics_;
};

}  // namespace sharekeeper::config
