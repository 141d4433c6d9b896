// libFuzzer target over the emulator's request parser and gateway (emulator/verifier.cpp): the
// method, target (path and query), headers and form body of one API request, as the server hands
// them over. Input: line 1 the method, line 2 the target, then "name: value" header lines up to an
// empty line, then the body. Checks, beyond "no crash": the verdict is a documented gateway status;
// a refusal always has a code; an accepted call names a product and an action the catalogue knows;
// an unsigned call is accepted only for the two anonymous STS actions; the access key's secret
// never appears in a message; parameters are what the query and the body decode to (no name is
// empty when accepted).
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/verifier.hpp"

namespace {

using namespace sharekeeper::emulator;

constexpr std::string_view kKeyId = "LTAI5tFuzzRequestKey01";
constexpr std::string_view kSecret = "FuzzRequestSecret0123456789abcdef";

void check(bool ok) {
  if (!ok) std::abort();
}

std::string_view next_line(std::string_view& in) {
  const auto nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string method(next_line(in));
  const std::string target(next_line(in));
  std::map<std::string, std::string> headers;
  while (!in.empty()) {
    const std::string_view line = next_line(in);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    auto [it, inserted] = headers.emplace(lower(line.substr(0, colon)), std::string(value));
    if (!inserted) it->second += "," + std::string(value);
  }
  const std::string body(in);

  static Verifier verifier(
      [](std::string_view id, Clock::time_point) -> std::optional<KeyRecord> {
        if (id != kKeyId) return std::nullopt;
        KeyRecord k;
        k.access_key_id = std::string(kKeyId);
        k.secret = std::string(kSecret);
        k.account_uid = "1234567890123456";
        k.arn = "acs:ram::1234567890123456:root";
        k.identity_type = "Account";
        return k;
      },
      VerifierOptions{std::chrono::seconds(900), 4096, true});
  // A fixed time, so inputs carrying a timestamp replay the same way.
  const Clock::time_point now = Clock::time_point(std::chrono::seconds(1'795'000'000));
  const Verification v = verifier.verify(GatewayRequest{method, target, &headers, body}, now);

  check(v.status >= 200 && v.status <= 599);
  check(v.message.find(kSecret) == std::string::npos);
  check(v.code.find(kSecret) == std::string::npos);
  if (!v.ok) {
    check(!v.code.empty());
    check(v.status >= 400);
    return 0;
  }
  check(v.status == 200 && v.code.empty());
  check(!v.product.empty() && !v.action.empty() && !v.version.empty());
  check(product_for_version(v.version).has_value());
  check(action_exists(v.product, v.action));
  if (v.signature == SignatureVersion::kNone)
    check(v.caller.anonymous &&
          (v.action == "AssumeRoleWithOIDC" || v.action == "AssumeRoleWithSAML"));
  else
    check(v.caller.account_uid == "1234567890123456");
  for (const auto& [name, value] : v.params) check(!name.empty());
  return 0;
}
