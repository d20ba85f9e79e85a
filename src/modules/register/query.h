// The jabber:iq:register payload (XEP-0077) as values: what a client asked
// for, and the checks that decide the stanza error, apart from any I/O so
// they can be tested alone.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::reg {

inline constexpr const char* kRegisterNs = "jabber:iq:register";
inline constexpr const char* kRegisterFeature = "http://jabber.org/features/iq-register";

// What an iq set carries.
struct RegisterQuery {
  bool remove = false;          // <remove/> present
  bool remove_alone = true;     // …and it is the only child (XEP-0077 §3.2)
  std::optional<std::string> username;  // <username/> present (maybe empty)
  std::optional<std::string> password;  // <password/> present (maybe empty)
};

RegisterQuery parse_query(const xml::Element& query);

// A new account to create: the localpart already nodeprep'd.
struct NewAccount {
  std::string localpart;
  std::string password;
};

// XEP-0077 §3.1: every requested field, a non-empty password, and a
// localpart that nodeprep accepts; otherwise <not-acceptable/>. A <remove/>
// from an entity that has not authenticated is <unexpected-request/> (§3.2,
// "the IQ does not contain a 'from' address because the entity is not
// registered").
std::variant<NewAccount, xmpp::StanzaError> check_registration(const RegisterQuery& q);

// XEP-0077 §3.3 from the account `own_localpart`: a password change names
// that same account (as a localpart or a bare JID on `domain`) and carries a
// non-empty password, else <bad-request/> (incomplete) or <forbidden/>
// (someone else's account). Returns the new password.
std::variant<std::string, xmpp::StanzaError> check_password_change(const RegisterQuery& q,
                                                                  const std::string& own_localpart,
                                                                  const std::string& domain);

// The <query/> answering a get before authentication: the fields to fill.
xml::Element registration_form();
// The <query/> answering a get from an authenticated account (§3.1:
// <registered/>, the username on file, the password left empty).
xml::Element registered_form(const std::string& localpart);

}  // namespace tern::modules::reg
