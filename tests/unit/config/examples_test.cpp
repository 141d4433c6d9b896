// Every examples/*.yaml is a valid config on its own, without warnings.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/loader.hpp"

namespace sharekeeper::config {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> example_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Examples, EachExampleValidatesWithoutDiagnostics) {
  auto files = example_files();
  ASSERT_GE(files.size(), 4u);
  for (const auto& f : files) {
    auto r = load(f);
    std::string all;
    for (const auto& d : r.diagnostics) all += format_diagnostic(d) + "\n";
    EXPECT_TRUE(r.ok()) << f << "\n" << all;
    EXPECT_TRUE(r.diagnostics.empty()) << f << "\n" << all;
    if (r.ok()) {
      EXPECT_FALSE(r.state->shares.empty()) << f;
      EXPECT_EQ(r.state->content_hash.size(), 64u);
      EXPECT_FALSE(r.state->revision.empty());
    }
  }
}

TEST(Examples, CoverEveryCredentialSourceThatTheDocsShow) {
  std::set<CredentialSource> seen;
  bool folders = false, rd = false, selector = false;
  for (const auto& f : example_files()) {
    auto r = load(f);
    ASSERT_TRUE(r.ok()) << f;
    for (const auto& a : r.state->accounts) seen.insert(a.credentials.source);
    for (const auto& s : r.state->shares) {
      folders |= !s.to.folders.empty();
      rd |= s.to.resource_directory.has_value();
      selector |= !s.selector_tags.empty();
    }
  }
  EXPECT_TRUE(seen.count(CredentialSource::kAssumeRole));
  EXPECT_TRUE(seen.count(CredentialSource::kEnv));
  EXPECT_TRUE(folders);
  EXPECT_TRUE(rd);
  EXPECT_TRUE(selector);
}

}  // namespace
}  // namespace sharekeeper::config
