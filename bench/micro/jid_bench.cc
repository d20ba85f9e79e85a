// JID parsing: the router parses 'from' and 'to' of every stanza it routes,
// so Jid::parse runs twice per message. ASCII takes a fast path; anything
// with a byte >= 0x80 goes through libidn's stringprep profiles.
#include <benchmark/benchmark.h>

#include <string_view>

#include "xmpp/jid.h"

namespace {

using tern::xmpp::Jid;

// Parses `text` each iteration; `valid` is what the parse must say, so a
// change in the rules does not silently turn one benchmark into another.
void run_parse(benchmark::State& state, std::string_view text, bool valid) {
  for (auto _ : state) {
    auto jid = Jid::parse(text);
    if (jid.has_value() != valid) {
      state.SkipWithError(valid ? "expected a valid JID" : "expected an invalid JID");
      break;
    }
    benchmark::DoNotOptimize(jid);
  }
}

void BM_JidParse_Ascii(benchmark::State& state) { run_parse(state, "user@example.com/res", true); }
BENCHMARK(BM_JidParse_Ascii);

// Upper case still stays on the ASCII path but has to be lowered.
void BM_JidParse_AsciiMixedCase(benchmark::State& state) {
  run_parse(state, "Juliet@Example.COM/Balcony", true);
}
BENCHMARK(BM_JidParse_AsciiMixedCase);

// Non-ASCII in every part: nodeprep, nameprep (with the IDNA label check)
// and resourceprep all go to libidn.
void BM_JidParse_NonAscii(benchmark::State& state) {
  run_parse(state, "J\xc3\xbcrgen@m\xc3\xbcnchen.example/Gr\xc3\xbcn", true);
}
BENCHMARK(BM_JidParse_NonAscii);

// Non-ASCII only in the resource, the common case for clients that name
// their resource after the device.
void BM_JidParse_NonAsciiResource(benchmark::State& state) {
  run_parse(state, "user@example.com/T\xc3\xa9l\xc3\xa9phone", true);
}
BENCHMARK(BM_JidParse_NonAsciiResource);

// A prohibited character in the localpart: refused on the ASCII path.
void BM_JidParse_Invalid(benchmark::State& state) {
  run_parse(state, "us\"er@example.com/res", false);
}
BENCHMARK(BM_JidParse_Invalid);

// Refused late: the localpart and domain are fine, but resourceprep maps the
// resource (a zero-width space) to nothing, which leaves it empty.
void BM_JidParse_InvalidNonAscii(benchmark::State& state) {
  run_parse(state, "user@example.com/\xe2\x80\x8b", false);
}
BENCHMARK(BM_JidParse_InvalidNonAscii);

void BM_JidToString(benchmark::State& state) {
  const Jid jid = Jid::from_parts("user", "example.com", "res");
  for (auto _ : state) benchmark::DoNotOptimize(jid.to_string());
}
BENCHMARK(BM_JidToString);

// The registry keys its map by the bare string: built once per lookup.
void BM_JidBareString(benchmark::State& state) {
  const Jid jid = Jid::from_parts("user", "example.com", "res");
  for (auto _ : state) benchmark::DoNotOptimize(jid.bare_string());
}
BENCHMARK(BM_JidBareString);

}  // namespace
