// Bookmark conversions between XEP-0402 items and XEP-0048 <storage/>.
#include "modules/pep/bookmarks.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pep::bookmarks {
namespace {

TEST(Bookmarks, AXep0402ItemRoundTrips) {
  auto el = xml::parse_element(
      "<conference xmlns='urn:xmpp:bookmarks:1' name='The Play' autojoin='true'>"
      "<nick>JC</nick><extensions><state xmlns='http://myclient.example/bookmark/state' minimized='true'/></extensions>"
      "</conference>", ns::kClient);
  auto b = from_item("theplay@conference.example.org", *el);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "The Play");
  EXPECT_TRUE(b->autojoin);
  EXPECT_EQ(b->nick, "JC");
  ASSERT_TRUE(b->extensions);
  EXPECT_EQ(from_item(b->jid, to_conference(*b)), b);
  EXPECT_FALSE(from_item("", *el));
}

TEST(Bookmarks, StorageRoundTripsAndKeepsUrls) {
  auto el = xml::parse_element(
      "<storage xmlns='storage:bookmarks'>"
      "<conference name='Council' autojoin='1' jid='council@conference.example.org'><nick>Puck</nick>"
      "<password>secret</password></conference>"
      "<conference jid='other@conference.example.org'/>"
      "<url name='Site' url='https://example.org/'/>"
      "<conference name='no jid'/></storage>", ns::kClient);
  std::vector<xml::Element> urls;
  auto marks = from_storage(*el, &urls);
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_EQ(marks[0].jid, "council@conference.example.org");
  EXPECT_TRUE(marks[0].autojoin);
  EXPECT_EQ(marks[0].password, "secret");
  EXPECT_FALSE(marks[1].autojoin);
  ASSERT_EQ(urls.size(), 1u);
  auto again = to_storage(marks, urls);
  std::vector<xml::Element> urls2;
  EXPECT_EQ(from_storage(again, &urls2), marks);
  EXPECT_EQ(urls2.size(), 1u);
}

}  // namespace
}  // namespace tern::modules::pep::bookmarks
