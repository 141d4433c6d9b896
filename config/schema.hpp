#pragma once
// Internal to config/: one file's tree -> typed pieces (settings, accounts, shares) with the
// positions that the cross-file checks in loader.cpp need. Every value is read as text and matched
// exactly.
#include <optional>
#include <string>
#include <vector>

#include "config/desired_state.hpp"
#include "config/loader.hpp"
#include "config/yaml_tree.hpp"

namespace sharekeeper::config::detail {

struct Pos {
  int line = 0;
  int column = 0;
};

struct Item {
  std::string value;
  Pos pos;
};

struct ParsedAccount {
  Account account;
  Pos name_pos;
  Pos uid_pos;
  Pos from_pos;
};

struct ParsedShare {
  Share share;  // lists still in file order, possibly with duplicates (see the Item vectors)
  Pos name_pos;
  Pos account_pos;
  Pos to_pos;
  Pos resource_directory_pos;
  std::vector<Item> images;
  std::vector<Item> snapshots;
  std::vector<Item> to_accounts;
  std::vector<Item> folders;
  bool has_to = false;
  // The schema already reported the share's `account` (missing, blank, not a name): the merge
  // skips its lookup. Every other share's account is looked up, so an account that resolves to
  // nothing is always an error, never a grant that fails at plan time (issue 11).
  bool account_reported = false;
  bool resource_errors =
      false;  // some resource entry was invalid: "selects no resources" would be noise
  bool target_errors = false;
};

struct ParsedFile {
  std::string file;
  std::optional<Settings> settings;
  Pos settings_pos;
  std::vector<ParsedAccount> accounts;
  std::vector<ParsedShare> shares;
};

// Appends problems to `diags`; returns what could be read (invalid entries are still returned when
// their name is readable, so cross-file checks do not cascade into "unknown account" noise).
ParsedFile check_file(const std::string& file, const Node& root, std::vector<Diagnostic>& diags);

// The keys accepted per mapping, for hints and for the JSON Schema test.
const std::vector<std::pair<std::string, std::vector<std::string_view>>>& schema_keys();

}  // namespace sharekeeper::config::detail
