// The blocking module through its registered iq handlers and its pre_route
// hook (XEP-0191): the list, the pushes, and what happens to stanzas either
// way between a user and a JID they blocked.
#include <gtest/gtest.h>

#include "modules/blocking/blocking.h"
#include "modules/module_harness.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using testing::ModuleHarness;

bool is_push(const xml::Element& e) {
  return e.name() == "iq" && e.attr_or("type") == "set" &&
         (e.child("block", blocking::kNs) || e.child("unblock", blocking::kNs));
}
bool is_message(const xml::Element& e) { return e.name() == "message"; }

std::vector<std::string> items_of(const xml::Element& command) {
  std::vector<std::string> out;
  for (const auto* item : command.children()) out.emplace_back(item->attr_or("jid"));
  return out;
}

class BlockingModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.start({"blocking"});
    alice = h.login("alice", "phone", true);
    mallory = h.login("mallory", "m", true);
  }
  xml::Element blocklist(const testing::Session& s) {
    return h.iq(s, "get", "<blocklist xmlns='urn:xmpp:blocking'/>");
  }
  xml::Element block(const testing::Session& s, const std::string& jid) {
    return h.iq(s, "set", "<block xmlns='urn:xmpp:blocking'><item jid='" + jid + "'/></block>");
  }

  ModuleHarness h;
  testing::Session alice, mallory;
};

TEST_F(BlockingModuleTest, AdvertisesItsNamespace) {
  EXPECT_EQ(h.features.disco_features, std::vector<std::string>{blocking::kNs});
}

TEST_F(BlockingModuleTest, BlockingAddsToTheListAndPushesToResourcesThatAskedForIt) {
  auto desk = h.login("alice", "desk", true);  // never fetches the list
  auto empty = blocklist(alice);
  EXPECT_EQ(empty.attr_or("type"), "result") << xml::to_string(empty, ns::kClient);
  ASSERT_NE(empty.child("blocklist", blocking::kNs), nullptr);
  EXPECT_TRUE(empty.child("blocklist", blocking::kNs)->children().empty());

  auto reply = block(alice, "mallory@example.com");
  EXPECT_EQ(reply.attr_or("type"), "result") << xml::to_string(reply, ns::kClient);

  auto pushes = h.wait_for_all(alice, is_push);
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].attr_or("to"), "alice@example.com/phone");
  EXPECT_EQ(items_of(*pushes[0].child("block", blocking::kNs)),
            std::vector<std::string>{"mallory@example.com"});
  EXPECT_FALSE(h.got_any(desk, is_push));

  auto list = blocklist(alice);
  ASSERT_NE(list.child("blocklist", blocking::kNs), nullptr);
  EXPECT_EQ(items_of(*list.child("blocklist", blocking::kNs)),
            std::vector<std::string>{"mallory@example.com"});
}

TEST_F(BlockingModuleTest, AMessageFromABlockedJidBouncesAsServiceUnavailable) {
  block(alice, "mallory@example.com");
  h.route("<message from='mallory@example.com/m' to='alice@example.com/phone' id='x'>"
          "<body>hi</body></message>");
  auto bounce = h.wait_for(mallory, is_message);
  ASSERT_TRUE(bounce);
  EXPECT_EQ(bounce->attr_or("type"), "error");
  EXPECT_EQ(bounce->attr_or("id"), "x");
  EXPECT_EQ(ModuleHarness::error_of(*bounce), "service-unavailable");
  EXPECT_FALSE(h.got_any(alice, is_message));
}

TEST_F(BlockingModuleTest, AMessageToABlockedJidIsNotAcceptableWithBlocked) {
  block(alice, "mallory@example.com");
  h.route("<message from='alice@example.com/phone' to='mallory@example.com' id='y'>"
          "<body>hi</body></message>");
  auto error = h.wait_for(alice, is_message);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->attr_or("type"), "error");
  EXPECT_EQ(ModuleHarness::error_of(*error), "not-acceptable");
  const auto* err = error->child("error");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->attr_or("type"), "cancel");
  EXPECT_NE(err->child("blocked", blocking::kErrorsNs), nullptr) << xml::to_string(*error, ns::kClient);
  EXPECT_FALSE(h.got_any(mallory, is_message));
}

TEST_F(BlockingModuleTest, UnblockingLetsMessagesThroughAgain) {
  block(alice, "mallory@example.com");
  auto reply = h.iq(alice, "set",
                    "<unblock xmlns='urn:xmpp:blocking'><item jid='mallory@example.com'/></unblock>");
  EXPECT_EQ(reply.attr_or("type"), "result") << xml::to_string(reply, ns::kClient);
  h.route("<message from='mallory@example.com/m' to='alice@example.com/phone'><body>hi</body></message>");
  auto got = h.wait_for(alice, is_message);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->child_text("body"), "hi");
}

TEST_F(BlockingModuleTest, BlockWithoutItemsIsBadRequest) {
  auto reply = h.iq(alice, "set", "<block xmlns='urn:xmpp:blocking'/>");
  EXPECT_EQ(ModuleHarness::error_of(reply), "bad-request") << xml::to_string(reply, ns::kClient);
}

TEST_F(BlockingModuleTest, AnotherAccountsListIsServiceUnavailable) {
  auto reply = h.iq(alice, "get", "<blocklist xmlns='urn:xmpp:blocking'/>", "mallory@example.com");
  EXPECT_EQ(ModuleHarness::error_of(reply), "service-unavailable") << xml::to_string(reply, ns::kClient);
}

}  // namespace
}  // namespace tern::modules
