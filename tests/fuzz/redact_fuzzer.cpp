// libFuzzer target over the SDK-error path and the redactor (docs/failure-matrix.md H1): any bytes
// as an error response body, with a registered secret (the canary) spliced in where the first input
// byte says. The canary must never come out of scrub(), scrub_keep_urls() or any field of the Error
// built from the response; parsing never crashes and the error class is always one of the six.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cloud/errors.hpp"
#include "cloud/http.hpp"
#include "cloud/redact.hpp"

namespace {

using namespace sharekeeper::cloud;

constexpr std::string_view kCanary = "CANARYsecretK3y0123456789abcdef";

void check(bool ok) {
  if (!ok) std::abort();
}

bool leaks(std::string_view text) { return text.find(kCanary) != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool registered = [] {
    redact::register_secret(kCanary);
    return true;
  }();
  (void)registered;
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  body.insert(std::min<std::size_t>(data[0], body.size()), kCanary);

  check(!leaks(redact::scrub(body)));
  check(!leaks(redact::scrub_keep_urls(body)));

  (void)parse_error_body(body);
  HttpResponse response;
  response.status = 400 + data[0] % 200;
  response.body = body;
  response.headers.emplace_back("content-type", data[0] % 2 == 0 ? "application/json;charset=utf-8"
                                                                 : "text/xml;charset=utf-8");
  const Error e = error_from_response("ram", "GetRole", response);
  for (const std::string* field :
       {&e.product, &e.action, &e.code, &e.message, &e.request_id, &e.recommend})
    check(!leaks(*field));
  check(!leaks(e.to_string()));
  check(e.cls == ErrorClass::kTransient || e.cls == ErrorClass::kThrottled ||
        e.cls == ErrorClass::kTerminal || e.cls == ErrorClass::kConflict ||
        e.cls == ErrorClass::kNotFound || e.cls == ErrorClass::kOutcomeUnknown);
  check(!e.code.empty());  // a body without a Code still gets a bounded label ("Http.<status>")
  return 0;
}
