// XEP-0227 (portable import/export format) for one account: the <user/>
// element read into what Tern stores, and written back from it. Pure
// functions; files and storage are reader.h / import.h / export.h's
// business.
//
//   <user name='alice' password='…'>            (password: optional)
//     <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>
//       <iter-count>4096</iter-count><salt>b64</salt>
//       <server-key>b64</server-key><stored-key>b64</stored-key>
//     </scram-credentials>                       (SHA-1 and/or SHA-256)
//     …                                          (the sections, section.h)
//     <offline-messages><message xmlns='jabber:client'>…</message></offline-messages>
//   </user>
//
// The credentials, the element itself and the offline messages (the
// storage interfaces' own OfflineStore, in XEP-0227's namespace) are the
// core's; every other child belongs to the section that claims it: the
// roster, the vCard, private XML storage are their modules' (section.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "portable/section.h"
#include "sasl/mechanism.h"
#include "storage/storage.h"
#include "xml/element.h"

namespace tern::portable {

inline constexpr std::string_view kNs = "urn:xmpp:pie:0";
// The namespace of XEP-0227 before 1.0, still written by older exporters.
inline constexpr std::string_view kLegacyNs = "http://www.xmpp.org/extensions/xep-0227.html#ns";
inline constexpr std::string_view kScramNs = "urn:xmpp:pie:0#scram";

inline bool is_portable_ns(std::string_view ns) { return ns == kNs || ns == kLegacyNs; }

// What one section read from a <user/>.
struct SectionRead {
  const Section* section = nullptr;
  std::unique_ptr<SectionData> data;
};

// One <user/> as Tern will store it. Stanzas are already serialized exactly
// as the offline module stores them, so that "is it already there?" is a
// string comparison.
struct User {
  std::string name;  // the 'name' attribute, not yet normalised
  std::optional<std::string> password;
  std::optional<sasl::ScramCredentials> sha1;
  std::optional<sasl::ScramCredentials> sha256;
  // One entry per section with a child in the <user/>, in file order.
  std::vector<SectionRead> sections;
  std::vector<std::string> offline;
  // What was in the file but is not imported (unknown elements, bad items).
  std::vector<std::string> warnings;
};

// Reads a <user/> element; each child a section of `sections` claims goes
// to that section, any other is ignored with a warning. Fails (returns the
// reason) only when there is no usable name; anything else wrong is skipped
// and named in `warnings`.
struct ReadUser {
  std::optional<User> user;
  std::string error;
};
ReadUser read_user(const xml::Element& user, const SectionRegistry& sections = builtin_sections());

// Appends the start of one <user/> (in the kNs default namespace of the
// enclosing <server-data/>) and its SCRAM credentials for each usable key
// set. The sections' children follow, then end_user.
void begin_user(std::string& out, const std::string& name,
                const storage::AccountCredentials& credentials);
// Appends the offline stanzas as they are stored and closes the <user/>.
void end_user(std::string& out, const std::vector<std::string>& offline);

}  // namespace tern::portable
