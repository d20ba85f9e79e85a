// Feeds arbitrary bytes to a StreamParser in pieces, then checks that every
// stanza it accepts survives serialize → parse unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_support.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"

using tern::fuzz::check;

namespace {

using tern::xml::Element;
using tern::xml::Node;
using tern::xml::ParserLimits;
using tern::xml::StreamParser;

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 0x100000001b3ULL;
  return h;
}

bool is_stanza_ns(std::string_view ns) {
  return ns == tern::ns::kClient || ns == tern::ns::kServer;
}

// What the serializer promises: a top-level stanza in jabber:client or
// jabber:server (or in no namespace) takes the stream's namespace, and so
// does every descendant that only inherited it.
void rename_chain(Element& el, const std::string& from, const std::string& to) {
  for (Node& n : el.nodes()) {
    if (n.is_text()) continue;
    Element& c = *n.element;
    if (c.ns() == from) {
      c.set_ns(to);
      rename_chain(c, from, to);
    } else if (c.ns() == tern::ns::kStreams || c.ns() == tern::ns::kXml) {
      rename_chain(c, from, to);  // written prefixed: transparent
    }
  }
}

Element expected_after_round_trip(const Element& original, const std::string& content_ns) {
  Element want = original;
  bool translated =
      original.ns().empty() || (is_stanza_ns(original.ns()) && is_stanza_ns(content_ns));
  if (translated && original.ns() != content_ns) {
    std::string from = original.ns();
    want.set_ns(content_ns);
    rename_chain(want, from, content_ns);
  }
  return want;
}

void round_trip(const Element& stanza, const std::string& content_ns) {
  std::string doc = "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'";
  if (!content_ns.empty()) {
    doc += " xmlns='";
    tern::xml::append_escaped_attr(doc, content_ns);
    doc += '\'';
  }
  doc += '>';
  tern::xml::serialize(doc, stanza, content_ns);

  // Escaping and attribute prefixes may make the text longer than what the
  // first parser accepted.
  ParserLimits roomy;
  roomy.max_stanza_bytes = 64 * 1024 * 1024;
  roomy.max_attributes = 100000;
  StreamParser again(roomy);
  again.feed(doc);
  auto open = again.next();
  check(open && std::holds_alternative<tern::xml::StreamOpen>(*open));
  auto ev = again.next();
  check(ev && std::holds_alternative<tern::xml::StreamStanza>(*ev));
  check(std::get<tern::xml::StreamStanza>(*ev).element ==
        expected_after_round_trip(stanza, content_ns));
  check(!again.next());
}

// A stream read by one parser: checks the order of events as they come and
// the round trip of each stanza; keeps a transcript for comparison.
struct Reader {
  explicit Reader(ParserLimits limits, tern::xml::ParserPool* pool = nullptr)
      : parser(limits, pool) {}

  void feed(std::string_view piece, bool check_round_trip) {
    parser.feed(piece);
    while (auto ev = parser.next()) {
      check(!finished);
      if (auto* open = std::get_if<tern::xml::StreamOpen>(&*ev)) {
        check(!opened && open->header.ns() == tern::ns::kStreams);
        opened = true;
        content_ns = open->content_ns;
        transcript += "open " + content_ns + "\n";
      } else if (auto* st = std::get_if<tern::xml::StreamStanza>(&*ev)) {
        check(opened);
        if (check_round_trip) round_trip(st->element, content_ns);
        transcript += tern::xml::to_string(st->element, content_ns) + "\n";
      } else if (auto* failure = std::get_if<tern::xml::StreamFailure>(&*ev)) {
        finished = true;  // nothing may follow
        // How much memory expat holds depends on who used it before (pool).
        hit_memory_cap = failure->detail.find("memory") != std::string::npos;
        transcript += std::string("fail ") + condition_name(failure->error) + "\n";
      } else {
        finished = true;
        transcript += "close\n";
      }
    }
  }

  StreamParser parser;
  std::string content_ns;
  std::string transcript;
  bool opened = false;
  bool finished = false;
  bool hit_memory_cap = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::uint64_t h = fnv1a(data, size);

  ParserLimits limits;
  limits.release_when_idle = (h & 1) != 0;
  if (h & 2) {  // small limits, so the fuzzer reaches them
    limits.max_stanza_bytes = 512;
    limits.max_depth = 8;
    limits.max_attributes = 8;
    limits.max_header_bytes = 256;
  }
  // The same stream read three times: once alone, twice in turns by parsers
  // that hand expat to each other through a pool at every quiet moment.
  // Memory policy must never change what comes out.
  Reader alone(limits);
  ParserLimits pooled_limits = limits;
  pooled_limits.release_when_idle = true;
  tern::xml::ParserPool pool(1);
  Reader first(pooled_limits, &pool);
  Reader second(pooled_limits, &pool);

  // Up to four pieces; cut points come from the hash so that one input
  // always splits the same way.
  std::size_t cuts[3] = {0, 0, 0};
  if (size > 0) {
    for (int i = 0; i < 3; ++i) cuts[i] = (h >> (8 + 16 * i)) % (size + 1);
  }
  std::sort(std::begin(cuts), std::end(cuts));
  std::size_t pos = 0;
  for (int piece = 0; piece <= 3; ++piece) {
    std::size_t end = piece < 3 ? cuts[piece] : size;
    std::string_view bytes = input.substr(pos, end - pos);
    alone.feed(bytes, true);
    first.feed(bytes, false);
    second.feed(bytes, false);
    pos = end;
  }
  if (!alone.hit_memory_cap && !first.hit_memory_cap && !second.hit_memory_cap) {
    check(first.transcript == alone.transcript);
    check(second.transcript == alone.transcript);
  }
  check(alone.parser.memory_usage() < (std::size_t{1} << 22));
  return 0;
}
