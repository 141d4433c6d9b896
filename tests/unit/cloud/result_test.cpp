#include "cloud/result.hpp"

#include <gtest/gtest.h>

namespace sharekeeper::cloud {
namespace {

TEST(Result, HoldsValueOrError) {
  Result<int> ok = 42;
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 42);
  Error e;
  e.product = "ram";
  e.action = "GetRole";
  e.http_status = 404;
  e.code = "EntityNotExist.Role";
  e.cls = ErrorClass::kNotFound;
  Result<int> bad = e;
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().is("EntityNotExist.Role"));
  EXPECT_EQ(bad.error().to_string(), "ram GetRole: EntityNotExist.Role (HTTP 404)");
  Result<void> v;
  EXPECT_TRUE(v.ok());
}

}  // namespace
}  // namespace sharekeeper::cloud
