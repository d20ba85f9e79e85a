// XEP-0030: the feature list and the shape of disco results.
#include "modules/disco/disco.h"

#include <gtest/gtest.h>

#include "xml/serializer.h"

namespace tern::modules {
namespace {

using Strings = std::vector<std::string>;

TEST(DiscoFeatureList, AddsDiscoOwnFeaturesSortedAndOnce) {
  EXPECT_EQ(disco::feature_list({"urn:xmpp:time", "jabber:iq:version", "urn:xmpp:time",
                                 "http://jabber.org/protocol/disco#info"}),
            (Strings{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
                     "jabber:iq:version", "urn:xmpp:time"}));
}

TEST(DiscoFeatureList, NoModulesStillListsDisco) {
  EXPECT_EQ(disco::feature_list({}),
            (Strings{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items"}));
}

TEST(DiscoInfoResult, IdentityThenFeaturesInGivenOrder) {
  auto q = disco::info_result({"server", "im", "Tern"}, {"a", "b"});
  EXPECT_EQ(xml::to_string(q, ""),
            "<query xmlns='http://jabber.org/protocol/disco#info'>"
            "<identity category='server' type='im' name='Tern'/>"
            "<feature var='a'/><feature var='b'/></query>");
}

TEST(DiscoInfoResult, MirrorsNodeAndOmitsEmptyName) {
  auto q = disco::info_result({"account", "registered", {}}, {}, "n1");
  EXPECT_EQ(xml::to_string(q, ""),
            "<query xmlns='http://jabber.org/protocol/disco#info' node='n1'>"
            "<identity category='account' type='registered'/></query>");
}

TEST(DiscoItemsResult, EmptyAndWithItems) {
  EXPECT_EQ(xml::to_string(disco::items_result({}), ""),
            "<query xmlns='http://jabber.org/protocol/disco#items'/>");
  EXPECT_EQ(xml::to_string(disco::items_result({{"a@x/1", {}, {}}, {"x", "cmd", "Do it"}}, "n"), ""),
            "<query xmlns='http://jabber.org/protocol/disco#items' node='n'>"
            "<item jid='a@x/1'/><item jid='x' node='cmd' name='Do it'/></query>");
}

TEST(DiscoSubdomainItems, OnlyServicesOnSubdomainsOfTheAskedDomain) {
  const std::vector<DiscoItem> items{{"conference.a.org", {}, "Chat rooms"},
                                     {"conference.b.org", {}, {}},
                                     {"a.org", {}, {}},
                                     {"xa.org", {}, {}}};
  auto found = disco::subdomain_items(items, "a.org");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].jid, "conference.a.org");
  EXPECT_TRUE(disco::subdomain_items(items, "c.org").empty());
}

TEST(DiscoSharesPresence, OnlyFromAndBoth) {
  EXPECT_TRUE(disco::shares_presence("from"));
  EXPECT_TRUE(disco::shares_presence("both"));
  EXPECT_FALSE(disco::shares_presence("to"));
  EXPECT_FALSE(disco::shares_presence("none"));
  EXPECT_FALSE(disco::shares_presence(""));
}

}  // namespace
}  // namespace tern::modules
