// TLS 1.3 records as Tern seals and opens them after the handshake: what a
// chat message costs in encryption, per message, on one thread.
//
// Cipher contexts are shared per thread and re-keyed when the key changes,
// so the cost depends on whether consecutive records belong to the same
// connection: `SameConnection` never re-keys, `Alternating` re-keys on every
// record (a busy server interleaving many connections), which is the case
// the shared contexts trade memory for.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "transport/tls13_records.h"

namespace {

using tern::transport::Tls13Records;
using tern::transport::TrafficSecrets;

const std::string kStanza =
    "<message to='romeo@example.net/orchard' from='juliet@example.com/balcony' type='chat' "
    "id='ktx72v49' xml:lang='en'><body>Art thou not Romeo, and a Montague?</body>"
    "<active xmlns='http://jabber.org/protocol/chatstates'/></message>";

TrafficSecrets secrets(std::uint16_t suite, char seed) {
  std::size_t n = suite == 0x1302 ? 48 : 32;
  return {suite, std::string(n, seed), std::string(n, static_cast<char>(seed + 1))};
}

// Seal at the server of connection i, open at its client: one stanza out.
void BM_SealAndOpenStanza(benchmark::State& state) {
  const auto suite = static_cast<std::uint16_t>(state.range(0));
  const int connections = static_cast<int>(state.range(1));
  std::vector<std::unique_ptr<Tls13Records>> servers, clients;
  for (int i = 0; i < connections; ++i) {
    servers.push_back(Tls13Records::server(secrets(suite, static_cast<char>('a' + 2 * i))));
    clients.push_back(Tls13Records::client(secrets(suite, static_cast<char>('a' + 2 * i))));
  }
  std::string wire;
  int i = 0;
  for (auto _ : state) {
    wire.clear();
    servers[i]->seal(kStanza, wire);
    auto opened = clients[i]->open(wire.data(), wire.size());
    if (opened.app_bytes != kStanza.size()) {
      state.SkipWithError("record did not open");
      break;
    }
    benchmark::DoNotOptimize(wire.data());
    i = (i + 1) % connections;
  }
  state.SetLabel(connections == 1 ? "same connection" : "alternating");
}
BENCHMARK(BM_SealAndOpenStanza)
    ->ArgNames({"suite", "conns"})
    ->Args({0x1301, 1})
    ->Args({0x1301, 2})
    ->Args({0x1302, 2})
    ->Args({0x1303, 1})
    ->Args({0x1303, 2});

// A KeyUpdate the server sends: one record sealed, then the next traffic
// secret, key and IV derived (three HKDF-Expand-Labels). Only the sending
// side: a receiver refuses more than a few KeyUpdates in a row without data.
void BM_SealKeyUpdate(benchmark::State& state) {
  const auto suite = static_cast<std::uint16_t>(state.range(0));
  auto server = Tls13Records::server(secrets(suite, 'k'));
  std::string wire;
  for (auto _ : state) {
    wire.clear();
    server->seal_key_update(false, wire);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_SealKeyUpdate)->ArgName("suite")->Arg(0x1301)->Arg(0x1302);

}  // namespace
