#include "stream/resumable_session.h"

#include "core/log.h"
#include "stream/client_stream.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"

namespace tern::stream {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::variant<ResumableSession::Handover, ResumableSession::Refusal> ResumableSession::give_session(
    router::Session& fresh, const std::string& sm_id, std::uint32_t inbound,
    UnackedQueue<std::string>& unacked, CsiBuffer& csi, std::uint32_t h) {
  if (!unacked.acknowledge(h)) {
    // §4's <handled-count-too-high/>, as a <failed/> rather than a stream
    // error: the session stays resumable by a client that counts right,
    // and our count tells this one which of its stanzas we have.
    return Refusal{"undefined-condition", inbound,
                   fmt::format("<handled-count-too-high xmlns='{}' h='{}' send-count='{}'/>", ns::kSm, h,
                               unacked.sent())};
  }
  Handover out{inbound, h, unacked.take_all(), carry_away()};
  for (auto& held : csi.take_held()) out.unacked.push_back(std::move(held));
  move_address_to(fresh, sm_id);
  return out;
}

void ResumableSession::move_address_to(router::Session& fresh, const std::string& sm_id) {
  // From here stanzas for this address reach `fresh`.
  fresh.set_presence(is_available(), priority());
  ctx_.router.sessions().bind(fresh.shared_from_this());
  ctx_.resumable.add(sm_id, fresh.shared_from_this());
  router::SessionMoved ev{*this, fresh};
  ctx_.router.hooks().session_moved.run(ev);
  handed_over_ = true;
}

// Looked up on another shard before the session moved, run here after:
// without this it would be dropped on an object that holds nothing.
void ResumableSession::pass_on(const router::SerializedStanza& stanza) {
  auto holder = ctx_.router.sessions().find(jid());
  if (!holder || holder.get() == this) return requeue_unacked({*stanza});
  ctx_.router.on_shard_of(holder, [stanza](router::Session& s) {
    if (auto* stream = dynamic_cast<ClientStream*>(&s)) return stream->accept_passed_on(stanza);
    s.deliver_serialized(stanza);
  });
}

void ResumableSession::end_session(std::string& sm_id, std::uint32_t handled,
                                   std::vector<std::string> unacked) {
  // Presence still reads as it was, so the presence module can tell
  // contacts we are gone (RFC 6121 §4.6).
  router::SessionEvent ev{*this};
  ctx_.router.hooks().session_ended.run(ev);
  set_presence(false, priority());
  end_resumability(sm_id, handled);
  requeue_unacked(std::move(unacked));
}

void ResumableSession::end_resumability(std::string& sm_id, std::uint32_t handled) {
  if (sm_id.empty()) return;
  spdlog::info("{}: session over; a late resume hears h={}", log_id(), handled);
  ctx_.resumable.end(std::exchange(sm_id, {}), this, jid().bare_string(), handled);
}

// Messages are routed again as if sent to the bare JID (another resource,
// or offline storage); iq requests get an error; presence is dropped, since
// the contact's next one supersedes it.
void ResumableSession::requeue_unacked(std::vector<std::string> stanzas) {
  if (!stanzas.empty()) spdlog::info("{}: {} unacknowledged stanzas routed again", log_id(), stanzas.size());
  for (const auto& text : stanzas) {
    auto stanza = xml::parse_element(text, ns::kClient);
    if (!stanza) continue;
    const auto type = std::string(stanza->attr_or("type"));
    auto from = xmpp::Jid::parse(stanza->attr_or("from"));
    auto to = xmpp::Jid::parse(stanza->attr_or("to"));
    if (stanza->name() == "message" && from && to && type != "error" && type != "groupchat") {
      ctx_.router.route_to_bare(std::move(*stanza), *from, to->bare());
    } else if (stanza->name() == "iq" && (type == "get" || type == "set")) {
      ctx_.router.bounce(*stanza, StanzaError(StanzaCondition::kRecipientUnavailable));
    }
  }
}

}  // namespace tern::stream
