#include <gtest/gtest.h>

#include <string>

#include "sasl/internal.h"
#include "sasl/mechanism.h"

namespace tern::sasl {
namespace {

// RFC 4013 §3, the examples table.
TEST(SaslprepTest, Rfc4013Examples) {
  EXPECT_EQ(saslprep("I\xC2\xADX"), "IX");            // SOFT HYPHEN mapped to nothing
  EXPECT_EQ(saslprep("user"), "user");                // no transformation
  EXPECT_EQ(saslprep("USER"), "USER");                // case preserved
  EXPECT_EQ(saslprep("\xC2\xAA"), "a");               // U+00AA, NFKC
  EXPECT_EQ(saslprep("\xE2\x85\xA8"), "IX");          // U+2168, NFKC
  EXPECT_EQ(saslprep("\x07"), std::nullopt);          // prohibited character
  EXPECT_EQ(saslprep("\xD8\xA7\x31"), std::nullopt);  // U+0627 U+0031: bidi check
}

TEST(SaslprepTest, MapsNonAsciiSpaceToSpace) {
  EXPECT_EQ(saslprep("a\xC2\xA0\x62"), "a b");  // U+00A0 NO-BREAK SPACE
}

TEST(SaslprepTest, EmptyStaysEmpty) { EXPECT_EQ(saslprep(""), ""); }

TEST(SaslprepTest, RejectsBadUtf8AndNul) {
  EXPECT_EQ(saslprep("user\xFF"), std::nullopt);
  EXPECT_EQ(saslprep("\xC0\xAF"), std::nullopt);      // overlong '/'
  EXPECT_EQ(saslprep("\xED\xA0\x80"), std::nullopt);  // surrogate U+D800
  EXPECT_EQ(saslprep("\xE2\x85"), std::nullopt);      // truncated
  EXPECT_EQ(saslprep(std::string_view("a\0b", 3)), std::nullopt);
}

TEST(SaslprepTest, StoredModeRefusesUnassignedButQueryModeKeepsIt) {
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600, unassigned in Unicode 3.2
  EXPECT_EQ(saslprep(emoji), std::nullopt);
  EXPECT_EQ(internal::saslprep_query(emoji), emoji);
  EXPECT_EQ(internal::saslprep_query("I\xC2\xADX"), "IX");
  EXPECT_EQ(internal::saslprep_query("\x07"), std::nullopt);
}

TEST(Utf8Test, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(internal::is_utf8_without_nul(""));
  EXPECT_TRUE(internal::is_utf8_without_nul("plain ascii"));
  EXPECT_TRUE(
      internal::is_utf8_without_nul("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(internal::is_utf8_without_nul(std::string_view("\0", 1)));
  EXPECT_FALSE(internal::is_utf8_without_nul("\x80"));              // lone continuation
  EXPECT_FALSE(internal::is_utf8_without_nul("\xC3"));              // truncated
  EXPECT_FALSE(internal::is_utf8_without_nul("\xC3("));             // bad continuation
  EXPECT_FALSE(internal::is_utf8_without_nul("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(internal::is_utf8_without_nul("\xF0\x80\x80\xAF"));  // overlong
  EXPECT_FALSE(internal::is_utf8_without_nul("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(internal::is_utf8_without_nul("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(internal::is_utf8_without_nul("\xFF"));
}

}  // namespace
}  // namespace tern::sasl
