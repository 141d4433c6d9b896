#pragma once
// Internal to config/: reading one config (or .git) file without ever blocking or silently
// skipping it (issue 11). A config directory from a ConfigMap or git-sync is a tree of symlinks
// being swapped under us: an entry can be a dangling link, a loop, a FIFO or a device at any
// moment. Every such entry is an error naming it, never "not a file, skip", and a FIFO must not
// hang the loader (the daemon's reload runs on the watcher's or the signal thread).
#include <cstddef>
#include <filesystem>
#include <string>

#include "support/result.hpp"

namespace sharekeeper::config::detail {

// Why a file could not be read.
struct FileError {
  std::string message;  // "dangling symlink (to `..data/a.yaml`)", "a FIFO, not a regular file",
                        // "symlink loop", "larger than 1 MiB (N bytes)", ...
  std::string hint;     // "" or what to do about it
};

// stat() first, so a FIFO or device is refused without being opened (opening some devices has
// effects); then open(O_NONBLOCK | O_NOCTTY) and fstat() the descriptor, and read through it: an
// entry swapped for a FIFO between the two calls still cannot block or be read as a file.
// Files over `limit` bytes are refused without reading them whole.
// The file's content, or why it cannot be read.
support::Result<std::string, FileError> read_regular_file(const std::filesystem::path& path,
                                                          std::size_t limit);

// Why `path` cannot be used at all (stat failed): "no such file or directory", "dangling symlink
// (to `x`)", "symlink loop (too many levels of symbolic links)", "permission denied", ...
std::string describe_stat_error(const std::filesystem::path& path, int error_number);

}  // namespace sharekeeper::config::detail
