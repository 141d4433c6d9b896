#include "config/git_revision.hpp"

#include <algorithm>
#include <sstream>
#include <string_view>
#include <system_error>

#include "config/file_read.hpp"

namespace sharekeeper::config {
namespace {

namespace fs = std::filesystem;

// Small files only: HEAD, refs and "gitdir:" files are one line; packed-refs is bounded too. Read
// like the config files themselves, so a FIFO planted as .git/HEAD cannot hang a reload.
std::optional<std::string> read_small(const fs::path& p,
                                      std::size_t limit = std::size_t{16} * 1024 * 1024) {
  auto read = detail::read_regular_file(p, limit);
  if (!read) return std::nullopt;  // no such file is the normal "no checkout here"
  return std::move(read).value();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool is_object_id(std::string_view s) {
  return (s.size() == 40 || s.size() == 64) && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A ref name from HEAD must stay inside the git directory.
bool is_safe_ref(std::string_view r) {
  return r.starts_with("refs/") && r.find("..") == std::string_view::npos &&
         r.find('\\') == std::string_view::npos && r.find("//") == std::string_view::npos &&
         r.back() != '/';
}

std::optional<fs::path> find_git_dir(fs::path start) {
  std::error_code ec;
  start = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  if (!fs::is_directory(start, ec)) start = start.parent_path();
  for (fs::path d = start;; d = d.parent_path()) {
    fs::path dot = d / ".git";
    if (fs::is_directory(dot, ec)) return dot;
    if (fs::is_regular_file(dot, ec)) {
      auto text = read_small(dot, 4096);
      if (!text) return std::nullopt;
      std::string line = trim(*text);
      if (!line.starts_with("gitdir: ")) return std::nullopt;
      fs::path target = line.substr(8);
      return target.is_absolute() ? target : d / target;
    }
    if (d == d.parent_path()) return std::nullopt;
  }
}

std::optional<std::string> resolve_ref(const fs::path& git_dir, const fs::path& common_dir,
                                       const std::string& ref) {
  for (const fs::path& base : {git_dir, common_dir}) {
    if (auto text = read_small(base / ref, 4096)) {
      std::string v = trim(*text);
      if (is_object_id(v)) return v;
      return std::nullopt;  // a symbolic ref inside refs/ is unusual; treat it as unresolved
    }
  }
  if (auto packed = read_small(common_dir / "packed-refs")) {
    std::istringstream in(*packed);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '^') continue;
      auto space = line.find(' ');
      if (space == std::string::npos) continue;
      if (trim(line.substr(space + 1)) == ref) {
        std::string id = line.substr(0, space);
        return is_object_id(id) ? std::optional<std::string>(id) : std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> git_head_revision(const fs::path& path) {
  auto git_dir = find_git_dir(path);
  if (!git_dir) return std::nullopt;
  fs::path common_dir = *git_dir;
  if (auto common = read_small(*git_dir / "commondir", 4096)) {  // linked worktrees keep refs there
    fs::path c = trim(*common);
    common_dir = c.is_absolute() ? c : *git_dir / c;
  }
  auto head = read_small(*git_dir / "HEAD", 4096);
  if (!head) return std::nullopt;
  std::string h = trim(*head);
  if (is_object_id(h)) return h;  // detached HEAD
  if (!h.starts_with("ref: ")) return std::nullopt;
  std::string ref = h.substr(5);
  if (!is_safe_ref(ref)) return std::nullopt;
  return resolve_ref(*git_dir, common_dir, ref);
}

}  // namespace sharekeeper::config
