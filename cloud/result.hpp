#pragma once
// cloud::Error and cloud::Result<T>: an expected outside-world failure is a value
// (docs/adr/0004-one-result-convention.md); broken invariants assert.
#include <string>
#include <string_view>

#include "support/result.hpp"

namespace sharekeeper::cloud {

// What the caller should do about an error. One table-tested function (errors.hpp: classify)
// decides.
enum class ErrorClass {
  kTransient,  // 5xx, ServiceUnavailable, connect failure before the request was sent: retry with
               // backoff
  kThrottled,  // Throttling*: retry, and tell the rate limiter to slow down
  kTerminal,  // bad parameter, no permission, bad credentials: do not retry until something changes
  kConflict,  // EntityAlreadyExists.*, DeleteConflict.*, *Conflict: the world differs from what we
              // assumed
  kNotFound,  // EntityNotExist.*, *.NotFound: the object is absent (often an expected answer)
  kOutcomeUnknown,  // the request was sent and no answer came (timeout, reset): re-observe before
                    // retrying
};

const char* to_string(ErrorClass c);

// One failed call. Every string here is already redacted (no secrets, no signatures, no query
// strings).
struct Error {
  std::string
      product;  // "ram", "sts", "ecs", "kms", "resourcesharing", or "transport"/"credentials"
  std::string action;   // e.g. "GetRole"
  int http_status = 0;  // 0 when no HTTP response arrived
  std::string code;     // Alibaba Code, or a client code such as "Transport.Timeout"
  std::string message;
  std::string request_id;
  std::string recommend;
  ErrorClass cls = ErrorClass::kTerminal;

  bool is(std::string_view c) const { return code == c; }
  // "ram GetRole: EntityNotExist.Role (HTTP 404): The role does not exist. [RequestId ...]"
  std::string to_string() const;
};

// The cloud's results: support::Result (the project's one convention, docs/adr/0004) with the
// cloud's own error, whose ErrorClass says what to do about it.
template <class T>
using Result = support::Result<T, Error>;

}  // namespace sharekeeper::cloud
