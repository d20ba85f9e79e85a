#include "core/percent_encoding.h"

#include <gtest/gtest.h>

namespace tern::core {
namespace {

TEST(PercentEncoding, EncodesAllButUnreservedBytes) {
  EXPECT_EQ(percent_encode("très cool.jpg"), "tr%C3%A8s%20cool.jpg");
  EXPECT_EQ(percent_encode("a/b?c#d%"), "a%2Fb%3Fc%23d%25");
  EXPECT_EQ(percent_encode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(percent_encode(std::string_view("\0\xff", 2)), "%00%FF");
}

TEST(PercentEncoding, DecodesEitherCaseAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("tr%C3%A8s%20cool.jpg"), "très cool.jpg");
  EXPECT_EQ(percent_decode("%2f%2F"), "//");
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));  // the caller's to refuse
  for (const char* bad : {"%", "a%", "%4", "%g0", "%zz", "%%41"}) EXPECT_EQ(percent_decode(bad), std::nullopt) << bad;
}

TEST(PercentEncoding, DecodeUndoesEncode) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(percent_decode(percent_encode(all)), all);
}

}  // namespace
}  // namespace tern::core
