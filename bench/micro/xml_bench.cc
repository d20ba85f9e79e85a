// The XML half of the hot path: a stanza's bytes become an Element in a
// stream that is already open, and an Element becomes bytes again.
//
// The parser is measured in the three ways a c2s stream can hold it:
//   kept     release_when_idle off: expat stays alive between stanzas;
//   released the default without a pool: expat is freed when the stream goes
//            quiet and rebuilt from the saved header when bytes come again;
//   pooled   the default with a ParserPool, as the server runs it: a quiet
//            stream parks expat in the shard's pool and borrows one back.
// A benchmark iteration feeds one stanza and drains next() until it returns
// nullopt, which is when a quiet stream gives its parser up.
#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "xml/element.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/namespaces.h"

namespace {

using tern::xml::Element;
using tern::xml::ParserLimits;
using tern::xml::ParserPool;
using tern::xml::StreamEvent;
using tern::xml::StreamOpen;
using tern::xml::StreamParser;
using tern::xml::StreamStanza;

constexpr std::string_view kHeader =
    "<?xml version='1.0'?><stream:stream to='example.com' version='1.0' xml:lang='en' "
    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

// A one-to-one chat message with a chat state, 213 bytes.
constexpr std::string_view kChat =
    "<message from='juliet@example.com/balcony' to='romeo@example.net/orchard' type='chat' "
    "id='ktx72v49'><body>Art thou not Romeo, and a Montague?</body>"
    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>";

// A roster result of 39 items (many small elements and attributes), 4040 bytes.
std::string roster_stanza() {
  std::string s =
      "<iq type='result' id='roster_1' to='juliet@example.com/balcony'>"
      "<query xmlns='jabber:iq:roster' ver='ver14'>";
  for (int i = 0; s.size() < 4096 - 120; ++i) {
    const std::string n = std::to_string(i);
    s += "<item jid='contact" + n + "@example.net' name='Contact " + n +
         "' subscription='both'><group>Friends</group></item>";
  }
  s += "</query></iq>";
  return s;
}

// A message whose body is ~4 KiB of text (one long character-data run).
std::string long_text_stanza() {
  std::string s =
      "<message from='juliet@example.com/balcony' to='romeo@example.net/orchard' type='chat' "
      "id='long1'><body>";
  const std::string_view line = "What's in a name? That which we call a rose &amp; so on. ";
  while (s.size() < 4096 - 20) s += line;
  s += "</body></message>";
  return s;
}

enum class Holding { kKept, kReleased, kPooled };

ParserLimits limits_for(Holding h) {
  ParserLimits l;
  l.release_when_idle = h != Holding::kKept;
  return l;
}

// Opens the stream; the header is parsed once, outside the measurement.
void open_stream(StreamParser& parser) {
  parser.feed(kHeader);
  auto ev = parser.next();
  if (!ev || !std::holds_alternative<StreamOpen>(*ev))
    throw std::runtime_error("benchmark stream header did not parse");
  while (parser.next()) {
  }
}

// Feeds one stanza and takes every event it yields, as the stream layer does.
// Returns the number of stanzas seen, so a broken input fails loudly.
int parse_one(StreamParser& parser, std::string_view stanza) {
  parser.feed(stanza);
  int stanzas = 0;
  while (auto ev = parser.next()) {
    if (!std::holds_alternative<StreamStanza>(*ev)) return -1;
    benchmark::DoNotOptimize(std::get<StreamStanza>(*ev).element.name().data());
    ++stanzas;
  }
  return stanzas;
}

void run_parse(benchmark::State& state, Holding holding, std::string_view stanza) {
  ParserPool pool;
  StreamParser parser(limits_for(holding), holding == Holding::kPooled ? &pool : nullptr);
  open_stream(parser);
  for (auto _ : state) {
    if (parse_one(parser, stanza) != 1) {
      state.SkipWithError("stanza did not parse to exactly one event");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stanza.size()));
  state.counters["idle_bytes"] = static_cast<double>(parser.memory_usage());
}

void BM_ParseChat_Kept(benchmark::State& state) { run_parse(state, Holding::kKept, kChat); }
void BM_ParseChat_Released(benchmark::State& state) { run_parse(state, Holding::kReleased, kChat); }
void BM_ParseChat_Pooled(benchmark::State& state) { run_parse(state, Holding::kPooled, kChat); }
BENCHMARK(BM_ParseChat_Kept);
BENCHMARK(BM_ParseChat_Released);
BENCHMARK(BM_ParseChat_Pooled);

void BM_Parse4KiBRoster_Pooled(benchmark::State& state) {
  const std::string stanza = roster_stanza();
  run_parse(state, Holding::kPooled, stanza);
}
void BM_Parse4KiBText_Pooled(benchmark::State& state) {
  const std::string stanza = long_text_stanza();
  run_parse(state, Holding::kPooled, stanza);
}
BENCHMARK(BM_Parse4KiBRoster_Pooled);
BENCHMARK(BM_Parse4KiBText_Pooled);

// The chat message as the parser hands it on.
Element chat_element() {
  StreamParser parser;
  parser.feed(std::string(kHeader) + std::string(kChat));
  parser.next();
  auto ev = parser.next();
  if (!ev || !std::holds_alternative<StreamStanza>(*ev))
    throw std::runtime_error("benchmark chat stanza did not parse");
  return std::move(std::get<StreamStanza>(*ev).element);
}

// Into a buffer that is reused, as a connection's write buffer is.
void BM_SerializeChat(benchmark::State& state) {
  const Element msg = chat_element();
  std::string out;
  for (auto _ : state) {
    out.clear();
    tern::xml::serialize(out, msg, "jabber:client");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_SerializeChat);

// Into a fresh string each time (xml::to_string).
void BM_SerializeChat_ToString(benchmark::State& state) {
  const Element msg = chat_element();
  for (auto _ : state) benchmark::DoNotOptimize(tern::xml::to_string(msg, tern::ns::kClient));
}
BENCHMARK(BM_SerializeChat_ToString);

// Copying a parsed message: what fanning one stanza out to several sessions
// costs per extra copy, and what the router benchmarks pay to make their input.
void BM_CopyChatElement(benchmark::State& state) {
  const Element msg = chat_element();
  for (auto _ : state) {
    Element copy = msg;
    benchmark::DoNotOptimize(copy.name().data());
  }
}
BENCHMARK(BM_CopyChatElement);

}  // namespace
