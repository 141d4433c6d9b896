#pragma once
// config::load(): a config file or a directory of *.yaml files -> a validated DesiredState plus
// every diagnostic (file:line:col, message, hint). docs/contract.md §3.2; rules in
// docs/failure-matrix.md §4.7/§4.8 and docs/config.md. Pure functions of the files' bytes (and .git
// for the revision): thread-safe.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/desired_state.hpp"

namespace sharekeeper::config {

inline constexpr std::string_view kApiVersion = "sharekeeper/v1";
// yaml-cpp is not fuzzed upstream and expands aliases exponentially; bounding input keeps both
// cheap.
inline constexpr std::size_t kMaxFileBytes = std::size_t{1024} * 1024;
inline constexpr std::size_t kMaxFiles = 1000;
// Containers nested in the deepest valid document: root > shares > share > selector > tags.
inline constexpr int kMaxNestingDepth = 5;
// docs/failure-matrix.md §4.7 suggests 10k grants; the benchmarked scale is 10,000 shares x 10
// targets.
inline constexpr std::size_t kMaxGrants = 100000;

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourceLocation where;  // line/column 0 = the whole file
  Severity severity = Severity::kError;
  std::string message;  // never contains a secret value
  std::string hint;     // optional, e.g. "did you mean `snapshots`?"

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

struct LoadResult {
  std::optional<DesiredState> state;    // set exactly when no diagnostic is an error
  std::vector<Diagnostic> diagnostics;  // errors and warnings, sorted by file, line, column

  bool ok() const { return state.has_value(); }
  std::size_t error_count() const;
  std::size_t warning_count() const;
};

// One file's bytes and the name diagnostics use for it.
struct Source {
  std::string name;
  std::string content;
};

// PATH is a file, or a directory whose *.yaml files (not recursive, dot-files skipped) are merged
// in name order. The revision is the Git HEAD of PATH's checkout when there is one, else the
// content hash.
LoadResult load(const std::filesystem::path& path);

// The same rules over in-memory files (tests, fuzzing); the revision is the content hash.
LoadResult load_sources(const std::vector<Source>& sources);

// Reads PATH as load() does, without validating: the sources, or the diagnostics that prevent
// reading.
struct ReadResult {
  std::vector<Source> sources;
  std::vector<Diagnostic> diagnostics;
};
ReadResult read_sources(const std::filesystem::path& path);

// sha256 (lowercase hex) over each source's name, size and bytes, in order.
std::string content_hash(const std::vector<Source>& sources);

// Validates already-read sources; `revision` empty means "use the content hash".
LoadResult load_sources(const std::vector<Source>& sources, std::string revision);

// "file:line:col: error: message (hint)" — the format of compilers, so editors can jump to it.
// Control characters (C0, DEL, C1), invalid UTF-8, line separators and bidirectional overrides in
// the file name, message and hint are escaped (`\n`, `\x1b`, `\u202E`): one diagnostic is always
// one line, whatever the config's values hold.
std::string format_diagnostic(const Diagnostic& d);
// How many diagnostics the text outputs print; the JSON output has them all.
inline constexpr std::size_t kMaxPrintedDiagnostics = 100;
// The text lines for `diagnostics`: all of them when they fit in `limit`, else `limit` of them
// (errors before warnings, in file order) and one last line counting the rest. 100,000 aliases
// once printed 10 MB.
std::vector<std::string> format_diagnostics(const std::vector<Diagnostic>& diagnostics,
                                            std::size_t limit = kMaxPrintedDiagnostics);
// The escaping format_diagnostic applies, for other text that quotes config values.
std::string escape_for_text(std::string_view s);
// A JSON array of {file, line, column, severity, message, hint}.
std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics);

// Number of (share, target) pairs: each account UID, the resource directory and each folder.
std::size_t grant_count(const DesiredState& state);

// The keys the loader accepts in each mapping ("root", "settings", "endpoints", "account",
// "credentials", "share", "selector", "to"); docs/config.schema.json is tested against this.
std::vector<std::pair<std::string, std::vector<std::string>>> accepted_keys();

}  // namespace sharekeeper::config
