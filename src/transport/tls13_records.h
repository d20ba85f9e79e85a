// TLS 1.3 record protection (RFC 8446 §5) for a connection whose handshake
// OpenSSL has finished.
//
// Why: an idle OpenSSL connection costs ~14 KiB (the SSL object, two cipher
// contexts, the session), more than everything else a client session holds.
// After a TLS 1.3 handshake all a connection needs is, per direction, the
// traffic secret, key, IV and sequence number: under 300 bytes. So Tern lets
// OpenSSL do the handshake, takes the application traffic secrets, frees the
// SSL object and protects records itself. Cipher contexts are shared by all
// connections of a thread and re-keyed on use.
//
// What it handles after the handshake: application data, alerts (close_notify
// ends the stream), and KeyUpdate both ways (§4.6.3). Anything else — a
// protected record of another type, a post-handshake message Tern never asked
// for, a handshake message split over records — is a fatal unexpected_message.
//
// Records that carry no application data cost a decryption each and give
// nothing back, so a peer may not send too many of them in a row; the limits
// are OpenSSL 3's (see kMaxEmptyRecords and its neighbours in the .cc).
// Sending, the layer updates its own key before AES-GCM's record limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tern::transport {

// What the handshake leaves for the record layer (RFC 8446 §7.1).
struct TrafficSecrets {
  std::uint16_t suite = 0;  // TLS_AES_128_GCM_SHA256 = 0x1301, 0x1302, 0x1303
  std::string client;       // client_application_traffic_secret_0
  std::string server;       // server_application_traffic_secret_0
  // Records the server already sealed under `server` (its NewSessionTickets):
  // the server's write sequence number starts after them.
  std::uint64_t server_records_sent = 0;
};

struct Tls13Suite;

// Largest protected record on the wire: 5-byte header, 2^14 + 256 bytes.
inline constexpr std::size_t kMaxTls13Record = 5 + 16384 + 256;

class Tls13Records {
 public:
  // Server side. nullptr for a suite other than the three TLS 1.3 AEAD ones.
  static std::unique_ptr<Tls13Records> server(const TrafficSecrets& secrets);
  // The other end, for tests and tools: reads what server() writes.
  static std::unique_ptr<Tls13Records> client(const TrafficSecrets& secrets);
  ~Tls13Records();
  Tls13Records(const Tls13Records&) = delete;
  Tls13Records& operator=(const Tls13Records&) = delete;

  // Appends application_data records carrying `plain` to `out`, preceded by
  // the KeyUpdate the peer asked for, if one is owed.
  void seal(std::string_view plain, std::string& out);
  // Appends an alert record; close_notify is (1, 0).
  void seal_alert(std::uint8_t level, std::uint8_t description, std::string& out);
  // Appends a KeyUpdate and switches to the next sending key.
  void seal_key_update(bool request_peer_update, std::string& out);
  // Appends an application_data record with no data (RFC 8446 §5.4 allows
  // them as padding); for tests and tools.
  void seal_empty(std::string& out);

  // Records sealed under one key before seal() sends a KeyUpdate first.
  // Defaults to RFC 8446 §5.5's limit for AES-GCM, 2^24.5; ChaCha20-Poly1305
  // has none. Tests set a small one.
  void set_records_per_key(std::uint64_t records) { records_per_key_ = records; }
  std::uint64_t records_per_key() const { return records_per_key_; }

  // Erases every key and secret (also from the thread's shared cipher and
  // MAC contexts); from then on seal*() throw and open() fails. Called when
  // the connection closes; the destructor does it too.
  void wipe();

  struct Opened {
    std::size_t app_bytes = 0;  // application data now at data[0, app_bytes)
    std::size_t consumed = 0;   // input bytes taken (whole records only)
    bool closed = false;        // the peer sent close_notify; ignore the rest
    const char* error = nullptr;  // fatal: send `alert` (if not 0) and close
    std::uint8_t alert = 0;
  };
  // Unprotects the whole records at the front of data[0, size) in place and
  // gathers their application data at the front. A record cut short at the
  // end is left alone (consumed stops before it).
  Opened open(char* data, std::size_t size);

 private:
  // One direction's keys (RFC 8446 §7.3); the secret is kept for KeyUpdate.
  struct Direction {
    unsigned char secret[48];
    unsigned char key[32];
    unsigned char iv[12];
    std::uint64_t seq = 0;
  };
  void set_secret(Direction& d, const unsigned char* secret);
  void next_generation(Direction& d);
  void nonce(Direction& d, unsigned char out[12]);
  Tls13Records(const Tls13Suite& suite, std::string_view read_secret, std::string_view write_secret);
  void seal_record(std::uint8_t type, std::string_view plain, std::string& out);
  void update_key_if_worn(std::string& out);
  // Counts records without application data; false (with *result set) past a limit.
  bool count_idle_record(std::uint8_t type, std::size_t plain_length, const char* plain,
                         Opened* result);
  // One record's inner plaintext; returns its content type or 0 with *error set.
  std::uint8_t unprotect(char* header, std::size_t length, std::size_t* plain_length,
                         Opened* error);
  bool handle_handshake(const char* plain, std::size_t length, Opened* result);

  const Tls13Suite& suite_;
  Direction read_, write_;
  std::uint64_t records_per_key_;
  bool key_update_owed_ = false;
  bool wiped_ = false;
  // Records received in a row without application data, by kind.
  unsigned empty_in_a_row_ = 0, user_canceled_in_a_row_ = 0, key_updates_in_a_row_ = 0;
};

}  // namespace tern::transport
