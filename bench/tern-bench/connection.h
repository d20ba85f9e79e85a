// One client connection: TCP (or STARTTLS straight on the socket with
// OpenSSL), an XML stream parsed by xml::StreamParser, and the login
// sequence: stream, STARTTLS, SASL, restart, bind, roster get, presence.
// With --transport ws the same sequence goes over WebSocket (RFC 7395):
// an HTTP Upgrade first, then every send() is one masked text frame and
// incoming frames feed the same parser, primed with a synthetic stream
// header so that <open/> and <close/> read as the stream's start and end.
//
// Memory per idle connection is what matters for thousands of them: reads go
// to the worker's one buffer, OpenSSL releases its buffers when idle, the
// parser frees expat when idle (a ParserPool per worker lends one back), and
// the output string only exists while something waits to be written.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/asio.h"
#include "tern-bench/ws_frame.h"
#include "xml/stream_parser.h"

namespace tern::bench {

struct Worker;

using Clock = std::chrono::steady_clock;

inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

class Connection : private WsDecoder::Sink {
 public:
  Connection(Worker& w, std::int64_t user_index);
  // SSL_CTX_sess_set_new_cb: a ticket for the connection `ssl` belongs to.
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects and logs in; true once online. On failure the reason is
  // counted in the worker's stats and the socket is closed.
  awaitable<bool> establish(bool roster_and_presence);
  // The next top-level element, or false when the stream ended (closed,
  // error, deadline). Answers pings and other server iqs on the way.
  awaitable<bool> next_stanza(xml::Element& out);
  // Sends </stream:stream> and waits (bounded by the deadline) for the
  // server's closing tag or EOF, then closes.
  awaitable<void> close_stream();
  // Queues one top-level element (or, on TCP, any stream bytes); written at
  // the end of this turn of the event loop, so everything sent in one turn
  // goes out in one write. Over WebSocket it becomes one text message.
  void send(std::string_view data);
  // Sends the end of the stream: </stream:stream>, or <close/> over WebSocket.
  void send_stream_end();
  // Writes what is queued if it can, then closes the socket (wakes up any
  // wait with an error).
  void abort();
  // abort() because the deadline passed: the failure is counted as a timeout.
  void expire();
  // Closes the socket the way a network outage ends a connection for the
  // client: no </stream:stream>, no TLS close_notify, nothing queued is
  // written. The receive loop waiting on it ends without counting a drop
  // (take_cut()).
  void cut();
  // True once after cut(): the end of the stream was ours, not the server's.
  bool take_cut() { return std::exchange(cut_, false); }
  // Prepares the object for another connection (login scenario).
  void reset(std::int64_t user_index);

  bool is_open() const { return open_; }
  bool past_deadline(Clock::time_point now) const { return deadline_ && now >= *deadline_; }
  void set_deadline_in(double seconds);
  void clear_deadline() { deadline_.reset(); }
  const std::string& jid() const { return jid_; }
  std::int64_t user_index() const { return user_index_; }
  // The scenario's own number for this session.
  std::size_t tag() const { return tag_; }
  void set_tag(std::size_t t) { tag_ = t; }

 private:
  awaitable<bool> connect();
  awaitable<bool> websocket_handshake();
  void start_parser();
  void send_raw(std::string_view bytes);  // queued as they are: no framing
  void schedule_flush();
  // Bytes read from the socket: to the parser, through the frame decoder
  // over WebSocket. False if the frames are broken.
  bool take_input(std::string_view bytes);
  void on_text(std::string_view piece) override;
  void on_control(WsOpcode opcode, std::string_view payload) override;
  void send_ws_close(std::uint16_t code);
  awaitable<bool> open_stream(xml::Element& features);
  awaitable<bool> start_tls();
  awaitable<bool> authenticate(const xml::Element& features);
  awaitable<bool> bind();
  awaitable<bool> fetch_roster();
  awaitable<bool> enable_stream_management();
  // The next parser event; false on end of input or error.
  awaitable<bool> next_event(xml::StreamEvent& ev);
  // >0 bytes read, 0 would block (wait readable), -2 wants writable, -1 closed.
  long read_some(char* buf, std::size_t cap);
  long write_some(const char* buf, std::size_t len);
  void flush();
  awaitable<void> flush_when_writable();
  bool answer_server_iq(const xml::Element& iq);
  bool counts_for_stream_management(const xml::StreamEvent& ev);
  bool fail(const std::string& reason);  // counts, closes; returns false
  void close_socket();

  Worker& w_;
  std::int64_t user_index_;
  std::size_t tag_ = 0;
  tcp::socket sock_;
  SSL* ssl_ = nullptr;
  SSL_SESSION* session_ = nullptr;  // --tls-resume: the latest ticket, kept across logins
  std::unique_ptr<xml::StreamParser> parser_;
  std::string out_;
  std::string jid_;
  std::optional<Clock::time_point> deadline_;
  WsDecoder ws_in_;
  const char* stage_ = "connect";  // for the failure reason of a timeout
  std::uint32_t generation_ = 0;   // bumped on close: stale writers stop
  bool open_ = false;
  bool flush_posted_ = false;
  bool writer_waiting_ = false;
  bool writer_wants_read_ = false;  // TLS: SSL_write waits for bytes to read
  bool timed_out_ = false;
  bool cut_ = false;
  const bool ws_;                  // --transport ws
  bool ws_close_sent_ = false;
  bool sm_on_ = false;          // --sm, once <enabled/> came
  std::uint32_t sm_handled_ = 0;  // stanzas received since, mod 2^32 (XEP-0198 h)
};

}  // namespace tern::bench
