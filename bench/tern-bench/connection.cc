#include "tern-bench/connection.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "sasl/mechanism.h"
#include "tern-bench/scram_client.h"
#include "tern-bench/worker.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace tern::bench {
namespace {

constexpr const char* kRoster = "jabber:iq:roster";
constexpr const char* kPing = "urn:xmpp:ping";
constexpr std::string_view kFramingNs = "urn:ietf:params:xml:ns:xmpp-framing";
// Over WebSocket the parser reads the messages as children of this stream
// header, never sent: one StreamParser with its limits for the connection.
constexpr std::string_view kSyntheticHeader =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
constexpr std::size_t kMaxHttpHead = 16 * 1024;

xml::ParserLimits parser_limits() {
  xml::ParserLimits l;
  l.max_stanza_bytes = 4 * 1024 * 1024;  // big rosters
  l.max_depth = 128;
  l.max_attributes = 256;
  l.max_header_bytes = 16 * 1024;
  l.release_when_idle = true;
  return l;
}

bool is_stream_error(const xml::Element& el) {
  return el.name() == "error" && el.ns() == ns::kStreams;
}

std::string stream_error_reason(const xml::Element& el) {
  for (const auto* c : el.children())
    if (c->name() != "text") return "stream-error " + c->name();
  return "stream-error";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The value of header `name` (lower case) in an HTTP response head, if any.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    std::size_t start = at + 2;
    std::size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && lower(trim(line.substr(0, colon))) == name)
      return trim(line.substr(colon + 1));
    at = end;
  }
  return std::nullopt;
}

// `xml` as a stand-alone document (RFC 7395 §3.3.3): a stanza written
// without a namespace gets xmlns='jabber:client' on its root.
std::string_view as_ws_message(std::string_view xml, std::string& scratch) {
  auto tag_end = xml.find('>');
  if (xml.size() < 2 || xml[0] != '<' || xml[1] == '/' || tag_end == std::string_view::npos ||
      xml.substr(0, tag_end).find("xmlns=") != std::string_view::npos)
    return xml;
  auto name_end = xml.find_first_of(" />", 1);
  scratch.assign(xml.substr(0, name_end));
  scratch += " xmlns='jabber:client'";
  scratch.append(xml.substr(name_end));
  return scratch;
}

}  // namespace

Connection::Connection(Worker& w, std::int64_t user_index)
    : w_(w),
      user_index_(user_index),
      sock_(w.ioc),
      ws_(w.env.opt.transport == Transport::kWs) {}

Connection::~Connection() {
  close_socket();
  if (session_) SSL_SESSION_free(session_);
}

int Connection::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* c = static_cast<Connection*>(SSL_get_app_data(ssl));
  if (!c) return 0;
  if (c->session_) SSL_SESSION_free(c->session_);
  c->session_ = session;
  return 1;  // the reference is ours now
}

void Connection::reset(std::int64_t user_index) {
  close_socket();
  user_index_ = user_index;
  jid_.clear();
  deadline_.reset();
  timed_out_ = false;
  ws_close_sent_ = false;
  stage_ = "connect";
}

void Connection::set_deadline_in(double seconds) {
  deadline_ = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(seconds));
}

bool Connection::fail(const std::string& reason) {
  if (w_.stopping) {
    // Cut short by the end of the run: not the server's failure.
  } else if (timed_out_) {
    w_.stats.fail(std::string("timeout in ") + stage_);
  } else {
    w_.stats.fail(reason);
  }
  close_socket();
  return false;
}

void Connection::close_socket() {
  if (ssl_) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  boost::system::error_code ec;
  if (sock_.is_open()) sock_.close(ec);
  open_ = false;
  parser_.reset();
  ws_in_.reset();
  out_.clear();
  writer_waiting_ = false;
  writer_wants_read_ = false;
  ++generation_;
}

void Connection::abort() {
  if (!open_) return;
  if (ws_ && !ws_close_sent_ && !cut_) send_ws_close(1000);
  if (!out_.empty() && !writer_waiting_) write_some(out_.data(), out_.size());
  if (ssl_ && SSL_is_init_finished(ssl_)) {
    SSL_shutdown(ssl_);  // close_notify, best effort
    ERR_clear_error();
  }
  close_socket();
}

void Connection::cut() {
  if (!open_) return;
  cut_ = true;
  // SSL_free of a connection not shut down marks its session (our ticket)
  // not resumable; a client whose network died still holds a good ticket.
  // "Shut down" without a byte on the wire keeps it usable.
  if (ssl_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  close_socket();
}

void Connection::expire() {
  timed_out_ = true;
  abort();
}

// ---------------------------------------------------------------------------
// Bytes in and out

long Connection::read_some(char* buf, std::size_t cap) {
  if (ssl_) {
    int r = SSL_read(ssl_, buf, static_cast<int>(cap));
    if (r > 0) return r;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_WANT_WRITE) return -2;
    ERR_clear_error();
    return -1;
  }
  boost::system::error_code ec;
  std::size_t n = sock_.read_some(asio::buffer(buf, cap), ec);
  if (!ec) return static_cast<long>(n);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return 0;
  return -1;
}

long Connection::write_some(const char* buf, std::size_t len) {
  if (ssl_) {
    int r = SSL_write(ssl_, buf, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
    if (r > 0) return r;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_WANT_READ) return -2;
    ERR_clear_error();
    return -1;
  }
  boost::system::error_code ec;
  std::size_t n = sock_.write_some(asio::buffer(buf, len), ec);
  if (!ec) return static_cast<long>(n);
  if (ec == asio::error::would_block || ec == asio::error::try_again) return 0;
  return -1;
}

void Connection::send(std::string_view data) {
  if (!ws_) return send_raw(data);
  if (!open_ || ws_close_sent_) return;
  thread_local std::string scratch;
  append_ws_frame(out_, WsOpcode::kText, as_ws_message(data, scratch), w_.next_ws_mask());
  schedule_flush();
}

void Connection::send_stream_end() {
  send(ws_ ? "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" : "</stream:stream>");
}

void Connection::send_ws_close(std::uint16_t code) {
  if (!open_ || ws_close_sent_) return;
  const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  append_ws_frame(out_, WsOpcode::kClose, std::string_view(payload, 2), w_.next_ws_mask());
  ws_close_sent_ = true;
  schedule_flush();
}

void Connection::send_raw(std::string_view bytes) {
  if (!open_) return;
  out_.append(bytes);
  schedule_flush();
}

void Connection::schedule_flush() {
  if (flush_posted_ || writer_waiting_) return;
  flush_posted_ = true;
  asio::post(w_.ioc, [this] {
    flush_posted_ = false;
    flush();
  });
}

void Connection::flush() {
  if (!open_ || writer_waiting_) return;
  std::size_t done = 0;
  while (done < out_.size()) {
    long n = write_some(out_.data() + done, out_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n == -1) {
      out_.clear();
      abort();  // the reader sees the socket closed
      return;
    }
    out_.erase(0, done);
    writer_waiting_ = true;
    writer_wants_read_ = n == -2;
    spawn(w_, flush_when_writable());
    return;
  }
  out_.clear();
  if (out_.capacity() > 64 * 1024) std::string().swap(out_);
}

awaitable<void> Connection::flush_when_writable() {
  std::uint32_t gen = generation_;
  auto what = writer_wants_read_ ? tcp::socket::wait_read : tcp::socket::wait_write;
  boost::system::error_code ec;
  co_await sock_.async_wait(what, asio::redirect_error(use_awaitable, ec));
  if (gen != generation_) co_return;
  writer_waiting_ = false;
  if (ec || !open_) co_return;
  flush();
}

bool Connection::take_input(std::string_view bytes) {
  if (!ws_) {
    parser_->feed(bytes);
    return true;
  }
  return ws_in_.feed(bytes, *this);
}

void Connection::on_text(std::string_view piece) { parser_->feed(piece); }

void Connection::on_control(WsOpcode opcode, std::string_view payload) {
  if (opcode == WsOpcode::kPing) {
    append_ws_frame(out_, WsOpcode::kPong, payload, w_.next_ws_mask());
    schedule_flush();
  } else if (opcode == WsOpcode::kClose) {
    // Echo the code (RFC 6455 §5.5.1); the server then closes the socket.
    std::uint16_t code = payload.size() >= 2 ? static_cast<std::uint16_t>(
                                                   (static_cast<unsigned char>(payload[0]) << 8) |
                                                   static_cast<unsigned char>(payload[1]))
                                             : 1000;
    send_ws_close(code);
  }
}

awaitable<bool> Connection::next_event(xml::StreamEvent& ev) {
  for (;;) {
    if (!open_) co_return false;
    if (auto e = parser_->next()) {
      ev = std::move(*e);
      if (ws_) {
        // <open/> and <close/> stand for the stream's header and end tag.
        auto* st = std::get_if<xml::StreamStanza>(&ev);
        if (st && st->element.ns() == kFramingNs && st->element.name() == "open") {
          ev = xml::StreamOpen{std::move(st->element), std::string(ns::kClient)};
        } else if (st && st->element.ns() == kFramingNs && st->element.name() == "close") {
          ev = xml::StreamClose{};
        }
      }
      if (sm_on_ && counts_for_stream_management(ev)) continue;
      co_return true;
    }
    long n = read_some(w_.read_buf.data(), w_.read_buf.size());
    if (n > 0) {
      if (!take_input(std::string_view(w_.read_buf.data(), static_cast<std::size_t>(n))))
        co_return false;
      continue;
    }
    if (n == -1) co_return false;
    boost::system::error_code ec;
    auto what = n == 0 ? tcp::socket::wait_read : tcp::socket::wait_write;
    co_await sock_.async_wait(what, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
  }
}

// XEP-0198 §4: counts each stanza received and answers <r/> at once;
// true for what the stream management layer consumed (<r/>, <a/>).
bool Connection::counts_for_stream_management(const xml::StreamEvent& ev) {
  const auto* st = std::get_if<xml::StreamStanza>(&ev);
  if (!st) return false;
  const xml::Element& el = st->element;
  if (el.ns() == ns::kSm) {
    if (el.name() == "r") send(fmt::format("<a xmlns='{}' h='{}'/>", ns::kSm, sm_handled_));
    return el.name() == "r" || el.name() == "a";
  }
  if (el.name() == "message" || el.name() == "presence" || el.name() == "iq") ++sm_handled_;
  return false;
}

bool Connection::answer_server_iq(const xml::Element& iq) {
  auto type = iq.attr_or("type");
  if (type != "get" && type != "set") return false;
  std::string reply = "<iq id='";
  xml::append_escaped_attr(reply, iq.attr_or("id"));
  reply += "'";
  if (auto from = iq.attr("from")) {
    reply += " to='";
    xml::append_escaped_attr(reply, *from);
    reply += "'";
  }
  const auto& features = w_.env.opt.disco_features;
  const xml::Element* disco = iq.child("query", "http://jabber.org/protocol/disco#info");
  if (iq.child("ping", kPing) || iq.child("query", kRoster)) {
    reply += " type='result'/>";
  } else if (disco && !features.empty()) {
    reply += " type='result'><query xmlns='http://jabber.org/protocol/disco#info' node='";
    xml::append_escaped_attr(reply, disco->attr_or("node"));
    reply += "'><identity category='client' type='bot' name='tern-bench'/>";
    for (const auto& f : features) {
      reply += "<feature var='";
      xml::append_escaped_attr(reply, f);
      reply += "'/>";
    }
    reply += "</query></iq>";
  } else {
    reply +=
        " type='error'><error type='cancel'><service-unavailable "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>";
  }
  send(reply);
  return true;
}

awaitable<bool> Connection::next_stanza(xml::Element& out) {
  xml::StreamEvent ev;
  for (;;) {
    bool ok = co_await next_event(ev);
    if (!ok) co_return false;
    auto* st = std::get_if<xml::StreamStanza>(&ev);
    if (!st) co_return false;  // close, failure, or a second header
    if (is_stream_error(st->element)) co_return false;
    if (st->element.name() == "iq" && answer_server_iq(st->element)) continue;
    out = std::move(st->element);
    co_return true;
  }
}

// ---------------------------------------------------------------------------
// The login sequence

awaitable<bool> Connection::connect() {
  const Env& env = w_.env;
  stage_ = "connect";
  boost::system::error_code ec;
  sock_.open(env.server.protocol(), ec);
  if (ec) co_return fail("socket: " + ec.message());
  open_ = true;
  if (!env.sources.empty()) {
    int one = 1;
    // Pick the port at connect time, per destination: many more than 64k
    // connections across the source addresses.
    ::setsockopt(sock_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const auto& src = env.sources[w_.next_source++ % env.sources.size()];
    sock_.bind(tcp::endpoint(src, 0), ec);
    if (ec) co_return fail("bind source: " + ec.message());
  }
  co_await sock_.async_connect(env.server, asio::redirect_error(use_awaitable, ec));
  if (ec || !open_) co_return fail("connect: " + ec.message());
  sock_.set_option(tcp::no_delay(true), ec);
  sock_.non_blocking(true, ec);
  start_parser();
  if (ws_) co_return co_await websocket_handshake();
  co_return true;
}

void Connection::start_parser() {
  parser_ = std::make_unique<xml::StreamParser>(parser_limits(), &w_.parser_pool);
  if (ws_) {
    parser_->feed(kSyntheticHeader);
    (void)parser_->next();  // the StreamOpen of our own header
  }
}

// RFC 6455 §4.1 with the xmpp subprotocol (RFC 7395 §3.1): a 101 whose
// Sec-WebSocket-Accept matches our key and that agreed on "xmpp".
awaitable<bool> Connection::websocket_handshake() {
  stage_ = "websocket handshake";
  const Options& opt = w_.env.opt;
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  const std::string key =
      sasl::base64_encode(std::string_view(reinterpret_cast<const char*>(nonce), sizeof nonce));
  std::string request = "GET " + opt.ws_path + " HTTP/1.1\r\nHost: " + opt.host + ":" +
                        std::to_string(opt.port) +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: " + key +
                        "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n";
  send_raw(request);
  std::string head;
  std::size_t end = std::string::npos;
  while (end == std::string::npos) {
    long n = read_some(w_.read_buf.data(), w_.read_buf.size());
    if (n > 0) {
      head.append(w_.read_buf.data(), static_cast<std::size_t>(n));
      end = head.find("\r\n\r\n");
      if (end == std::string::npos && head.size() > kMaxHttpHead)
        co_return fail("websocket: response head too long");
      continue;
    }
    if (n == -1 || !open_) co_return fail("closed in websocket handshake");
    boost::system::error_code ec;
    co_await sock_.async_wait(tcp::socket::wait_read, asio::redirect_error(use_awaitable, ec));
    if (ec || !open_) co_return fail("closed in websocket handshake");
  }
  std::string_view response(head.data(), end + 2);  // the last header line keeps its CRLF
  if (!response.starts_with("HTTP/1.1 101"))
    co_return fail("websocket: " + std::string(response.substr(0, response.find('\r'))));
  auto accept = header_value(response, "sec-websocket-accept");
  if (!accept || *accept != ws_accept_for(key)) co_return fail("websocket: bad Sec-WebSocket-Accept");
  auto protocol = header_value(response, "sec-websocket-protocol");
  if (!protocol || *protocol != "xmpp") co_return fail("websocket: subprotocol xmpp not agreed");
  // Frames the server sent right behind its head.
  if (!take_input(std::string_view(head).substr(end + 4)))
    co_return fail("websocket: bad frame");
  co_return true;
}

awaitable<bool> Connection::open_stream(xml::Element& features) {
  std::string header = ws_ ? "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='"
                           : "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                             "xmlns:stream='http://etherx.jabber.org/streams' to='";
  xml::append_escaped_attr(header, w_.env.opt.domain);
  header += ws_ ? "' version='1.0'/>" : "' version='1.0'>";
  send(header);
  xml::StreamEvent ev;
  bool ok = co_await next_event(ev);
  if (!ok) co_return fail(std::string("closed in ") + stage_);
  if (!std::holds_alternative<xml::StreamOpen>(ev)) co_return fail("no stream header");
  ok = co_await next_event(ev);
  if (!ok) co_return fail(std::string("closed in ") + stage_);
  auto* st = std::get_if<xml::StreamStanza>(&ev);
  if (!st) co_return fail("no stream features");
  if (is_stream_error(st->element)) co_return fail(stream_error_reason(st->element));
  if (st->element.name() != "features") co_return fail("no stream features");
  features = std::move(st->element);
  co_return true;
}

awaitable<bool> Connection::start_tls() {
  stage_ = "starttls";
  send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  xml::StreamEvent ev;
  bool ok = co_await next_event(ev);
  if (!ok) co_return fail("closed in starttls");
  auto* st = std::get_if<xml::StreamStanza>(&ev);
  if (!st || st->element.name() != "proceed") co_return fail("starttls refused");

  stage_ = "tls handshake";
  ssl_ = SSL_new(w_.env.ssl_ctx);
  if (!ssl_) co_return fail("SSL_new");
  SSL_set_fd(ssl_, static_cast<int>(sock_.native_handle()));
  SSL_set_tlsext_host_name(ssl_, w_.env.opt.domain.c_str());
  SSL_set_connect_state(ssl_);
  SSL_set_app_data(ssl_, this);
  if (session_) SSL_set_session(ssl_, session_);
  for (;;) {
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      if (SSL_session_reused(ssl_)) w_.stats.tls_resumed.add();
      break;
    }
    int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      co_return fail("tls handshake");
    }
    boost::system::error_code ec;
    auto what = e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
    co_await sock_.async_wait(what, asio::redirect_error(use_awaitable, ec));
    if (ec || !open_) co_return fail("closed in tls handshake");
  }
  parser_->reset();
  stage_ = "stream after tls";
  co_return true;
}

awaitable<bool> Connection::authenticate(const xml::Element& features) {
  stage_ = "sasl";
  const Options& opt = w_.env.opt;
  const char* mech = mech_name(opt.mech);
  bool offered = false;
  if (const auto* mechs = features.child("mechanisms", ns::kSasl))
    for (const auto* m : mechs->children())
      if (m->text() == mech) offered = true;
  if (!offered) co_return fail(std::string(mech) + " not offered");

  std::string user = user_name(opt, user_index_);
  std::string auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='";
  auth += mech;
  auth += "'>";
  std::optional<ScramClient> scram;
  if (opt.mech == Mech::kPlain) {
    std::string plain;
    plain += '\0';
    plain += user;
    plain += '\0';
    plain += opt.password;
    auth += sasl::base64_encode(plain);
  } else {
    auto hash = opt.mech == Mech::kScramSha1 ? sasl::Hash::kSha1 : sasl::Hash::kSha256;
    scram.emplace(hash, user, opt.password, w_.scram_cache);
    auth += sasl::base64_encode(scram->first_message());
  }
  auth += "</auth>";
  send(auth);

  xml::StreamEvent ev;
  bool server_verified = !scram;
  for (;;) {
    bool ok = co_await next_event(ev);
    if (!ok) co_return fail("closed in sasl");
    auto* st = std::get_if<xml::StreamStanza>(&ev);
    if (!st) co_return fail("closed in sasl");
    const xml::Element& el = st->element;
    if (el.name() == "failure") {
      std::string why = "sasl failure";
      for (const auto* c : el.children())
        if (c->name() != "text") why = "sasl " + c->name();
      co_return fail(why);
    }
    auto data = sasl::base64_decode(el.text());
    if (!data) co_return fail("sasl: bad base64 from server");
    if (el.name() == "challenge") {
      if (!scram) co_return fail("sasl: unexpected challenge");
      if (scram && !server_verified && data->rfind("v=", 0) == 0) {
        // server-final-message as a challenge: answer with an empty response
        if (!scram->verify_server_final(*data)) co_return fail("sasl: bad server signature");
        server_verified = true;
        send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        continue;
      }
      auto final_msg = scram->final_message(*data);
      if (!final_msg) co_return fail("sasl: bad server-first-message");
      std::string response = "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>";
      response += sasl::base64_encode(*final_msg);
      response += "</response>";
      send(response);
      continue;
    }
    if (el.name() == "success") {
      if (!server_verified) {
        if (!scram->verify_server_final(*data)) co_return fail("sasl: bad server signature");
      }
      co_return true;
    }
    co_return fail("sasl: unexpected <" + el.name() + ">");
  }
}

awaitable<bool> Connection::bind() {
  stage_ = "bind";
  std::string iq =
      "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>";
  xml::append_escaped_text(iq, w_.env.opt.resource);
  iq += std::to_string(w_.id);
  iq += '-';
  iq += std::to_string(++w_.resource_seq);
  iq += "</resource></bind></iq>";
  send(iq);
  xml::Element el;
  for (;;) {
    bool ok = co_await next_stanza(el);
    if (!ok) co_return fail("closed in bind");
    if (el.name() == "iq" && el.attr_or("id") == "bind1") break;
  }
  if (el.attr_or("type") != "result") co_return fail("bind error");
  const auto* b = el.child("bind", ns::kBind);
  const auto* j = b ? b->child("jid", ns::kBind) : nullptr;
  if (!j) co_return fail("bind result without jid");
  jid_ = j->text();
  co_return true;
}

awaitable<bool> Connection::fetch_roster() {
  stage_ = "roster";
  send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
  xml::Element el;
  for (;;) {
    bool ok = co_await next_stanza(el);
    if (!ok) co_return fail("closed in roster get");
    if (el.name() == "iq" && el.attr_or("id") == "roster1") break;
  }
  // A server without rosters answers an error: fine for a load test.
  co_return true;
}

awaitable<bool> Connection::enable_stream_management() {
  stage_ = "sm enable";
  sm_on_ = false;
  sm_handled_ = 0;
  send(fmt::format("<enable xmlns='{}' resume='true'/>", ns::kSm));
  xml::StreamEvent ev;
  for (;;) {
    if (!co_await next_event(ev)) co_return fail("closed in sm enable");
    auto* st = std::get_if<xml::StreamStanza>(&ev);
    if (!st) co_return fail("sm enable: stream ended");
    if (st->element.ns() != ns::kSm) continue;
    if (st->element.name() != "enabled") co_return fail("sm enable refused");
    sm_on_ = true;
    co_return true;
  }
}

awaitable<bool> Connection::establish(bool roster_and_presence) {
  std::uint64_t t0 = now_ns();
  const Options& opt = w_.env.opt;
  timed_out_ = false;
  set_deadline_in(opt.login_timeout);
  bool ok = co_await connect();
  if (!ok) co_return false;
  xml::Element features;
  stage_ = "stream";
  ok = co_await open_stream(features);
  if (!ok) co_return false;
  if (opt.tls) {
    if (!features.child("starttls", ns::kTls)) co_return fail("starttls not offered");
    ok = co_await start_tls();
    if (!ok) co_return false;
    ok = co_await open_stream(features);
    if (!ok) co_return false;
  }
  ok = co_await authenticate(features);
  if (!ok) co_return false;
  // Over WebSocket the restart is only a new <open/>: the parser goes on.
  if (!ws_) parser_->reset();
  stage_ = "stream after sasl";
  ok = co_await open_stream(features);
  if (!ok) co_return false;
  ok = co_await bind();
  if (!ok) co_return false;
  if (opt.stream_management) {
    ok = co_await enable_stream_management();
    if (!ok) co_return false;
  }
  if (roster_and_presence) {
    if (opt.fetch_roster) {
      ok = co_await fetch_roster();
      if (!ok) co_return false;
    }
    if (opt.send_presence) send(opt.initial_presence);
  }
  stage_ = "online";
  clear_deadline();
  w_.stats.login_latency.record(now_ns() - t0);
  w_.stats.online.add();
  co_return true;
}

awaitable<void> Connection::close_stream() {
  if (!open_) co_return;
  send_stream_end();
  auto limit = Clock::now() + std::chrono::seconds(5);
  if (!deadline_ || *deadline_ > limit) deadline_ = limit;
  xml::StreamEvent ev;
  for (;;) {
    bool ok = co_await next_event(ev);
    if (!ok || std::holds_alternative<xml::StreamClose>(ev)) break;
  }
  deadline_.reset();
  abort();
}

}  // namespace tern::bench
