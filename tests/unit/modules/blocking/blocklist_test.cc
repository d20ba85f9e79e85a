#include <gtest/gtest.h>

#include "modules/blocking/blocking.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::blocking {
namespace {

xmpp::Jid jid(std::string_view text) { return *xmpp::Jid::parse(text); }

TEST(Blocklist, EmptyBlocksNobody) {
  Blocklist list;
  EXPECT_FALSE(list.blocks(jid("romeo@montague.net/orchard")));
  EXPECT_FALSE(list.blocks(jid("montague.net")));
}

TEST(Blocklist, FullJidItemMatchesOnlyThatResource) {
  Blocklist list({"romeo@montague.net/orchard"});
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net/orchard")));
  EXPECT_FALSE(list.blocks(jid("romeo@montague.net/garden")));
  EXPECT_FALSE(list.blocks(jid("romeo@montague.net")));
}

TEST(Blocklist, BareJidItemMatchesEveryResource) {
  Blocklist list({"romeo@montague.net"});
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net")));
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net/orchard")));
  EXPECT_FALSE(list.blocks(jid("benvolio@montague.net")));
  EXPECT_FALSE(list.blocks(jid("montague.net")));
}

TEST(Blocklist, DomainResourceItemMatchesOnlyThatResource) {
  Blocklist list({"montague.net/gateway"});
  EXPECT_TRUE(list.blocks(jid("montague.net/gateway")));
  EXPECT_FALSE(list.blocks(jid("montague.net")));
  EXPECT_FALSE(list.blocks(jid("romeo@montague.net/gateway")));
}

TEST(Blocklist, DomainItemMatchesDomainUsersAndSubdomains) {
  Blocklist list({"montague.net"});
  EXPECT_TRUE(list.blocks(jid("montague.net")));
  EXPECT_TRUE(list.blocks(jid("montague.net/gateway")));
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net")));
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net/orchard")));
  EXPECT_TRUE(list.blocks(jid("chat.montague.net")));
  EXPECT_TRUE(list.blocks(jid("room@chat.montague.net/nick")));
  EXPECT_FALSE(list.blocks(jid("capulet.com")));
  EXPECT_FALSE(list.blocks(jid("notmontague.net")));
}

TEST(Blocklist, AddRemoveClear) {
  Blocklist list;
  list.add("iago@shakespeare.lit");
  list.add("romeo@montague.net");
  EXPECT_EQ(list.sorted(), (std::vector<std::string>{"iago@shakespeare.lit", "romeo@montague.net"}));
  list.remove("iago@shakespeare.lit");
  EXPECT_FALSE(list.blocks(jid("iago@shakespeare.lit")));
  EXPECT_TRUE(list.blocks(jid("romeo@montague.net")));
  list.clear();
  EXPECT_TRUE(list.empty());
}

TEST(BlockingItems, ParsesAndNormalises) {
  xml::Element block("block", kNs);
  block.add_child("item").set_attr("jid", "Romeo@Montague.NET");
  block.add_child("item").set_attr("jid", "romeo@montague.net");  // duplicate once normalised
  block.add_child("item").set_attr("jid", "capulet.com/balcony");
  auto items = parse_items(block);
  ASSERT_TRUE(items);
  EXPECT_EQ(*items, (std::vector<std::string>{"romeo@montague.net", "capulet.com/balcony"}));
}

TEST(BlockingItems, RejectsMissingOrInvalidJid) {
  xml::Element no_jid("block", kNs);
  no_jid.add_child("item");
  EXPECT_FALSE(parse_items(no_jid));
  xml::Element bad("block", kNs);
  bad.add_child("item").set_attr("jid", "a@b@c");
  EXPECT_FALSE(parse_items(bad));
}

TEST(BlockingItems, EmptyCommandHasNoItems) {
  auto items = parse_items(xml::Element("unblock", kNs));
  ASSERT_TRUE(items);
  EXPECT_TRUE(items->empty());
}

TEST(BlockingItems, MakesCommand) {
  EXPECT_EQ(xml::to_string(make_command("block", {"romeo@montague.net"}), ns::kClient),
            "<block xmlns='urn:xmpp:blocking'><item jid='romeo@montague.net'/></block>");
  EXPECT_EQ(xml::to_string(make_command("unblock", {}), ns::kClient), "<unblock xmlns='urn:xmpp:blocking'/>");
}

}  // namespace
}  // namespace tern::modules::blocking
