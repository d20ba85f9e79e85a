// Feeds arbitrary bytes as one s2s stream (header, then dialback elements)
// to the stream parser and the dialback reader, and checks that what the
// reader accepts comes back unchanged through our own serialisation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "stream/dialback.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"
#include "xml/stream_parser.h"

using tern::fuzz::check;

namespace {

void round_trip(const tern::stream::DialbackMessage& m) {
  using tern::stream::DialbackMessage;
  auto text = "<w xmlns:db='jabber:server:dialback'>" + tern::stream::dialback_request(m) + "</w>";
  auto el = tern::xml::parse_element(text, tern::ns::kClient);
  check(el.has_value());
  auto children = el->children();
  check(children.size() == 1);
  auto again = tern::stream::parse_dialback(*children.front());
  check(again.has_value());
  check(again->from == m.from && again->to == m.to && again->key == m.key);
  if (m.kind == DialbackMessage::Kind::kVerify) check(again->id == m.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tern::xml::StreamParser parser(tern::xml::ParserLimits{4096, 16, 16, 1024, true});
  parser.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  while (auto event = parser.next()) {
    auto* st = std::get_if<tern::xml::StreamStanza>(&*event);
    if (!st) continue;
    auto m = tern::stream::parse_dialback(st->element);
    if (!m) continue;
    check(!m->from.empty() && !m->to.empty());
    // Keys are trimmed text: whitespace-only keys count as none.
    if (m->type.empty() && m->key.find_first_not_of(" \t\r\n") == 0) round_trip(*m);
    (void)tern::stream::dialback_key("secret", m->to, m->from, m->id);
  }
  return 0;
}
