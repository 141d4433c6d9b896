// libFuzzer target over the daemon's HTTP router (docs/failure-matrix.md H1): method, target and
// Authorization header from the input (split at '\n'), flags (Transfer-Encoding, body, Host count,
// HTTP version) from its first byte. Checks that every request gets one of the statuses the router
// documents, that a pass is triggered exactly when it answers 202 and a held config confirmed only
// with 200, and both only by POST with the right bearer token (any case of the scheme) and sound
// framing.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/http_router.hpp"

namespace {

using namespace sharekeeper::daemon;

constexpr std::string_view kToken = "fuzz-admin-token-0123456789abcdef0123";

void check(bool ok) {
  if (!ok) std::abort();
}

std::string_view next_line(std::string_view& in) {
  const auto nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  return line;
}

// "Bearer <token>" with the scheme in any case and one or more spaces (RFC 7235).
bool bearer_is_the_token(std::string_view auth) {
  constexpr std::string_view kScheme = "bearer";
  if (auth.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(auth[i])) != kScheme[i]) return false;
  std::string_view rest = auth.substr(kScheme.size());
  if (rest.empty() || rest.front() != ' ') return false;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest == kToken;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A fresh router per input (its rate-limit buckets are state), so a finding replays from its
  // input.
  int triggered = 0;
  AdminHandlers h;
  h.metrics = [] { return std::string("m\n"); };
  h.healthy = [] { return std::pair<bool, std::string>{true, ""}; };
  h.ready = [] { return std::pair<bool, std::string>{false, "not yet"}; };
  h.status = [] { return std::string("{}"); };
  h.plan = [] { return std::string("{}"); };
  h.reconcile = [&triggered](const std::optional<std::string>& account) {
    if (account && *account != "prod") return false;
    ++triggered;
    return true;
  };
  int confirmed = 0;
  h.confirm_shrink = [&confirmed](const std::string& revision) -> std::pair<int, std::string> {
    if (revision != "r1") return {409, "held: r1"};
    ++confirmed;
    return {200, revision};
  };
  AdminLimits limits;
  limits.clock =
      std::make_shared<sharekeeper::support::ManualClock>();  // time never moves: deterministic
  const HttpRouter router(h, AdminToken(kToken), limits);

  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpRequestView req;
  req.method = std::string(next_line(in));
  req.target = std::string(next_line(in));
  req.authorization = std::string(next_line(in));
  req.has_transfer_encoding = (data[0] & 1) != 0;
  req.has_body = (data[0] & 2) != 0;
  req.host_headers = (data[0] >> 2) & 3;
  req.version = (data[0] & 16) != 0 ? 10 : 11;

  const int before = triggered, confirmed_before = confirmed;
  const HttpReply r = router.handle(req);
  switch (r.status) {
    case 200:
    case 202:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 409:
    case 429:
    case 503:
      break;
    default:
      check(false);
  }
  check((triggered == before + 1) == (r.status == 202));
  check(triggered == before || triggered == before + 1);
  check(confirmed == confirmed_before || confirmed == confirmed_before + 1);
  const bool mutated = triggered != before || confirmed != confirmed_before;
  if (mutated) {
    check(req.method == "POST");
    check(bearer_is_the_token(req.authorization));
    check(!req.has_transfer_encoding);
    check(req.host_headers == 1 || (req.host_headers == 0 && req.version == 10));
  }
  if (confirmed != confirmed_before) check(r.status == 200);
  return 0;
}
