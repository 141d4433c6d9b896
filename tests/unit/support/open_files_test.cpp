// support/open_files.hpp: the soft open-files limit is raised toward what is wanted, never past the
// hard limit, and never lowered.
#include "support/open_files.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace sharekeeper::support {
namespace {

struct RestoreLimit {
  rlimit saved{};
  RestoreLimit() { getrlimit(RLIMIT_NOFILE, &saved); }
  ~RestoreLimit() { setrlimit(RLIMIT_NOFILE, &saved); }
};

TEST(OpenFiles, TheSoftLimitIsRaisedTowardWhatIsWantedAndNeverLowered) {
  const RestoreLimit restore;
  rlimit now = restore.saved;
  if (now.rlim_max != RLIM_INFINITY && now.rlim_max < 512) GTEST_SKIP() << "hard limit below 512";
  now.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(raise_open_files_limit(512), 512U);
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, 512U);
  EXPECT_EQ(raise_open_files_limit(300), 512U);  // already enough: left as it is
}

TEST(OpenFiles, TheHardLimitIsTheCeiling) {
  const RestoreLimit restore;
  rlimit now = restore.saved;
  if (now.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard limit";
  EXPECT_EQ(raise_open_files_limit(static_cast<std::uint64_t>(now.rlim_max) + 1000),
            static_cast<std::uint64_t>(now.rlim_max));
}

}  // namespace
}  // namespace sharekeeper::support
