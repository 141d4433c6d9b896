#pragma once
// What /status, /plan and /readyz show: every grant with state, reason, last transition and last
// error; every account's last reconcile and next run; the config revision and the last reload.
// Thread-safe: written by the scheduler's workers and the reload path, read by the HTTP thread.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/account_runner.hpp"
#include "daemon/compressed_text.hpp"
#include "daemon/grant_table.hpp"
#include "daemon/scheduler.hpp"

namespace sharekeeper::daemon {

using WallTime = std::chrono::system_clock::time_point;

// "2026-11-29T00:12:03Z".
std::string format_time(WallTime t);

// /status `coordination` (several replicas, settings.coordination).
struct CoordinationStatus {
  std::string backend;  // "etcd"
  std::string replica;
  std::vector<std::string> members;
  std::set<std::string> owned;
  bool ready = false;
  std::string reason;
  std::optional<double> lease_remaining_seconds;
};

class StatusStore {
 public:
  // A config became current: adds rows for new grants and accounts (Pending, "not_reconciled_yet"),
  // drops rows that left it, keeps the history of the others.
  void set_config(const config::DesiredState& desired, WallTime now);
  // A reload was rejected; the diagnostics (file:line:col: message) are shown, the last good config
  // stays.
  void config_rejected(const std::vector<std::string>& diagnostics, WallTime now);
  void config_unchanged(WallTime now);
  // A valid reload that removes shares or targets waits for confirmation (--confirm-shrink):
  // lastReload.result is "held", its lines say what it removes and how to confirm.
  void config_held(const std::vector<std::string>& lines, WallTime now);

  void pass_started(const std::string& account, WallTime now);
  void pass_finished(const PassReport& report);

  struct Readiness {
    bool ready = false;
    std::string reason;
  };
  // Ready once a config is loaded and every account has had one complete observation. With
  // coordination: every account this replica owns (and coordination's own readiness is the
  // daemon's to check).
  Readiness readiness() const;
  // Several replicas: /status gains `coordination`, each account row says whether this replica
  // owns it, and readiness looks only at owned accounts.
  void set_coordination(CoordinationStatus c);

  // /status; `schedule` (from Scheduler::snapshot) supplies phases and next runs.
  std::string status_json(const std::vector<Scheduler::AccountView>& schedule) const;
  // /plan: the last plan of every account.
  std::string plan_json() const;

 private:
  // What a pass said of a grant beyond its state. One value serves every row it is the same for:
  // the targets of a share usually read alike (in RetainedMemory's organisation, 3 rows a value),
  // and a pass that says what the last one said keeps the value it has instead of copying it again.
  struct GrantDetails {
    std::string reason;
    std::string message;
    std::vector<ResourceDetail> resources;
    std::string blocked_by;
  };
  // Whether `d` says what `g` says.
  static bool says(const GrantDetails& d, const GrantReport& g);
  // What a row keeps of a pass's GrantReport: everything but the key, which is the table's.
  struct GrantRow {
    GrantState state = GrantState::kPending;
    std::shared_ptr<const GrantDetails> details;  // never null
    WallTime last_transition{};
    std::optional<WallTime> last_ready;
    std::string last_error;
    std::optional<WallTime> last_error_at;
  };
  struct AccountRow {
    bool running = false;
    bool observed = false;  // one complete observation done
    std::optional<WallTime> last_started, last_finished, last_success;
    std::string last_result;
    double last_duration_seconds = 0;
    std::string last_error;
    bool terminal = false;
    int changes_last_pass = 0;
    // As the runner rendered it (compact: render_json_compact), deflated; GET /plan indents it.
    CompressedText plan;
  };
  struct Reload {
    std::string result;
    WallTime at{};
    std::vector<std::string> diagnostics;
  };

  mutable std::mutex mu_;
  bool have_config_ = false;
  std::string revision_;
  std::string content_hash_;
  WallTime config_loaded_at_{};
  std::optional<Reload> last_reload_;
  GrantTable<GrantRow> grants_;
  // The details of a row no pass has judged yet ("not_reconciled_yet").
  std::shared_ptr<const GrantDetails> not_reconciled_;
  std::map<std::string, AccountRow> accounts_;
  std::optional<CoordinationStatus> coordination_;
};

}  // namespace sharekeeper::daemon
