// The adhoc module on a real router and store: XEP-0050 sessions and
// errors, and the XEP-0133 commands end to end below the stream layer.
#include "modules/adhoc/adhoc.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "router/router_harness.h"
#include "storage/temp_dir.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace {

using router::fakes::FakeSession;
using router::fakes::parse_stanza;
using router::fakes::RouterHarness;

constexpr const char* kCmd = "http://jabber.org/protocol/commands";
constexpr const char* kAddUser = "http://jabber.org/protocol/admin#add-user";

class AdhocModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config.domains = {"example.com"};
    config.admins = {"Admin@Example.com"};  // normalised by the module
    ModuleContext ctx{h.router, *storage, blocking, config, features, options};
    module = start_adhoc(ctx);
    admin = h.bind("admin@example.com/desk", 0);
    user = h.bind("user@example.com/phone", 0);
  }
  void TearDown() override { module.reset(); }

  // Sends <iq type='set'> with `payload` from `s` to the server; returns the reply.
  xml::Element ask(const std::shared_ptr<FakeSession>& s, const std::string& payload) {
    const std::string id = "q" + std::to_string(++ids_);
    h.route("<iq type='set' id='" + id + "' from='" + s->jid().to_string() +
            "' to='example.com'>" + payload + "</iq>");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      for (const auto& text : s->delivered()) {
        if (text.rfind("<iq", 0) == 0 && text.find("id='" + id + "'") != std::string::npos)
          return parse_stanza(text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      h.settle();
    }
    ADD_FAILURE() << "no reply to " << id;
    return xml::Element("iq", "jabber:client");
  }

  static std::string execute(const char* node) {
    return std::string("<command xmlns='") + kCmd + "' node='" + node + "' action='execute'/>";
  }
  static std::string submit(const char* node, const std::string& sessionid,
                            const std::string& fields) {
    return std::string("<command xmlns='") + kCmd + "' node='" + node + "' sessionid='" +
           sessionid + "'><x xmlns='jabber:x:data' type='submit'>" + fields + "</x></command>";
  }
  static std::string field(const char* var, std::initializer_list<const char*> values) {
    std::string f = std::string("<field var='") + var + "'>";
    for (const char* v : values) f += std::string("<value>") + v + "</value>";
    return f + "</field>";
  }
  static const xml::Element* command_of(const xml::Element& iq) { return iq.child("command", kCmd); }
  // "bad-request+bad-sessionid", "forbidden", … ("" for a result).
  static std::string error_of(const xml::Element& iq) {
    const auto* err = iq.child("error");
    if (!err) return "";
    std::string out;
    for (const auto* c : err->children()) {
      if (c->name() == "text") continue;
      if (!out.empty()) out += "+";
      out += c->name();
    }
    return out;
  }
  // Runs stage 1 of `node`; returns the sessionid.
  std::string start(const char* node) {
    auto reply = ask(admin, execute(node));
    const auto* cmd = command_of(reply);
    EXPECT_NE(cmd, nullptr) << xml::to_string(reply, ns::kClient);
    if (!cmd) return "";
    EXPECT_EQ(cmd->attr_or("status"), "executing");
    return std::string(cmd->attr_or("sessionid"));
  }
  bool account_exists(const std::string& user) {
    return storage->accounts().exists({user, "example.com"});
  }

  storage::testing::TempDir dir;
  std::unique_ptr<storage::Storage> storage = storage::open_storage("sqlite", dir.file("tern.db"));
  core::BlockingPool blocking{2};
  RouterHarness h;
  core::Config config;
  ServerFeatures features;
  std::map<std::string, std::string> options;
  std::unique_ptr<Module> module;
  std::shared_ptr<FakeSession> admin, user;
  int ids_ = 0;
};

TEST_F(AdhocModuleTest, AdvertisesTheCommandsFeature) {
  EXPECT_EQ(features.disco_features, std::vector<std::string>{kCmd});
}

TEST_F(AdhocModuleTest, FirstStageIsTheFormWithASessionAndActions) {
  auto reply = ask(admin, execute(kAddUser));
  EXPECT_EQ(reply.attr_or("type"), "result");
  const auto* cmd = command_of(reply);
  ASSERT_NE(cmd, nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(cmd->attr_or("node"), kAddUser);
  EXPECT_EQ(cmd->attr_or("status"), "executing");
  EXPECT_FALSE(cmd->attr_or("sessionid").empty());
  const auto* actions = cmd->child("actions", kCmd);
  ASSERT_NE(actions, nullptr);
  EXPECT_EQ(actions->attr_or("execute"), "complete");
  EXPECT_NE(actions->child("complete", kCmd), nullptr);
  const auto* x = cmd->child("x", "jabber:x:data");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->attr_or("type"), "form");
  std::vector<std::string> vars;
  for (const auto* f : x->children())
    if (f->name() == "field") vars.emplace_back(f->attr_or("var"));
  EXPECT_EQ(vars, (std::vector<std::string>{"FORM_TYPE", "accountjid", "password", "password-verify"}));
}

TEST_F(AdhocModuleTest, AddUserCreatesTheAccountThenConflicts) {
  auto id = start(kAddUser);
  auto reply = ask(admin, submit(kAddUser, id,
                                 field("accountjid", {"juliet@example.com"}) +
                                     field("password", {"R0m30"}) +
                                     field("password-verify", {"R0m30"})));
  const auto* cmd = command_of(reply);
  ASSERT_NE(cmd, nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(cmd->attr_or("status"), "completed");
  EXPECT_EQ(cmd->attr_or("sessionid"), id);
  ASSERT_NE(cmd->child("note", kCmd), nullptr);
  EXPECT_EQ(cmd->child("note", kCmd)->attr_or("type"), "info");
  EXPECT_TRUE(account_exists("juliet"));
  EXPECT_TRUE(storage->accounts().check_password({"juliet", "example.com"}, "R0m30"));
  // The session ended with completion.
  reply = ask(admin, submit(kAddUser, id, field("accountjid", {"romeo@example.com"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-sessionid");

  id = start(kAddUser);
  reply = ask(admin, submit(kAddUser, id,
                            field("accountjid", {"juliet@example.com"}) + field("password", {"x"})));
  EXPECT_EQ(error_of(reply), "conflict");
}

TEST_F(AdhocModuleTest, BadPayloadKeepsTheSessionForAnotherTry) {
  auto id = start(kAddUser);
  auto reply = ask(admin, submit(kAddUser, id,
                                 field("accountjid", {"juliet@example.com"}) +
                                     field("password", {"a"}) + field("password-verify", {"b"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-payload");
  reply = ask(admin, submit(kAddUser, id, field("accountjid", {"juliet@elsewhere.example"}) +
                                              field("password", {"a"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-payload");
  reply = ask(admin, submit(kAddUser, id, field("accountjid", {"juliet@example.com/res"}) +
                                              field("password", {"a"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-payload");
  reply = ask(admin, submit(kAddUser, id,
                            field("accountjid", {"juliet@example.com"}) + field("password", {"a"})));
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->attr_or("status"), "completed");
}

TEST_F(AdhocModuleTest, NonAdminIsForbiddenUnknownNodeIsNotFound) {
  auto reply = ask(user, execute(kAddUser));
  EXPECT_EQ(error_of(reply), "forbidden");
  ASSERT_NE(reply.child("error"), nullptr);
  EXPECT_EQ(reply.child("error")->attr_or("type"), "cancel");  // XEP-0050 §6.4
  EXPECT_EQ(error_of(ask(admin, execute("http://jabber.org/protocol/admin#shutdown"))),
            "item-not-found");
  EXPECT_EQ(error_of(ask(admin, std::string("<command xmlns='") + kCmd + "' node='" + kAddUser +
                                    "' action='jump'/>")),
            "bad-request+malformed-action");
}

TEST_F(AdhocModuleTest, CancelEndsTheSession) {
  auto id = start(kAddUser);
  auto reply = ask(admin, std::string("<command xmlns='") + kCmd + "' node='" + kAddUser +
                              "' sessionid='" + id + "' action='cancel'/>");
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->attr_or("status"), "canceled");
  EXPECT_EQ(command_of(reply)->attr_or("sessionid"), id);
  reply = ask(admin, submit(kAddUser, id, field("accountjid", {"x@example.com"}) +
                                              field("password", {"x"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-sessionid");
  EXPECT_FALSE(account_exists("x"));
}

TEST_F(AdhocModuleTest, SessionBelongsToOneRequester) {
  auto id = start(kAddUser);
  auto other = h.bind("admin@example.com/phone", 0);
  auto reply = ask(other, submit(kAddUser, id, field("accountjid", {"x@example.com"}) +
                                                   field("password", {"x"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-sessionid");
  EXPECT_EQ(error_of(ask(admin, submit(kAddUser, "made-up", ""))), "bad-request+bad-sessionid");
}

TEST_F(AdhocModuleTest, DeleteUserRemovesAccountsAndClosesTheirSessions) {
  ASSERT_TRUE(storage->accounts().create({"victim", "example.com"}, "pw"));
  auto victim = h.bind("victim@example.com/laptop", 0);
  const char* node = "http://jabber.org/protocol/admin#delete-user";
  auto id = start(node);
  auto reply = ask(admin, submit(node, id, field("accountjids", {"victim@example.com",
                                                                  "victim@example.com"})));
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->attr_or("status"), "completed");
  EXPECT_EQ(command_of(reply)->child("note", kCmd)->attr_or("type"), "info");
  EXPECT_FALSE(account_exists("victim"));
  h.settle();
  EXPECT_EQ(victim->closed_with(),
            std::vector<xmpp::StreamCondition>{xmpp::StreamCondition::kNotAuthorized});
  EXPECT_TRUE(user->closed_with().empty());

  // An unknown account completes with an error note.
  id = start(node);
  reply = ask(admin, submit(node, id, field("accountjids", {"ghost@example.com"})));
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->child("note", kCmd)->attr_or("type"), "error");
}

TEST_F(AdhocModuleTest, ChangeUserPassword) {
  ASSERT_TRUE(storage->accounts().create({"bob", "example.com"}, "old"));
  const char* node = "http://jabber.org/protocol/admin#change-user-password";
  auto id = start(node);
  auto reply = ask(admin, submit(node, id, field("accountjid", {"bob@example.com"}) +
                                               field("password", {"new"})));
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->attr_or("status"), "completed");
  EXPECT_TRUE(storage->accounts().check_password({"bob", "example.com"}, "new"));
  EXPECT_FALSE(storage->accounts().check_password({"bob", "example.com"}, "old"));
}

TEST_F(AdhocModuleTest, OnlineUsersListsBareJidsOfBoundSessions) {
  h.bind("user@example.com/tablet", 0);
  const char* node = "http://jabber.org/protocol/admin#get-online-users-list";
  auto id = start(node);
  auto reply = ask(admin, submit(node, id, field("max_items", {"none"})));
  const auto* cmd = command_of(reply);
  ASSERT_NE(cmd, nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(cmd->attr_or("status"), "completed");
  const auto* x = cmd->child("x", "jabber:x:data");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->attr_or("type"), "result");
  std::vector<std::string> jids;
  for (const auto* f : x->children()) {
    if (f->attr_or("var") != "onlineuserjids") continue;
    for (const auto* v : f->children()) jids.push_back(v->text());
  }
  EXPECT_EQ(jids, (std::vector<std::string>{"admin@example.com", "user@example.com"}));

  id = start(node);
  reply = ask(admin, submit(node, id, field("max_items", {"-3"})));
  EXPECT_EQ(error_of(reply), "bad-request+bad-payload");
}

TEST_F(AdhocModuleTest, AnnounceSendsAHeadlineToEverySession) {
  const char* node = "http://jabber.org/protocol/admin#announce";
  auto id = start(node);
  auto reply = ask(admin, submit(node, id, field("subject", {"Maintenance"}) +
                                               field("announcement", {"Going down", "at noon"})));
  ASSERT_NE(command_of(reply), nullptr) << xml::to_string(reply, ns::kClient);
  EXPECT_EQ(command_of(reply)->attr_or("status"), "completed");
  h.settle();
  const auto delivered = user->delivered();
  ASSERT_EQ(delivered.size(), 1u);
  auto message = parse_stanza(delivered.front());
  EXPECT_EQ(message.name(), "message");
  EXPECT_EQ(message.attr_or("type"), "headline");
  EXPECT_EQ(message.attr_or("from"), "example.com");
  EXPECT_EQ(message.attr_or("to"), "user@example.com/phone");
  EXPECT_EQ(message.child_text("subject"), "Maintenance");
  EXPECT_EQ(message.child_text("body"), "Going down\nat noon");
}

TEST(AdhocCommandsFor, AdminsSeeEveryCommandOthersNone) {
  core::Config config;
  config.admins = {"admin@example.com"};
  auto items = adhoc_commands_for(config, *xmpp::Jid::parse("admin@example.com/desk"));
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].node, kAddUser);
  EXPECT_TRUE(adhoc_commands_for(config, *xmpp::Jid::parse("user@example.com/desk")).empty());
}

}  // namespace
}  // namespace tern::modules
