#pragma once
// The commit a config directory is checked out at, read from .git without running git (the daemon's
// container has no git, and forking on every reload is wasteful). Handles .git directories and
// "gitdir:" files (worktrees, submodules), symbolic HEAD, loose refs and packed-refs.
#include <filesystem>
#include <optional>
#include <string>

namespace sharekeeper::config {

// HEAD's commit id (40 or 64 lowercase hex) for the checkout containing `path` (a file or
// directory, searched upwards), or nullopt when there is none or it cannot be resolved (e.g. an
// unborn branch).
std::optional<std::string> git_head_revision(const std::filesystem::path& path);

}  // namespace sharekeeper::config
