#pragma once
// Result<T>: an expected outside-world failure is a value (STYLE.md "Errors"). Broken invariants
// assert.
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

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

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)
      : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *e_;
  }

 private:
  std::optional<Error> e_;
};

}  // namespace sharekeeper::cloud
