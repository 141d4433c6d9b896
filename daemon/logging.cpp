#include "daemon/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sharekeeper::daemon::log {

std::string scrub(std::string_view text);

namespace {

std::atomic<Format> g_format{Format::kJson};
std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

spdlog::level::level_enum to_spd(Level l) {
  switch (l) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string now_rfc3339_ms() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t tt = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

bool ieq_prefix(std::string_view text, std::size_t at, std::string_view key) {
  if (text.size() - at < key.size()) return false;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[at + i])) !=
        std::tolower(static_cast<unsigned char>(key[i])))
      return false;
  return true;
}

// A field whose *name* says secret is masked whole, whatever its value looks like.
bool secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view w : {"secret", "token", "signature", "authorization", "password"})
    if (k.find(w) != std::string::npos) return true;
  return false;
}

std::string field_value(std::string_view key, std::string_view value) {
  return secret_key(key) ? std::string("***") : scrub(value);
}

std::shared_ptr<spdlog::logger> logger() {
  std::lock_guard lock(g_mu);
  if (!g_logger) {
    g_logger = std::make_shared<spdlog::logger>("sharekeeper",
                                                std::make_shared<spdlog::sinks::stderr_sink_mt>());
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::info);
  }
  return g_logger;
}

}  // namespace

std::string scrub(std::string_view text) {
  // Keys whose value (up to the next separator) is a secret. Matched case-insensitively, followed
  // by
  // '=', ':' or '":"'. The cloud client already redacts; this is the last line before the log.
  static constexpr std::string_view kKeys[] = {
      "signature",         "securitytoken",        "accesskeysecret",
      "access_key_secret", "x-acs-security-token", "authorization",
      "accesskeyid",       "security_token"};
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool masked = false;
    for (auto key : kKeys) {
      if (!ieq_prefix(text, i, key)) continue;
      std::size_t j = i + key.size();
      // separators: = : " and spaces between key and value
      std::size_t k = j;
      while (k < text.size() && (text[k] == '"' || text[k] == ' ')) ++k;
      if (k >= text.size() || (text[k] != '=' && text[k] != ':')) continue;
      ++k;
      while (k < text.size() && (text[k] == ' ' || text[k] == '"')) ++k;
      // Authorization values have a scheme word first ("Bearer xyz", "ACS3-HMAC-SHA256
      // Credential=...").
      std::size_t end = k;
      const bool header = key == "authorization";
      while (end < text.size() && text[end] != '&' && text[end] != '"' && text[end] != '\n' &&
             text[end] != ',' && (header || text[end] != ' '))
        ++end;
      out.append(text.substr(i, k - i));
      out.append("***");
      i = end;
      masked = true;
      (void)j;
      break;
    }
    if (!masked) out.push_back(text[i++]);
  }
  return out;
}

void init(std::string_view format, std::string_view level,
          std::shared_ptr<spdlog::sinks::sink> sink) {
  Format f;
  if (format == "json")
    f = Format::kJson;
  else if (format == "text")
    f = Format::kText;
  else
    throw std::invalid_argument("unknown log format '" + std::string(format) + "'");
  Level l;
  if (level == "debug")
    l = Level::kDebug;
  else if (level == "info")
    l = Level::kInfo;
  else if (level == "warn")
    l = Level::kWarn;
  else if (level == "error")
    l = Level::kError;
  else
    throw std::invalid_argument("unknown log level '" + std::string(level) + "'");
  auto lg = std::make_shared<spdlog::logger>(
      "sharekeeper", sink ? std::move(sink) : std::make_shared<spdlog::sinks::stderr_sink_mt>());
  lg->set_pattern("%v");
  lg->set_level(to_spd(l));
  lg->flush_on(
      spdlog::level::debug);  // one line per event, visible at once (journald, kubectl logs)
  std::lock_guard lock(g_mu);
  g_format = f;
  g_logger = std::move(lg);
}

std::string format_line(Format format, Level level, std::string_view msg, const Fields& fields) {
  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["ts"] = now_rfc3339_ms();
    j["level"] = level_name(level);
    j["msg"] = scrub(msg);
    for (const auto& [k, v] : fields) j[k] = field_value(k, v);
    // Invalid UTF-8 (e.g. from a broken file name) is replaced rather than throwing mid-log.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = now_rfc3339_ms();
  std::string lv = level_name(level);
  std::transform(lv.begin(), lv.end(), lv.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  line += " " + lv + " " + scrub(msg);
  for (const auto& [k, v] : fields) {
    const std::string sv = field_value(k, v);
    const bool quote = sv.empty() || sv.find_first_of(" \"=") != std::string::npos;
    line +=
        " " + k + "=" +
        (quote ? nlohmann::json(sv).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
               : sv);
  }
  return line;
}

void write(Level level, std::string_view msg, const Fields& fields) {
  auto lg = logger();
  if (!lg->should_log(to_spd(level))) return;
  lg->log(to_spd(level), "{}", format_line(g_format.load(), level, msg, fields));
}

void audit(const std::string& account, const AppliedChange& c) {
  write(Level::kInfo, "change applied",
        {{"audit", "true"},
         {"account", account},
         {"object", c.object},
         {"name", c.name},
         {"operation", c.operation},
         {"before", c.before_digest},
         {"after", c.after_digest},
         {"apiCalls", c.api_calls},
         {"requestId", c.request_id}});
}

}  // namespace sharekeeper::daemon::log
