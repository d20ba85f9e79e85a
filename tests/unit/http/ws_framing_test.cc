#include <gtest/gtest.h>

#include "http/bosh.h"
#include "http/ws_session.h"

namespace tern::http {
namespace {

TEST(WsFraming, AttributeGoesAfterTheElementName) {
  EXPECT_EQ(with_attribute("<message to='a'><body>x</body></message>", " xmlns='jabber:client'"),
            "<message xmlns='jabber:client' to='a'><body>x</body></message>");
  EXPECT_EQ(with_attribute("<presence/>", " xmlns='jabber:client'"),
            "<presence xmlns='jabber:client'/>");
  EXPECT_EQ(with_attribute("<stream:features><bind/></stream:features>", " xmlns:stream='s'"),
            "<stream:features xmlns:stream='s'><bind/></stream:features>");
  EXPECT_EQ(with_attribute("<iq>", " a='b'"), "<iq a='b'>");
  EXPECT_EQ(with_attribute("not xml", " a='b'"), "not xml");
}

TEST(BoshFraming, TerminateCarriesTheCondition) {
  EXPECT_EQ(bosh_terminate("item-not-found"),
            "<body xmlns='http://jabber.org/protocol/httpbind' "
            "xmlns:stream='http://etherx.jabber.org/streams' type='terminate' "
            "condition='item-not-found'/>");
}

}  // namespace
}  // namespace tern::http
