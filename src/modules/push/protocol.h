// The pure parts of XEP-0357 Push Notifications: what <enable/> and
// <disable/> ask for, the stored list of registrations, and the publish a
// message turns into. No module API here, so the fuzz target and the unit
// tests take it alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::modules::push {

inline constexpr std::string_view kNs = "urn:xmpp:push:0";
inline constexpr std::string_view kPubsubNs = "http://jabber.org/protocol/pubsub";
inline constexpr std::string_view kDataNs = "jabber:x:data";
inline constexpr std::string_view kPublishOptionsType = "http://jabber.org/protocol/pubsub#publish-options";
inline constexpr std::string_view kSummaryType = "urn:xmpp:push:summary";
// Registrations an account may keep: one per app and device is a handful.
inline constexpr std::size_t kMaxRegistrations = 20;

// One app server an account publishes to: the pair (jid, node) is its
// identity (§5: the same pair enabled again replaces its options).
struct Registration {
  std::string jid;   // the app server, as normalised by Jid::parse
  std::string node;  // may be empty: the XEP only says SHOULD
  std::optional<xml::Element> publish_options;  // the client's data form, as given
  bool operator==(const Registration&) const = default;
};

// <enable/> checked: the registration it asks for, or why not.
std::variant<Registration, xmpp::StanzaError> parse_enable(const xml::Element& enable);
// <disable/> checked: the (jid, node) it names; node empty means every node.
std::variant<Registration, xmpp::StanzaError> parse_disable(const xml::Element& disable);

// Adds or replaces `r` (by jid and node). False when the list is full.
bool add_registration(std::vector<Registration>& list, Registration r);
// Removes `jid` with `node`, or every node of `jid` when node is empty.
// Returns how many went.
std::size_t remove_registrations(std::vector<Registration>& list, std::string_view jid,
                                 std::string_view node);

// The stored form of an account's registrations (a document), and back.
// A document that does not parse yields no registrations.
std::string to_document(const std::vector<Registration>& list);
std::vector<Registration> from_document(std::string_view xml);

// What a notification tells about the message that triggered it: nothing
// but a count and the sender's bare JID, and the body only when the
// operator said so ([modules.push] include_body).
struct Summary {
  std::string sender;               // bare JID
  std::optional<std::string> body;  // only with include_body
};

// Is this message worth a notification? Chat and normal messages with a
// body or an end-to-end encrypted payload (OMEMO, OpenPGP); never errors,
// groupchat, headlines, receipts or chat states alone.
bool is_notable(const xml::Element& message);
Summary summarize(const xml::Element& message, const xmpp::Jid& sender, bool include_body);

// The pubsub publish (§6) of one notification to one app server, sent from
// the account's bare JID with id `id`.
xml::Element build_publish(const xmpp::Jid& account, const Registration& to, const Summary& summary,
                           std::string_view id);

}  // namespace tern::modules::push
