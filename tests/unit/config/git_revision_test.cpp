// The revision is read from .git (HEAD, loose refs, packed-refs, gitdir files) without running git.
#include <gtest/gtest.h>

#include "config/git_revision.hpp"
#include "config/loader.hpp"
#include "support/temp_dir.hpp"

namespace sharekeeper::config {
namespace {

using testing::TempDir;

const std::string kA = "0123456789abcdef0123456789abcdef01234567";
const std::string kB = "89abcdef0123456789abcdef0123456789abcdef";

TEST(GitRevision, SymbolicHeadWithLooseRef) {
  TempDir d;
  d.write(".git/HEAD", "ref: refs/heads/main\n");
  d.write(".git/refs/heads/main", kA + "\n");
  d.write("config/a.yaml", "");
  EXPECT_EQ(git_head_revision(d.path()), kA);
  EXPECT_EQ(git_head_revision(d.path() / "config"), kA);  // found from a subdirectory
  EXPECT_EQ(git_head_revision(d.path() / "config" / "a.yaml"), kA);
}

TEST(GitRevision, PackedRefsAndLooseRefWins) {
  TempDir d;
  d.write(".git/HEAD", "ref: refs/heads/release\n");
  d.write(".git/packed-refs", "# pack-refs with: peeled fully-peeled sorted\n" + kB +
                                  " refs/heads/main\n" + kA + " refs/heads/release\n^" + kB + "\n");
  EXPECT_EQ(git_head_revision(d.path()), kA);
  d.write(".git/refs/heads/release", kB + "\n");
  EXPECT_EQ(git_head_revision(d.path()), kB);
}

TEST(GitRevision, DetachedHead) {
  TempDir d;
  d.write(".git/HEAD", kB + "\n");
  EXPECT_EQ(git_head_revision(d.path()), kB);
}

TEST(GitRevision, WorktreeGitdirFileAndCommondir) {
  TempDir d;
  d.write("main/.git/refs/heads/feature", kA + "\n");
  d.write("main/.git/worktrees/wt/HEAD", "ref: refs/heads/feature\n");
  d.write("main/.git/worktrees/wt/commondir", "../..\n");
  d.write("wt/.git", "gitdir: " + (d.path() / "main/.git/worktrees/wt").string() + "\n");
  EXPECT_EQ(git_head_revision(d.path() / "wt"), kA);
}

TEST(GitRevision, UnbornBranchUnsafeRefAndGarbageGiveNothing) {
  TempDir d;
  d.write(".git/HEAD", "ref: refs/heads/main\n");
  EXPECT_EQ(git_head_revision(d.path()), std::nullopt);
  d.write(".git/HEAD", "ref: refs/../../secret\n");
  d.write("secret", kA);
  EXPECT_EQ(git_head_revision(d.path()), std::nullopt);
  d.write(".git/HEAD", "not a ref\n");
  EXPECT_EQ(git_head_revision(d.path()), std::nullopt);
  d.write(".git/HEAD", "ref: refs/heads/main\n");
  d.write(".git/refs/heads/main", "XYZ\n");
  EXPECT_EQ(git_head_revision(d.path()), std::nullopt);
}

TEST(GitRevision, LoadUsesHeadAsRevision) {
  TempDir d;
  d.write(".git/HEAD", "ref: refs/heads/main\n");
  d.write(".git/refs/heads/main", kA + "\n");
  d.write("c.yaml", "apiVersion: sharekeeper/v1\naccounts: [{name: a}]\n");
  auto r = load(d.path() / "c.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.state->revision, kA);
  EXPECT_NE(r.state->content_hash, kA);
}

}  // namespace
}  // namespace sharekeeper::config
