// Resource binding (RFC 6120 §7), the legacy session iq (RFC 3921 §3,
// kept for old clients) and stanzas of a bound client.
#include "core/log.h"
#include "sasl/mechanism.h"
#include "stream/client_stream.h"
#include "xmpp/namespaces.h"

namespace tern::stream {

using xmpp::StanzaCondition;
using xmpp::StanzaError;
using xmpp::StreamCondition;

namespace {

std::string generated_resource() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string raw = sasl::random_bytes(10), out = "tern-";
  for (unsigned char c : raw) out += kAlphabet[c % 36];
  return out;
}

// An error reply to the client's own request, sent straight back on its stream.
xml::Element reply_error(const xml::Element& request, StanzaError err) {
  auto reply = xmpp::make_error_reply(request, err);
  reply.remove_attr("from");
  return reply;
}

}  // namespace

awaitable<void> ClientStream::on_bind(const xml::Element& iq) {
  const auto* bind = iq.child("bind", ns::kBind);
  std::string wanted = bind->child_text("resource", ns::kBind);
  std::string resource;
  if (wanted.empty()) {
    resource = generated_resource();
  } else if (auto prepped = xmpp::resourceprep(wanted)) {
    resource = *prepped;
  } else {
    send(reply_error(iq, StanzaError(StanzaCondition::kBadRequest, "invalid resource")));
    co_return;
  }
  auto refused = co_await bind_resource(resource);
  if (refused) co_return send(reply_error(iq, *refused));
  if (state_ != State::kBound) co_return;
  xml::Element result("iq", ns::kClient);
  result.set_attr("type", "result");
  if (auto id = iq.attr("id")) result.set_attr("id", *id);
  result.add_child("bind", ns::kBind).add_child("jid").add_text(jid().to_string());
  send(result);
  spdlog::info("{}: bound", log_id());
  router::SessionEvent ev{*this};
  ctx_.router.hooks().session_bound.run(ev);
}

awaitable<std::optional<StanzaError>> ClientStream::bind_resource(const std::string& resource) {
  auto full = xmpp::Jid::from_parts(user_, domain_, resource);
  auto bare = full.bare();
  const bool replaces = ctx_.router.sessions().find(full) != nullptr;
  if (!replaces && ctx_.router.sessions().resource_count(bare) >=
                       static_cast<std::size_t>(ctx_.config.max_resources_per_account)) {
    co_return StanzaError(StanzaCondition::kResourceConstraint, xmpp::ErrorType::kWait,
                          "too many resources");
  }
  // The account may have been deleted since SASL finished.
  const storage::AccountKey account{user_, domain_};
  bool exists = co_await ctx_.blocking.run([&] { return ctx_.storage.accounts().exists(account); });
  if (state_ != State::kAuthenticated) co_return std::nullopt;
  if (!exists) {
    fail(StreamCondition::kNotAuthorized, "account removed");
    co_return std::nullopt;
  }

  set_jid(full);
  state_ = State::kBound;
  // The watchdog sleeps until the handshake deadline: wake it to count the
  // idle timeout from now, which may be the shorter of the two.
  deadline_.cancel();
  auto self = std::static_pointer_cast<router::Session>(shared_from_this());
  if (auto old = ctx_.router.sessions().bind(self)) {
    // A second bind of the same resource wins; the older stream is told why.
    spdlog::info("{}: replaces an older session of the same resource", log_id());
    ctx_.router.on_shard_of(old, [](router::Session& s) {
      s.close_with_error(StreamCondition::kConflict, "replaced by a new session");
    });
  }
  co_return std::nullopt;
}

void ClientStream::on_session_iq(const xml::Element& iq) {
  xml::Element result("iq", ns::kClient);
  result.set_attr("type", "result");
  if (auto id = iq.attr("id")) result.set_attr("id", *id);
  send(result);
}

void ClientStream::on_stanza(xml::Element stanza) {
  // RFC 6120 §8.1.2.1: the server vouches for 'from' and overrides whatever
  // the client wrote, so no client can speak as another. §4.9.3.9 would also
  // allow closing the stream with <invalid-from/> (ejabberd does); like
  // Prosody we override and keep the session, since the stamped stanza can no
  // longer mislead anyone and §8.1.2.1 names overriding as the server's duty.
  if (auto from = stanza.attr("from"); from && *from != jid().to_string()) {
    auto claimed = xmpp::Jid::parse(*from);
    if (!claimed || (*claimed != jid() && *claimed != jid().bare()))
      spdlog::info("{}: replaced a forged from '{}'", log_id(), *from);
  }
  stanza.set_attr("from", jid().to_string());
  const auto& name = stanza.name();
  const auto type = stanza.attr_or("type");
  if (name == "iq") {
    if (!stanza.attr("id") ||
        (type != "get" && type != "set" && type != "result" && type != "error")) {
      if (type != "error" && type != "result") send(reply_error(stanza, StanzaError(StanzaCondition::kBadRequest)));
      return;
    }
    if (type == "set" && !stanza.attr("to")) {
      if (stanza.child("session", ns::kSession)) return on_session_iq(stanza);
      if (stanza.child("bind", ns::kBind)) {
        send(reply_error(stanza, StanzaError(StanzaCondition::kNotAllowed, "already bound")));
        return;
      }
    }
  } else if (name == "presence" && !stanza.attr("to")) {
    // Routed first: the presence module sees the state before this stanza
    // (`!is_available()` there means initial presence).
    auto next = presence_state_of(stanza);
    ctx_.router.route_from_session(std::move(stanza));
    if (!next) return;
    const bool became_available = next->available && !is_available();
    set_presence(next->available, next->priority);
    if (became_available) {
      router::SessionEvent ev{*this};
      ctx_.router.hooks().initial_presence.run(ev);
    }
    return;
  }
  ctx_.router.route_from_session(std::move(stanza));
}

std::optional<ClientStream::PresenceState> ClientStream::presence_state_of(
    const xml::Element& presence) const {
  auto type = presence.attr_or("type");
  if (type == "unavailable") return PresenceState{false, priority()};
  if (!type.empty()) return std::nullopt;  // subscriptions, probes, errors
  int priority = 0;
  std::string p = presence.child_text("priority");
  if (!p.empty()) {
    // RFC 6121 §4.7.2.3: an integer in -128..127; anything else counts as 0.
    try {
      priority = std::clamp(std::stoi(p), -128, 127);
    } catch (const std::exception&) {
      priority = 0;
    }
  }
  return PresenceState{true, priority};
}

}  // namespace tern::stream
