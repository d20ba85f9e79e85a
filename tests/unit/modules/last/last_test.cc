#include <gtest/gtest.h>

#include "modules/last/last.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::last {
namespace {

TEST(LastRecord, RoundTrips) {
  LastLogout l{1700000000, "Heading Home & <out>"};
  auto back = decode(encode(l));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at, 1700000000);
  EXPECT_EQ(back->status, "Heading Home & <out>");
}

TEST(LastRecord, WithoutStatus) {
  auto back = decode(encode(LastLogout{42, ""}));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->at, 42);
  EXPECT_EQ(back->status, "");
}

TEST(LastRecord, RejectsOtherDocuments) {
  EXPECT_FALSE(decode("<vCard xmlns='vcard-temp'/>"));
  EXPECT_FALSE(decode("<last xmlns='urn:tern:last' at='soon'/>"));
  EXPECT_FALSE(decode("garbage"));
}

TEST(LastQuery, HasSecondsAndText) {
  EXPECT_EQ(xml::to_string(query(903, "Heading Home"), ns::kClient),
            "<query xmlns='jabber:iq:last' seconds='903'>Heading Home</query>");
  EXPECT_EQ(xml::to_string(query(0), ns::kClient), "<query xmlns='jabber:iq:last' seconds='0'/>");
  EXPECT_EQ(xml::to_string(query(-5), ns::kClient), "<query xmlns='jabber:iq:last' seconds='0'/>");
}

}  // namespace
}  // namespace tern::modules::last
