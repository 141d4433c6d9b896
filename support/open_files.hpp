#pragma once
// Every connection is a file descriptor, and the default soft limit (1,024 on Debian) is far below
// what many accounts in parallel keep open: raise the soft limit toward `wanted`, never above the
// hard limit (as Go's runtime does at start). Returns the soft limit now in force (0 when it cannot
// be read).
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>

namespace sharekeeper::support {

inline std::uint64_t raise_open_files_limit(std::uint64_t wanted) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  const auto want = static_cast<rlim_t>(wanted);
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < want) {
    const rlim_t before = files.rlim_cur;
    files.rlim_cur = files.rlim_max == RLIM_INFINITY ? want : std::min(want, files.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) files.rlim_cur = before;
  }
  return files.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(files.rlim_cur);
}

}  // namespace sharekeeper::support
