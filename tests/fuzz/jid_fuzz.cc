// Fuzzes Jid::parse. Beyond not crashing, checks the property the router and
// storage rely on: a parsed JID is normalised, so its text form parses back
// to the same JID (and each part is already in prepared form).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "xmpp/jid.h"

using tern::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tern::xmpp::Jid;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto jid = Jid::parse(text);
  if (!jid) return 0;

  check(!jid->domain().empty());
  check(jid->node().size() <= 1023 && jid->domain().size() <= 1023 &&
        jid->resource().size() <= 1023);

  const auto again = Jid::parse(jid->to_string());
  check(again.has_value() && *again == *jid);
  const auto bare = Jid::parse(jid->bare_string());
  check(bare.has_value() && *bare == jid->bare());

  if (jid->has_node()) check(tern::xmpp::nodeprep(jid->node()) == jid->node());
  check(tern::xmpp::nameprep(jid->domain()) == jid->domain());
  if (jid->has_resource()) check(tern::xmpp::resourceprep(jid->resource()) == jid->resource());
  return 0;
}
