// XEP-0077 payload parsing and the checks that pick the stanza error.
#include <gtest/gtest.h>

#include "modules/register/query.h"
#include "router/router_harness.h"
#include "xml/serializer.h"

namespace tern::modules::reg {
namespace {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

RegisterQuery parse(std::string_view iq) {
  auto stanza = router::fakes::parse_stanza(iq);
  return parse_query(*stanza.children().front());
}

StanzaCondition error_of(const std::variant<NewAccount, StanzaError>& v) {
  EXPECT_TRUE(std::holds_alternative<StanzaError>(v));
  return std::holds_alternative<StanzaError>(v) ? std::get<StanzaError>(v).condition
                                                : StanzaCondition::kUndefinedCondition;
}

TEST(RegisterQuery, ReadsUsernamePasswordAndRemove) {
  auto q = parse(
      "<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
      "<username>bill</username><password>Calliope</password></query></iq>");
  EXPECT_FALSE(q.remove);
  EXPECT_EQ(q.username, "bill");
  EXPECT_EQ(q.password, "Calliope");

  q = parse("<iq type='set' id='r'><query xmlns='jabber:iq:register'><remove/></query></iq>");
  EXPECT_TRUE(q.remove);
  EXPECT_TRUE(q.remove_alone);
  EXPECT_FALSE(q.username);

  q = parse(
      "<iq type='set' id='r'><query xmlns='jabber:iq:register'><remove/>"
      "<username>bill</username></query></iq>");
  EXPECT_TRUE(q.remove);
  EXPECT_FALSE(q.remove_alone);
}

TEST(RegisterQuery, EmptyElementsArePresentButEmpty) {
  auto q = parse(
      "<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
      "<username>bill</username><password/></query></iq>");
  ASSERT_TRUE(q.password);
  EXPECT_EQ(*q.password, "");
}

TEST(RegisterQuery, ElementsOfOtherNamespacesAreNotFields) {
  auto q = parse(
      "<iq type='set' id='r'><query xmlns='jabber:iq:register'>"
      "<username xmlns='urn:example'>bill</username><password>x</password></query></iq>");
  EXPECT_FALSE(q.username);
}

TEST(CheckRegistration, AcceptsAndNormalisesTheLocalpart) {
  RegisterQuery q;
  q.username = "Bill";
  q.password = "Calliope";
  auto v = check_registration(q);
  ASSERT_TRUE(std::holds_alternative<NewAccount>(v));
  EXPECT_EQ(std::get<NewAccount>(v).localpart, "bill");
  EXPECT_EQ(std::get<NewAccount>(v).password, "Calliope");
}

TEST(CheckRegistration, MissingOrEmptyFieldsAreNotAcceptable) {
  RegisterQuery q;
  q.username = "bill";
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable);  // no password
  q.password = "";
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable);  // empty password
  q.password = "x";
  q.username.reset();
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable);
  q.username = "";
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable);
  auto v = check_registration(q);
  EXPECT_EQ(std::get<StanzaError>(v).type, ErrorType::kModify);
}

TEST(CheckRegistration, LocalpartsNodeprepRefusesAreNotAcceptable) {
  RegisterQuery q;
  q.password = "x";
  for (const char* bad : {"a@b", "a/b", "a b", "a'b", "a:b", "a<b", "a\"b"}) {
    q.username = bad;
    EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable) << bad;
  }
  q.username = std::string(1024, 'a');
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kNotAcceptable);
}

TEST(CheckRegistration, RemoveBeforeAuthenticationIsUnexpected) {
  RegisterQuery q;
  q.remove = true;
  EXPECT_EQ(error_of(check_registration(q)), StanzaCondition::kUnexpectedRequest);
}

TEST(CheckPasswordChange, OwnUsernameAsLocalpartOrBareJid) {
  RegisterQuery q;
  q.username = "Bill";
  q.password = "new";
  auto v = check_password_change(q, "bill", "example.com");
  ASSERT_TRUE(std::holds_alternative<std::string>(v));
  EXPECT_EQ(std::get<std::string>(v), "new");
  q.username = "bill@example.com";
  EXPECT_TRUE(std::holds_alternative<std::string>(check_password_change(q, "bill", "example.com")));
}

TEST(CheckPasswordChange, SomeoneElsesAccountIsForbidden) {
  RegisterQuery q;
  q.password = "new";
  for (const char* other : {"juliet", "bill@other.example", "bill@example.com/res", "a@b@c"}) {
    q.username = other;
    auto v = check_password_change(q, "bill", "example.com");
    ASSERT_TRUE(std::holds_alternative<StanzaError>(v)) << other;
    EXPECT_EQ(std::get<StanzaError>(v).condition, StanzaCondition::kForbidden) << other;
  }
}

TEST(CheckPasswordChange, IncompleteOrEmptyIsBadRequest) {
  RegisterQuery q;
  q.password = "new";
  auto v = check_password_change(q, "bill", "example.com");
  ASSERT_TRUE(std::holds_alternative<StanzaError>(v));
  EXPECT_EQ(std::get<StanzaError>(v).condition, StanzaCondition::kBadRequest);
  q.username = "bill";
  q.password = "";  // §3.3: never a null password
  v = check_password_change(q, "bill", "example.com");
  ASSERT_TRUE(std::holds_alternative<StanzaError>(v));
  EXPECT_EQ(std::get<StanzaError>(v).condition, StanzaCondition::kBadRequest);
}

TEST(RegisterForms, GetAnswers) {
  EXPECT_EQ(xml::to_string(registration_form(), "jabber:client"),
            "<query xmlns='jabber:iq:register'><instructions>Choose a username and password to "
            "create an account on this server.</instructions><username/><password/></query>");
  auto registered = registered_form("bill");
  ASSERT_NE(registered.child("registered", kRegisterNs), nullptr);
  EXPECT_EQ(registered.child_text("username", kRegisterNs), "bill");
  ASSERT_NE(registered.child("password", kRegisterNs), nullptr);
  EXPECT_EQ(registered.child_text("password", kRegisterNs), "");
}

}  // namespace
}  // namespace tern::modules::reg
