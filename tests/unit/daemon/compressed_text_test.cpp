// daemon/compressed_text.hpp: what goes in comes out, byte for byte, and repetitive text is kept
// smaller than itself.
#include "daemon/compressed_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sharekeeper::daemon {
namespace {

TEST(CompressedText, EmptyStaysEmpty) {
  const auto c = CompressedText::of("");
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.text(), "");
  EXPECT_TRUE(CompressedText().empty());
}

TEST(CompressedText, RoundTripsAnyBytes) {
  std::mt19937 rng(7);
  std::string bytes(100'000, '\0');
  for (auto& ch : bytes) ch = static_cast<char>(rng() & 0xFF);  // incompressible, NULs included
  const auto c = CompressedText::of(bytes);
  EXPECT_EQ(c.size(), bytes.size());
  EXPECT_EQ(c.text(), bytes);
}

TEST(CompressedText, RepetitiveJsonIsKeptSmall) {
  std::string plan = "{\"grants\":[";
  for (int i = 0; i < 2000; ++i)
    plan += R"({"share":"sharer0001-)" + std::to_string(i % 50) +
            R"(","target":{"type":"account","id":"1900000000)" + std::to_string(1000 + i) +
            R"("},"state":"Ready","chain":[{"link":"trust","holds":true}]},)";
  plan += "{}]}";
  const auto c = CompressedText::of(plan);
  EXPECT_EQ(c.text(), plan);
  EXPECT_LT(c.stored_bytes() * 5, plan.size()) << c.stored_bytes() << " of " << plan.size();
}

}  // namespace
}  // namespace sharekeeper::daemon
