// A directory of *.yaml files merged into one config; names defined twice name both places.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <future>

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

// Issue 11: an entry matching *.yaml that cannot be read as a regular file fails the load, naming
// it. Skipping it (the old `is_regular_file ... continue`) dropped that file's shares, and the
// daemon's reload then revoked them.
struct Unreadable {
  const char* name;
  std::function<void(const std::filesystem::path& entry)> make;
  const char* says;  // in the diagnostic
};

class UnreadableEntry : public ::testing::TestWithParam<Unreadable> {};

TEST_P(UnreadableEntry, FailsTheLoadNamingIt) {
  namespace fs = std::filesystem;
  TempDir dir;
  dir.write("accounts.yaml", kAccounts);
  dir.write("a.yaml", kShares);
  const fs::path entry = dir.path() / "b.yaml";
  GetParam().make(entry);
  // A FIFO must not block the loader: load on another thread under a deadline, and if it hangs,
  // unblock it by opening the FIFO's other end so the test fails instead of hanging.
  auto pending = std::async(std::launch::async, [&] { return load(dir.path()); });
  if (pending.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const int w = ::open(entry.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
    pending.wait();
    FAIL() << "the loader blocked on " << GetParam().name;
  }
  const LoadResult r = pending.get();
  ASSERT_FALSE(r.ok()) << GetParam().name << " was skipped\n" << dump(r);
  ASSERT_EQ(r.error_count(), 1u) << dump(r);
  const Diagnostic& d = r.diagnostics.at(0);
  EXPECT_EQ(d.where.file, entry.string());
  EXPECT_NE(d.message.find(GetParam().says), std::string::npos) << d.message;
  EXPECT_NE(d.hint.find("last good config"), std::string::npos) << d.hint;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, UnreadableEntry,
    ::testing::Values(
        Unreadable{"DanglingSymlink",
                   [](const std::filesystem::path& e) {
                     std::filesystem::create_symlink("..data/b.yaml", e);
                   },
                   "dangling symlink (its target `..data/b.yaml` does not exist)"},
        Unreadable{"SymlinkLoop",
                   [](const std::filesystem::path& e) {
                     std::filesystem::create_symlink("c.link", e);
                     std::filesystem::create_symlink("b.yaml", e.parent_path() / "c.link");
                   },
                   "symlink loop"},
        Unreadable{"Fifo",
                   [](const std::filesystem::path& e) { ASSERT_EQ(::mkfifo(e.c_str(), 0600), 0); },
                   "a FIFO (named pipe), not a regular file"},
        Unreadable{
            "SymlinkToADevice",
            [](const std::filesystem::path& e) { std::filesystem::create_symlink("/dev/null", e); },
            "a character device, not a regular file (through a symlink to `/dev/null`)"},
        Unreadable{"Directory",
                   [](const std::filesystem::path& e) { std::filesystem::create_directory(e); },
                   "a directory, not a regular file"},
        Unreadable{"Socket",
                   [](const std::filesystem::path& e) {
                     const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
                     sockaddr_un a{};
                     a.sun_family = AF_UNIX;
                     ASSERT_LT(e.string().size(), sizeof a.sun_path);
                     std::snprintf(a.sun_path, sizeof a.sun_path, "%s", e.c_str());
                     ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
                     ::close(fd);
                   },
                   "a socket, not a regular file"}),
    [](const ::testing::TestParamInfo<Unreadable>& i) { return std::string(i.param.name); });

// A path given as -c that is a loop says so (it used to say "no such file or directory").
TEST(Directory, MissingPathsSayWhy) {
  namespace fs = std::filesystem;
  TempDir dir;
  fs::create_symlink("loop2", dir.path() / "loop1");
  fs::create_symlink("loop1", dir.path() / "loop2");
  fs::create_symlink("gone.yaml", dir.path() / "dangling.yaml");
  auto loop = load(dir.path() / "loop1");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.diagnostics.at(0).message, "symlink loop (too many levels of symbolic links)");
  EXPECT_EQ(loop.diagnostics.at(0).where.file, (dir.path() / "loop1").string());
  auto dangling = load(dir.path() / "dangling.yaml");
  ASSERT_FALSE(dangling.ok());
  EXPECT_EQ(dangling.diagnostics.at(0).message,
            "dangling symlink (its target `gone.yaml` does not exist)");
  const std::string fifo = (dir.path() / "pipe.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pipe = load(fifo);
  ASSERT_FALSE(pipe.ok());
  EXPECT_EQ(pipe.diagnostics.at(0).message, "cannot read: a FIFO (named pipe), not a regular file");
}

// Entries that do not match the pattern are still ignored, whatever they are.
TEST(Directory, NonMatchingEntriesOfAnyKindAreIgnored) {
  namespace fs = std::filesystem;
  TempDir dir;
  dir.write("all.yaml", std::string(kAccounts) + (kShares + std::string(kShares).find("shares:")));
  fs::create_directory(dir.path() / "..data");
  fs::create_symlink("..data/nothing", dir.path() / "README");
  ASSERT_EQ(::mkfifo((dir.path() / "pipe").c_str(), 0600), 0);
  fs::create_symlink("nowhere", dir.path() / ".hidden.yaml");
  auto r = load(dir.path());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

}  // namespace
}  // namespace sharekeeper::config
