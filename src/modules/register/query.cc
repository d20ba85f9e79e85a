#include "modules/register/query.h"

#include "xmpp/jid.h"

namespace tern::modules::reg {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

RegisterQuery parse_query(const xml::Element& query) {
  RegisterQuery q;
  std::size_t children = 0;
  for (const auto* child : query.children()) {
    ++children;
    if (child->ns() != kRegisterNs) continue;
    if (child->name() == "remove") {
      q.remove = true;
    } else if (child->name() == "username" && !q.username) {
      q.username = child->text();
    } else if (child->name() == "password" && !q.password) {
      q.password = child->text();
    }
  }
  q.remove_alone = q.remove && children == 1;
  return q;
}

std::variant<NewAccount, StanzaError> check_registration(const RegisterQuery& q) {
  if (q.remove) {
    return StanzaError(StanzaCondition::kUnexpectedRequest, ErrorType::kCancel,
                       "authenticate before cancelling a registration");
  }
  if (!q.username || q.username->empty()) {
    return StanzaError(StanzaCondition::kNotAcceptable, "a username is required");
  }
  // XEP-0077 §3.1: an empty <password/> counts as not provided.
  if (!q.password || q.password->empty()) {
    return StanzaError(StanzaCondition::kNotAcceptable, "a non-empty password is required");
  }
  auto localpart = xmpp::nodeprep(*q.username);
  if (!localpart) {
    return StanzaError(StanzaCondition::kNotAcceptable, "this username is not a valid localpart");
  }
  return NewAccount{std::move(*localpart), *q.password};
}

std::variant<std::string, StanzaError> check_password_change(const RegisterQuery& q,
                                                            const std::string& own_localpart,
                                                            const std::string& domain) {
  if (!q.username || q.username->empty() || !q.password) {
    return StanzaError(StanzaCondition::kBadRequest, "username and password are required");
  }
  // §3.3: an empty password never replaces the one on file.
  if (q.password->empty()) {
    return StanzaError(StanzaCondition::kBadRequest, "the new password must not be empty");
  }
  // The XEP's own examples give the username as a localpart (§3.3) and as a
  // bare JID (the changepassword form): both name the same account.
  std::optional<std::string> named;
  if (q.username->find('@') != std::string::npos) {
    auto jid = xmpp::Jid::parse(*q.username);
    if (jid && jid->is_bare() && jid->domain() == domain) named = jid->node();
  } else {
    named = xmpp::nodeprep(*q.username);
  }
  if (!named || *named != own_localpart) {
    return StanzaError(StanzaCondition::kForbidden, "you can change your own password only");
  }
  return *q.password;
}

xml::Element registration_form() {
  xml::Element query("query", kRegisterNs);
  query.add_child("instructions")
      .add_text("Choose a username and password to create an account on this server.");
  query.add_child("username");
  query.add_child("password");
  return query;
}

xml::Element registered_form(const std::string& localpart) {
  xml::Element query("query", kRegisterNs);
  query.add_child("registered");
  query.add_child("instructions")
      .add_text("You are registered. Send a new password to change it, or <remove/> to delete "
                "your account.");
  query.add_child("username").add_text(localpart);
  query.add_child("password");
  return query;
}

}  // namespace tern::modules::reg
