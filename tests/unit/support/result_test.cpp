#include "support/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sharekeeper::support {
namespace {

// An error type with a class, like cloud::Error, to see errors travel unchanged through chains.
struct Err {
  int code = 0;
  std::string what;
  friend bool operator==(const Err&, const Err&) = default;
};

using IntResult = Result<int, Err>;

IntResult parse(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    return Err{1, "not a number: '" + s + "'"};
  return std::stoi(s);
}

IntResult positive(int v) {
  if (v <= 0) return Err{2, "not positive"};
  return v;
}

TEST(SupportResult, HoldsValueOrError) {
  IntResult ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(*ok, 42);
  EXPECT_EQ(ok.value(), 42);

  IntResult bad = Err{7, "boom"};
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(static_cast<bool>(bad));
  EXPECT_EQ(bad.error(), (Err{7, "boom"}));

  IntResult tagged = unexpected(Err{8, "tagged"});
  ASSERT_FALSE(tagged.ok());
  EXPECT_EQ(tagged.error().code, 8);
}

TEST(SupportResult, ValueAndErrorOfTheSameKindStayApart) {
  // A string value with a message error: `return text;` is a success, Failure is a failure.
  auto f = [](bool good) -> Result<std::string, Failure> {
    if (!good) return Failure{"does not parse"};
    return std::string("canonical");
  };
  ASSERT_TRUE(f(true).ok());
  EXPECT_EQ(f(true).value(), "canonical");
  ASSERT_FALSE(f(false).ok());
  EXPECT_EQ(f(false).error().to_string(), "does not parse");
}

TEST(SupportResult, AndThenRunsTheNextStepOnlyOnSuccess) {
  EXPECT_EQ(parse("12").and_then(positive).value(), 12);
  EXPECT_EQ(parse("0").and_then(positive).error().code, 2);
  int calls = 0;
  auto counted = [&](int v) {
    ++calls;
    return positive(v);
  };
  // The first failure ends the chain: later steps never run, the error is the first one.
  auto r = parse("x1").and_then(counted).and_then(counted);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), (Err{1, "not a number: 'x1'"}));
  EXPECT_EQ(calls, 0);
}

TEST(SupportResult, AndThenMayChangeTheValueType) {
  auto r = parse("3").and_then([](int v) -> Result<std::string, Err> {
    return std::string(static_cast<std::size_t>(v), '*');
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "***");
}

TEST(SupportResult, TransformMapsTheValue) {
  auto r = parse("21").transform([](int v) { return v * 2; });
  static_assert(std::is_same_v<decltype(r), IntResult>);
  EXPECT_EQ(*r, 42);
  auto s = parse("5").transform([](int v) { return std::to_string(v) + "!"; });
  static_assert(std::is_same_v<decltype(s), Result<std::string, Err>>);
  EXPECT_EQ(*s, "5!");
  EXPECT_EQ(parse("").transform([](int v) { return v * 2; }).error().code, 1);
}

TEST(SupportResult, TransformToVoidKeepsTheError) {
  int seen = 0;
  auto r = parse("9").transform([&](int v) { seen = v; });
  static_assert(std::is_same_v<decltype(r), Result<void, Err>>);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(seen, 9);
  auto bad = parse("?").transform([&](int v) { seen = v * 100; });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 1);
  EXPECT_EQ(seen, 9);
}

TEST(SupportResult, TransformErrorAddsContextOrChangesTheType) {
  auto r = parse("nope").transform_error(
      [](const Err& e) { return Failure{"reading the port: " + e.what}; });
  static_assert(std::is_same_v<decltype(r), Result<int, Failure>>);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "reading the port: not a number: 'nope'");
  auto good = parse("80").transform_error([](const Err&) { return Failure{"unused"}; });
  EXPECT_EQ(*good, 80);
}

TEST(SupportResult, OrElseRecoversAnExpectedFailure) {
  // The cloud's pattern: NotFound is a normal answer (nullopt), anything else stays a failure.
  auto lookup = [](const std::string& s) {
    return parse(s)
        .transform([](int v) { return std::optional<int>(v); })
        .or_else([](Err e) -> Result<std::optional<int>, Err> {
          if (e.code == 1) return std::optional<int>();
          return e;
        });
  };
  EXPECT_EQ(lookup("4").value(), std::optional<int>(4));
  EXPECT_EQ(lookup("x").value(), std::nullopt);
  int calls = 0;
  auto r = parse("6").or_else([&](const Err&) -> IntResult {
    ++calls;
    return 0;
  });
  EXPECT_EQ(*r, 6);
  EXPECT_EQ(calls, 0);
}

TEST(SupportResult, ValueOr) {
  EXPECT_EQ(parse("3").value_or(-1), 3);
  EXPECT_EQ(parse("a").value_or(-1), -1);
  Result<std::string, Err> s = Err{};
  EXPECT_EQ(s.value_or("fallback"), "fallback");
}

TEST(SupportResult, MoveOnlyValuesMoveThroughChains) {
  auto make = [](bool good) -> Result<std::unique_ptr<int>, Err> {
    if (!good) return Err{3, "no"};
    return std::make_unique<int>(5);
  };
  auto r = make(true).transform([](std::unique_ptr<int> p) { return *p + 1; });
  EXPECT_EQ(*r, 6);
  std::unique_ptr<int> p = *make(true);
  EXPECT_EQ(*p, 5);
  EXPECT_EQ(
      make(false).and_then([](std::unique_ptr<int> q) -> IntResult { return *q; }).error().code, 3);
}

TEST(SupportResult, VoidResult) {
  Result<void, Err> ok;
  EXPECT_TRUE(ok.ok());
  ok.value();  // no-op on success
  Result<void, Err> bad = Err{4, "failed"};
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 4);

  EXPECT_EQ(ok.and_then([] { return IntResult(1); }).value(), 1);
  EXPECT_EQ(bad.and_then([] { return IntResult(1); }).error().code, 4);
  EXPECT_EQ(ok.transform([] { return 2; }).value(), 2);
  EXPECT_EQ(bad.transform_error([](const Err& e) { return Failure{e.what}; }).error().message,
            "failed");
  // "Already attached" is the state we wanted: that failure becomes a success.
  auto tolerant = bad.or_else([](const Err& e) -> Result<void, Err> {
    if (e.code == 4) return {};
    return e;
  });
  EXPECT_TRUE(tolerant.ok());
}

// SK_TRY: the flat form of a chain, for steps whose values are used more than once.
Result<std::string, Err> describe(const std::string& a, const std::string& b) {
  SK_TRY(x, parse(a));
  SK_TRY(y, parse(b).and_then(positive));
  return std::to_string(x) + "/" + std::to_string(y) + "=" + std::to_string(x / y);
}

Result<void, Err> check_all(const std::vector<std::string>& items, int& checked) {
  for (const auto& i : items) {
    SK_TRY_VOID(parse(i).transform([](int) {}));
    ++checked;
  }
  return {};
}

TEST(SupportResult, TryReturnsTheFirstError) {
  EXPECT_EQ(describe("8", "2").value(), "8/2=4");
  EXPECT_EQ(describe("a", "2").error().code, 1);
  EXPECT_EQ(describe("8", "0").error().code, 2);
  int checked = 0;
  EXPECT_TRUE(check_all({"1", "2"}, checked).ok());
  EXPECT_EQ(checked, 2);
  checked = 0;
  auto r = check_all({"1", "b", "3"}, checked);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().what, "not a number: 'b'");
  EXPECT_EQ(checked, 1);  // stopped at the failure
}

#ifndef NDEBUG
TEST(SupportResultDeathTest, MisuseAsserts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  IntResult bad = Err{1, "x"};
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of a failed Result");
  IntResult good = 1;
  EXPECT_DEATH((void)good.error(), "error\\(\\) of a successful Result");
  Result<void, Err> ok;
  EXPECT_DEATH((void)ok.error(), "error\\(\\) of a successful Result");
}
#endif

}  // namespace
}  // namespace sharekeeper::support
