// Subscription stanzas (RFC 6121 §3): the user's roster row changes as
// Appendix A says (subscription.cc), the change is stored and pushed, and the
// stanza goes on or stops. Coroutines queued under the sender on its shard.
#include "core/log.h"
#include "modules/presence/service.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::presence {
namespace {

// The roster row's fields for a state of RFC 6121 Appendix A.
roster::SubscriptionUpdate update_to(SubState next, bool approved,
                                     std::optional<std::string> request = std::nullopt) {
  storage::RosterItem row;
  apply_state(row, next);
  return {row.subscription, row.ask_out, row.pending_in, approved, std::move(request)};
}

}  // namespace

awaitable<void> PresenceService::outbound_subscription(xmpp::Jid user_full, xmpp::Jid contact,
                                                       SubType type, xml::Element stanza) {
  const xmpp::Jid user = user_full.bare();
  const std::string contact_str = contact.to_string();
  Transition t;
  const auto outcome = co_await rosters_->change_subscription(
      user, contact_str, [&](const std::optional<storage::RosterItem>& old) {
        t = outbound(old ? state_of(*old) : SubState::kNone, type, old && old->approved);
        return std::optional(update_to(t.next, t.approved));
      });
  if (outcome == roster::Rosters::Outcome::kRosterFull) {
    // As a roster set would be (roster.cc): local policy, nothing stored or sent.
    stanza.set_attr("from", user_full.to_string());
    host_.bounce(stanza, xmpp::StanzaError(xmpp::StanzaCondition::kPolicyViolation,
                                             "the roster is full"));
    co_return;
  }
  spdlog::debug("presence: {} sends {} to {}: {}", user.bare_string(), sub_type_name(type),
                contact_str, state_name(t.next));
  if (!t.pass_on) co_return;
  // A local contact's side is queued next under the user (on_to_bare), so
  // what follows here is queued after it.
  send(std::move(stanza));
  if (type == SubType::kSubscribed) {
    // §3.1.5: the new subscriber gets the user's current presence, after
    // its own server has taken the approval.
    queue_next(user, [this, user, contact]() -> awaitable<void> {
      return send_presence_later(user, contact, true);
    });
  } else if (type == SubType::kUnsubscribed) {
    // §3.2.2: the former subscriber learns the user is gone for it, after
    // the cancellation itself.
    queue_next(user, [this, user, contact]() -> awaitable<void> {
      return send_presence_later(user, contact, false);
    });
  }
}

awaitable<void> PresenceService::send_presence_later(xmpp::Jid owner, xmpp::Jid to, bool available) {
  if (available) {
    send_current_presence(owner, to);
  } else {
    send_unavailable_from_all(owner, to);
  }
  co_return;
}

awaitable<void> PresenceService::inbound_subscription(xmpp::Jid user, xmpp::Jid contact,
                                                      SubType type, xml::Element stanza) {
  // Here `contact` is the local account receiving the stanza, `user` the sender.
  const std::string user_str = user.to_string();
  std::optional<std::string> request;
  if (type == SubType::kSubscribe) request = xml::to_string(stanza, ns::kClient);
  Transition t;
  const auto outcome = co_await rosters_->change_subscription(
      contact, user_str, [&](const std::optional<storage::RosterItem>& old) {
        t = inbound(old ? state_of(*old) : SubState::kNone, type, old && old->approved);
        const bool keeps_request = type == SubType::kSubscribe && t.pass_on;
        return std::optional(update_to(t.next, t.approved, keeps_request ? request : std::nullopt));
      });
  if (outcome == roster::Rosters::Outcome::kNoAccount) {
    // §3.1.3 / §8.5.1: no such contact; the subscriber learns it is refused.
    send(make_presence(contact.bare_string(), user.bare_string(), "unsubscribed"));
    co_return;
  }
  if (outcome == roster::Rosters::Outcome::kRosterFull) {
    // The request cannot be kept for the user to answer: the sender learns
    // why rather than waiting on an answer that will never come.
    host_.bounce(stanza, xmpp::StanzaError(xmpp::StanzaCondition::kPolicyViolation,
                                             "the contact's roster is full"));
    co_return;
  }
  spdlog::debug("presence: {} receives {} from {}: {}", contact.bare_string(), sub_type_name(type),
                user_str, state_name(t.next));
  if (t.pass_on) host_.route_to_bare(std::move(stanza), user, contact);
  if (t.auto_subscribed) {
    // §3.1.3 (already subscribed) and §3.4 (pre-approved): the server
    // answers for the contact, then sends its presence (§3.1.5) once the
    // answer has been taken.
    send(make_presence(contact.bare_string(), user.bare_string(), "subscribed"));
    queue_next(user, [this, user, contact]() -> awaitable<void> {
      return send_presence_later(contact, user, true);
    });
  }
  if (type == SubType::kUnsubscribe && t.pass_on) {
    // §3.3.3: the former subscriber sees the contact go unavailable.
    send_unavailable_from_all(contact, user);
  }
}

}  // namespace tern::modules::presence
