// vCard4 over PEP (XEP-0292): the account's vCard in RFC 6351 XML, item
// "current" of the node urn:xmpp:vcard4. The server keeps its basic fields
// in step with vcard-temp (XEP-0054), both ways: FN, NICKNAME, EMAIL, TEL,
// URL, NOTE and BDAY. Everything else stays where it was written (a
// vcard-temp PHOTO is XEP-0398's business, a vCard4 <adr/> has no
// counterpart written here). These are the pure conversions; sync.cc does
// the storage work.
#pragma once

#include <optional>

#include "xml/element.h"

namespace tern::modules::pep::vcard4 {

inline constexpr const char* kNode = "urn:xmpp:vcard4";
inline constexpr const char* kNs = "urn:ietf:params:xml:ns:vcard-4.0";
inline constexpr const char* kItemId = "current";

// `vcard4` (or a new <vcard/>) with its basic fields replaced by those of
// the vcard-temp `vcard` (nullopt: none, the vCard was removed).
xml::Element with_fields_of_vcard_temp(const std::optional<xml::Element>& vcard,
                                       std::optional<xml::Element> vcard4);
// `vcard` (or a new vcard-temp <vCard/>) with its basic fields replaced by
// those of `vcard4`.
xml::Element with_fields_of_vcard4(const xml::Element& vcard4, std::optional<xml::Element> vcard);

// Whether an element holds no child element (a vCard with nothing in it).
bool has_no_fields(const xml::Element& vcard);

}  // namespace tern::modules::pep::vcard4
