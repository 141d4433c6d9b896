#include "cloud/result.hpp"

#include <gtest/gtest.h>

namespace sharekeeper::cloud {
namespace {

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  Result<int> bad = Error{.product = "ram", .action = "GetRole", .http_status = 404,
                          .code = "EntityNotExist.Role", .cls = ErrorClass::kNotFound};
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().is("EntityNotExist.Role"));
  EXPECT_EQ(bad.error().to_string(), "ram GetRole: EntityNotExist.Role (HTTP 404)");
  Result<void> v;
  EXPECT_TRUE(v.ok());
}

}  // namespace
}  // namespace sharekeeper::cloud
