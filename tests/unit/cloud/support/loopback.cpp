#include "loopback.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sharekeeper::testing {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string find_param(std::string_view encoded, std::string_view name) {
  std::size_t pos = 0;
  while (pos <= encoded.size()) {
    auto amp = encoded.find('&', pos);
    if (amp == std::string_view::npos) amp = encoded.size();
    const auto pair = encoded.substr(pos, amp - pos);
    const auto eq = pair.find('=');
    if (form_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return "";
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void add_ext(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) throw std::runtime_error("bad certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Shared by the server and the proxy: a 127.0.0.1:0 listener, one thread per connection, and a stop
// that unblocks every thread by shutting its sockets down.
struct Acceptor {
  int listen_fd = -1;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::vector<int> fds;
  std::vector<std::thread> threads;
  std::thread accept_thread;

  void listen() {
    std::signal(SIGPIPE, SIG_IGN);  // SSL_write to a closed peer must fail, not kill the test
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd, 64) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }

  void start(std::function<void(int)> on_connection) {
    accept_thread = std::thread([this, on_connection = std::move(on_connection)] {
      for (;;) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EINTR && !stopping) continue;
          return;
        }
        // Without it, Nagle + delayed ACK add ~40 ms to every TLS handshake on loopback.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(mu);
        if (stopping) {
          ::close(fd);
          return;
        }
        fds.push_back(fd);
        threads.emplace_back(on_connection, fd);
      }
    });
  }

  void track(int fd) {
    std::lock_guard lock(mu);
    fds.push_back(fd);
  }

  // Closes `fd` unless stop() is shutting it down right now (it is removed under the lock first).
  void release(int fd) {
    std::lock_guard lock(mu);
    std::erase(fds, fd);
    ::close(fd);
  }

  void stop() {
    stopping = true;
    ::shutdown(listen_fd, SHUT_RDWR);
    if (accept_thread.joinable()) accept_thread.join();
    ::close(listen_fd);
    std::vector<std::thread> to_join;
    {
      std::lock_guard lock(mu);
      for (int fd : fds) ::shutdown(fd, SHUT_RDWR);
      to_join.swap(threads);
    }
    for (auto& t : to_join) t.join();
  }
};

// One blocking connection, plain or TLS.
struct Channel {
  explicit Channel(int f) : fd(f) {}
  int fd;
  SSL* ssl = nullptr;
  std::string buffer;

  bool fill() {
    char chunk[16384];
    const int n = ssl != nullptr ? SSL_read(ssl, chunk, sizeof chunk)
                                 : static_cast<int>(::recv(fd, chunk, sizeof chunk, 0));
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  bool write(std::string_view data) {
    while (!data.empty()) {
      const int n = ssl != nullptr
                        ? SSL_write(ssl, data.data(), static_cast<int>(data.size()))
                        : static_cast<int>(::send(fd, data.data(), data.size(), MSG_NOSIGNAL));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
};

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

TestCert make_self_signed_cert(const std::vector<std::string>& dns_names,
                               const std::vector<std::string>& ip_addresses) {
  static std::atomic<long> serial{1};
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  const std::string cn = !dns_names.empty() ? dns_names.front() : ip_addresses.front();
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  add_ext(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  add_ext(cert, NID_ext_key_usage, "serverAuth");
  add_ext(cert, NID_subject_alt_name, san);
  X509_sign(cert, key, EVP_sha256());

  TestCert out;
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  out.cert_pem = bio_string(cert_bio);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_string(key_bio);
  BIO_free(key_bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TempFile::TempFile(std::string_view content) {
  const char* dir = std::getenv("TMPDIR");
  std::string templ = std::string(dir != nullptr ? dir : "/tmp") + "/sharekeeper-test-XXXXXX";
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  path_ = templ;
  write(content);
}

TempFile::~TempFile() { std::remove(path_.c_str()); }

void TempFile::write(std::string_view content) const {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out << content;
}

TempDir::TempDir() {
  const char* dir = std::getenv("TMPDIR");
  std::string templ = std::string(dir != nullptr ? dir : "/tmp") + "/sharekeeper-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& relative, std::string_view content) const {
  const std::filesystem::path p = std::filesystem::path(path_) / relative;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  return p.string();
}

std::string TestRequest::header(std::string_view name) const {
  const std::string n = lower(name);
  for (const auto& [k, v] : headers) {
    if (k == n) return v;
  }
  return "";
}

std::string TestRequest::query_param(std::string_view name) const {
  const auto q = target.find('?');
  return q == std::string::npos ? "" : find_param(std::string_view(target).substr(q + 1), name);
}

std::string TestRequest::form_param(std::string_view name) const { return find_param(body, name); }

struct LoopbackServer::State {
  Acceptor acceptor;
  SSL_CTX* ctx = nullptr;
  std::mutex handler_mu;
};

LoopbackServer::LoopbackServer(TestHandler handler, std::optional<TestCert> cert,
                               int max_tls_version)
    : handler_(std::move(handler)), state_(std::make_shared<State>()) {
  if (cert) {
    state_->ctx = SSL_CTX_new(TLS_server_method());
    if (max_tls_version != 0) {
      SSL_CTX_set_security_level(state_->ctx, 0);  // OpenSSL 3 refuses TLS < 1.2 above level 0
      SSL_CTX_set_cipher_list(state_->ctx, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(state_->ctx, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(state_->ctx, max_tls_version);
    }
    BIO* cb = BIO_new_mem_buf(cert->cert_pem.data(), static_cast<int>(cert->cert_pem.size()));
    X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO* kb = BIO_new_mem_buf(cert->key_pem.data(), static_cast<int>(cert->key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    if (SSL_CTX_use_certificate(state_->ctx, x) != 1 ||
        SSL_CTX_use_PrivateKey(state_->ctx, k) != 1) {
      throw std::runtime_error("bad test certificate");
    }
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
  }
  state_->acceptor.listen();
  port_ = state_->acceptor.port;
  state_->acceptor.start([this](int fd) { serve(fd, ++connections_); });
}

LoopbackServer::~LoopbackServer() {
  state_->acceptor.stop();
  if (state_->ctx != nullptr) SSL_CTX_free(state_->ctx);
}

std::string LoopbackServer::url() const {
  return std::string(state_->ctx != nullptr ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(port_);
}

std::vector<TestRequest> LoopbackServer::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

void LoopbackServer::serve(int fd, int index) {
  Channel ch{fd};
  if (state_->ctx != nullptr) {
    ch.ssl = SSL_new(state_->ctx);
    SSL_set_fd(ch.ssl, fd);
    if (SSL_accept(ch.ssl) != 1) {  // e.g. the client refused our certificate
      SSL_free(ch.ssl);
      state_->acceptor.release(fd);
      return;
    }
  }
  bool clean_close = false;
  for (;;) {
    std::size_t end;
    while ((end = ch.buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!ch.fill()) goto done;
    }
    TestRequest req;
    req.connection = index;
    {
      const std::string head = ch.buffer.substr(0, end);
      std::size_t line_end = head.find("\r\n");
      const std::string first = head.substr(0, line_end);
      const auto sp1 = first.find(' ');
      const auto sp2 = first.rfind(' ');
      req.method = first.substr(0, sp1);
      req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
      req.path = req.target.substr(0, req.target.find('?'));
      while (line_end != std::string::npos) {
        const auto next = head.find("\r\n", line_end + 2);
        const std::string line = head.substr(line_end + 2, next - line_end - 2);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          req.headers.emplace_back(lower(line.substr(0, colon)), value);
        }
        line_end = next;
      }
    }
    const std::string cl = req.header("content-length");
    const std::size_t length = cl.empty() ? 0 : std::stoul(cl);
    while (ch.buffer.size() < end + 4 + length) {
      if (!ch.fill()) goto done;
    }
    req.body = ch.buffer.substr(end + 4, length);
    ch.buffer.erase(0, end + 4 + length);
    ++requests_;
    {
      std::lock_guard lock(mu_);
      received_.push_back(req);
    }
    TestResponse res;
    {
      std::lock_guard lock(state_->handler_mu);
      res = handler_(req);
    }
    if (res.hang) {
      while (ch.fill()) {
      }
      goto done;
    }
    if (res.close_without_answer) goto done;
    std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + reason(res.status) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : res.headers) {
      has_type = has_type || lower(k) == "content-type";
      out += k + ": " + v + "\r\n";
    }
    if (!has_type) out += "Content-Type: application/json;charset=utf-8\r\n";
    out += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
    const bool close = res.close_after || lower(req.header("connection")) == "close";
    if (close) out += "Connection: close\r\n";
    out += "\r\n" + res.body;
    if (!ch.write(out)) goto done;
    if (close || res.close_silently_after) {
      clean_close = true;
      goto done;
    }
  }
done:
  if (ch.ssl != nullptr) {
    if (clean_close) SSL_shutdown(ch.ssl);
    SSL_free(ch.ssl);
  }
  state_->acceptor.release(fd);
  ++closed_;
}

struct ConnectProxy::State {
  Acceptor acceptor;
};

ConnectProxy::ConnectProxy() : state_(std::make_shared<State>()) {
  state_->acceptor.listen();
  port_ = state_->acceptor.port;
  state_->acceptor.start([this](int fd) { serve(fd); });
}

ConnectProxy::~ConnectProxy() { state_->acceptor.stop(); }

std::vector<std::string> ConnectProxy::targets() const {
  std::lock_guard lock(mu_);
  return targets_;
}

std::vector<std::string> ConnectProxy::proxy_authorizations() const {
  std::lock_guard lock(mu_);
  return authorizations_;
}

void ConnectProxy::serve(int fd) {
  Channel client{fd};
  std::size_t end;
  while ((end = client.buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!client.fill()) {
      state_->acceptor.release(fd);
      return;
    }
  }
  const std::string head = client.buffer.substr(0, end);
  client.buffer.erase(0, end + 4);
  const std::string first = head.substr(0, head.find("\r\n"));
  std::string auth;
  if (const auto p = lower(head).find("\r\nproxy-authorization:"); p != std::string::npos) {
    const auto start = p + std::strlen("\r\nproxy-authorization:");
    auth = head.substr(start, head.find("\r\n", start) - start);
    while (!auth.empty() && auth.front() == ' ') auth.erase(0, 1);
  }
  const auto sp1 = first.find(' ');
  const std::string target = first.substr(sp1 + 1, first.rfind(' ') - sp1 - 1);
  {
    std::lock_guard lock(mu_);
    targets_.push_back(target);
    authorizations_.push_back(auth);
  }
  const auto colon = target.rfind(':');
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int upstream = -1;
  if (first.rfind("CONNECT ", 0) == 0 && colon != std::string::npos &&
      ::getaddrinfo(target.substr(0, colon).c_str(), target.substr(colon + 1).c_str(), &hints,
                    &res) == 0) {
    upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(upstream, res->ai_addr, res->ai_addrlen) != 0) {
      ::close(upstream);
      upstream = -1;
    }
    ::freeaddrinfo(res);
  }
  if (upstream < 0) {
    client.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    state_->acceptor.release(fd);
    return;
  }
  state_->acceptor.track(upstream);
  ++tunnels_;
  client.write("HTTP/1.1 200 Connection established\r\n\r\n");
  Channel up{upstream};
  bool ok = up.write(client.buffer);
  pollfd fds[2] = {{fd, POLLIN, 0}, {upstream, POLLIN, 0}};
  while (ok && ::poll(fds, 2, -1) > 0) {
    for (int i = 0; i < 2 && ok; ++i) {
      if (fds[i].revents == 0) continue;
      char chunk[16384];
      const ssize_t n = ::recv(fds[i].fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ok = false;
        break;
      }
      Channel other{fds[1 - i].fd};
      ok = other.write(std::string_view(chunk, static_cast<std::size_t>(n)));
    }
  }
  ::shutdown(upstream, SHUT_RDWR);
  ::shutdown(fd, SHUT_RDWR);
  state_->acceptor.release(upstream);
  state_->acceptor.release(fd);
}

}  // namespace sharekeeper::testing
