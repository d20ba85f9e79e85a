// The archive query of XEP-0313 §4: a data form (with, start, end,
// before-id, after-id, ids), XEP-0059 result set management and
// <flip-page/>, read from untrusted XML into a value. Depends on xml and
// xmpp only, so the fuzz target (tests/fuzz/mam_query_fuzz.cc) builds it
// without the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "modules/mam/archive_id.h"
#include "storage/storage.h"
#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::modules::mam {

inline constexpr std::string_view kNs = "urn:xmpp:mam:2";
inline constexpr std::string_view kExtendedFeature = "urn:xmpp:mam:2#extended";
inline constexpr std::string_view kRsmNs = "http://jabber.org/protocol/rsm";
inline constexpr std::string_view kDataFormsNs = "jabber:x:data";
inline constexpr std::string_view kForwardNs = "urn:xmpp:forward:0";
inline constexpr std::string_view kDelayNs = "urn:xmpp:delay";

struct ArchiveRequest {
  std::string queryid;
  std::optional<xmpp::Jid> with;
  std::optional<TimePoint> start;  // inclusive
  std::optional<TimePoint> end;    // inclusive
  // Ids the client names must be in the archive (item-not-found otherwise).
  std::optional<std::int64_t> after_id;   // form field, exclusive
  std::optional<std::int64_t> before_id;  // form field, exclusive
  std::vector<std::int64_t> ids;
  std::optional<std::int64_t> rsm_after;
  std::optional<std::int64_t> rsm_before;
  bool from_end = false;  // RSM <before/>, empty (last page) or with an id
  std::optional<std::size_t> max;  // RSM <max>, not clamped yet
  bool flip_page = false;

  // Every id the client named (must each be in the archive).
  std::vector<std::int64_t> named_ids() const;
};

// Reads <query xmlns='urn:xmpp:mam:2'>. Errors: bad-request for a malformed
// form, date or number; feature-not-implemented for a form field we do not
// know (§4.1.4); item-not-found for an id we cannot have issued.
std::variant<ArchiveRequest, xmpp::StanzaError> parse_query(const xml::Element& query);

// The storage query for a request, `page` rows at most. Id bounds from the
// form, the dates and RSM combine to the narrowest range.
storage::ArchiveQuery to_storage_query(const ArchiveRequest& request, std::size_t page);

// XEP-0082 DateTime ("2010-07-10T23:08:25Z", fractions and ±hh:mm allowed).
std::optional<TimePoint> parse_datetime(std::string_view text);

// The form a client gets for <iq type='get'><query/></iq> (§4.1.4).
xml::Element query_form();

}  // namespace tern::modules::mam
