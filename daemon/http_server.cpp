#include "daemon/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <future>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "daemon/logging.hpp"

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
  using Clock = std::chrono::steady_clock;

  // One accepted connection, while it may still be reclaimed or closed at shutdown. Touched only
  // on the io thread.
  struct Conn {
    net::ip::address peer;
    beast::tcp_stream* stream = nullptr;  // set when its session starts
    bool waiting = true;                  // no complete request yet: reclaimable
    Clock::time_point since;              // when it started waiting for this request
  };

  HttpServerOptions options;
  std::shared_ptr<const HttpRouter> router;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  std::future<void> finished;  // set when ioc.run() returns
  std::atomic<int> connections{0};
  std::atomic<std::uint64_t> evicted{0}, refused{0};
  std::atomic<std::uint16_t> bound_port{0};
  bool running = false;
  // io thread only:
  std::map<std::uint64_t, Conn> conns;
  std::uint64_t next_id = 0;
  bool stopping = false;

  static void close_stream(Conn& c) {
    if (c.stream) c.stream->close();
  }

  // Closes the connection that has waited longest for its request (of `peer` when given) to make
  // room; false when every connection is busy answering.
  bool evict_one(const std::optional<net::ip::address>& peer) {
    auto victim = conns.end();
    for (auto it = conns.begin(); it != conns.end(); ++it) {
      if (!it->second.waiting || (peer && it->second.peer != *peer)) continue;
      if (victim == conns.end() || it->second.since < victim->second.since) victim = it;
    }
    if (victim == conns.end()) return false;
    close_stream(victim->second);
    conns.erase(victim);  // its session sees the aborted read and ends
    ++evicted;
    return true;
  }

  void set_waiting(std::uint64_t id, bool waiting) {
    if (auto it = conns.find(id); it != conns.end()) {
      it->second.waiting = waiting;
      it->second.since = Clock::now();
    }
  }

  static http::response<http::string_body> response(HttpReply reply, unsigned version, bool keep) {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
    res.set(http::field::server, "sharekeeper");
    res.set(http::field::content_type, reply.content_type);
    res.set(http::field::cache_control, "no-store");
    for (const auto& [k, v] : reply.headers) res.set(k, v);
    res.keep_alive(keep);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    return res;
  }

  net::awaitable<void> session(tcp::socket socket, std::uint64_t id) {
    beast::tcp_stream stream(std::move(socket));
    struct Leave {
      Impl& self;
      std::uint64_t id;
      ~Leave() {
        self.conns.erase(id);
        --self.connections;
      }
    } leave{*this, id};
    if (auto it = conns.find(id); it != conns.end())
      it->second.stream = &stream;
    else
      co_return;  // reclaimed before it started
    beast::flat_buffer buffer(options.header_limit + 1024);
    bool first = true;
    for (;;) {
      set_waiting(id, true);
      http::request_parser<http::string_body> parser;
      parser.header_limit(options.header_limit);
      parser.body_limit(options.body_limit);
      // The head first, under its own short deadline (a kept-alive connection waits for its next
      // request up to the idle deadline instead); then the body under the whole-request one.
      stream.expires_after(first ? options.header_timeout : options.idle_timeout);
      const auto started = Clock::now();
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                      net::as_tuple(net::use_awaitable));
      (void)n;
      std::optional<HttpReply> early;
      if (!ec) {
        const auto& head = parser.get();
        HttpRequestView view;
        view.version = head.version();
        view.host_headers = static_cast<int>(head.count(http::field::host));
        view.has_transfer_encoding = head.count(http::field::transfer_encoding) > 0;
        // Framing is refused before a body byte is read: with TE the body's end is ambiguous.
        early = HttpRouter::check_head(view);
        if (!early) {
          // A first request's whole read is bounded; a kept-alive one's idle wait is not counted.
          const auto left =
              options.read_timeout - (first ? Clock::now() - started : Clock::duration{});
          stream.expires_after(std::chrono::duration_cast<std::chrono::milliseconds>(
              std::max<Clock::duration>(left, std::chrono::milliseconds(1))));
          std::tie(ec, n) =
              co_await http::async_read(stream, buffer, parser, net::as_tuple(net::use_awaitable));
        }
      }
      first = false;
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == net::error::eof || ec == net::error::connection_reset ||
            ec == net::error::operation_aborted || ec == net::error::bad_descriptor)
          break;
        // Any framing or limit error: answer 400 and close, so no leftover bytes are ever read as a
        // second request (smuggling).
        HttpReply bad;
        bad.status =
            (ec == http::error::body_limit) ? 413 : (ec == http::error::header_limit ? 431 : 400);
        bad.body = "bad request\n";
        auto res = response(std::move(bad), 11, false);
        stream.expires_after(options.write_timeout);
        co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        break;
      }
      set_waiting(id, false);
      auto& req = parser.get();
      if (early) {
        auto res = response(std::move(*early), req.version(), false);
        stream.expires_after(options.write_timeout);
        co_await http::async_write(stream, res, net::as_tuple(net::use_awaitable));
        break;
      }
      HttpRequestView view;
      view.method = std::string(req.method_string());
      view.target = std::string(req.target());
      if (auto it = req.find(http::field::authorization); it != req.end())
        view.authorization = std::string(it->value());
      view.version = req.version();
      view.host_headers = static_cast<int>(req.count(http::field::host));
      view.has_transfer_encoding = false;  // refused above
      view.has_body = !req.body().empty();
      HttpReply reply = router->handle(view);
      wipe_authorization(view);
      const bool keep = req.keep_alive() && !reply.close && !stopping;
      auto res = response(std::move(reply), req.version(), keep);
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
        if (ec == net::error::operation_aborted || !acceptor.is_open() || stopping) co_return;
        // e.g. EMFILE: keep serving the connections we have; back off instead of spinning.
        net::steady_timer pause(ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(net::as_tuple(net::use_awaitable));
        continue;
      }
      beast::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec).address();
      if (stopping || peer_ec) {
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      // Beast has no connection cap: count, and make room by closing the slowest waiting
      // connection (of this peer first) rather than refusing the newcomer.
      const auto per_peer = std::count_if(conns.begin(), conns.end(),
                                          [&](const auto& c) { return c.second.peer == peer; });
      bool room = true;
      if (per_peer >= options.max_connections_per_peer) room = evict_one(peer);
      if (room && static_cast<int>(conns.size()) >= options.max_connections)
        room = evict_one(std::nullopt);
      if (!room) {
        ++refused;
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      const std::uint64_t id = next_id++;
      conns.emplace(id, Conn{peer, nullptr, true, Clock::now()});
      ++connections;
      net::co_spawn(ioc, session(std::move(socket), id), [](const std::exception_ptr& e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::warn("admin HTTP connection failed", {{"error", x.what()}});
        }
      });
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
  // Not detached: a listener that dies (it should not: every error is a value) is logged, since
  // /healthz and /metrics stop answering with it.
  net::co_spawn(impl_->ioc, impl_->accept_loop(), [this](const std::exception_ptr& e) {
    if (!e || impl_->stopping) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("admin HTTP listener failed; /healthz and /metrics no longer answer",
                 {{"error", x.what()}});
    }
  });
  impl_->running = true;
  std::promise<void> done;
  impl_->finished = done.get_future();
  impl_->thread = std::thread([this, done = std::move(done)]() mutable {
    impl_->ioc.run();
    done.set_value();
  });
  return impl_->bound_port;
}

void HttpServer::stop() {
  if (!impl_->running) return;
  impl_->running = false;
  // Two phases: ask (stop accepting, close every connection so each session's pending operation
  // ends), wait for the sessions and the accept loop to unwind so run() returns by itself, then
  // force what is left after the grace period.
  net::post(impl_->ioc, [this] {
    impl_->stopping = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& [id, c] : impl_->conns) Impl::close_stream(c);
  });
  if (impl_->finished.wait_for(impl_->options.shutdown_grace) != std::future_status::ready) {
    log::warn("admin HTTP server: connections still open at the shutdown deadline; closing them",
              {{"connections", std::to_string(impl_->connections.load())}});
    impl_->ioc.stop();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }
int HttpServer::open_connections() const { return impl_->connections.load(); }
std::uint64_t HttpServer::evicted_connections() const { return impl_->evicted.load(); }
std::uint64_t HttpServer::refused_connections() const { return impl_->refused.load(); }

}  // namespace sharekeeper::daemon
