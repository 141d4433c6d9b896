#pragma once
// Plain HTTP message types and the Transport interface. No Beast here: Beast lives in transport.cpp
// only.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloud/result.hpp"

namespace sharekeeper::cloud {

struct HttpRequest {
  std::string method = "POST";
  std::string scheme = "https";  // "http" only when an endpoint override says so
  std::string host;              // without port
  std::uint16_t port = 443;
  std::string target = "/";  // path + "?" + query, already percent-encoded for the wire
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  // First header with this (case-insensitive) name, or "".
  std::string header(std::string_view name) const;
};

// Sends one request and reads one response within `timeout`. Thread-safe; keeps connections alive.
// Errors: "Transport.Connect"/"Transport.Resolve" (nothing was sent: kTransient), "Transport.Tls"
// (kTerminal: never fall back to insecure), "Transport.Timeout"/"Transport.Reset" after the request
// was written (kOutcomeUnknown).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> send(const HttpRequest& request,
                                    std::chrono::milliseconds timeout) = 0;
};

}  // namespace sharekeeper::cloud
