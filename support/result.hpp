#pragma once
// Result<T, E>: the one convention for expected failures in sharekeeper (docs/adr/0004). A
// failure the outside world can cause (a call that fails, a document that does not parse, a client
// that cannot be built) is returned as a value; a broken invariant asserts.
//
// The interface is the C++23 std::expected subset the project needs (has_value/value/error,
// and_then/transform/transform_error/or_else/value_or), plus ok(), so that moving to
// std::expected once the toolchain is C++23 is a rename. Misuse (value() of a failure, error() of a
// success) asserts in debug builds and throws std::bad_variant_access otherwise, never reads
// garbage.
//
//   cloud::Result<Role> r = invoke(call)
//                               .and_then([&](const std::string& body) { return parse(body); })
//                               .transform(parse_role);
//
// Where a chain does not fit (a value used by several later steps, a loop), SK_TRY unwraps and
// returns the error early, like Boost.Outcome's OUTCOME_TRY:
//
//   SK_TRY(body, invoke(call));        // declares `body` (the value), or returns the error
//   SK_TRY_VOID(attach(role));         // returns the error (the value, if any, is not needed)
//
// Thread-safety: a value type; no shared state.
#include <cassert>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sharekeeper::support {

// An error wrapped so that it can never be mistaken for a value (std::unexpected's role):
// `return support::unexpected(e);` constructs the failure of any Result whose E is built from it.
template <class E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & { return error_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

// The error of a failure that carries nothing but one human line (already redacted): a document
// that does not parse, a cloud client that cannot be built. Its own type so that
// Result<std::string, Failure> is never ambiguous.
struct Failure {
  std::string message;
  const std::string& to_string() const { return message; }
  friend bool operator==(const Failure&, const Failure&) = default;
};

template <class T, class E>
class Result;

namespace result_detail {
template <class R>
struct IsResult : std::false_type {};
template <class T, class E>
struct IsResult<Result<T, E>> : std::true_type {};
template <class R>
inline constexpr bool kIsResult = IsResult<std::remove_cvref_t<R>>::value;

template <class U>
struct IsUnexpected : std::false_type {};
template <class E>
struct IsUnexpected<Unexpected<E>> : std::true_type {};
}  // namespace result_detail

template <class T, class E>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T> && !std::is_reference_v<E>,
                "Result holds values: use a pointer or std::reference_wrapper for a reference");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::remove_cv_t<E>>,
                "a Result's value and error need distinct types (else `return x;` is ambiguous): "
                "give the error its own type, e.g. support::Failure");
  static_assert(!result_detail::IsUnexpected<T>::value, "Unexpected is not a value type");

 public:
  using value_type = T;
  using error_type = E;

  // A success from anything T is built from (but never from an E: that is a failure).
  template <class U = T>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Result> &&
           !std::is_same_v<std::remove_cvref_t<U>, E> &&
           !result_detail::IsUnexpected<std::remove_cvref_t<U>>::value)
      // NOLINTNEXTLINE(bugprone-forwarding-reference-overload): the requires-clause excludes Result
      Result(U&& value)  // NOLINT(google-explicit-constructor): `return value;` is the point
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  // A failure: `return error;` (the common case) or `return support::unexpected(error);`.
  Result(const E& error)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<1>, error) {}
  Result(E&& error)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<1>, std::move(error)) {}
  template <class G>
  requires std::is_constructible_v<E, G&&> Result(
      Unexpected<G> u)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<1>, std::move(u).error()) {}

  bool ok() const { return v_.index() == 0; }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok() && "value() of a failed Result");
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok() && "value() of a failed Result");
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok() && "value() of a failed Result");
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  E& error() & {
    assert(!ok() && "error() of a successful Result");
    return std::get<1>(v_);
  }
  const E& error() const& {
    assert(!ok() && "error() of a successful Result");
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!ok() && "error() of a successful Result");
    return std::get<1>(std::move(v_));
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return ok() ? std::move(*this).value() : static_cast<T>(std::forward<U>(fallback));
  }

  // f(value) -> Result<U, E>: the next step, run only on success.
  template <class F>
  auto and_then(F&& f) const& {
    return and_then_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto and_then(F&& f) && {
    return and_then_impl(std::move(*this), std::forward<F>(f));
  }
  // f(value) -> U: a Result<U, E> (Result<void, E> when f returns nothing).
  template <class F>
  auto transform(F&& f) const& {
    return transform_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto transform(F&& f) && {
    return transform_impl(std::move(*this), std::forward<F>(f));
  }
  // f(error) -> G: a Result<T, G> (adds context to an error, or changes its type).
  template <class F>
  auto transform_error(F&& f) const& {
    return transform_error_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto transform_error(F&& f) && {
    return transform_error_impl(std::move(*this), std::forward<F>(f));
  }
  // f(error) -> Result<T, G>: recovery, e.g. a NotFound that is an expected answer.
  template <class F>
  auto or_else(F&& f) const& {
    return or_else_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto or_else(F&& f) && {
    return or_else_impl(std::move(*this), std::forward<F>(f));
  }

 private:
  template <class Self, class F>
  static auto and_then_impl(Self&& self, F&& f) {
    using R =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).value())>>;
    static_assert(result_detail::kIsResult<R>, "and_then: f must return a Result");
    static_assert(std::is_same_v<typename R::error_type, E>,
                  "and_then: f must fail with the same error type (transform_error first)");
    if (!self.ok()) return R(std::forward<Self>(self).error());
    return std::invoke(std::forward<F>(f), std::forward<Self>(self).value());
  }
  template <class Self, class F>
  static auto transform_impl(Self&& self, F&& f) {
    using U = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).value())>>;
    using R = Result<U, E>;
    if (!self.ok()) return R(std::forward<Self>(self).error());
    if constexpr (std::is_void_v<U>) {
      std::invoke(std::forward<F>(f), std::forward<Self>(self).value());
      return R();
    } else {
      return R(std::invoke(std::forward<F>(f), std::forward<Self>(self).value()));
    }
  }
  template <class Self, class F>
  static auto transform_error_impl(Self&& self, F&& f) {
    using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    using R = Result<T, G>;
    if (self.ok()) return R(std::forward<Self>(self).value());
    return R(unexpected(std::invoke(std::forward<F>(f), std::forward<Self>(self).error())));
  }
  template <class Self, class F>
  static auto or_else_impl(Self&& self, F&& f) {
    using R =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    static_assert(result_detail::kIsResult<R>, "or_else: f must return a Result");
    static_assert(std::is_same_v<typename R::value_type, T>,
                  "or_else: f must succeed with the same value type");
    if (self.ok()) return R(std::forward<Self>(self).value());
    return std::invoke(std::forward<F>(f), std::forward<Self>(self).error());
  }

  std::variant<T, E> v_;
};

// A success without a value, or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  Result(const E& error) : e_(error) {}        // NOLINT(google-explicit-constructor)
  Result(E&& error) : e_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  template <class G>
  requires std::is_constructible_v<E, G&&> Result(
      Unexpected<G> u)  // NOLINT(google-explicit-constructor)
      : e_(std::move(u).error()) {}

  bool ok() const { return !e_.has_value(); }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return ok(); }
  // For generic code: asserts that there is no error.
  void value() const { assert(ok() && "value() of a failed Result"); }

  E& error() & {
    assert(!ok() && "error() of a successful Result");
    return *e_;
  }
  const E& error() const& {
    assert(!ok() && "error() of a successful Result");
    return *e_;
  }
  E&& error() && {
    assert(!ok() && "error() of a successful Result");
    return std::move(*e_);
  }

  // f() -> Result<U, E>.
  template <class F>
  auto and_then(F&& f) const& {
    return and_then_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto and_then(F&& f) && {
    return and_then_impl(std::move(*this), std::forward<F>(f));
  }
  // f() -> U: a Result<U, E>.
  template <class F>
  auto transform(F&& f) const& {
    return transform_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto transform(F&& f) && {
    return transform_impl(std::move(*this), std::forward<F>(f));
  }
  // f(error) -> G: a Result<void, G>.
  template <class F>
  auto transform_error(F&& f) const& {
    return transform_error_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto transform_error(F&& f) && {
    return transform_error_impl(std::move(*this), std::forward<F>(f));
  }
  // f(error) -> Result<void, G>: e.g. "already attached" is the state we wanted.
  template <class F>
  auto or_else(F&& f) const& {
    return or_else_impl(*this, std::forward<F>(f));
  }
  template <class F>
  auto or_else(F&& f) && {
    return or_else_impl(std::move(*this), std::forward<F>(f));
  }

 private:
  template <class Self, class F>
  static auto and_then_impl(Self&& self, F&& f) {
    using R = std::remove_cvref_t<std::invoke_result_t<F>>;
    static_assert(result_detail::kIsResult<R>, "and_then: f must return a Result");
    static_assert(std::is_same_v<typename R::error_type, E>,
                  "and_then: f must fail with the same error type (transform_error first)");
    if (!self.ok()) return R(std::forward<Self>(self).error());
    return std::invoke(std::forward<F>(f));
  }
  template <class Self, class F>
  static auto transform_impl(Self&& self, F&& f) {
    using U = std::remove_cv_t<std::invoke_result_t<F>>;
    using R = Result<U, E>;
    if (!self.ok()) return R(std::forward<Self>(self).error());
    if constexpr (std::is_void_v<U>) {
      std::invoke(std::forward<F>(f));
      return R();
    } else {
      return R(std::invoke(std::forward<F>(f)));
    }
  }
  template <class Self, class F>
  static auto transform_error_impl(Self&& self, F&& f) {
    using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    using R = Result<void, G>;
    if (self.ok()) return R();
    return R(unexpected(std::invoke(std::forward<F>(f), std::forward<Self>(self).error())));
  }
  template <class Self, class F>
  static auto or_else_impl(Self&& self, F&& f) {
    using R =
        std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).error())>>;
    static_assert(result_detail::kIsResult<R>, "or_else: f must return a Result");
    static_assert(std::is_void_v<typename R::value_type>,
                  "or_else: f must succeed with the same value type");
    if (self.ok()) return R();
    return std::invoke(std::forward<F>(f), std::forward<Self>(self).error());
  }

  std::optional<E> e_;
};

}  // namespace sharekeeper::support

// SK_TRY(var, expr): evaluates a Result; on failure returns its error from the enclosing function
// (whose return type must be constructible from that error), else declares `var` holding the
// value, moved out. SK_TRY_VOID(expr): the same when there is no value (Result<void, E>) or it
// is not needed.
#define SK_TRY_CONCAT_INNER_(a, b) a##b
#define SK_TRY_CONCAT_(a, b) SK_TRY_CONCAT_INNER_(a, b)
// NOLINTBEGIN(bugprone-macro-parentheses): var and tmp are names being declared, not expressions
#define SK_TRY_IMPL_(var, expr, tmp)            \
  auto tmp = (expr);                            \
  if (!tmp.ok()) return std::move(tmp).error(); \
  auto var = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
#define SK_TRY(var, expr) SK_TRY_IMPL_(var, expr, SK_TRY_CONCAT_(sk_try_result_, __COUNTER__))
#define SK_TRY_VOID(expr)                                   \
  do {                                                      \
    if (auto sk_try_result_ = (expr); !sk_try_result_.ok()) \
      return std::move(sk_try_result_).error();             \
  } while (false)
