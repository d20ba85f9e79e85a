// A client-to-server stream (RFC 6120): header, STARTTLS, SASL, bind, then
// stanzas to and from the router. One coroutine reads; writes are queued and
// flushed in batches. Lives on one shard for life.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/asio.h"
#include "router/session.h"
#include "sasl/mechanism.h"
#include "stream/c2s_context.h"
#include "transport/transport.h"
#include "xml/stream_parser.h"

namespace tern::stream {

class C2SSession final : public router::Session {
 public:
  // Takes over an accepted socket on `shard` (the caller's own shard).
  static void start(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls);

  C2SSession(C2SContext& ctx, unsigned shard, tcp::socket socket, bool direct_tls);
  ~C2SSession() override;

  void deliver(const xml::Element& stanza) override;
  void deliver_serialized(const router::SerializedStanza& stanza) override;
  void close_with_error(xmpp::StreamCondition condition, std::string_view text = {}) override;

 private:
  enum class State { kAwaitHeader, kNegotiating, kAuthenticated, kBound, kClosing, kClosed };

  awaitable<void> run();
  awaitable<void> watchdog();
  awaitable<void> handle(xml::StreamEvent& event);
  void on_header(const xml::StreamOpen& open);
  awaitable<void> on_element(xml::Element& el);
  awaitable<void> on_starttls();
  // An iq a module answers before authentication (in-band registration);
  // false when nothing handles it.
  awaitable<bool> answer_pre_auth_iq(const xml::Element& el);
  // c2s_sasl.cc
  awaitable<void> on_sasl(xml::Element& el);
  awaitable<void> sasl_step(std::string_view client_data);
  awaitable<void> sasl_fail(sasl::Failure f);
  sasl::Context sasl_context();
  std::vector<std::string> offered_mechanisms() const;
  // c2s_bind.cc
  awaitable<void> on_bind(const xml::Element& iq);
  void on_session_iq(const xml::Element& iq);
  void on_stanza(xml::Element stanza);
  struct PresenceState {
    bool available;
    int priority;
  };
  // What a broadcast presence makes of this session; nullopt: no change.
  std::optional<PresenceState> presence_state_of(const xml::Element& presence) const;

  void send_features();
  void send(std::string_view bytes);
  void send(const xml::Element& el);
  // Starts flush() unless it runs: stanzas queued in one turn go out together.
  void start_flush();
  awaitable<void> flush();
  awaitable<void> drain();
  void fail(xmpp::StreamCondition condition, std::string_view text = {});
  void close_stream();
  void finish();
  // How long to pause reading so that the session keeps to its stanza rate.
  std::chrono::steady_clock::duration rate_pause();
  std::string log_id() const;

  C2SContext& ctx_;
  transport::Transport transport_;
  xml::StreamParser parser_;
  State state_ = State::kAwaitHeader;
  bool direct_tls_;
  bool header_sent_ = false;
  bool writing_ = false;
  bool restart_ = false;      // parser must restart before the next byte
  std::string out_;           // bytes waiting to be written
  asio::steady_timer deadline_;  // handshake, idle and closing deadlines
  asio::steady_timer drained_;   // cancelled when the write queue empties
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point closing_since_;  // when we sent </stream:stream>
  std::string stream_id_;
  std::string domain_;
  std::unique_ptr<sasl::Mechanism> mechanism_;
  bool mechanism_is_plus_ = false;
  int sasl_failures_ = 0;
  std::string user_;  // authenticated localpart
  double tokens_;     // stanza rate limit (token bucket)
  std::chrono::steady_clock::time_point tokens_at_;
  std::uint64_t number_;
};

}  // namespace tern::stream
