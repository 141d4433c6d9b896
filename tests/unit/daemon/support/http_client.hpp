#pragma once
// A tiny blocking HTTP/1.1 client over loopback for the daemon tests (one request per connection).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>

namespace sharekeeper::daemon::testing {

struct Response {
  int status = 0;
  std::string body;
  std::string raw;
};

inline Response http_request(std::uint16_t port, const std::string& method,
                             const std::string& target, const std::string& extra_headers = "",
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  Response r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = method + " " + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
                          (method == "POST" ? "Content-Length: 0\r\n" : "") + "\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    r.raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (r.raw.rfind("HTTP/1.1 ", 0) == 0 && r.raw.size() >= 12)
    r.status = std::stoi(r.raw.substr(9, 3));
  const auto he = r.raw.find("\r\n\r\n");
  if (he != std::string::npos) r.body = r.raw.substr(he + 4);
  // Other servers (Prometheus) answer larger bodies chunked.
  std::string head = r.raw.substr(0, he == std::string::npos ? 0 : he);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    std::string decoded;
    std::size_t pos = 0;
    while (pos < r.body.size()) {
      const auto eol = r.body.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const std::size_t len = std::stoul(r.body.substr(pos, eol - pos), nullptr, 16);
      if (len == 0) break;
      decoded += r.body.substr(eol + 2, len);
      pos = eol + 2 + len + 2;
    }
    r.body = std::move(decoded);
  }
  return r;
}

}  // namespace sharekeeper::daemon::testing
