// Subscription stanzas (RFC 6121 §3): the user's roster row changes as
// Appendix A says (subscription.cc), the change is stored and pushed, and the
// stanza goes on or stops. Coroutines queued under the sender on its shard.
#include "core/log.h"
#include "modules/presence/service.h"
#include "modules/roster/item.h"
#include "modules/roster/push.h"
#include "xml/serializer.h"

namespace tern::modules::presence {
namespace {

storage::AccountKey key_of(const xmpp::Jid& jid) { return {jid.node(), jid.domain()}; }

bool same_state(const storage::RosterItem& a, const storage::RosterItem& b) {
  return a.subscription == b.subscription && a.ask_out == b.ask_out &&
         a.pending_in == b.pending_in && a.approved == b.approved;
}

// What a roster push shows (pending-in is not on the wire, RFC 6121 §2.1.2).
bool same_on_the_wire(const storage::RosterItem& a, const storage::RosterItem& b) {
  return a.subscription == b.subscription && a.ask_out == b.ask_out && a.approved == b.approved;
}

// Nothing left worth a row: no subscription either way, nothing pending,
// nothing the user wrote.
bool is_empty(const storage::RosterItem& item) {
  return item.subscription == "none" && !item.ask_out && !item.pending_in && !item.approved &&
         item.name.empty() && item.groups.empty();
}

// The stored outcome of one transition, for the push that follows.
struct Stored {
  storage::RosterItem item;
  bool push = false;
  bool removed = false;
  std::int64_t version = 0;
};

// Applies `next`/`approved` to `owner`'s row for `contact` (under the lock).
// A row that only an inbound request created and that ends up empty is
// dropped: the user never saw it.
Stored store_transition(storage::RosterStore& roster, const storage::AccountKey& owner,
                        const std::optional<storage::RosterItem>& old, const std::string& contact,
                        SubState next, bool approved, const std::string* request) {
  Stored out;
  out.item = old.value_or(storage::RosterItem{});
  out.item.jid = contact;
  apply_state(out.item, next);
  out.item.approved = approved;
  if (request && out.item.pending_in) out.item.pending_in_stanza = *request;
  if (old ? same_state(*old, out.item) && (!request || old->pending_in_stanza == *request)
          : is_empty(out.item))
    return out;
  // A row the user added stays even when nothing is left in it.
  const bool was_visible = old && !roster::is_hidden(*old);
  if (old && !was_visible && is_empty(out.item)) {
    roster.remove(owner, contact);
    out.removed = true;
  } else {
    roster.put(owner, out.item);
  }
  out.push = !out.removed && (was_visible || !roster::is_hidden(out.item)) &&
             !(old && same_on_the_wire(*old, out.item));
  out.version = roster.version(owner);
  return out;
}

}  // namespace

awaitable<void> PresenceService::outbound_subscription(xmpp::Jid user_full, xmpp::Jid contact,
                                                       SubType type, xml::Element stanza) {
  const xmpp::Jid user = user_full.bare();
  const auto owner = key_of(user);
  const std::string contact_str = contact.to_string();
  Transition t;
  Stored stored;
  bool full = false;
  co_await blocking_.run([&] {
    auto lock = roster::lock_account(user.bare_string());
    auto old = storage_.roster().item(owner, contact_str);
    const SubState state = old ? state_of(*old) : SubState::kNone;
    t = outbound(state, type, old && old->approved);
    const bool adds_row = !old && (t.next != SubState::kNone || t.approved);
    if (adds_row && storage_.roster().items(owner).size() >= max_roster_items_) {
      full = true;
      return;
    }
    stored = store_transition(storage_.roster(), owner, old, contact_str, t.next, t.approved, nullptr);
  });
  if (full) {
    // As a roster set would be (roster.cc): local policy, nothing stored or sent.
    stanza.set_attr("from", user_full.to_string());
    host_.bounce(stanza, xmpp::StanzaError(xmpp::StanzaCondition::kPolicyViolation,
                                             "the roster is full"));
    co_return;
  }
  spdlog::debug("presence: {} sends {} to {}: {}", user.bare_string(), sub_type_name(type),
                contact_str, state_name(t.next));
  if (stored.push) roster::push(host_, user, roster::item_element(stored.item), stored.version);
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
  const auto owner = key_of(contact);
  const std::string user_str = user.to_string();
  Transition t;
  Stored stored;
  bool no_account = false;
  std::string request;
  if (type == SubType::kSubscribe) request = xml::to_string(stanza);
  co_await blocking_.run([&] {
    auto lock = roster::lock_account(contact.bare_string());
    auto old = storage_.roster().item(owner, user_str);
    if (!old && type == SubType::kSubscribe && !storage_.accounts().exists(owner)) {
      no_account = true;
      return;
    }
    const SubState state = old ? state_of(*old) : SubState::kNone;
    t = inbound(state, type, old && old->approved);
    const bool keeps_request = type == SubType::kSubscribe && t.pass_on;
    stored = store_transition(storage_.roster(), owner, old, user_str, t.next, t.approved,
                              keeps_request ? &request : nullptr);
  });
  if (no_account) {
    // §3.1.3 / §8.5.1: no such contact; the subscriber learns it is refused.
    send(make_presence(contact.bare_string(), user.bare_string(), "unsubscribed"));
    co_return;
  }
  spdlog::debug("presence: {} receives {} from {}: {}", contact.bare_string(), sub_type_name(type),
                user_str, state_name(t.next));
  if (stored.push) roster::push(host_, contact, roster::item_element(stored.item), stored.version);
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
