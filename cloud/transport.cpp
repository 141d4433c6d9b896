// HttpsTransport: Beast + OpenSSL, C++20 coroutines on one io_context thread (docs/adr/0001).
// The only TU in cloud/ that includes Beast and Asio SSL (about 30 s to compile here).
#include "cloud/transport.hpp"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 at -O1 and above (the asan/tsan builds) misreads Asio's coroutine frame allocation
// (awaitable_frame_base's operator new/delete pair) and its any_executor comparison: false
// positives in Boost code, reported at our coroutines, that -Werror would turn into a broken build.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#endif

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <deque>
#include <exception>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "cloud/signer.hpp"

namespace sharekeeper::cloud {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

Error make_error(std::string code, ErrorClass cls, std::string message) {
  Error e;
  e.product = "transport";
  e.code = std::move(code);
  e.cls = cls;
  e.message = std::move(message);
  return e;
}

Error request_error(std::string code, ErrorClass cls, const HttpRequest& request,
                    const std::string& what) {
  Error e =
      make_error(std::move(code), cls, request.method + " " + url_for_log(request) + ": " + what);
  e.action = request.method;
  return e;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)net::ip::make_address(host, ec);
  return !ec;
}

std::string authority(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string host_header(const HttpRequest& r) {
  const bool default_port =
      (r.scheme == "https" && r.port == 443) || (r.scheme == "http" && r.port == 80);
  if (default_port) return r.host.find(':') != std::string::npos ? "[" + r.host + "]" : r.host;
  return authority(r.host, r.port);
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The peer closed (or reset) the connection: on a reused connection with no response byte read this
// is the classic keep-alive race, not an answer.
bool is_closed(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

struct Connection {
  std::string key;
  std::unique_ptr<TlsStream> tls;            // https
  std::unique_ptr<beast::tcp_stream> plain;  // http
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  bool reused = false;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// A pooled connection the server has closed (EOF), or on which unsolicited bytes arrived (a TLS
// close_notify alert, an error page), must not carry the next request.
bool still_open(Connection& c) {
  auto& sock = c.tcp().socket();
  if (!sock.is_open() || c.buffer.size() != 0) return false;
  char byte = 0;
  const ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace

struct HttpsTransport::Impl {
  TransportOptions options;
  std::optional<Url> proxy;
  std::string proxy_authorization;  // "Basic ..." from the proxy URL's userinfo; never logged
  std::string no_proxy;
  net::io_context ioc{1};
  ssl::context ssl_ctx{ssl::context::tls_client};
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread;

  // Touched only on the io thread.
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle;
  std::size_t idle_count = 0;
  net::steady_timer sweeper{ioc};
  bool sweeping = false;

  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> reused{0};
  std::atomic<std::uint64_t> retries{0};

  net::awaitable<Result<HttpResponse>> run(HttpRequest request, Clock::time_point deadline);
  // co_spawn needs a default-constructible result; Result has no empty state.
  net::awaitable<std::optional<Result<HttpResponse>>> entry(HttpRequest request,
                                                            Clock::time_point deadline) {
    co_return co_await run(std::move(request), deadline);
  }
  net::awaitable<Result<std::unique_ptr<Connection>>> connect(HttpRequest request,
                                                              Clock::time_point deadline);
  std::unique_ptr<Connection> take_idle(const std::string& key);
  void put_idle(std::unique_ptr<Connection> conn);
  void prune(Clock::time_point now);
  void arm_sweeper();
};

// Closes idle connections nobody came back for, so they do not hold sockets (often half-closed by
// the server) until the next request to that host.
void HttpsTransport::Impl::arm_sweeper() {
  if (sweeping || idle_count == 0) return;
  sweeping = true;
  sweeper.expires_after(options.idle_timeout);
  sweeper.async_wait([this](error_code ec) {
    sweeping = false;
    if (ec) return;
    prune(Clock::now());
    arm_sweeper();
  });
}

void HttpsTransport::Impl::prune(Clock::time_point now) {
  for (auto it = idle.begin(); it != idle.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front()->idle_since + options.idle_timeout <= now) {
      q.pop_front();
      --idle_count;
    }
    it = q.empty() ? idle.erase(it) : std::next(it);
  }
}

std::unique_ptr<Connection> HttpsTransport::Impl::take_idle(const std::string& key) {
  prune(Clock::now());
  auto it = idle.find(key);
  if (it == idle.end()) return nullptr;
  auto& q = it->second;
  while (!q.empty()) {
    auto conn = std::move(q.back());  // most recently used first: the least likely to be stale
    q.pop_back();
    --idle_count;
    if (still_open(*conn)) {
      conn->reused = true;
      ++reused;
      return conn;
    }
  }
  return nullptr;
}

void HttpsTransport::Impl::put_idle(std::unique_ptr<Connection> conn) {
  if (options.max_idle_per_host == 0 || options.max_idle_total == 0) return;
  conn->tcp().expires_never();
  conn->idle_since = Clock::now();
  auto& q = idle[conn->key];
  if (q.size() >= options.max_idle_per_host) {
    q.pop_front();
    --idle_count;
  }
  while (idle_count >= options.max_idle_total) {
    // Evict the connection idle the longest, whichever host it belongs to.
    std::deque<std::unique_ptr<Connection>>* oldest = nullptr;
    for (auto& [k, other] : idle) {
      if (!other.empty() &&
          (oldest == nullptr || other.front()->idle_since < oldest->front()->idle_since)) {
        oldest = &other;
      }
    }
    if (oldest == nullptr) break;
    oldest->pop_front();
    --idle_count;
  }
  q.push_back(std::move(conn));
  ++idle_count;
  arm_sweeper();
}

net::awaitable<Result<std::unique_ptr<Connection>>> HttpsTransport::Impl::connect(
    HttpRequest request, Clock::time_point deadline) {
  auto conn = std::make_unique<Connection>();
  conn->key = request.scheme + "://" + authority(request.host, request.port);
  const bool via_proxy =
      proxy && request.scheme == "https" && !proxy_bypassed(no_proxy, request.host, request.port);
  const std::string host = via_proxy ? proxy->host : request.host;
  const std::uint16_t port = via_proxy ? proxy->port : request.port;
  const std::string hop = via_proxy ? " (via proxy " + authority(host, port) + ")" : "";

  // Asio's resolver has no deadline of its own: a timer cancels it.
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  net::steady_timer timer(ioc);
  timer.expires_at(deadline);
  timer.async_wait([weak = std::weak_ptr<tcp::resolver>(resolver)](error_code ec) {
    if (ec) return;
    if (auto r = weak.lock()) r->cancel();
  });
  auto [resolve_ec, endpoints] = co_await resolver->async_resolve(host, std::to_string(port), kUse);
  timer.cancel();
  if (resolve_ec) {
    const bool timed_out = Clock::now() >= deadline;
    co_return request_error("Transport.Resolve", ErrorClass::kTransient, request,
                            "cannot resolve " + host + hop + ": " +
                                (timed_out ? std::string("timed out") : resolve_ec.message()));
  }

  beast::tcp_stream stream(ioc);
  stream.expires_at(deadline);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kUse);
  (void)endpoint;
  if (connect_ec) {
    co_return request_error("Transport.Connect", ErrorClass::kTransient, request,
                            "connect" + hop + ": " +
                                (connect_ec == beast::error::timeout ? std::string("timed out")
                                                                     : connect_ec.message()));
  }
  stream.socket().set_option(tcp::no_delay(true));

  if (via_proxy) {
    const std::string target = authority(request.host, request.port);
    http::request<http::empty_body> creq{http::verb::connect, target, 11};
    creq.set(http::field::host, target);
    if (!proxy_authorization.empty()) {
      creq.set(http::field::proxy_authorization, proxy_authorization);
    }
    auto [write_ec, written] = co_await http::async_write(stream, creq, kUse);
    (void)written;
    if (write_ec) {
      co_return request_error("Transport.Connect", ErrorClass::kTransient, request,
                              "proxy CONNECT" + hop + ": " + write_ec.message());
    }
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a 2xx answer to CONNECT has no body: the tunnel starts right after it
    auto [read_ec, nread] = co_await http::async_read(stream, conn->buffer, parser, kUse);
    (void)nread;
    if (read_ec) {
      co_return request_error(
          "Transport.Connect", ErrorClass::kTransient, request,
          "proxy CONNECT" + hop + ": " +
              (read_ec == beast::error::timeout ? std::string("timed out") : read_ec.message()));
    }
    const unsigned status = parser.get().result_int();
    if (status != 200) {
      // 403/407: the proxy refuses us and will keep doing so; anything else may pass.
      const auto cls =
          (status == 403 || status == 407) ? ErrorClass::kTerminal : ErrorClass::kTransient;
      co_return request_error("Transport.Proxy", cls, request,
                              "proxy refused CONNECT" + hop + ": HTTP " + std::to_string(status));
    }
    if (conn->buffer.size() != 0) {
      co_return request_error("Transport.Proxy", ErrorClass::kTransient, request,
                              "proxy sent data before the TLS handshake" + hop);
    }
  }

  if (request.scheme == "https") {
    conn->tls = std::make_unique<TlsStream>(std::move(stream), ssl_ctx);
    SSL* ssl_handle = conn->tls->native_handle();
    if (is_ip_literal(request.host)) {
      // No SNI for IP literals (RFC 6066); the certificate must carry the IP in a SAN.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), request.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_handle, request.host.c_str());
      // Without SSL_set1_host OpenSSL performs no name check at all.
      SSL_set1_host(ssl_handle, request.host.c_str());
      SSL_set_hostflags(ssl_handle, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    conn->tls->set_verify_mode(ssl::verify_peer);
    conn->tls->set_verify_callback(ssl::host_name_verification(request.host));
    beast::get_lowest_layer(*conn->tls).expires_at(deadline);
    auto [hs_ec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kUse);
    if (hs_ec) {
      if (hs_ec == beast::error::timeout) {
        co_return request_error("Transport.Connect", ErrorClass::kTransient, request,
                                "TLS handshake" + hop + ": timed out");
      }
      const long verify = SSL_get_verify_result(ssl_handle);
      if (verify != X509_V_OK) {
        co_return request_error(
            "Transport.Tls", ErrorClass::kTerminal, request,
            std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify));
      }
      if (hs_ec.category() == net::error::get_ssl_category() ||
          hs_ec.category() == ssl::error::get_stream_category()) {
        co_return request_error("Transport.Tls", ErrorClass::kTerminal, request,
                                "TLS handshake" + hop + ": " + hs_ec.message());
      }
      co_return request_error("Transport.Connect", ErrorClass::kTransient, request,
                              "TLS handshake" + hop + ": " + hs_ec.message());
    }
  } else {
    conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
  }
  ++opened;
  co_return std::move(conn);
}

net::awaitable<Result<HttpResponse>> HttpsTransport::Impl::run(HttpRequest request,
                                                               Clock::time_point deadline) {
  if (request.scheme != "https" && !(request.scheme == "http" && options.allow_http)) {
    co_return request_error("Transport.Scheme", ErrorClass::kTerminal, request,
                            request.scheme == "http"
                                ? "plain http is not allowed (only endpoint overrides may use it)"
                                : "unsupported scheme");
  }
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown || request.host.empty()) {
    co_return request_error("Transport.Request", ErrorClass::kTerminal, request,
                            "malformed request");
  }
  http::request<http::string_body> req;
  req.method(verb);
  req.target(request.target.empty() ? "/" : request.target);
  req.version(11);
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  if (req.find(http::field::host) == req.end()) req.set(http::field::host, host_header(request));
  if (req.find(http::field::user_agent) == req.end()) {
    req.set(http::field::user_agent, options.user_agent);
  }
  req.body() = request.body;
  req.prepare_payload();
  req.keep_alive(true);

  const std::string key = request.scheme + "://" + authority(request.host, request.port);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = attempt == 0 ? take_idle(key) : nullptr;
    if (!conn) {
      auto fresh = co_await connect(request, deadline);
      if (!fresh.ok()) co_return fresh.error();
      conn = std::move(fresh.value());
    }
    const bool retry_allowed = conn->reused && attempt == 0;

    conn->tcp().expires_at(deadline);
    error_code ec;
    if (conn->tls) {
      std::tie(ec, std::ignore) = co_await http::async_write(*conn->tls, req, kUse);
    } else {
      std::tie(ec, std::ignore) = co_await http::async_write(*conn->plain, req, kUse);
    }
    if (ec) {
      // A pooled connection the server closed in the meantime: nothing reached a live server.
      if (retry_allowed && ec != beast::error::timeout) {
        ++retries;
        continue;
      }
      const bool timeout = ec == beast::error::timeout;
      co_return request_error(
          timeout ? "Transport.Timeout" : "Transport.Reset", ErrorClass::kOutcomeUnknown, request,
          timeout ? "timed out sending the request" : "sending the request: " + ec.message());
    }

    http::response_parser<http::string_body> parser;
    parser.body_limit(options.body_limit);
    parser.header_limit(kHeaderLimit);
    if (conn->tls) {
      std::tie(ec, std::ignore) = co_await http::async_read(*conn->tls, conn->buffer, parser, kUse);
    } else {
      std::tie(ec, std::ignore) =
          co_await http::async_read(*conn->plain, conn->buffer, parser, kUse);
    }
    if (ec) {
      // The keep-alive race seen from the read side: the server closed the idle connection as our
      // request went out, and not one byte came back. Re-sending is safe because the gateway
      // rejects a replayed SignatureNonce, so a request that did get through cannot run twice.
      if (retry_allowed && !parser.got_some() && conn->buffer.size() == 0 && is_closed(ec)) {
        ++retries;
        continue;
      }
      if (ec == beast::error::timeout) {
        co_return request_error("Transport.Timeout", ErrorClass::kOutcomeUnknown, request,
                                "timed out waiting for the response");
      }
      if (is_closed(ec)) {
        co_return request_error(
            "Transport.Reset", ErrorClass::kOutcomeUnknown, request,
            "connection closed before the response was complete: " + ec.message());
      }
      if (ec == http::error::body_limit) {
        co_return request_error(
            "Transport.Protocol", ErrorClass::kOutcomeUnknown, request,
            "response body exceeds " + std::to_string(options.body_limit) + " bytes");
      }
      co_return request_error("Transport.Protocol", ErrorClass::kOutcomeUnknown, request,
                              "malformed response: " + ec.message());
    }

    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (res.keep_alive() && !parser.need_eof()) put_idle(std::move(conn));
    co_return out;
  }
}

HttpsTransport::HttpsTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsTransport::~HttpsTransport() {
  // Idle connections are closed on their own thread; in-flight requests end within their deadline.
  net::post(impl_->ioc, [p = impl_.get()] {
    p->idle.clear();
    p->idle_count = 0;
    p->sweeper.cancel();
  });
  impl_->work.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<HttpsTransport>> HttpsTransport::create(TransportOptions options) {
  auto impl = std::make_unique<Impl>();
  SSL_CTX* ctx = impl->ssl_ctx.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // The pool keeps up to max_idle_total connections: an idle one gives its TLS read and write
  // buffers (about 16 KiB each) back instead of holding them until it is used again.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  impl->ssl_ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  impl->ssl_ctx.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (options.use_system_ca) {
    impl->ssl_ctx.set_default_verify_paths(ec);
    if (ec) {
      return make_error("Transport.Tls", ErrorClass::kTerminal,
                        "cannot load the system CA store: " + ec.message());
    }
  }
  if (!options.ca_file.empty()) {
    impl->ssl_ctx.load_verify_file(options.ca_file, ec);
    if (ec) {
      return make_error("Transport.Tls", ErrorClass::kTerminal,
                        "cannot load CA file " + options.ca_file + ": " + ec.message());
    }
  }

  if (options.client_cert_file.empty() != options.client_key_file.empty()) {
    return make_error("Transport.Tls", ErrorClass::kTerminal,
                      "a client certificate needs both its certificate and its key file");
  }
  if (!options.client_cert_file.empty()) {
    impl->ssl_ctx.use_certificate_chain_file(options.client_cert_file, ec);
    if (ec) {
      return make_error(
          "Transport.Tls", ErrorClass::kTerminal,
          "cannot load client certificate " + options.client_cert_file + ": " + ec.message());
    }
    impl->ssl_ctx.use_private_key_file(options.client_key_file, ssl::context::pem, ec);
    if (ec) {
      // Name the file, never its content.
      return make_error("Transport.Tls", ErrorClass::kTerminal,
                        "cannot load client key " + options.client_key_file + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(impl->ssl_ctx.native_handle()) != 1) {
      return make_error("Transport.Tls", ErrorClass::kTerminal,
                        "client key " + options.client_key_file + " does not match certificate " +
                            options.client_cert_file);
    }
  }

  const ProxySettings proxy =
      options.proxy ? *options.proxy : ProxySettings::from_environment(process_env());
  if (!proxy.https_proxy.empty()) {
    std::string url = proxy.https_proxy;
    if (url.find("://") == std::string::npos) url = "http://" + url;  // "host:port" is common
    auto parsed = parse_url(url);
    if (!parsed || parsed->scheme != "http") {
      // The URL may hold a password: name the problem, not the value.
      return make_error("Transport.Proxy", ErrorClass::kTerminal,
                        "HTTPS_PROXY must be http://[user:pass@]host:port");
    }
    if (!parsed->userinfo.empty()) {
      impl->proxy_authorization = "Basic " + base64_encode(percent_decode(parsed->userinfo));
      parsed->userinfo.clear();
    }
    impl->proxy = std::move(parsed);
    impl->no_proxy = proxy.no_proxy;
  }
  impl->options = std::move(options);

  impl->thread = std::thread([p = impl.get()] {
    for (;;) {
      try {
        p->ioc.run();
        return;
      } catch (const std::exception&) {
        // A throwing handler must not take the transport down; co_spawn reports the request's own
        // failure through its future.
      }
    }
  });
  return std::unique_ptr<HttpsTransport>(new HttpsTransport(std::move(impl)));
}

Result<HttpResponse> HttpsTransport::send(const HttpRequest& request,
                                          std::chrono::milliseconds timeout) {
  assert(std::this_thread::get_id() != impl_->thread.get_id());
  const auto deadline = Clock::now() + timeout;
  auto future = net::co_spawn(impl_->ioc, impl_->entry(request, deadline), net::use_future);
  try {
    return *future.get();
  } catch (const std::exception& e) {
    return request_error("Transport.Internal", ErrorClass::kOutcomeUnknown, request, e.what());
  }
}

TransportStats HttpsTransport::stats() const {
  TransportStats s;
  s.connections_opened = impl_->opened.load();
  s.connections_reused = impl_->reused.load();
  s.stale_retries = impl_->retries.load();
  return s;
}

}  // namespace sharekeeper::cloud
