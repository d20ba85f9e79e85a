#include "modules/roster/rosters.h"

#include "modules/roster/item.h"
#include "modules/roster/push.h"

namespace tern::modules::roster {
namespace {

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

std::shared_ptr<const Subscribers> subscribers_of(const std::vector<storage::RosterItem>& items) {
  Subscribers list;
  for (const auto& item : items) {
    if (!contact_sees_presence(item)) continue;
    // Stored JIDs were valid when stored; one that no longer parses (a
    // stricter stringprep) is skipped, as the router would drop it.
    if (auto jid = xmpp::Jid::parse(item.jid)) list.push_back(std::move(*jid));
  }
  // Many online accounts have nobody subscribed: they share one empty list.
  static const auto kNobody = std::make_shared<const Subscribers>();
  return list.empty() ? kNobody : std::make_shared<const Subscribers>(std::move(list));
}

}  // namespace

std::vector<storage::RosterItem> Rosters::read(const xmpp::Jid& owner) {
  return storage_.roster().items({owner.node(), owner.domain()});
}

awaitable<Rosters::Loaded> Rosters::load(xmpp::Jid owner) {
  const auto generation = cache_.generation();
  Loaded loaded;
  loaded.items = co_await blocking_.run([&] { return read(owner); });
  loaded.subscribers = subscribers_of(loaded.items);
  cache_.keep(owner.bare_string(), loaded.subscribers, generation);
  co_return loaded;
}

awaitable<std::shared_ptr<const Subscribers>> Rosters::subscribers(xmpp::Jid owner) {
  std::string bare = owner.bare_string();
  if (auto kept = cache_.find(bare)) co_return kept;
  const auto generation = cache_.generation();
  auto list = subscribers_of(co_await blocking_.run([&] { return read(owner); }));
  cache_.keep(std::move(bare), list, generation);
  co_return list;
}

awaitable<Rosters::Outcome> Rosters::change_subscription(xmpp::Jid owner, std::string contact,
                                                         Decide decide) {
  const storage::AccountKey key{owner.node(), owner.domain()};
  Outcome outcome = Outcome::kDone;
  storage::RosterItem item;
  bool push_it = false;
  std::int64_t version = 0;
  co_await blocking_.run([&] {
    auto lock = lock_account(owner.bare_string());
    auto& roster = storage_.roster();
    const auto old = roster.item(key, contact);
    const auto update = decide(old);
    if (!update) return;
    item = old.value_or(storage::RosterItem{});
    item.jid = contact;
    item.subscription = update->subscription;
    item.ask_out = update->ask_out;
    item.pending_in = update->pending_in;
    item.approved = update->approved;
    if (update->request && item.pending_in) item.pending_in_stanza = *update->request;
    if (old ? same_state(*old, item) && (!update->request || old->pending_in_stanza == *update->request)
            : is_empty(item))
      return;
    if (!old && !storage_.accounts().exists(key)) {
      outcome = Outcome::kNoAccount;
      return;
    }
    if (!old && roster.items(key).size() >= max_items_) {
      outcome = Outcome::kRosterFull;
      return;
    }
    // A row the user added stays even when nothing is left in it.
    const bool was_visible = old && !is_hidden(*old);
    const bool removed = old && !was_visible && is_empty(item);
    if (removed) {
      roster.remove(key, contact);
    } else {
      roster.put(key, item);
    }
    cache_.invalidate(owner.bare_string());
    push_it = !removed && (was_visible || !is_hidden(item)) &&
              !(old && same_on_the_wire(*old, item));
    version = roster.version(key);
  });
  if (push_it) push(host_, owner, item_element(item), version);
  co_return outcome;
}

}  // namespace tern::modules::roster
