// Avatar conversions between XEP-0084 and the vCard PHOTO (XEP-0398).
#include "modules/pep/avatar.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"

namespace tern::modules::pep::avatar {
namespace {

TEST(Avatar, ImageIdIsTheHexSha1OfTheDecodedImage) {
  // SHA-1("abc") with "abc" base64-encoded, whitespace and all.
  std::size_t bytes = 0;
  EXPECT_EQ(image_id("YW\nJj", &bytes), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(bytes, 3u);
  EXPECT_FALSE(image_id("").has_value());
  EXPECT_FALSE(image_id("!!!").has_value());
}

TEST(Avatar, MetadataInfoAndSwitchedOff) {
  auto m = metadata_for("abc", "image/jpeg", 12);
  auto info = metadata_info(m);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->first, "abc");
  EXPECT_EQ(info->second, "image/jpeg");
  EXPECT_FALSE(metadata_info(xml::Element("metadata", kMetadataNode)));
}

TEST(Avatar, PhotoIsReplacedKeepingTheRestOfTheVcard) {
  auto v = xml::parse_element(
      "<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>AA\nBB</BINVAL></PHOTO></vCard>");
  auto p = photo_of(*v);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->base64, "AABB");
  auto replaced = with_photo(*v, Photo{"image/jpeg", "CCDD"});
  EXPECT_EQ(replaced.child_text("FN", kVcardNs), "Alice");
  EXPECT_EQ(photo_of(replaced)->type, "image/jpeg");
  EXPECT_EQ(photo_of(replaced)->base64, "CCDD");
  auto removed = with_photo(replaced, std::nullopt);
  EXPECT_FALSE(photo_of(removed));
  EXPECT_EQ(removed.child_text("FN", kVcardNs), "Alice");
  EXPECT_TRUE(photo_of(with_photo(std::nullopt, Photo{"image/png", "AA"})));
}

}  // namespace
}  // namespace tern::modules::pep::avatar
