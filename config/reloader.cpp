#include "config/reloader.hpp"

#include <algorithm>
#include <map>

#include "config/git_revision.hpp"

namespace sharekeeper::config {
namespace {

template <typename T>
void diff_named(const std::vector<T>& before, const std::vector<T>& after,
                std::vector<std::string>& added, std::vector<std::string>& removed,
                std::vector<std::string>& modified) {
  std::map<std::string, const T*> old;
  for (const auto& x : before) old.emplace(x.name, &x);
  for (const auto& x : after) {
    auto it = old.find(x.name);
    if (it == old.end()) {
      added.push_back(x.name);
      continue;
    }
    T a = *it->second, b = x;
    a.where = b.where = {};
    if (!(a == b)) modified.push_back(x.name);
    old.erase(it);
  }
  for (const auto& [name, x] : old) removed.push_back(name);
  std::sort(added.begin(), added.end());
  std::sort(modified.begin(), modified.end());
}

}  // namespace

bool ConfigChanges::empty() const {
  return shares_added.empty() && shares_removed.empty() && shares_modified.empty() &&
         accounts_added.empty() && accounts_removed.empty() && accounts_modified.empty() &&
         !settings_changed;
}

std::string ConfigChanges::summary() const {
  // Appends rather than `"+" + std::to_string(...)`, which trips GCC 12's -Wrestrict at -O2.
  auto counts = [](const auto& a, const auto& r, const auto& m) {
    std::string out("+");
    out += std::to_string(a.size());
    out += " -";
    out += std::to_string(r.size());
    out += " ~";
    out += std::to_string(m.size());
    return out;
  };
  return "shares " + counts(shares_added, shares_removed, shares_modified) + ", accounts " +
         counts(accounts_added, accounts_removed, accounts_modified) + ", settings " +
         (settings_changed ? "changed" : "unchanged");
}

ConfigChanges diff(const DesiredState& before, const DesiredState& after) {
  ConfigChanges c;
  diff_named(before.shares, after.shares, c.shares_added, c.shares_removed, c.shares_modified);
  diff_named(before.accounts, after.accounts, c.accounts_added, c.accounts_removed,
             c.accounts_modified);
  c.settings_changed = !(before.settings == after.settings);
  return c;
}

std::string_view to_string(ReloadOutcome o) {
  switch (o) {
    case ReloadOutcome::kSuccess:
      return "success";
    case ReloadOutcome::kRejected:
      return "rejected";
    case ReloadOutcome::kUnchanged:
      return "unchanged";
  }
  return "rejected";
}

Reloader::Reloader(std::filesystem::path path) : path_(std::move(path)) {}

std::shared_ptr<const DesiredState> Reloader::current() const {
  std::lock_guard lock(state_mu_);
  return current_;
}

ReloadReport Reloader::reload() {
  std::lock_guard serial(reload_mu_);
  ReloadReport report;
  auto previous = current();
  report.state = previous;

  auto read = read_sources(path_);
  bool read_failed =
      std::any_of(read.diagnostics.begin(), read.diagnostics.end(),
                  [](const Diagnostic& d) { return d.severity == Severity::kError; });
  if (read_failed) {
    report.outcome = ReloadOutcome::kRejected;
    report.diagnostics = std::move(read.diagnostics);
    return report;
  }
  std::string hash = content_hash(read.sources);
  std::string revision = git_head_revision(path_).value_or(hash);

  if (previous && previous->content_hash == hash) {
    report.outcome = ReloadOutcome::kUnchanged;
    if (previous->revision != revision) {
      auto updated = std::make_shared<DesiredState>(*previous);
      updated->revision = revision;
      report.revision_changed = true;
      report.state = updated;
      std::lock_guard lock(state_mu_);
      current_ = std::move(updated);
    }
    return report;
  }
  if (!rejected_hash_.empty() &&
      rejected_hash_ == hash) {  // same bad bytes: same verdict, no re-parse
    report.outcome = ReloadOutcome::kRejected;
    report.diagnostics = rejected_diagnostics_;
    return report;
  }

  auto result = load_sources(read.sources, revision);
  report.diagnostics = std::move(read.diagnostics);
  report.diagnostics.insert(report.diagnostics.end(), result.diagnostics.begin(),
                            result.diagnostics.end());
  if (!result.ok()) {
    report.outcome = ReloadOutcome::kRejected;
    rejected_hash_ = hash;
    rejected_diagnostics_ = report.diagnostics;
    return report;
  }
  rejected_hash_.clear();
  rejected_diagnostics_.clear();
  auto next = std::make_shared<const DesiredState>(std::move(*result.state));
  report.changes = diff(previous ? *previous : DesiredState{}, *next);
  if (!previous) report.changes.settings_changed = true;
  report.outcome = ReloadOutcome::kSuccess;
  report.revision_changed = !previous || previous->revision != next->revision;
  report.state = next;
  std::lock_guard lock(state_mu_);
  current_ = std::move(next);
  return report;
}

}  // namespace sharekeeper::config
