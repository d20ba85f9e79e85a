// Avatar conversions between XEP-0084 and the vCard PHOTO (XEP-0398).
#include "modules/pep/avatar.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

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
      "<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>AA\nBB</BINVAL></PHOTO></vCard>", ns::kClient);
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

namespace tern::modules::pep::avatar {
namespace {

std::string photo_in(const xml::Element& presence) {
  const xml::Element* x = presence.child("x", kUpdateNs);
  if (!x) return "<no x>";
  const xml::Element* photo = x->child("photo", kUpdateNs);
  return photo ? photo->text() : "<no photo>";
}

xml::Element presence_of(const char* xml) { return *xml::parse_element(xml, ns::kClient); }

TEST(PhotoHash, AddedToAPresenceWithoutX) {
  auto p = presence_of("<presence xmlns='jabber:client'><show>away</show></presence>");
  apply_photo_hash(p, std::string("abc"));
  EXPECT_EQ(photo_in(p), "abc");
  apply_photo_hash(p, std::string("abc"));  // idempotent: one <x/>, one <photo/>
  EXPECT_EQ(p.children().size(), 2u);
}

TEST(PhotoHash, EmptyXIsCompletedEmptyPhotoIsLeftAlone) {
  auto x_only = presence_of("<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/></presence>");
  apply_photo_hash(x_only, std::string("abc"));
  EXPECT_EQ(photo_in(x_only), "abc");
  auto empty_photo = presence_of(
      "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo/></x></presence>");
  apply_photo_hash(empty_photo, std::string("abc"));
  EXPECT_EQ(photo_in(empty_photo), "");
}

TEST(PhotoHash, AnotherHashIsOverwritten) {
  auto p = presence_of(
      "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo>old</photo></x></presence>");
  apply_photo_hash(p, std::string("new"));
  EXPECT_EQ(photo_in(p), "new");
}

TEST(PhotoHash, WithoutAvatarOnlyTheClientsSignalIsAnswered) {
  auto plain = presence_of("<presence xmlns='jabber:client'/>");
  apply_photo_hash(plain, std::nullopt);
  EXPECT_EQ(photo_in(plain), "<no x>");
  auto x_only = presence_of("<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'/></presence>");
  apply_photo_hash(x_only, std::nullopt);
  EXPECT_EQ(photo_in(x_only), "");
  auto clients = presence_of(
      "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo>theirs</photo></x></presence>");
  apply_photo_hash(clients, std::nullopt, std::string("ours"));
  EXPECT_EQ(photo_in(clients), "theirs");
  auto ours = presence_of(
      "<presence xmlns='jabber:client'><x xmlns='vcard-temp:x:update'><photo>ours</photo></x></presence>");
  apply_photo_hash(ours, std::nullopt, std::string("ours"));
  EXPECT_EQ(photo_in(ours), "");
}

TEST(PhotoHash, OfAStoredVcard) {
  EXPECT_EQ(vcard_photo_hash("<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>YWJj</BINVAL>"
                             "</PHOTO></vCard>"),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_FALSE(vcard_photo_hash("<vCard xmlns='vcard-temp'><FN>A</FN></vCard>"));
  EXPECT_FALSE(vcard_photo_hash("<vCard"));
}

// A fuzz find: PHOTO took the enclosing element's namespace, so an element
// outside vcard-temp lost the photo just put into it.
TEST(Avatar, PhotoPutIntoAnElementOfAnotherNamespaceReadsBack) {
  auto v = xml::parse_element("<vCard xmlns='other'><FN>Al</FN></vCard>", ns::kClient);
  ASSERT_TRUE(v);
  auto p = photo_of(with_photo(*v, Photo{"image/png", "AA"}));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, "image/png");
  EXPECT_EQ(p->base64, "AA");
}

}  // namespace
}  // namespace tern::modules::pep::avatar
