#include "router/iq_table.h"

#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::router {
namespace {

// Runs a handler to completion on a private loop and returns the payload's
// text, or "error:<condition>".
std::string call(const IqHandler& handler) {
  IqRequest req;
  req.stanza = xml::Element("iq", "jabber:client");
  req.stanza.add_child(xml::Element("query", "urn:example:q"));
  asio::io_context ctx;
  std::string out = "not run";
  asio::co_spawn(ctx, handler(req), [&](std::exception_ptr e, IqReply reply) {
    if (e) {
      out = "threw";
    } else if (reply.error) {
      out = std::string("error:") + xmpp::condition_name(reply.error->condition);
    } else if (reply.payload) {
      out = xml::to_string(*reply.payload, ns::kClient);
    } else {
      out = "empty result";
    }
  });
  ctx.run();
  return out;
}

SyncIqHandler answering(std::string name) {
  return [name](const IqRequest&) -> IqReply { return xml::Element(name, "urn:example:q"); };
}

TEST(IqTable, FindsNothingWhenEmpty) {
  IqTable table;
  EXPECT_EQ(table.find(IqTarget::kServer, IqType::kGet, "urn:example:q"), nullptr);
}

TEST(IqTable, FindsTheHandlerByTargetTypeAndNamespace) {
  IqTable table;
  auto server_get =
      table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("server-get"));
  auto server_set =
      table.add_sync(IqTarget::kServer, IqType::kSet, "urn:example:q", answering("server-set"));
  auto account_get =
      table.add_sync(IqTarget::kAccount, IqType::kGet, "urn:example:q", answering("account-get"));
  const IqHandler* h = table.find(IqTarget::kServer, IqType::kGet, "urn:example:q");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(call(*h), "<server-get xmlns='urn:example:q'/>");
  h = table.find(IqTarget::kServer, IqType::kSet, "urn:example:q");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(call(*h), "<server-set xmlns='urn:example:q'/>");
  h = table.find(IqTarget::kAccount, IqType::kGet, "urn:example:q");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(call(*h), "<account-get xmlns='urn:example:q'/>");
  EXPECT_EQ(table.find(IqTarget::kAccount, IqType::kSet, "urn:example:q"), nullptr);
  EXPECT_EQ(table.find(IqTarget::kServer, IqType::kGet, "urn:example:other"), nullptr);
  EXPECT_EQ(table.find(IqTarget::kServer, IqType::kGet, "urn:example:Q"), nullptr);
}

TEST(IqTable, SyncHandlerErrorsAndEmptyResultsComeThrough) {
  IqTable table;
  auto fail = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:fail",
                             [](const IqRequest&) -> IqReply {
                               return xmpp::StanzaError(xmpp::StanzaCondition::kForbidden);
                             });
  auto empty = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:empty",
                              [](const IqRequest&) { return IqReply::result(); });
  EXPECT_EQ(call(*table.find(IqTarget::kServer, IqType::kGet, "urn:example:fail")),
            "error:forbidden");
  EXPECT_EQ(call(*table.find(IqTarget::kServer, IqType::kGet, "urn:example:empty")),
            "empty result");
}

TEST(IqTable, SyncHandlerThatThrowsThrowsIntoTheAwaiter) {
  IqTable table;
  auto token = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q",
                              [](const IqRequest&) -> IqReply { throw std::runtime_error("x"); });
  EXPECT_EQ(call(*table.find(IqTarget::kServer, IqType::kGet, "urn:example:q")), "threw");
}

TEST(IqTable, DroppingTheTokenRemovesTheHandler) {
  IqTable table;
  auto token = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("a"));
  ASSERT_NE(table.find(IqTarget::kServer, IqType::kGet, "urn:example:q"), nullptr);
  token.reset();
  EXPECT_EQ(table.find(IqTarget::kServer, IqType::kGet, "urn:example:q"), nullptr);
}

TEST(IqTable, SecondAddForTheSameKeyReplacesTheFirst) {
  IqTable table;
  auto first = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("first"));
  auto second =
      table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("second"));
  const IqHandler* h = table.find(IqTarget::kServer, IqType::kGet, "urn:example:q");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(call(*h), "<second xmlns='urn:example:q'/>");
}

// Regression: IqTable's token erases the key, whoever holds it now. A module
// that is stopped after another module took over its namespace removes the
// other module's handler.
TEST(IqTable, DroppingAReplacedHandlersTokenKeepsTheReplacement) {
  IqTable table;
  auto first = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("first"));
  auto second =
      table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("second"));
  first.reset();
  const IqHandler* h = table.find(IqTarget::kServer, IqType::kGet, "urn:example:q");
  ASSERT_NE(h, nullptr) << "the first module's token removed the second module's handler";
  EXPECT_EQ(call(*h), "<second xmlns='urn:example:q'/>");
}

// iq_table.h: "a second add for the same key replaces the first until its
// token is dropped" — then the first answers again.
TEST(IqTable, DroppingTheReplacementsTokenRestoresTheFirst) {
  IqTable table;
  auto first = table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("first"));
  auto second =
      table.add_sync(IqTarget::kServer, IqType::kGet, "urn:example:q", answering("second"));
  second.reset();
  const IqHandler* h = table.find(IqTarget::kServer, IqType::kGet, "urn:example:q");
  ASSERT_NE(h, nullptr) << "the first handler is gone although its token is alive";
  EXPECT_EQ(call(*h), "<first xmlns='urn:example:q'/>");
}

}  // namespace
}  // namespace tern::router
