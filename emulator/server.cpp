#include "emulator/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "emulator/verifier.hpp"

namespace sharekeeper::emulator {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Outcome {
  Response response;
  bool drop = false;  // close the connection without answering
};

Response json_response(int status, const json& body, unsigned version) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "sharekeeper-emulator");
  res.set(http::field::content_type, "application/json;charset=utf-8");
  res.body() = body.dump();
  return res;
}

json admin_error(std::string_view message) { return json{{"error", std::string(message)}}; }

std::map<std::string, std::string> query_of(std::string_view target) {
  std::map<std::string, std::string> out;
  const auto question = target.find('?');
  if (question == std::string_view::npos) return out;
  for (auto& [name, value] : parse_form(target.substr(question + 1))) out.emplace(name, value);
  return out;
}

template <class Duration>
net::awaitable<void> sleep_for(Duration duration) {
  if (duration.count() <= 0) co_return;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(kTuple);
}

}  // namespace

struct Server::Impl {
  Impl(Model& m, ServerOptions o)
      : model(m),
        options(std::move(o)),
        verifier([this](std::string_view id, Clock::time_point now) -> std::optional<KeyRecord> {
          if (auto key = model.find_key(id, now)) return key;
          // Model::find_key hides expired STS keys; asking as of the epoch finds them again so
          // the verifier can answer InvalidSecurityToken.Expired rather than "not found".
          if (id.rfind("STS.", 0) == 0) return model.find_key(id, Clock::time_point{});
          return std::nullopt;
        }),
        faults(options.fault_seed),
        journal(options.journal_capacity),
        rate(options.rate_limits),
        latency(options.latency, options.fault_seed),
        request_ids(std::random_device{}()) {}

  std::string next_request_id() {
    // The gateway's shape: 8-4-4-4-12 upper-case hex.
    const std::uint64_t a = request_ids(), b = request_ids();
    char out[40];
    std::snprintf(out, sizeof out, "%08X-%04X-%04X-%04X-%012llX", static_cast<unsigned>(a >> 32),
                  static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                  static_cast<unsigned>(b >> 48),
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return out;
  }

  net::awaitable<Outcome> handle_api(const Request& req);
  Outcome handle_admin(const Request& req);
  template <class Stream>
  net::awaitable<void> serve(Stream& stream, std::uint64_t id);
  net::awaitable<void> session(tcp::socket socket, std::uint64_t id);
  net::awaitable<void> accept_loop();

  // A transport-level refusal (431, 413, bad framing) in the gateway's error shape, with a
  // request id, so a client parses it like any other error (`head`: the request head when it was
  // read, for HostId and the product).
  Response transport_error(int status, std::string_view code, std::string_view message,
                           const http::request_header<>* head);

  // One open connection (io thread only): reclaimable while it waits (handshake, or between
  // requests) rather than answering.
  struct Conn {
    beast::tcp_stream* stream = nullptr;  // the lowest layer, set once its session runs
    bool waiting = true;
    std::chrono::steady_clock::time_point since;
  };
  std::map<std::uint64_t, Conn> conns;
  std::uint64_t next_conn = 0;
  void set_waiting(std::uint64_t id, bool waiting) {
    if (auto it = conns.find(id); it != conns.end()) {
      it->second.waiting = waiting;
      it->second.since = std::chrono::steady_clock::now();
    }
  }
  bool evict_longest_waiting() {
    auto victim = conns.end();
    for (auto it = conns.begin(); it != conns.end(); ++it)
      if (it->second.waiting && (victim == conns.end() || it->second.since < victim->second.since))
        victim = it;
    if (victim == conns.end()) return false;
    if (victim->second.stream) victim->second.stream->close();
    conns.erase(victim);  // its session sees the aborted operation and ends
    return true;
  }

  void notify_commit(const CommitEvent& event) {
    CommitObserver observer;
    {
      const std::lock_guard<std::mutex> lock(observer_mutex);
      observer = commit_observer;
    }
    if (observer) observer(event);
  }

  Model& model;
  ServerOptions options;
  std::mutex observer_mutex;
  CommitObserver commit_observer;
  Verifier verifier;
  FaultInjector faults;
  Journal journal;
  EmulatedClock clock;
  RateLimits rate;
  Latency latency;
  std::mt19937_64 request_ids;  // io thread only
  std::atomic<std::size_t> connections{0};
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
  std::optional<ssl::context> ssl_context;
  std::thread thread;
  // Declared last: destroyed first, so pending coroutine frames go while everything they use still
  // lives.
  net::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
};

net::awaitable<Outcome> Server::Impl::handle_api(const Request& req) {
  const auto started_at = std::chrono::steady_clock::now();
  std::map<std::string, std::string> headers;
  for (const auto& field : req) {
    const std::string name = lower(field.name_string());
    auto [it, inserted] = headers.emplace(name, std::string(field.value()));
    if (!inserted) it->second += "," + std::string(field.value());
  }
  const Clock::time_point now = clock.now();
  const std::string method(req.method_string());
  const std::string target(req.target());
  Verification v = verifier.verify(GatewayRequest{method, target, &headers, req.body()}, now);

  ApiCall call;
  call.product = v.product;
  call.version = v.version;
  call.action = v.action;
  call.params = std::move(v.params);
  call.caller = v.caller;
  call.request_id = next_request_id();
  if (auto host = headers.find("host"); host != headers.end()) call.host = host->second;
  call.now = now;

  JournalEntry entry;
  entry.time = now;
  entry.request_id = call.request_id;
  entry.method = method;
  entry.product = call.product;
  entry.action = call.action;
  entry.version = call.version;
  entry.account = v.ok ? call.caller.account_uid : std::string{};
  entry.signature = std::string(to_string(v.signature));

  co_await sleep_for(latency.next());

  // A model bug must cost one 500, not the connection (and never the io thread).
  auto call_model = [&]() -> ApiResponse {
    try {
      return model.call(call);
    } catch (const std::exception& e) {
      return make_error(
          call, 500, "InternalError",
          std::string("The request processing has failed due to some unknown error: ") + e.what());
    }
  };
  ApiResponse response;
  bool drop = false;
  std::optional<std::chrono::milliseconds> retry_after;
  if (!v.ok) {
    response = make_error(call, v.status, v.code, v.message);
  } else if (std::chrono::milliseconds wait{0};
             !call.caller.anonymous && !rate.allow(call.caller.account_uid, call.product,
                                                   std::chrono::steady_clock::now(), &wait)) {
    response =
        make_error(call, 400, "Throttling.User", "Request was denied due to user flow control.");
    retry_after = wait;
  } else {
    if (!call.caller.anonymous && !RateLimits::is_read(call.action))
      rate.count_write(call.caller.account_uid, call.product);
    const FaultDecision fault = faults.decide(call.product, call.action, call.caller.account_uid);
    entry.fault_rule = fault.rule_id;
    co_await sleep_for(fault.latency);
    const bool fails_first = (fault.fail || fault.drop) && !fault.after_commit;
    if (!fails_first) {
      response = call_model();
      entry.committed = true;
      notify_commit(CommitEvent{call.product, call.action, call.caller.account_uid, response.status,
                                fault.rule_id});
      // Applied; the answer may now come late, be lost or be replaced: the "did it happen?" case.
      co_await sleep_for(fault.latency_after);
    }
    if (fault.drop) {
      drop = true;
    } else if (fault.fail) {
      response = make_error(call, fault.status, fault.code, fault.message);
      if (fault.retry_after) retry_after = fault.retry_after;
    }
  }

  entry.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_at)
          .count();
  Outcome out;
  if (drop) {
    entry.dropped = true;
    journal.record(std::move(entry));
    out.drop = true;
    co_return out;
  }
  entry.status = response.status;
  if (response.status >= 400 && response.body.is_object() && response.body.contains("Code") &&
      response.body["Code"].is_string()) {
    entry.code = response.body["Code"].get<std::string>();
  }
  journal.record(std::move(entry));
  out.response = json_response(response.status, response.body, req.version());
  out.response.set("x-acs-request-id", call.request_id);
  if (retry_after) out.response.set("x-acs-retry-after", std::to_string(retry_after->count()));
  co_return out;
}

Outcome Server::Impl::handle_admin(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::string path(target.substr(0, target.find('?')));
  const auto query = query_of(target);
  const auto method = req.method();
  auto reply = [&](int status, const json& body) {
    return Outcome{json_response(status, body, req.version()), false};
  };
  auto param = [&](const char* name) -> std::optional<std::string> {
    const auto it = query.find(name);
    if (it == query.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
  auto body_json = [&]() -> json {
    if (req.body().empty()) return json::object();
    return json::parse(req.body());
  };
  // Each route names the methods it serves; a known path with another method is 405, never a
  // mutation.
  auto allow = [&](std::initializer_list<http::verb> verbs) {
    for (const auto verb : verbs) {
      if (verb == method) return true;
    }
    return false;
  };
  try {
    if (path == "/_emulator/health") {
      if (!allow({http::verb::get})) return reply(405, admin_error("use GET"));
      return reply(200, json{{"status", "ok"}});
    }
    if (path == "/_emulator/state") {
      if (!allow({http::verb::get})) return reply(405, admin_error("use GET"));
      return reply(200, model.state());
    }
    if (path == "/_emulator/reset") {
      if (!allow({http::verb::post})) return reply(405, admin_error("use POST"));
      model.reset();
      verifier.clear_nonces();
      return reply(200, json{{"reset", true}});
    }
    if (path == "/_emulator/seed") {
      if (!allow({http::verb::post})) return reply(405, admin_error("use POST"));
      try {
        model.load_seed(body_json());
      } catch (const SeedError& e) {
        return reply(400, admin_error(e.what()));
      }
      verifier.clear_nonces();
      return reply(200, json{{"loaded", true}});
    }
    if (path == "/_emulator/faults") {
      if (allow({http::verb::get})) return reply(200, faults.to_json());
      if (allow({http::verb::delete_})) {
        faults.clear();
        return reply(200, faults.to_json());
      }
      if (allow({http::verb::post})) {
        std::vector<std::uint64_t> ids;
        try {
          ids = faults.add(body_json());
        } catch (const std::invalid_argument& e) {
          return reply(400, admin_error(e.what()));
        }
        json out = faults.to_json();
        out["added"] = ids;
        return reply(200, out);
      }
      return reply(405, admin_error("use GET, POST or DELETE"));
    }
    if (path == "/_emulator/rate-limits") {
      if (allow({http::verb::get})) return reply(200, rate.to_json());
      if (allow({http::verb::delete_})) {
        rate.configure({});
        rate.reset_counters();
        return reply(200, rate.to_json());
      }
      if (allow({http::verb::post})) {
        try {
          rate.configure(RateLimitConfig::parse(body_json()));
        } catch (const std::invalid_argument& e) {
          return reply(400, admin_error(e.what()));
        }
        rate.reset_counters();
        return reply(200, rate.to_json());
      }
      return reply(405, admin_error("use GET, POST or DELETE"));
    }
    if (path == "/_emulator/latency") {
      if (allow({http::verb::post})) {
        try {
          latency.configure(LatencyConfig::parse(body_json()));
        } catch (const std::invalid_argument& e) {
          return reply(400, admin_error(e.what()));
        }
      } else if (allow({http::verb::delete_})) {
        latency.configure({});
      } else if (!allow({http::verb::get})) {
        return reply(405, admin_error("use GET, POST or DELETE"));
      }
      return reply(200, latency.config().to_json());
    }
    if (path == "/_emulator/requests") {
      if (allow({http::verb::get})) {
        std::uint64_t since = 0;
        if (auto s = param("since")) since = std::stoull(*s);
        return reply(200, journal.to_json(since, param("action").value_or("")));
      }
      if (allow({http::verb::delete_})) {
        journal.clear();
        return reply(200, journal.to_json());
      }
      return reply(405, admin_error("use GET or DELETE"));
    }
    if (path == "/_emulator/accept-invitations") {
      if (!allow({http::verb::post})) return reply(405, admin_error("use POST"));
      const int accepted = model.accept_invitations(param("account"), clock.now());
      return reply(200, json{{"accepted", accepted}});
    }
    if (path == "/_emulator/access") {
      if (!allow({http::verb::get})) return reply(405, admin_error("use GET"));
      const auto account = param("account");
      const auto resource = param("resource");
      if (!account || !resource) return reply(400, admin_error("give ?account=UID&resource=ID"));
      return reply(200, model.access(*account, *resource, clock.now()));
    }
    if (path == "/_emulator/clock") {
      if (allow({http::verb::post})) {
        const json body = body_json();
        if (body.contains("now") && body["now"].is_string()) {
          const auto at = parse_timestamp(body["now"].get<std::string>());
          if (!at) return reply(400, admin_error("now must be yyyy-MM-ddTHH:mm:ssZ"));
          clock.set_now(*at);
        } else if (body.contains("offsetSeconds") && body["offsetSeconds"].is_number_integer()) {
          clock.set_offset(std::chrono::seconds(body["offsetSeconds"].get<std::int64_t>()));
        } else {
          return reply(400, admin_error(R"(give {"now": "...Z"} or {"offsetSeconds": N})"));
        }
      } else if (allow({http::verb::delete_})) {
        clock.reset();
      } else if (!allow({http::verb::get})) {
        return reply(405, admin_error("use GET, POST or DELETE"));
      }
      return reply(
          200, json{{"now", format_timestamp(clock.now())},
                    {"offsetSeconds",
                     std::chrono::duration_cast<std::chrono::seconds>(clock.offset()).count()}});
    }
    return reply(404, admin_error("no such admin route: " + path));
  } catch (const json::exception& e) {
    return reply(400, admin_error(std::string("bad JSON: ") + e.what()));
  } catch (const std::logic_error& e) {  // stoull
    return reply(400, admin_error(std::string("bad parameter: ") + e.what()));
  } catch (const std::exception& e) {
    return reply(500, admin_error(e.what()));
  }
}

Response Server::Impl::transport_error(int status, std::string_view code, std::string_view message,
                                       const http::request_header<>* head) {
  ApiCall call;
  call.request_id = next_request_id();
  if (head != nullptr) {
    call.host = std::string((*head)[http::field::host]);
    call.version = std::string((*head)["x-acs-version"]);
  }
  const ApiResponse error = make_error(call, status, code, message);
  Response res = json_response(status, error.body, 11);
  res.set("x-acs-request-id", call.request_id);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

namespace {

// Framing the emulator refuses on the request head, before any body byte (RFC 9112): a missing
// or repeated Host on HTTP/1.1, and any Transfer-Encoding except exactly `chunked` on a POST
// without Content-Length (TE with Content-Length, or on a method without a body, is how requests
// get smuggled; no client of the real API sends either).
std::optional<std::string> framing_problem(const http::request_header<>& head) {
  const auto hosts = head.count(http::field::host);
  if (hosts > 1) return "more than one Host header";
  if (hosts == 0 && head.version() >= 11) return "HTTP/1.1 needs a Host header";
  const auto codings = head.count(http::field::transfer_encoding);
  if (codings == 0) return std::nullopt;
  if (head.count(http::field::content_length) > 0)
    return "Transfer-Encoding together with Content-Length";
  if (head.method() != http::verb::post) return "Transfer-Encoding on a request without a body";
  if (codings > 1 || !beast::iequals(head[http::field::transfer_encoding], "chunked"))
    return "only Transfer-Encoding: chunked is accepted";
  return std::nullopt;
}

}  // namespace

template <class Stream>
net::awaitable<void> Server::Impl::serve(Stream& stream, std::uint64_t id) {
  beast::flat_buffer buffer;
  for (;;) {
    set_waiting(id, true);
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // Beast checks Content-Length against the limit while parsing the header, so the larger (admin)
    // limit goes first and the API's is applied once the target is known: seeds for scale tests are
    // larger than any API body.
    parser.body_limit(std::max(options.body_limit, options.admin_body_limit));
    beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
    beast::error_code read_error;
    std::tie(read_error, std::ignore) =
        co_await http::async_read_header(stream, buffer, parser, kTuple);
    std::optional<std::string> framing;
    if (!read_error) {
      set_waiting(id, false);
      const auto& head = parser.get();
      framing = framing_problem(head);
      if (!framing &&
          std::string_view(head.target().data(), head.target().size()).rfind("/_emulator/", 0) !=
              0) {
        if (parser.content_length() && *parser.content_length() > options.body_limit) {
          read_error = http::error::body_limit;
        } else {
          parser.body_limit(options.body_limit);  // still bounds a chunked body
        }
      }
    }
    if (!read_error && !framing) {
      const auto& head = parser.get();
      // curl sends Expect: 100-continue for bodies over 1 KiB and would otherwise wait a second.
      if (beast::iequals(head[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, head.version()};
        std::tie(read_error, std::ignore) = co_await http::async_write(stream, go_on, kTuple);
      }
    }
    if (!read_error && !framing) {
      std::tie(read_error, std::ignore) = co_await http::async_read(stream, buffer, parser, kTuple);
    }
    if (read_error || framing) {
      // After a framing error there is no telling where the next request starts: answer and close.
      int status = 0;
      std::string code = "BadRequest", message;
      if (framing) {
        status = 400;
        message = *framing;
      } else if (read_error == http::error::body_limit) {
        status = 413;
        code = "RequestEntityTooLarge";
        message =
            "The request body is larger than " + std::to_string(options.body_limit) + " bytes.";
      } else if (read_error == http::error::header_limit) {
        status = 431;
        code = "RequestHeaderFieldsTooLarge";
        message = "The request line and headers are larger than " +
                  std::to_string(options.header_limit) + " bytes.";
      } else if (read_error.category() ==
                     http::make_error_code(http::error::bad_target).category() &&
                 read_error != http::error::end_of_stream &&
                 read_error != http::error::partial_message) {
        status = 400;
        message = "Malformed HTTP request: " + read_error.message() + ".";
      }
      if (status != 0) {
        // The head, when it was parsed, names the host and product for HostId and Recommend.
        const bool have_head = parser.is_header_done();
        Response res = transport_error(status, code, message, have_head ? &parser.get() : nullptr);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, res, kTuple);
      }
      break;
    }
    Request& req = parser.get();
    beast::get_lowest_layer(stream).expires_never();
    Outcome out;
    const std::string_view target(req.target().data(), req.target().size());
    if (target.rfind("/_emulator/", 0) == 0) {
      out = handle_admin(req);
    } else {
      out = co_await handle_api(req);
    }
    if (out.drop) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(stream).close();
      co_return;
    }
    out.response.keep_alive(req.keep_alive());
    out.response.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
    auto [write_error, written] = co_await http::async_write(stream, out.response, kTuple);
    if (write_error || !out.response.keep_alive()) break;
  }
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> Server::Impl::session(tcp::socket socket, std::uint64_t id) {
  struct Count {
    Impl& self;
    std::uint64_t id;
    ~Count() {
      self.conns.erase(id);
      --self.connections;
    }
  } count{*this, id};
  beast::tcp_stream tcp_stream(std::move(socket));
  const auto registered = conns.find(id);
  if (registered == conns.end()) co_return;  // reclaimed before it started
  if (!ssl_context) {
    registered->second.stream = &tcp_stream;
    co_await serve(tcp_stream, id);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), *ssl_context);
  registered->second.stream = &beast::get_lowest_layer(tls_stream);
  // A socket that never sends its ClientHello is cut soon (and reclaimable meanwhile).
  beast::get_lowest_layer(tls_stream).expires_after(options.handshake_timeout);
  auto [error] = co_await tls_stream.async_handshake(ssl::stream_base::server, kTuple);
  if (error) co_return;
  co_await serve(tls_stream, id);
}

net::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [error, socket] = co_await acceptor->async_accept(kTuple);
    if (error) {
      if (error == net::error::operation_aborted || !acceptor->is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      co_await sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    // Beast has no connection cap of its own (docs/failure-matrix.md §4.9): make room by closing
    // the connection that has waited longest without a request in progress; refuse only when none
    // is.
    if (conns.size() >= options.max_connections && !evict_longest_waiting()) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    const std::uint64_t id = next_conn++;
    conns.emplace(id, Conn{nullptr, true, std::chrono::steady_clock::now()});
    ++connections;
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(io, session(std::move(socket), id), [](const std::exception_ptr& failure) {
      if (!failure) return;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sharekeeper-emulator: connection failed: %s\n", e.what());
      }
    });
  }
}

Server::Server(Model& model, ServerOptions options)
    : impl_(std::make_unique<Impl>(model, std::move(options))) {}

Server::~Server() { stop(); }

void Server::start() {
  Impl& impl = *impl_;
  if (impl.started) throw std::logic_error("Server::start called twice");
  try {
    if (impl.options.tls) {
      impl.ssl_context.emplace(ssl::context::tls_server);
      impl.ssl_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                    ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      impl.ssl_context->use_certificate_chain(net::buffer(impl.options.certificate_pem));
      impl.ssl_context->use_private_key(net::buffer(impl.options.private_key_pem),
                                        ssl::context::pem);
    }
    const auto address = net::ip::make_address(impl.options.host);
    const tcp::endpoint endpoint(address, impl.options.port);
    impl.acceptor.emplace(impl.io);
    impl.acceptor->open(endpoint.protocol());
    impl.acceptor->set_option(net::socket_base::reuse_address(true));
    impl.acceptor->bind(endpoint);
    impl.acceptor->listen(net::socket_base::max_listen_connections);
    impl.port = impl.acceptor->local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("cannot listen on " + impl.options.host + ":" +
                             std::to_string(impl.options.port) + ": " + e.code().message());
  }
  net::co_spawn(impl.io, impl.accept_loop(), [](const std::exception_ptr& failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sharekeeper-emulator: listener failed: %s\n", e.what());
    }
  });
  impl.started = true;
  impl.thread = std::thread([&impl] { impl.io.run(); });
}

void Server::stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  // Stop accepting first, then the loop; connections still open are closed with the io_context.
  net::post(impl.io, [&impl] {
    beast::error_code ignored;
    impl.acceptor->close(ignored);
    impl.io.stop();
  });
  if (impl.thread.joinable()) impl.thread.join();
}

std::uint16_t Server::port() const { return impl_->port; }
bool Server::tls() const { return impl_->options.tls; }
FaultInjector& Server::faults() { return impl_->faults; }
RateLimits& Server::rate_limits() { return impl_->rate; }
Latency& Server::latency() { return impl_->latency; }
Journal& Server::journal() { return impl_->journal; }
EmulatedClock& Server::clock() { return impl_->clock; }
void Server::set_commit_observer(CommitObserver observer) {
  const std::lock_guard<std::mutex> lock(impl_->observer_mutex);
  impl_->commit_observer = std::move(observer);
}
void Server::clear_nonces() { impl_->verifier.clear_nonces(); }

}  // namespace sharekeeper::emulator
