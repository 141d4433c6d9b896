// A directory of *.yaml files merged into one config; names defined twice name both places.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "support/temp_dir.hpp"

namespace sharekeeper::config {
namespace {

using testing::TempDir;

constexpr const char* kAccounts =
    "apiVersion: sharekeeper/v1\n"
    "accounts:\n"
    "  - name: prod\n"
    "    uid: \"1234567890123456\"\n";
constexpr const char* kShares =
    "apiVersion: sharekeeper/v1\n"
    "shares:\n"
    "  - name: s1\n"
    "    account: prod\n"
    "    region: cn-hangzhou\n"
    "    images: [m-bp1aaaaaaaaaaaaaaaaa]\n"
    "    to: {accounts: [\"1111222233334444\"]}\n";

std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += "  " + format_diagnostic(d) + "\n";
  return out;
}

TEST(Directory, MergesSharesAndAccountsAcrossFiles) {
  TempDir dir;
  dir.write("accounts.yaml", kAccounts);
  dir.write("shares.yaml", kShares);
  dir.write("settings.yaml", "apiVersion: sharekeeper/v1\nsettings: {interval: 1m}\n");
  dir.write(".hidden.yaml", "not: [valid");
  dir.write("notes.txt", "ignored");
  dir.write("sub/other.yaml", "ignored: true");
  auto r = load(dir.path());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
  EXPECT_EQ(r.state->shares.at(0).where.file, (dir.path() / "shares.yaml").string());
  EXPECT_EQ(r.state->shares.at(0).where.line, 3);
  EXPECT_EQ(r.state->settings.interval, std::chrono::seconds(60));
  EXPECT_EQ(r.state->revision, r.state->content_hash);  // temp dirs are not in a Git checkout
}

TEST(Directory, NameDefinedTwiceNamesBothPlaces) {
  TempDir dir;
  dir.write("a.yaml", kAccounts);
  dir.write("b.yaml", kShares);
  dir.write("c.yaml", kShares);
  auto r = load(dir.path());
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  const auto& d = r.diagnostics[0];
  EXPECT_EQ(d.where.file, (dir.path() / "c.yaml").string());
  EXPECT_EQ(d.where.line, 3);
  EXPECT_EQ(d.where.column, 11);
  EXPECT_EQ(d.message, "share `s1` is defined twice");
  EXPECT_EQ(d.hint, "first defined at " + (dir.path() / "b.yaml").string() + ":3:11");
}

TEST(Directory, AccountAndSettingsDefinedTwice) {
  TempDir dir;
  dir.write("a.yaml", std::string(kAccounts) + "settings: {prune: true}\n");
  dir.write("b.yaml", std::string(kAccounts) + "settings: {prune: false}\n");
  auto r = load(dir.path());
  ASSERT_FALSE(r.ok());
  std::string all = dump(r);
  EXPECT_NE(all.find("b.yaml:3:11: error: account `prod` is defined twice (first defined at"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("b.yaml:5:11: error: `settings` is defined twice"), std::string::npos) << all;
}

TEST(Directory, EveryFileNeedsTheApiVersionAndErrorsComeFromAllFiles) {
  TempDir dir;
  dir.write("a.yaml", "accounts: []\n");
  dir.write("b.yaml", "apiVersion: sharekeeper/v1\nshares: {}\n");
  auto r = load(dir.path());
  ASSERT_EQ(r.error_count(), 2u) << dump(r);
  EXPECT_EQ(r.diagnostics[0].where.file, (dir.path() / "a.yaml").string());
  EXPECT_EQ(r.diagnostics[1].where.file, (dir.path() / "b.yaml").string());
}

TEST(Directory, EmptyDirectoryAndMissingPathAreErrors) {
  TempDir dir;
  auto r = load(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.at(0).message, "no *.yaml files in the directory");
  auto m = load(dir.path() / "nope.yaml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.diagnostics.at(0).message, "no such file or directory");
}

TEST(Directory, YmlFilesAreIgnoredWithAWarning) {
  TempDir dir;
  dir.write("all.yaml", std::string(kAccounts) + (kShares + std::string(kShares).find("shares:")));
  dir.write("old.yml", "garbage: [");
  auto r = load(dir.path());
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.warning_count(), 1u);
  EXPECT_EQ(r.diagnostics[0].message, "ignored: only *.yaml files are read");
}

TEST(Directory, LargeFileIsRejectedWithoutReadingIt) {
  TempDir dir;
  dir.write("big.yaml", std::string(kMaxFileBytes + 1, '#'));
  auto r = load(dir.path() / "big.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.diagnostics.at(0).message.find("larger than 1 MiB"), std::string::npos);
}

TEST(Directory, ContentHashDependsOnBytesAndNamesNotOnLocation) {
  TempDir a, b;
  a.write("x.yaml", kAccounts);
  b.write("x.yaml", kAccounts);
  auto ra = load(a.path()), rb = load(b.path());
  ASSERT_TRUE(ra.ok() && rb.ok());
  EXPECT_EQ(ra.state->content_hash, rb.state->content_hash);
  b.write("x.yaml", std::string(kAccounts) + "\n");
  EXPECT_NE(load(b.path()).state->content_hash, ra.state->content_hash);
  EXPECT_EQ(content_hash({{"x", ""}}), content_hash({{"/elsewhere/x", ""}}));
  EXPECT_NE(content_hash({{"x", "ab"}, {"y", "c"}}), content_hash({{"x", "a"}, {"y", "bc"}}));
}

TEST(Directory, LargeConfigsParseFilesInParallelWithTheSameDiagnostics) {
  // Over 256 KiB in total: the files are parsed on several threads; results must not depend on it.
  TempDir dir;
  dir.write("00.yaml", kAccounts);
  for (int f = 1; f <= 4; ++f) {
    std::string y = "apiVersion: sharekeeper/v1\nshares:\n";
    for (int s = 0; s < 700; ++s) {
      y += "  - {name: s" + std::to_string(f * 1000 + s) +
           ", account: prod, region: cn-hangzhou, snapshots: [s-bp1" +
           std::to_string(10000000 + f * 1000 + s) + "], to: {accounts: [\"1111222233334444\"]}}\n";
    }
    if (f == 3) y += "  - {name: bad, account: nobody, region: cn-hangzhou, images: [x], to: {}}\n";
    dir.write("0" + std::to_string(f) + ".yaml", y);
  }
  auto r = load(dir.path());
  ASSERT_FALSE(r.ok());
  std::string all = dump(r);
  EXPECT_EQ(r.error_count(), 3u) << all;
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(d.where.file, (dir.path() / "03.yaml").string()) << all;
    EXPECT_EQ(d.where.line, 703) << all;
  }
  std::filesystem::remove(dir.path() / "03.yaml");
  auto ok = load(dir.path());
  ASSERT_TRUE(ok.ok()) << dump(ok);
  EXPECT_EQ(ok.state->shares.size(), 2100u);
}

}  // namespace
}  // namespace sharekeeper::config
