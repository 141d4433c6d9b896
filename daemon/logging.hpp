#pragma once
// Structured logs through spdlog: one JSON object per line by default
// (`{"ts","level","msg",...fields}`), or `ts LEVEL msg key=value ...` with --log-format text. Every
// value passes a last-line secret scrub (patterns such as Signature=, SecurityToken=,
// Authorization:) before it is written, so a secret that slipped into an error text still never
// reaches the log. Thread-safe.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/account_runner.hpp"

namespace spdlog::sinks {
class sink;
}

namespace sharekeeper::daemon::log {

enum class Format { kJson, kText };
enum class Level { kDebug, kInfo, kWarn, kError };

using Fields = std::vector<std::pair<std::string, std::string>>;

// Installs the process logger (stderr unless a sink is given, e.g. in tests). Throws
// std::invalid_argument on an unknown format or level name.
void init(std::string_view format, std::string_view level,
          std::shared_ptr<spdlog::sinks::sink> sink = nullptr);

void write(Level level, std::string_view msg, const Fields& fields = {});
inline void debug(std::string_view m, const Fields& f = {}) { write(Level::kDebug, m, f); }
inline void info(std::string_view m, const Fields& f = {}) { write(Level::kInfo, m, f); }
inline void warn(std::string_view m, const Fields& f = {}) { write(Level::kWarn, m, f); }
inline void error(std::string_view m, const Fields& f = {}) { write(Level::kError, m, f); }

// One audit record for one change applied to the cloud (msg "change applied", audit=true).
void audit(const std::string& account, const AppliedChange& change);

// The line that would be written, without writing it (tests, and the text/JSON contract).
std::string format_line(Format format, Level level, std::string_view msg, const Fields& fields);

// Masks values of secret-bearing keys (Signature=, SecurityToken=, AccessKeySecret=, AccessKeyId=,
// Authorization: Bearer/ACS3..., x-acs-security-token:) in free text.
std::string scrub(std::string_view text);

}  // namespace sharekeeper::daemon::log
