// The client stream state machine (RFC 6120), whatever carries it: stream
// open, features, SASL, bind, then stanzas to and from the router, limits
// and close. Transports differ only in framing and implement the virtual
// write/close functions: TCP/TLS (C2SSession, a byte stream through the
// expat StreamParser), WebSocket (RFC 7395, one element per message,
// <open/>/<close/>) and BOSH (XEP-0206, elements in <body/> wrappers).
// Lives on one shard for life.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/asio.h"
#include "sasl/mechanism.h"
#include "stream/c2s_context.h"
#include "stream/csi_buffer.h"
#include "stream/resumable_session.h"
#include "stream/sasl2_request.h"
#include "stream/sm_queue.h"
#include "transport/tls.h"
#include "xml/stream_parser.h"

namespace tern::stream {

// The stream error a parser failure calls for.
xmpp::StreamCondition condition_of(xml::ParseError e);

class ClientStream : public ResumableSession {
 public:
  ~ClientStream() override;

  void deliver(const xml::Element& stanza) override;
  void deliver_serialized(const router::SerializedStanza& stanza) override;
  void close_with_error(xmpp::StreamCondition condition, std::string_view text = {}) override;
  std::shared_ptr<void> hold_handled() override;
  std::variant<Handover, Refusal> hand_over(ClientStream& successor, std::uint32_t h) override;
  std::string log_id() const override;
  // Passed on by the object this stream took the session from: older than
  // any delivery that found this stream itself, so while the take-over is
  // under way it goes ahead of those (RFC 6120 §10.1, per sender).
  void accept_passed_on(const router::SerializedStanza& stanza);

  // Which SASL profile the client speaks: RFC 6120's or XEP-0388's.
  enum class SaslProfile { kSasl1, kSasl2 };

 protected:
  enum class State { kAwaitHeader, kNegotiating, kAuthenticated, kBound, kClosing, kClosed };

  // `kind` names the transport in log lines and metrics ("c2s", "ws", "bosh").
  ClientStream(C2SContext& ctx, unsigned shard, asio::any_io_executor executor,
               std::string remote_ip, const char* kind, StreamKind metrics_kind);

  // --- framing, implemented by each transport ---------------------------
  // Our stream open; `attributes` starts with a space (" id='…' from='…' …").
  virtual void write_stream_open(std::string_view attributes) = 0;
  virtual void write_stream_close() = 0;
  // One complete top-level element as text, as a TCP stream would carry it
  // (stream:features and stream:error use the stream: prefix undeclared).
  virtual void write_top(std::string_view xml) = 0;
  virtual void write_stanza(const xml::Element& stanza) = 0;
  // A stanza serialised for a TCP stream (jabber:client, no xmlns).
  virtual void write_serialized(std::string_view stanza) = 0;
  // Waits until everything written has gone out.
  virtual awaitable<void> drain() = 0;
  virtual void close_transport() = 0;
  // Whether nobody on the path can read the stream (TLS, or a trusted hop).
  virtual bool is_confidential() const = 0;
  // Null without TLS we terminate, and after authentication.
  virtual const transport::ChannelBindings* channel_bindings() const { return nullptr; }
  virtual void forget_channel_bindings() {}
  // SCRAM without TLS: yes on TCP (the password never crosses), not in a
  // browser page served in clear.
  virtual bool offers_scram_in_clear() const { return true; }
  // STARTTLS: only TCP has it.
  virtual bool offers_starttls() const { return false; }
  virtual bool requires_starttls() const { return false; }
  virtual awaitable<void> on_starttls();
  // After SASL success the next open starts a new stream (TCP resets its parser).
  virtual void on_stream_restart() {}

  // --- what transports call ---------------------------------------------
  // The peer's stream open: `header` carries to/from/version/xml:lang;
  // `namespace_ok` whether the framing's namespaces were right.
  void on_header(const xml::Element& header, bool namespace_ok);
  awaitable<void> on_element(xml::Element& el);
  // The peer closed its stream.
  void on_peer_close();
  // Waits a little when the sender is over its stanza rate.
  awaitable<void> pace();
  void fail(xmpp::StreamCondition condition, std::string_view text = {});
  void close_stream();
  void finish();
  void start_watchdog();
  void touch() { last_activity_ = std::chrono::steady_clock::now(); }
  const std::string& remote_ip() const { return remote_ip_; }
  State state() const { return state_; }
  static std::string make_stream_id();

  asio::any_io_executor executor_;
  State state_ = State::kAwaitHeader;
  bool header_sent_ = false;

 private:
  void watch_deadline();
  // An iq a module answers before authentication (in-band registration);
  // false when nothing handles it.
  awaitable<bool> answer_pre_auth_iq(const xml::Element& el);
  // client_sasl.cc
  awaitable<void> on_sasl(xml::Element& el);
  awaitable<void> sasl_step(std::string_view client_data);
  awaitable<void> sasl_fail(sasl::Failure f);
  sasl::Context sasl_context(const std::string& mech);
  std::vector<std::string> offered_mechanisms() const;
  // Makes mechanism_ for `mech` if this stream offers it; else why not.
  std::optional<sasl::Failure> start_mechanism(const std::string& mech);
  // client_sasl2.cc
  awaitable<void> on_sasl2(xml::Element& el);
  awaitable<void> sasl2_success(std::string additional_data);
  awaitable<std::string> bind2(const Bind2Request& request, const std::string& user_agent_id);
  std::string sasl2_feature() const;
  // XEP-0484: the token mechanisms this stream offers (confidential only).
  std::vector<std::string> fast_mechanisms() const;
  // After success: rotates the client's tokens; the <token/> to send, if any.
  awaitable<std::string> fast_after_success(const Sasl2Authenticate& request);
  // client_bind.cc
  awaitable<void> on_bind(const xml::Element& iq);
  // Binds user_@domain_/resource: an error to answer, or nothing (bound, or
  // the stream closed meanwhile: check state_).
  awaitable<std::optional<xmpp::StanzaError>> bind_resource(const std::string& resource);
  void on_session_iq(const xml::Element& iq);
  void on_stanza(xml::Element stanza);
  struct PresenceState {
    bool available;
    int priority;
  };
  // What a broadcast presence makes of this session; nullopt: no change.
  std::optional<PresenceState> presence_state_of(const xml::Element& presence) const;

  void send_features();
  void send(std::string_view bytes) { if (state_ != State::kClosed) write_top(bytes); }
  void send(const xml::Element& el) { if (state_ != State::kClosed) write_stanza(el); }
  // How long to pause reading so that the session keeps to its stanza rate.
  std::chrono::steady_clock::duration rate_pause();
  ShardStreamCounters* counters() const {
    return ctx_.metrics ? &ctx_.metrics->shard(shard()) : nullptr;
  }

  asio::steady_timer deadline_;  // handshake, idle and closing deadlines
  std::chrono::steady_clock::time_point connected_at_;
  std::chrono::steady_clock::time_point last_activity_;
  std::string remote_ip_;
  const char* kind_;
  StreamKind metrics_kind_;
  std::string stream_id_;
  std::string domain_;
  std::unique_ptr<sasl::Mechanism> mechanism_;
  SaslProfile sasl_profile_ = SaslProfile::kSasl1;
  // The SASL2 request under way; on the heap, as it is gone once the
  // stream is authenticated (360 bytes in every session otherwise).
  std::unique_ptr<Sasl2Authenticate> sasl2_;
  std::string fast_used_token_;  // the FAST token that authenticated, if one did
  // Bound inline, not yet told: deliveries wait in resume_backlog_.
  bool binding_inline_ = false;
  int sasl_failures_ = 0;
  std::string user_;  // authenticated localpart
  std::chrono::steady_clock::time_point closing_since_;  // when we sent our closing tag
  double tokens_;     // stanza rate limit (token bucket)
  std::chrono::steady_clock::time_point tokens_at_;
  std::uint64_t number_;
  // --- XEP-0198 stream management (client_sm.cc) ------------------------
  // Counts only once <enable/> was accepted.
  bool sm_enabled_ = false;
  HandledCounter sm_inbound_;
  UnackedQueue<std::string> sm_unacked_;
  bool sm_ack_requested_ = false;  // our <r/> is out, no <a/> yet
  std::string sm_id_;              // resumption id; empty: not resumable
  std::chrono::seconds resume_timeout_{0};
  // Taking over an old session on its shard: deliveries wait here, to go out
  // after <resumed/> and the re-sent stanzas.
  bool resuming_ = false;
  std::vector<std::string> resume_backlog_;
  std::size_t passed_on_ = 0;  // how many at its front the old stream passed on
  // Handled tickets (router::Session::hold_handled): an <r/> is answered
  // once no ticket is open, so `h` never counts a message whose
  // offline-storage write could still be lost. A module that holds a
  // stanza back (blocking, while a list loads) keeps its ticket until it
  // has routed the stanza, so the write's own ticket is taken before that
  // one is dropped and the count never touches zero in between. Taken on
  // any shard; settled and answered on this one.
  std::atomic<bool> tickets_on_{false};  // with stream management
  std::atomic<std::size_t> open_tickets_{0};
  // `h` when each <r/> came. A vector, drained whole: a std::deque would
  // allocate 576 bytes in every session before its first use.
  std::vector<std::uint32_t> ack_requests_;
  void request_ack();
  void settle_ticket();
  void answer_settled_ack_requests();
  void on_stream_management(const xml::Element& el);
  void sm_enable(const xml::Element& el);
  // Turns stream management on (resumable if asked and allowed); returns
  // the <enabled/> to send.
  std::string start_stream_management(bool wants_resume, std::uint32_t max);
  // A session taken over: the stream is bound under its address; deliveries
  // wait in resume_backlog_ until resend_after_resume.
  struct Resumption {
    std::string previd;
    std::uint32_t inbound;             // the <resumed h=…/>
    std::vector<std::string> unacked;  // to re-send, oldest first
  };
  using ResumeOutcome = std::variant<Resumption, Refusal>;
  // <resume/> after the usual SASL and stream restart.
  awaitable<void> sm_resume(const xml::Element& el);
  // Both ways to resume (the element above, or inline in SASL2's
  // <authenticate/>): checks `previd` against the authenticated account and
  // takes the session over from whichever shard holds it. The stream may
  // have closed meanwhile: check state_.
  awaitable<ResumeOutcome> take_over_session(const std::string& previd, std::optional<std::uint32_t> h);
  // After the hand-over: until what was on its way to the old stream has
  // been passed on to this one.
  awaitable<void> wait_for_deliveries_in_flight(router::SessionPtr old);
  // <item-not-found/> for an id that names no live session of this
  // account, with what the session had handled if it was this account's
  // and ended lately (ResumableSessions::handled_when_ended).
  Refusal refuse_unknown_session(const std::string& previd) const;
  // <resumed previd h/> or <failed h?>…</failed>.
  static std::string resume_answer_xml(const ResumeOutcome& outcome);
  // After <resumed/> went out: what the client never acknowledged, then
  // what arrived while the session changed hands.
  void resend_after_resume(std::vector<std::string> unacked);
  // Writes what waited in resume_backlog_, counted as delivered now.
  void write_backlog();
  void sm_track_outbound(std::string bytes);
  // Writes a serialised stanza and tracks it for acks.
  void write_tracked(std::string bytes);
  // --- XEP-0352 client state indication ----------------------------------
  CsiBuffer csi_;
  void on_client_state(const xml::Element& el);
  // A stanza for an inactive client: held back, or sent after what was held.
  void deliver_while_inactive(std::string bytes);
  // The connection broke under a resumable session: a HibernatedSession
  // takes the session's place, and this stream is freed.
  void hibernate();
};

}  // namespace tern::stream
