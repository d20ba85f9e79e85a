#include "stream/component_stream.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fmt/format.h>

#include "core/hex.h"
#include "core/log.h"
#include "sasl/mechanism.h"
#include "stream/client_stream.h"  // condition_of
#include "xmpp/namespaces.h"
#include "xml/serializer.h"
#include "xmpp/errors.h"

namespace tern::stream {
namespace {

using xmpp::StanzaCondition;
using xmpp::StreamCondition;

constexpr std::string_view kComponentNs = "jabber:component:accept";
constexpr auto kCloseGrace = std::chrono::seconds(2);
constexpr std::size_t kReadBuffer = 16384;

using core::to_hex;

// XEP-0114 §3: the handshake is hex(SHA-1(stream id + secret)), lower case.
std::string expected_handshake(std::string_view stream_id, std::string_view secret) {
  std::string input = std::string(stream_id) + std::string(secret);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(input.data(), input.size());
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

// --- ComponentHub ------------------------------------------------------------

ComponentHub::ComponentHub(router::Router& router, std::map<std::string, std::string> secrets,
                           Limits limits)
    : router_(router), secrets_(std::move(secrets)), limits_(limits) {
  for (const auto& [domain, secret] : secrets_) {
    if (router_.is_local_domain(domain))
      throw std::runtime_error("components." + domain + ": that is one of server.domains");
    claims_.push_back(router_.claim_domain(
        domain, [this, domain](xml::Element stanza, const xmpp::Jid&, const xmpp::Jid&) {
          deliver(domain, std::move(stanza));
        }));
  }
}

ComponentHub::~ComponentHub() = default;

const std::string* ComponentHub::secret_of(const std::string& domain) const {
  auto it = secrets_.find(domain);
  return it == secrets_.end() ? nullptr : &it->second;
}

bool ComponentHub::attach(const std::string& domain, const std::shared_ptr<ComponentStream>& stream) {
  std::lock_guard lock(mutex_);
  auto& link = links_[domain];
  if (!link.expired()) return false;
  link = stream;
  return true;
}

void ComponentHub::detach(const std::string& domain, const ComponentStream* stream) {
  std::lock_guard lock(mutex_);
  auto it = links_.find(domain);
  if (it == links_.end()) return;
  auto current = it->second.lock();
  if (!current || current.get() == stream) links_.erase(it);
}

std::vector<std::string> ComponentHub::describe() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [domain, secret] : secrets_) {
    auto it = links_.find(domain);
    auto stream = it == links_.end() ? nullptr : it->second.lock();
    out.push_back(stream ? fmt::format("{}: connected from {}", domain, stream->remote_ip())
                         : fmt::format("{}: not connected", domain));
  }
  return out;
}

void ComponentHub::close_all() {
  std::vector<std::shared_ptr<ComponentStream>> streams;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [domain, link] : links_)
      if (auto s = link.lock()) streams.push_back(std::move(s));
  }
  for (auto& s : streams)
    router_.post_to_shard(s->shard(), [s] { s->fail(StreamCondition::kSystemShutdown); });
}

void ComponentHub::deliver(const std::string& domain, xml::Element stanza) {
  std::shared_ptr<ComponentStream> stream;
  {
    std::lock_guard lock(mutex_);
    if (auto it = links_.find(domain); it != links_.end()) stream = it->second.lock();
  }
  if (!stream) {
    // XEP-0114 leaves this to the server: the sender learns at once that
    // nobody is there (RFC 6120 §8.3.3.19), presence is dropped.
    if (stanza.name() != "presence")
      router_.bounce(stanza, xmpp::StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  // Serialised here, once, for a default namespace the component stream
  // reads as its own (jabber:component:accept).
  std::string bytes;
  xml::serialize(bytes, stanza, ns::kClient);
  router_.post_to_shard(stream->shard(), [stream, bytes = std::move(bytes)] { stream->send(bytes); });
}

// --- ComponentStream -----------------------------------------------------------

void ComponentStream::start(ComponentHub& hub, unsigned shard, tcp::socket socket) {
  auto stream = std::make_shared<ComponentStream>(hub, shard, std::move(socket));
  asio::co_spawn(stream->deadline_.get_executor(), [stream] { return stream->run(); },
                 asio::detached);
}

ComponentStream::ComponentStream(ComponentHub& hub, unsigned shard, tcp::socket socket)
    : hub_(hub),
      shard_(shard),
      transport_(std::move(socket)),
      parser_(hub.limits().parser, nullptr),
      outbox_(transport_, transport_.socket().get_executor(), [this] { return log_id(); }),
      deadline_(transport_.socket().get_executor()),
      read_buffer_(kReadBuffer) {}

std::string ComponentStream::log_id() const {
  return fmt::format("component {} {}", domain_.empty() ? "?" : domain_, transport_.remote_ip());
}

awaitable<void> ComponentStream::run() {
  auto self = shared_from_this();
  asio::co_spawn(deadline_.get_executor(), [self] { return self->watchdog(); }, asio::detached);
  spdlog::debug("{}: connected", log_id());
  try {
    while (state_ != State::kClosed) {
      std::size_t n = co_await transport_.read_some(asio::buffer(read_buffer_));
      parser_.feed(std::string_view(read_buffer_.data(), n));
      while (state_ != State::kClosed) {
        auto event = parser_.next();
        if (!event) break;
        on_event(*event);
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted)
      spdlog::debug("{}: connection ended: {}", log_id(), e.code().message());
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", log_id(), e.what());
  }
  finish();
}

// The handshake must come in time; after our closing tag, the peer's must.
// An authenticated component may stay quiet for as long as it likes.
awaitable<void> ComponentStream::watchdog() {
  auto self = shared_from_this();
  deadline_.expires_after(hub_.limits().handshake_timeout);
  while (state_ != State::kClosed) {
    boost::system::error_code ec;
    co_await deadline_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) continue;  // re-armed or cancelled: look at the state again
    if (state_ == State::kClosing) {
      finish();
    } else if (state_ != State::kReady) {
      spdlog::info("{}: handshake timeout", log_id());
      fail(StreamCondition::kConnectionTimeout);
    } else {
      deadline_.expires_at(std::chrono::steady_clock::time_point::max());
    }
  }
}

void ComponentStream::on_event(xml::StreamEvent& event) {
  if (auto* open = std::get_if<xml::StreamOpen>(&event)) {
    on_header(*open);
  } else if (auto* st = std::get_if<xml::StreamStanza>(&event)) {
    if (state_ == State::kAwaitHandshake) {
      on_handshake(st->element);
    } else if (state_ == State::kReady) {
      on_stanza(std::move(st->element));
    }
  } else if (std::holds_alternative<xml::StreamClose>(event)) {
    if (state_ == State::kClosing) {
      finish();
    } else {
      close_stream();
    }
  } else if (auto* f = std::get_if<xml::StreamFailure>(&event)) {
    spdlog::info("{}: bad XML ({}): {}", log_id(), xml::condition_name(f->error), f->detail);
    fail(condition_of(f->error));
  }
}

void ComponentStream::on_header(const xml::StreamOpen& open) {
  if (state_ != State::kAwaitHeader) return fail(StreamCondition::kInvalidXml);
  stream_id_ = to_hex(sasl::random_bytes(12));
  domain_ = std::string(open.header.attr_or("to"));
  std::string opening = fmt::format(
      "<?xml version='1.0'?><stream:stream xmlns='{}' xmlns:stream='{}' id='{}'", kComponentNs,
      ns::kStreams, stream_id_);
  // XEP-0114 §3: the header names the component's domain in 'to'.
  auto jid = xmpp::Jid::parse(domain_);
  if (jid && jid->domain() == domain_ && hub_.secret_of(domain_))
    opening += fmt::format(" from='{}'", domain_);
  outbox_.append(opening + ">", shared_from_this());
  state_ = State::kAwaitHandshake;
  if (open.content_ns != kComponentNs) return fail(StreamCondition::kInvalidNamespace);
  if (!hub_.secret_of(domain_)) return fail(StreamCondition::kHostUnknown);
}

void ComponentStream::on_handshake(const xml::Element& el) {
  if (el.name() != "handshake" || el.ns() != kComponentNs)
    return fail(StreamCondition::kNotAuthorized, "the handshake comes first");
  const std::string expected = expected_handshake(stream_id_, *hub_.secret_of(domain_));
  const std::string given = lower_ascii(el.text());
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    spdlog::warn("{}: wrong handshake", log_id());
    return fail(StreamCondition::kNotAuthorized);
  }
  if (!hub_.attach(domain_, shared_from_this())) {
    spdlog::warn("{}: refused, the domain is connected already", log_id());
    return fail(StreamCondition::kConflict);
  }
  state_ = State::kReady;
  deadline_.cancel();
  outbox_.append("<handshake/>", shared_from_this());
  spdlog::info("{}: component connected", log_id());
}

// A component speaks for its own domain only (RFC 6120 §4.9.3.10), and
// addresses every stanza (§4.9.3.14: a server-to-server hop has no
// implicit 'to').
void ComponentStream::on_stanza(xml::Element stanza) {
  const auto& name = stanza.name();
  if (stanza.ns() != kComponentNs || (name != "message" && name != "presence" && name != "iq"))
    return fail(StreamCondition::kUnsupportedStanzaType);
  auto from = xmpp::Jid::parse(stanza.attr_or("from"));
  if (!from || from->domain() != domain_) return fail(StreamCondition::kInvalidFrom);
  if (!stanza.attr("to")) return fail(StreamCondition::kImproperAddressing);
  xml::move_to_namespace(stanza, kComponentNs, ns::kClient);
  hub_.router().route(std::move(stanza));
}

void ComponentStream::send(std::string_view bytes) {
  if (state_ == State::kReady) outbox_.append(bytes, shared_from_this());
}

void ComponentStream::fail(StreamCondition condition, std::string_view text) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  spdlog::info("{}: stream error {}{}{}", log_id(), xmpp::condition_name(condition),
               text.empty() ? "" : ": ", text);
  outbox_.append(xmpp::stream_error_xml(condition, text), shared_from_this());
  close_stream();
}

void ComponentStream::close_stream() {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  outbox_.append("</stream:stream>", shared_from_this());
  if (state_ == State::kReady) hub_.detach(domain_, this);
  state_ = State::kClosing;
  deadline_.expires_after(kCloseGrace);
}

void ComponentStream::finish() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kReady) {
    hub_.detach(domain_, this);
    spdlog::info("{}: component disconnected", log_id());
  }
  state_ = State::kClosed;
  deadline_.cancel();
  // What is queued goes out first (a stream error, our closing tag).
  asio::co_spawn(deadline_.get_executor(),
                 [self = shared_from_this()]() -> awaitable<void> {
                   co_await self->outbox_.drain();
                   self->transport_.close();
                 },
                 asio::detached);
}

}  // namespace tern::stream
