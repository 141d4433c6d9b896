// `sharekeeper validate`: exit codes, compiler-style text on stderr, a JSON array with -o json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace sharekeeper::daemon
