#include "daemon/http_server.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <stdexcept>
#include <thread>

namespace sharekeeper::daemon {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

tcp::endpoint parse_listen(const std::string& listen) {
  std::string host, port;
  if (!listen.empty() && listen.front() == '[') {
    const auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      throw std::runtime_error("bad --listen address '" + listen + "' (want host:port)");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos)
      throw std::runtime_error("bad --listen address '" + listen + "' (want host:port)");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) throw std::runtime_error("bad --listen host '" + host + "' (want an IP address)");
  unsigned long p = 0;
  try {
    std::size_t used = 0;
    p = std::stoul(port, &used);
    if (used != port.size() || p > 65535) throw std::invalid_argument("port");
  } catch (const std::exception&) {
    throw std::runtime_error("bad --listen port '" + port + "'");
  }
  return {addr, static_cast<unsigned short>(p)};
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  std::shared_ptr<const HttpRouter> router;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::atomic<int> connections{0};
  std::atomic<std::uint16_t> bound_port{0};
  bool running = false;

  net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer(options.header_limit + 1024);
    bool first = true;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(options.header_limit);
      parser.body_limit(options.body_limit);
      // One deadline for the whole request: a client trickling bytes cannot hold the socket longer.
      // Requests after the first on a kept-alive connection get the idle deadline instead.
      stream.expires_after(first ? options.read_timeout : options.idle_timeout);
      first = false;
      auto [ec, n] =
          co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
      (void)n;
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::eof || ec == net::error::connection_reset ||
            ec == net::error::operation_aborted)
          break;
        // Any framing or limit error: answer 400 and close, so no leftover bytes are ever read as a
        // second request (smuggling).
        HttpReply bad;
        bad.status =
            (ec == http::error::body_limit) ? 413 : (ec == http::error::header_limit ? 431 : 400);
        bad.body = "bad request\n";
        bad.close = true;
        http::response<http::string_body> res{static_cast<http::status>(bad.status), 11};
        res.set(http::field::content_type, bad.content_type);
        res.set(http::field::connection, "close");
        res.body() = bad.body;
        res.prepare_payload();
        stream.expires_after(options.write_timeout);
        co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        break;
      }
      auto& req = parser.get();
      HttpRequestView view;
      view.method = std::string(req.method_string());
      view.target = std::string(req.target());
      if (auto it = req.find(http::field::authorization); it != req.end())
        view.authorization = std::string(it->value());
      view.has_transfer_encoding = req.find(http::field::transfer_encoding) != req.end();
      view.has_body = !req.body().empty();
      HttpReply reply = router->handle(view);
      wipe_authorization(view);

      http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
      res.set(http::field::server, "sharekeeper");
      res.set(http::field::content_type, reply.content_type);
      res.set(http::field::cache_control, "no-store");
      for (const auto& [k, v] : reply.headers) res.set(k, v);
      const bool keep = req.keep_alive() && !reply.close;
      res.keep_alive(keep);
      res.body() = std::move(reply.body);
      res.prepare_payload();
      stream.expires_after(options.write_timeout);
      auto [wec, wn] = co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
      (void)wn;
      if (wec || !keep) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }

  static void wipe_authorization(HttpRequestView& v) {
    // The token string dies with the view; overwrite it so it does not linger in freed heap.
    for (char& c : v.authorization) c = '\0';
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      // Beast has no connection cap: count and refuse above it, so a flood of idle sockets cannot
      // exhaust descriptors (slowloris with many connections).
      if (connections.load() >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      ++connections;
      net::co_spawn(ioc, session(std::move(socket)), [this](std::exception_ptr) { --connections; });
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<const HttpRouter> router)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = std::move(router);
}

HttpServer::~HttpServer() { stop(); }

std::uint16_t HttpServer::start() {
  const tcp::endpoint ep = parse_listen(impl_->options.listen);
  boost::system::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + impl_->options.listen + ": " + ec.message());
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  net::co_spawn(impl_->ioc, impl_->accept_loop(), net::detached);
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return impl_->bound_port;
}

void HttpServer::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  net::post(impl_->ioc, [this] {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->ioc.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }
int HttpServer::open_connections() const { return impl_->connections.load(); }

}  // namespace sharekeeper::daemon
