#include "config/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace sharekeeper::config::detail {
namespace {

namespace fs = std::filesystem;

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// "a FIFO (named pipe), not a regular file", with the link it was reached through.
std::string not_regular(const fs::path& path, mode_t mode) {
  std::string what = kind_of(mode);
  if (what != "not a regular file") what += ", not a regular file";
  std::error_code ec;
  if (fs::is_symlink(path, ec)) {
    const auto target = fs::read_symlink(path, ec);
    if (!ec) what += " (through a symlink to `" + target.string() + "`)";
  }
  return what;
}

FileError cannot(std::string message, std::string hint = {}) {
  FileError e;
  e.message = std::move(message);
  e.hint = std::move(hint);
  return e;
}

std::string size_text(std::size_t bytes) {
  constexpr std::size_t kMiB = std::size_t{1024} * 1024;
  if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string describe_stat_error(const fs::path& path, int error_number) {
  struct stat link {};
  switch (error_number) {
    case ENOENT:
      // stat() follows links: a link that exists and points nowhere is a broken link, which in a
      // ConfigMap or git-sync directory means a swap lost its target.
      if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
        std::error_code ec;
        const auto target = fs::read_symlink(path, ec);
        return "dangling symlink (its target `" + (ec ? std::string("?") : target.string()) +
               "` does not exist)";
      }
      return "no such file or directory";
    case ELOOP:
      return "symlink loop (too many levels of symbolic links)";
    case EACCES:
      return "permission denied";
    case ENOTDIR:
      return "a component of the path is not a directory";
    case ENAMETOOLONG:
      return "file name too long";
    default:
      return std::strerror(error_number);
  }
}

support::Result<std::string, FileError> read_regular_file(const fs::path& path, std::size_t limit) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return cannot(describe_stat_error(path, errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return cannot(not_regular(path, st.st_mode));
  }
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (f.fd < 0) {
    const int e = errno;
    return cannot(e == ENOENT ? "vanished while being read (" + describe_stat_error(path, e) + ")"
                              : describe_stat_error(path, e));
  }
  // The entry may have been swapped since stat(): only the descriptor says what was opened.
  if (::fstat(f.fd, &st) != 0) {
    return cannot(std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return cannot(not_regular(path, st.st_mode));
  }
  if (static_cast<std::size_t>(st.st_size) > limit) {
    return cannot(
        "file is larger than " + size_text(limit) + " (" + std::to_string(st.st_size) + " bytes)",
        "split it into several files in one directory");
  }
  std::string content;
  content.resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t used = 0;
  for (;;) {
    if (used == content.size()) {
      if (content.size() > limit) break;  // grew past the limit while being read
      content.resize(std::min(limit + 1, content.size() * 2 + 4096));
    }
    const ssize_t n = ::read(f.fd, content.data() + used, content.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return cannot(std::string("read failed: ") + std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > limit) {
    return cannot("file is larger than " + size_text(limit) + " (it grew while being read)",
                  "split it into several files in one directory");
  }
  content.resize(used);
  return content;
}

}  // namespace sharekeeper::config::detail
