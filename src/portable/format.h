// XEP-0227 (portable import/export format) for one account: the <user/>
// element read into what Tern stores, and written back from it. Pure
// functions; files and storage are reader.h / import.h /
// export.h's business.
//
//   <user name='alice' password='…'>            (password: optional)
//     <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>
//       <iter-count>4096</iter-count><salt>b64</salt>
//       <server-key>b64</server-key><stored-key>b64</stored-key>
//     </scram-credentials>                       (SHA-1 and/or SHA-256)
//     <query xmlns='jabber:iq:roster'><item …><group/></item></query>
//     <vCard xmlns='vcard-temp'>…</vCard>
//     <offline-messages><message xmlns='jabber:client'>…</message></offline-messages>
//   </user>
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sasl/mechanism.h"
#include "storage/storage.h"
#include "xml/element.h"

namespace tern::portable {

inline constexpr std::string_view kNs = "urn:xmpp:pie:0";
// The namespace of XEP-0227 before 1.0, still written by older exporters.
inline constexpr std::string_view kLegacyNs = "http://www.xmpp.org/extensions/xep-0227.html#ns";
inline constexpr std::string_view kScramNs = "urn:xmpp:pie:0#scram";

bool is_portable_ns(std::string_view ns);

// One <user/> as Tern will store it. Stanzas and the vCard are already
// serialized exactly as the offline and vcard modules store them, so that
// "is it already there?" is a string comparison.
struct User {
  std::string name;  // the 'name' attribute, not yet normalised
  std::optional<std::string> password;
  std::optional<sasl::ScramCredentials> sha1;
  std::optional<sasl::ScramCredentials> sha256;
  std::vector<storage::RosterItem> roster;  // jids normalised, duplicates dropped
  std::optional<std::string> vcard;
  std::vector<std::string> offline;
  // What was in the file but is not imported (unknown elements, bad items).
  std::vector<std::string> warnings;
};

// Reads a <user/> element. Fails (returns the reason) only when there is no
// usable name; anything else wrong is skipped and named in `warnings`.
struct ReadUser {
  std::optional<User> user;
  std::string error;
};
ReadUser read_user(const xml::Element& user);

// Appends one <user/> (in the kNs default namespace of the enclosing
// <server-data/>): SCRAM credentials for each usable key set, the roster
// (items a user has never seen — a pending inbound request alone — are not
// part of it), the stored vCard and offline stanzas as they are.
void write_user(std::string& out, const std::string& name,
                const storage::AccountCredentials& credentials,
                const std::vector<storage::RosterItem>& roster,
                const std::optional<std::string>& vcard, const std::vector<std::string>& offline);

}  // namespace tern::portable
