// The pure parts of the transport (no Beast): URL parsing, NO_PROXY, response header lookup.
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cloud/http.hpp"
#include "cloud/transport.hpp"

namespace sharekeeper::cloud {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return "";
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::optional<Url> parse_url(std::string_view url) {
  Url out;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme == "https") {
    out.port = 443;
  } else if (out.scheme == "http") {
    out.port = 80;
  } else {
    return std::nullopt;
  }
  std::string_view rest = url.substr(sep + 3);
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
  if (const auto hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    out.userinfo = std::string(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '@') return std::nullopt;
  }
  if (!port.empty()) {
    const auto p = parse_port(port);
    if (!p) return std::nullopt;
    out.port = *p;
  }
  out.host = lower(host);
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

std::string url_for_log(const HttpRequest& request) {
  std::string out = request.scheme + "://";
  const bool v6 = request.host.find(':') != std::string::npos;
  out += v6 ? "[" + request.host + "]" : request.host;
  const bool default_port = (request.scheme == "https" && request.port == 443) ||
                            (request.scheme == "http" && request.port == 80);
  if (!default_port) out += ":" + std::to_string(request.port);
  const std::string path = request.target.substr(0, request.target.find('?'));
  out += path.empty() ? "/" : path;
  return out;
}

ProxySettings ProxySettings::from_environment(const EnvLookup& env) {
  ProxySettings s;
  auto first = [&env](std::string_view a, std::string_view b) -> std::string {
    for (auto name : {a, b}) {
      if (auto v = env(name); v && !trim(*v).empty()) return std::string(trim(*v));
    }
    return "";
  };
  s.https_proxy = first("HTTPS_PROXY", "https_proxy");
  s.no_proxy = first("NO_PROXY", "no_proxy");
  return s;
}

bool proxy_bypassed(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  const std::string h = lower(host);
  std::size_t pos = 0;
  while (pos <= no_proxy.size()) {
    const auto comma = no_proxy.find(',', pos);
    std::string entry =
        lower(trim(no_proxy.substr(pos, comma == std::string_view::npos ? comma : comma - pos)));
    pos = comma == std::string_view::npos ? no_proxy.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    // "host:port" restricts the entry to one port; a bare IPv6 literal has several colons.
    if (const auto colon = entry.rfind(':');
        colon != std::string::npos && entry.find(':') == colon) {
      const auto p = parse_port(std::string_view(entry).substr(colon + 1));
      if (!p || *p != port) continue;
      entry.resize(colon);
    }
    if (entry.size() > 2 && entry.front() == '[' && entry.back() == ']') {
      entry = entry.substr(1, entry.size() - 2);
    }
    if (entry.starts_with("*.")) entry.erase(0, 1);
    if (entry.front() == '.') entry.erase(0, 1);
    if (entry.empty()) continue;
    if (h == entry) return true;
    if (h.size() > entry.size() && h.ends_with(entry) && h[h.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace sharekeeper::cloud
