// What goes into a user's archive: which messages (XEP-0313 §7.1.1 and
// the XEP-0334 hints) and, per the owner's preferences (§6), with whom.
// Also the <prefs/> element both ways.
#pragma once

#include <string>
#include <variant>

#include "storage/storage.h"
#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::modules::mam {

inline constexpr std::string_view kHintsNs = "urn:xmpp:hints";
inline constexpr std::string_view kStanzaIdNs = "urn:xmpp:sid:0";

// Worth archiving: chat or normal with a body or an encrypted payload;
// anything but an error with a <store/> hint; never with <no-store/> or
// <no-permanent-store/> (the archive is permanent storage).
bool is_archivable(const xml::Element& message);

enum class Decision { kArchive, kSkip, kIfInRoster };
// Whether the owner with `prefs` keeps a message with `peer`: a JID listed
// "never" (bare, or the full JID) wins over "always", which wins over the
// default mode.
Decision decide(const storage::ArchivePrefs& prefs, const xmpp::Jid& peer);

// Reads <prefs xmlns='urn:xmpp:mam:2' default=…><always/><never/></prefs>
// (bad-request for a missing or unknown default or a malformed JID).
std::variant<storage::ArchivePrefs, xmpp::StanzaError> parse_prefs(const xml::Element& prefs);
xml::Element prefs_element(const storage::ArchivePrefs& prefs);

// Removes every <stanza-id xmlns='urn:xmpp:sid:0' by='by'/> (XEP-0359 §3:
// a client must not be able to forge the ids of our archives).
void remove_stanza_ids(xml::Element& message, const std::string& by);
void add_stanza_id(xml::Element& message, const std::string& by, const std::string& id);

}  // namespace tern::modules::mam
