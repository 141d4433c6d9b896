#pragma once
// Small fakes for the AlibabaClient tests: a Transport that records requests and answers from a
// script (or a handler), and a CredentialsProvider that hands out what the test says.
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cloud/credentials.hpp"
#include "cloud/http.hpp"

namespace sharekeeper::cloud::testing {

inline std::string pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The decoded query of a request target ("/?a=1&b=2").
inline std::map<std::string, std::string> query_of(const HttpRequest& r) {
  std::map<std::string, std::string> out;
  const auto q = r.target.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest = std::string_view(r.target).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    out[pct_decode(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : pct_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

inline std::string header_of(const HttpRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

inline HttpResponse json_response(int status, const nlohmann::json& body,
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers = std::move(headers);
  r.headers.emplace_back("content-type", "application/json;charset=utf-8");
  return r;
}

inline HttpResponse ok(const nlohmann::json& body = nlohmann::json::object()) {
  nlohmann::json b = body;
  b["RequestId"] = "REQ-OK";
  return json_response(200, b);
}

inline HttpResponse alibaba_error(int status, std::string code, std::string message = "failed") {
  return json_response(status, {{"RequestId", "REQ-ERR"},
                                {"HostId", "example.aliyuncs.com"},
                                {"Code", code},
                                {"Message", message},
                                {"Recommend", "https://api.aliyun.com/troubleshoot?q=" + code}});
}

inline Error transport_error(std::string code, std::string message = "") {
  Error e;
  e.product = "transport";
  e.code = std::move(code);
  e.message = std::move(message);
  e.cls = ErrorClass::kTransient;
  return e;
}

class FakeTransport final : public Transport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  Result<HttpResponse> send(const HttpRequest& request,
                            std::chrono::milliseconds timeout) override {
    Handler h;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      timeouts_.push_back(timeout);
      if (!script_.empty()) {
        Result<HttpResponse> r = std::move(script_.front());
        script_.pop_front();
        return r;
      }
      h = handler_;
    }
    if (h) return h(request);
    return transport_error("Transport.Connect", "fake transport: no scripted response left");
  }

  void push(Result<HttpResponse> r) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(r));
  }
  void set_handler(Handler h) {
    std::lock_guard lock(mu_);
    handler_ = std::move(h);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  std::vector<std::map<std::string, std::string>> queries() const {
    std::vector<std::map<std::string, std::string>> out;
    for (const auto& r : requests()) out.push_back(query_of(r));
    return out;
  }
  std::vector<std::chrono::milliseconds> timeouts() const {
    std::lock_guard lock(mu_);
    return timeouts_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
  std::vector<std::chrono::milliseconds> timeouts_;
};

class FakeCredentials final : public CredentialsProvider {
 public:
  explicit FakeCredentials(Credentials c) { queue_.push_back(std::move(c)); }
  // get() returns the queued credentials in order, repeating the last one.
  void then(Credentials c) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(c));
  }
  void fail_with(Error e) {
    std::lock_guard lock(mu_);
    error_ = std::move(e);
  }
  Result<Credentials> get() override {
    std::lock_guard lock(mu_);
    ++calls_;
    if (error_) return *error_;
    Credentials c = queue_.front();
    if (queue_.size() > 1) queue_.pop_front();
    return c;
  }
  std::string name() const override { return "fake"; }
  void invalidate() override {
    std::lock_guard lock(mu_);
    ++invalidations_;
  }
  int invalidations() const {
    std::lock_guard lock(mu_);
    return invalidations_;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<Credentials> queue_;
  std::optional<Error> error_;
  int calls_ = 0;
  int invalidations_ = 0;
};

}  // namespace sharekeeper::cloud::testing
