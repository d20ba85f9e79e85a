// Fuzzes Tls13Records::open the way Transport drives it: bytes arrive in
// pieces, whole records are opened, a cut-short tail waits for the rest.
// The input is a little script, so the fuzzer can build records that
// authenticate (and then damage them) instead of only random headers:
//   byte 0: suite; then ops: 0 n data  seal n bytes of application data
//                            1 r       KeyUpdate (r & 1: ask for the peer's)
//                            2 l d     alert (level, description)
//                            3 n data  n raw bytes onto the wire
//                            4 p       flip bit (p % 8) of wire byte p
//                            5 s       the next read stops s bytes in
//                            6         an empty application_data record
//                            7 k       both ends update their key every
//                                      k % 16 + 2 records (RFC 8446 §5.5)
// Beyond not crashing: unless raw bytes or flips were used, or the client
// sent more records without data in a row than the server allows, every
// sealed byte comes out, in order, and nothing fails; and once the peer
// asked for a KeyUpdate, what the server seals next still opens at the
// client.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "transport/tls13_records.h"

using tern::fuzz::check;

namespace {

// The client's records as the server counts them: how many in a row carry no
// application data (limits as in tls13_records.cc), and when the client's
// own key wears out and seal() puts a KeyUpdate first.
struct IdleRecords {
  std::uint64_t seq = 0, records_per_key = UINT64_MAX;
  unsigned empty = 0, user_canceled = 0, key_updates = 0;
  bool over_limit = false;

  void key_update() {
    seq = 0;
    if (++key_updates >= 5) over_limit = true;
  }
  void before_sealed_data() {
    if (seq + 1 >= std::max<std::uint64_t>(records_per_key, 2)) key_update();
  }
  void data() {
    before_sealed_data();
    ++seq;
    empty = user_canceled = key_updates = 0;
  }
  void empty_record() {
    before_sealed_data();
    ++seq;
    if (++empty > 32) over_limit = true;
  }
  void alert(std::uint8_t description) {
    ++seq;
    if (description == 90 && ++user_canceled >= 5) over_limit = true;
  }
};

struct Script {
  const std::uint8_t* p;
  const std::uint8_t* end;
  bool more() const { return p < end; }
  std::uint8_t byte() { return p < end ? *p++ : 0; }
  std::string bytes(std::size_t n) {
    n = std::min<std::size_t>(n, end - p);
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tern::transport::Tls13Records;
  using tern::transport::TrafficSecrets;
  Script in{data, data + size};
  static const std::uint16_t kSuites[] = {0x1301, 0x1302, 0x1303};
  std::uint16_t suite = kSuites[in.byte() % 3];
  std::size_t hash = suite == 0x1302 ? 48 : 32;
  TrafficSecrets secrets{suite, std::string(hash, 'c'), std::string(hash, 's')};
  auto server = Tls13Records::server(secrets);
  auto client = Tls13Records::client(secrets);

  std::string wire, sent;
  std::vector<std::size_t> cuts;
  IdleRecords idle;
  bool damaged = false, closed = false;
  while (in.more()) {
    switch (in.byte() % 8) {
      case 0: {
        std::string text = in.bytes(in.byte());
        client->seal(text, wire);
        if (!text.empty()) idle.data();
        if (!closed) sent += text;
        break;
      }
      case 1:
        client->seal_key_update(in.byte() & 1, wire);
        idle.key_update();
        break;
      case 2: {
        std::uint8_t level = in.byte(), description = in.byte();
        client->seal_alert(level, description, wire);
        idle.alert(description);
        if (description == 0) closed = true;
        else if (description != 90) damaged = true;  // fatal alert
        break;
      }
      case 3: wire += in.bytes(in.byte()); damaged = true; break;
      case 4: {
        std::size_t at = in.byte();
        if (at < wire.size()) {
          wire[at] ^= static_cast<char>(1 << (at % 8));
          damaged = true;
        }
        break;
      }
      case 5: cuts.push_back(in.byte()); break;
      case 6:
        client->seal_empty(wire);
        idle.empty_record();
        break;
      case 7: {
        std::uint64_t records = in.byte() % 16 + 2;
        client->set_records_per_key(records);
        server->set_records_per_key(records);
        idle.records_per_key = records;
        break;
      }
    }
    // Past a limit the server fails there, unless close_notify came first.
    if (idle.over_limit && !closed) damaged = true;
  }

  // Deliver the wire in pieces, as reads from a socket would.
  std::string received, pending;
  std::vector<char> buf(tern::transport::kMaxTls13Record + 256);
  std::size_t at = 0, cut = 0;
  bool failed = false, peer_closed = false;
  while (at < wire.size() && !failed && !peer_closed) {
    std::size_t piece = cut < cuts.size() ? std::size_t{cuts[cut++]} + 1 : wire.size() - at;
    piece = std::min({piece, wire.size() - at, buf.size() - pending.size()});
    std::copy(pending.begin(), pending.end(), buf.begin());
    std::copy(wire.begin() + at, wire.begin() + at + piece, buf.begin() + pending.size());
    at += piece;
    std::size_t have = pending.size() + piece;
    auto opened = server->open(buf.data(), have);
    check(opened.consumed <= have && opened.app_bytes <= opened.consumed);
    if (opened.error) {
      failed = true;
      break;
    }
    received.append(buf.data(), opened.app_bytes);
    pending.assign(buf.data() + opened.consumed, have - opened.consumed);
    peer_closed = opened.closed;
  }
  if (!damaged) {
    check(!failed);
    check(received == sent);
  }
  if (!failed) {
    // Whatever the client asked for, the server's next records open there.
    std::string reply;
    server->seal("reply", reply);
    auto opened = client->open(reply.data(), reply.size());
    check(!opened.error && std::string(reply.data(), opened.app_bytes) == "reply");
  }
  return 0;
}
