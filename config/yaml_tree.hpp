#pragma once
// Internal to config/: YAML bytes -> a small tree with 1-based positions, built from yaml-cpp
// parser events so that what the node API hides can be rejected (docs/failure-matrix.md §4.8):
// duplicate keys (the node API keeps the last one silently), anchors and aliases (shared nodes:
// billion laughs, cycles), merge keys, tags, excessive nesting. Also rejects files over 1 MiB and
// anything but UTF-8.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "support/result.hpp"

namespace sharekeeper::config::detail {

struct Node {
  enum class Kind : unsigned char { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  bool quoted = false;         // quoted or block scalar: always a string, never a boolean or number
  int line = 0;                // 1-based
  int column = 0;              // 1-based, in bytes
  std::string text;            // scalars
  std::vector<Node> children;  // sequence items; for maps key, value, key, value, ...

  bool is_map() const { return kind == Kind::kMap; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_null() const { return kind == Kind::kNull; }
};

// Built field by field: brace-initialising the nested aggregate trips GCC 12's
// -Wmaybe-uninitialized at -O2.
inline Diagnostic make_diagnostic(Severity severity, std::string file, int line, int column,
                                  std::string message, std::string hint = "") {
  Diagnostic d;
  d.where.file = std::move(file);
  d.where.line = line;
  d.where.column = column;
  d.severity = severity;
  d.message = std::move(message);
  d.hint = std::move(hint);
  return d;
}

struct ParsedYaml {
  bool has_root = false;  // false when the file could not be parsed at all
  Node root;
  std::vector<Diagnostic> diagnostics;
};

// Every problem is a diagnostic; parsing stops at the first syntax error (yaml-cpp cannot resume).
// Files in the subset libyaml and yaml-cpp are known to agree on (plain ASCII block and flow
// collections of one-line scalars, yaml_tree.cpp) are parsed with libyaml, about ten times faster;
// every other file, and every file with a syntax error, with yaml-cpp, whose diagnostics these are.
ParsedYaml parse_yaml(const std::string& file, std::string_view content);
// The two halves, for the test that checks they agree: yaml-cpp alone, and the libyaml path
// (nullopt when the file is outside its subset or does not parse). parse_yaml_fast skips the size
// and encoding checks.
ParsedYaml parse_yaml_reference(const std::string& file, std::string_view content);
std::optional<ParsedYaml> parse_yaml_fast(const std::string& file, std::string_view content);

// The first byte offset that is not valid UTF-8 or is a control character YAML forbids, if any.
struct EncodingError {
  std::size_t offset;
  std::string message;
};
support::Result<void, EncodingError> check_encoding(std::string_view content);

}  // namespace sharekeeper::config::detail
