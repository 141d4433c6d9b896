// `sharekeeper validate`: exit codes, compiler-style text on stderr, a JSON array with -o json.
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "daemon/commands.hpp"
#include "support/temp_dir.hpp"

namespace sharekeeper::daemon {
namespace {

using config::testing::TempDir;

struct Run {
  int code;
  std::string out, err;
};

Run validate(const std::string& path, const std::string& output = "text") {
  ValidateOptions o;
  o.config_path = path;
  o.output = output;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = cmd_validate(GlobalOptions{}, o);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  return {code, out, err};
}

constexpr const char* kValid =
    "apiVersion: sharekeeper/v1\n"
    "accounts: [{name: prod, uid: \"1234567890123456\"}]\n"
    "shares:\n"
    "  - name: s1\n"
    "    account: prod\n"
    "    region: cn-hangzhou\n"
    "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n"
    "    to: {accounts: [\"1111222233334444\", \"5555666677778888\"]}\n";

TEST(CmdValidate, ValidConfigExitsZeroWithOneSummaryLine) {
  TempDir d;
  auto p = d.write("c.yaml", kValid).string();
  auto r = validate(p);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(
      r.out.rfind(p + ": valid: 1 account(s), 1 share(s), 2 grant(s), 0 warning(s); revision ", 0),
      0u)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}

TEST(CmdValidate, InvalidConfigPrintsEveryDiagnosticOnStderr) {
  TempDir d;
  std::string bad = kValid;
  bad.replace(bad.find("images"), 6, "image");
  bad.replace(bad.find("cn-hangzhou"), 11, "cn_hangzhou");
  auto p = d.write("c.yaml", bad).string();
  auto r = validate(p);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find(p + ":6:13: error: `region`: `cn_hangzhou` is not a region id"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(p + ":7:5: error: unknown key `image` in a share (did you mean `images`?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(p + ": invalid: 2 error(s), 0 warning(s)"), std::string::npos) << r.err;
}

TEST(CmdValidate, JsonOutputIsAnArrayOnStdout) {
  TempDir d;
  std::string bad = kValid;
  bad.replace(bad.find("images"), 6, "image");
  auto p = d.write("c.yaml", bad).string();
  auto r = validate(p, "json");
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["file"], p);
  EXPECT_EQ(j[0]["line"], 7);
  EXPECT_EQ(j[0]["column"], 5);
  EXPECT_EQ(j[0]["severity"], "error");
  EXPECT_EQ(j[0]["hint"], "did you mean `images`?");
  auto ok = validate(d.write("ok.yaml", kValid).string(), "json");
  EXPECT_EQ(ok.code, 0);
  EXPECT_EQ(ok.out, "[]\n");
}

TEST(CmdValidate, MissingPathIsAnError) {
  auto r = validate("/nonexistent/sharekeeper.yaml");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/sharekeeper.yaml: error: no such file or directory"),
            std::string::npos)
      << r.err;
}

// Issue 11: a symlink loop given as -c says it is a loop (it said "no such file or directory").
TEST(CmdValidate, SymlinkLoopSaysItIsALoop) {
  TempDir d;
  std::filesystem::create_symlink("b.yaml", d.path() / "a.yaml");
  std::filesystem::create_symlink("a.yaml", d.path() / "b.yaml");
  auto r = validate((d.path() / "a.yaml").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find((d.path() / "a.yaml").string() +
                       ": error: symlink loop (too many levels of symbolic links)"),
            std::string::npos)
      << r.err;
}

// Issue 11: a value cannot forge a diagnostic line: control characters are escaped.
TEST(CmdValidate, ControlCharactersInValuesAreEscaped) {
  TempDir d;
  std::string bad = kValid;
  bad.replace(bad.find("region: cn-hangzhou"), 19,
              "region: \"x\\nc.yaml:1:1: error: forged\\e[2K\\u202e\"");
  auto p = d.write("c.yaml", bad).string();
  auto r = validate(p);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("\nc.yaml:1:1: error: forged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("`x\\nc.yaml:1:1: error: forged\\x1b[2K\\u202E` is not a region id"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;  // one diagnostic + summary
}

// 100,000 aliases printed 10 MB (20,000 here, to keep the test quick): the text output stops at
// kMaxPrintedDiagnostics and counts the rest; -o json still lists every one.
std::string aliases(int n) {
  std::string yaml = "apiVersion: sharekeeper/v1\nshares: [&a x";
  for (int i = 1; i < n; ++i) yaml += ",*a";
  return yaml + "]\n";
}

TEST(CmdValidate, TextOutputIsCappedWithACountOfTheRest) {
  TempDir d;
  auto p = d.write("c.yaml", aliases(20000)).string();
  const std::size_t total = config::load(p).diagnostics.size();  // two per item
  ASSERT_GE(total, 20000u);
  auto r = validate(p);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'),
            static_cast<long>(config::kMaxPrintedDiagnostics) + 2);
  EXPECT_LT(r.err.size(), 32u * 1024) << "text output is not bounded";
  const std::string rest = std::to_string(total - config::kMaxPrintedDiagnostics);
  EXPECT_NE(
      r.err.find("\nsharekeeper: " + rest + " more diagnostic(s) not shown (" + rest +
                 " error(s), 0 warning(s)); `sharekeeper validate -o json` lists every one\n"),
      std::string::npos)
      << r.err.substr(r.err.size() > 400 ? r.err.size() - 400 : 0);
}

TEST(CmdValidate, JsonOutputIsNotCapped) {
  TempDir d;
  auto p = d.write("c.yaml", aliases(300)).string();
  auto j = validate(p, "json");
  EXPECT_EQ(nlohmann::json::parse(j.out).size(), config::load(p).diagnostics.size());
  EXPECT_GT(nlohmann::json::parse(j.out).size(), config::kMaxPrintedDiagnostics);
}

TEST(CmdValidate, CappedOutputShowsErrorsBeforeWarnings) {
  std::vector<config::Diagnostic> diags;
  for (int i = 1; i <= 150; ++i) {
    config::Diagnostic d;
    d.where = {"c.yaml", i, 1};
    d.severity = i <= 120 ? config::Severity::kWarning : config::Severity::kError;
    d.message = "m" + std::to_string(i);
    diags.push_back(d);
  }
  auto lines = config::format_diagnostics(diags, 40);  // all 30 errors and the first 10 warnings
  ASSERT_EQ(lines.size(), 41u);
  for (std::size_t i = 0; i < 10; ++i)
    EXPECT_NE(lines[i].find(": warning: m" + std::to_string(i + 1)), std::string::npos) << lines[i];
  for (std::size_t i = 10; i < 40; ++i)
    EXPECT_NE(lines[i].find(": error: m" + std::to_string(i + 111)), std::string::npos) << lines[i];
  EXPECT_EQ(lines.back(),
            "sharekeeper: 110 more diagnostic(s) not shown (0 error(s), 110 warning(s)); "
            "`sharekeeper validate -o json` lists every one");
  lines = config::format_diagnostics(diags, 20);
  ASSERT_EQ(lines.size(), 21u);
  for (std::size_t i = 0; i < 20; ++i)
    EXPECT_NE(lines[i].find(": error: m" + std::to_string(i + 121)), std::string::npos) << lines[i];
  EXPECT_EQ(lines.back(),
            "sharekeeper: 130 more diagnostic(s) not shown (10 error(s), 120 warning(s)); "
            "`sharekeeper validate -o json` lists every one");
}

}  // namespace
}  // namespace sharekeeper::daemon
