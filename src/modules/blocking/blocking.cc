// XEP-0191 blocking command.
#include "modules/blocking/blocking.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <set>
#include <unordered_map>


#include "core/log.h"
#include "core/shards.h"
#include "modules/options.h"
#include "modules/presence/session_state.h"

namespace tern::modules {
namespace blocking {

bool Blocklist::blocks(const xmpp::Jid& who) const {
  if (items_.empty()) return false;
  if (who.has_node()) {
    std::string bare = who.bare_string();
    if (who.has_resource() && items_.count(bare + "/" + who.resource())) return true;
    if (items_.count(bare)) return true;
  }
  // domain/resource names that entity only, not user@domain/resource.
  if (!who.has_node() && who.has_resource() && items_.count(who.domain() + "/" + who.resource()))
    return true;
  // A domain item matches the domain, everything at it, and its subdomains.
  std::string_view domain = who.domain();
  for (;;) {
    if (items_.count(std::string(domain))) return true;
    auto dot = domain.find('.');
    if (dot == std::string_view::npos) return false;
    domain.remove_prefix(dot + 1);
  }
}

std::vector<std::string> Blocklist::sorted() const {
  std::vector<std::string> out(items_.begin(), items_.end());
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::vector<std::string>> parse_items(const xml::Element& command) {
  std::vector<std::string> items;
  for (const auto* child : command.children()) {
    if (child->name() != "item" || child->ns() != kNs) continue;
    auto attr = child->attr("jid");
    if (!attr) return std::nullopt;
    auto jid = xmpp::Jid::parse(*attr);
    if (!jid) return std::nullopt;
    std::string text = jid->to_string();
    if (std::find(items.begin(), items.end(), text) == items.end()) items.push_back(std::move(text));
  }
  return items;
}

xml::Element make_command(std::string_view name, const std::vector<std::string>& items) {
  xml::Element command{std::string(name), kNs};
  for (const auto& jid : items) command.add_child("item").set_attr("jid", jid);
  return command;
}

}  // namespace blocking

namespace {

using blocking::Blocklist;
using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

// A stanza that waits for a list, with its sender's handled ticket
// (router::Session::hold_handled): the sender's stream management does not
// count it as handled while it waits here.
struct HeldStanza {
  xml::Element stanza;
  std::shared_ptr<void> handled_ticket;
};

// An account's cached list; stanzas that arrived before it was loaded wait
// in `held`.
struct Entry {
  bool loaded = false;
  Blocklist list;
  std::vector<HeldStanza> held;
};

// Every shard reads lists on every stanza: stripes keep them from meeting
// on one lock.
struct Stripe {
  std::mutex mutex;
  std::unordered_map<std::string, Entry> by_bare;
};

struct BlockingState {
  BlockingState(Host h, storage::Storage& s, core::BlockingPool& b)
      : host(h), storage(s), blocking(b) {}
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  std::array<Stripe, 16> stripes;
  // Full JIDs of sessions that fetched the blocklist: they get the pushes.
  std::mutex interested_mutex;
  std::unordered_set<std::string> interested;
  std::atomic<std::uint64_t> next_push{1};

  Stripe& stripe_for(const std::string& bare) {
    return stripes[std::hash<std::string>{}(bare) % stripes.size()];
  }
};
using State = std::shared_ptr<BlockingState>;

enum class Check { kAllows, kBlocks, kHeld };

awaitable<void> load_list(State st, xmpp::Jid owner);

void spawn_load(const State& st, const std::string& owner) {
  st->host.spawn(load_list(st, *xmpp::Jid::parse(owner)));
}

// Does `owner`'s list block `other`? If the list is not loaded yet, the
// stanza moves into the wait list (kHeld) and a load starts if none runs.
Check check(const State& st, const std::string& owner, const xmpp::Jid& other,
            const xmpp::Jid& sender, xml::Element& stanza) {
  bool start_load = false;
  {
    auto& stripe = st->stripe_for(owner);
    std::lock_guard lock(stripe.mutex);
    auto [it, inserted] = stripe.by_bare.try_emplace(owner);
    if (it->second.loaded) return it->second.list.blocks(other) ? Check::kBlocks : Check::kAllows;
    std::shared_ptr<void> ticket;
    if (auto session = st->host.sessions().find(sender)) ticket = session->hold_handled();
    it->second.held.push_back({std::move(stanza), std::move(ticket)});
    start_load = inserted;
  }
  if (start_load) spawn_load(st, owner);
  return Check::kHeld;
}

bool is_loaded(const State& st, const std::string& owner) {
  auto& stripe = st->stripe_for(owner);
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.by_bare.find(owner);
  return it != stripe.by_bare.end() && it->second.loaded;
}

Blocklist snapshot(const State& st, const std::string& owner) {
  auto& stripe = st->stripe_for(owner);
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.by_bare.find(owner);
  if (it == stripe.by_bare.end() || !it->second.loaded) return {};
  return it->second.list;
}

// A session whose shard may finish a load of `owner`'s list: one of the
// sender (else the recipient) of the first stanza waiting for it, else one
// of the owner's own.
router::SessionPtr session_for_load(const State& st, const std::string& owner) {
  std::string from, to;
  {
    auto& stripe = st->stripe_for(owner);
    std::lock_guard lock(stripe.mutex);
    auto it = stripe.by_bare.find(owner);
    if (it != stripe.by_bare.end() && !it->second.held.empty()) {
      from = it->second.held.front().stanza.attr_or("from");
      to = it->second.held.front().stanza.attr_or("to");
    }
  }
  for (const std::string* text : std::array<const std::string*, 3>{&from, &to, &owner}) {
    auto jid = xmpp::Jid::parse(*text);
    if (!jid || !st->host.is_local_domain(jid->domain())) continue;
    if (jid->is_full())
      if (auto s = st->host.sessions().find(*jid)) return s;
    auto all = st->host.sessions().sessions_of(jid->bare());
    if (!all.empty()) return all.front();
  }
  return nullptr;
}

// Installs a loaded list and routes, in their order, the stanzas that
// waited for it. Runs on a shard: stanzas arriving meanwhile keep queueing
// behind the waiting ones, so none overtakes another.
void finish_load(const State& st, const std::string& owner, const std::vector<std::string>& items,
                 bool ok) {
  std::vector<HeldStanza> held;
  {
    auto& stripe = st->stripe_for(owner);
    std::lock_guard lock(stripe.mutex);
    auto [it, inserted] = stripe.by_bare.try_emplace(owner);
    Entry& entry = it->second;
    // Another load may have won: what it found stands (later changes went
    // through the cache too).
    if (entry.loaded) return;
    held = std::move(entry.held);
    if (ok) {
      entry.held.clear();
      entry.loaded = true;
      entry.list = Blocklist(items);
    } else {
      stripe.by_bare.erase(it);
    }
  }
  if (!ok) {
    // Fail closed: what waited for an unreadable list is not delivered.
    if (!held.empty()) spdlog::warn("blocking: dropped {} stanzas for {}", held.size(), owner);
    return;
  }
  // Each ticket goes only once its stanza is routed: work that routing
  // starts (an offline write) has taken its own by then.
  for (auto& h : held) st->host.route(std::move(h.stanza));
}

awaitable<void> load_list(State st, xmpp::Jid owner) {
  const storage::AccountKey key{owner.node(), owner.domain()};
  const std::string bare = owner.bare_string();
  std::vector<std::string> items;
  bool ok = true;
  try {
    items = co_await st->blocking.run([&] { return st->storage.blocklist().items(key); });
  } catch (const std::exception& e) {
    spdlog::error("blocking: loading the blocklist of {} failed: {}", bare, e.what());
    ok = false;
  }
  if (core::Shards::current() >= 0) {
    finish_load(st, bare, items, ok);
    co_return;
  }
  // Off the shards (a load started from a hook): finish on one.
  auto session = session_for_load(st, bare);
  if (!session) {
    // Nobody to borrow a shard from: finish here (the router posts every
    // delivery to its session's shard).
    finish_load(st, bare, items, ok);
    co_return;
  }
  std::function<void(router::Session&)> finish = [st, bare, items, ok](router::Session&) {
    finish_load(st, bare, items, ok);
  };
  st->host.on_shard_of(session, std::move(finish));
}

awaitable<void> ensure_loaded(State st, xmpp::Jid owner) {
  if (!is_loaded(st, owner.bare_string())) co_await load_list(st, owner);
}

void reject_outbound(const State& st, router::RoutedStanza& ev) {
  const auto& name = ev.stanza.name();
  const auto type = ev.stanza.attr_or("type");
  if (name == "presence") return;
  if (name == "iq" && type != "get" && type != "set") return;
  static const xml::Element kBlocked("blocked", blocking::kErrorsNs);
  // type='cancel' as XEP-0191 §3.3 shows it (RFC 6120's default is modify).
  StanzaError err(StanzaCondition::kNotAcceptable, xmpp::ErrorType::kCancel);
  err.app = &kBlocked;
  auto reply = xmpp::make_error_reply(ev.stanza, err);
  // Straight to the sender: routed, it would come "from" the blocked JID
  // and be dropped as an inbound stanza from it.
  if (!ev.from.is_full()) return;
  if (auto session = st->host.sessions().find(ev.from))
    st->host.deliver(session, std::move(reply));
}

void reject_inbound(const State& st, router::RoutedStanza& ev) {
  const auto& name = ev.stanza.name();
  const auto type = ev.stanza.attr_or("type");
  if (name == "presence" || type == "error") return;
  if (name == "iq" && type != "get" && type != "set") return;
  // The user appears offline (XEP-0191 §3.3).
  st->host.bounce(ev.stanza, StanzaError(StanzaCondition::kServiceUnavailable));
}

core::Verdict on_pre_route(const State& st, router::RoutedStanza& ev) {
  if (!ev.had_to) return core::Verdict::kPass;  // to the sender's own account
  const xmpp::Jid& from = ev.from;
  const xmpp::Jid& to = ev.to;
  if (from.node() == to.node() && from.domain() == to.domain()) return core::Verdict::kPass;
  const auto& r = st->host;
  const bool from_local = r.is_local_domain(from.domain());
  const bool to_local = r.is_local_domain(to.domain());
  const bool from_server = from_local && !from.has_node();
  const bool to_server = to_local && !to.has_node();
  if (from_local && from.has_node() && !to_server && ev.stanza.attr_or("type") != "error") {
    switch (check(st, from.bare_string(), to, from, ev.stanza)) {
      case Check::kHeld:
        return core::Verdict::kHandled;
      case Check::kBlocks:
        reject_outbound(st, ev);
        return core::Verdict::kHandled;
      case Check::kAllows:
        break;
    }
  }
  if (to_local && to.has_node() && !from_server) {
    switch (check(st, to.bare_string(), from, from, ev.stanza)) {
      case Check::kHeld:
        return core::Verdict::kHandled;
      case Check::kBlocks:
        reject_inbound(st, ev);
        return core::Verdict::kHandled;
      case Check::kAllows:
        break;
    }
  }
  return core::Verdict::kPass;
}

bool is_interested(const State& st, const xmpp::Jid& full) {
  std::lock_guard lock(st->interested_mutex);
  return st->interested.count(full.to_string()) > 0;
}

void push(const State& st, const xmpp::Jid& owner, const xml::Element& command) {
  for (const auto& s : st->host.sessions().sessions_of(owner)) {
    if (!is_interested(st, s->jid())) continue;
    xml::Element iq("iq", "jabber:client");
    iq.set_attr("type", "set");
    iq.set_attr("id", "block-push-" + std::to_string(st->next_push.fetch_add(1)));
    iq.set_attr("to", s->jid().to_string());
    iq.add_child(command);
    st->host.deliver(s, std::move(iq));
  }
}

// Contacts allowed to see the user's presence (RFC 6121 §3).
std::vector<xmpp::Jid> presence_subscribers(const std::vector<storage::RosterItem>& roster) {
  std::vector<xmpp::Jid> out;
  for (const auto& item : roster) {
    if (item.subscription != "from" && item.subscription != "both") continue;
    if (auto jid = xmpp::Jid::parse(item.jid)) out.push_back(std::move(*jid));
  }
  return out;
}

awaitable<IqReply> get_list(State st, const IqRequest& req) {
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
  if (req.payload().name() != "blocklist")
    co_return IqReply::fail(StanzaError(StanzaCondition::kBadRequest));
  const storage::AccountKey key{req.to.node(), req.to.domain()};
  auto items = co_await st->blocking.run([&] { return st->storage.blocklist().items(key); });
  {
    std::lock_guard lock(st->interested_mutex);
    st->interested.insert(req.from.to_string());
  }
  co_return IqReply::result(blocking::make_command("blocklist", items));
}

// XEP-0191 §3.3 with RFC 6121 §4.6: a newly blocked JID that had directed
// presence from one of the user's sessions sees that session go offline too
// (unless it just did as a subscriber). Each session's directed-presence set
// lives on the session's shard; this waits for every shard, since the cache
// updated next would block the unavailable presence.
awaitable<void> end_directed_presence(const State& st, const std::vector<router::SessionPtr>& available,
                                      const Blocklist& added, const Blocklist& before,
                                      const std::vector<xmpp::Jid>& subscribers) {
  std::set<std::string> told;
  for (const auto& contact : subscribers)
    if (added.blocks(contact) && !before.blocks(contact)) told.insert(contact.bare_string());
  auto end_for_session = [&](router::Session& session) {
    // Taken out of the set first: routing an unavailable presence updates
    // the set (the presence module forgets the target).
    std::vector<std::pair<std::string, xmpp::Jid>> ended;
    auto& directed = session.module_state().get<presence::SessionPresence>().directed_to;
    for (auto it = directed.begin(); it != directed.end();) {
      auto target = xmpp::Jid::parse(*it);
      if (target && added.blocks(*target)) {
        ended.emplace_back(*it, std::move(*target));
        it = directed.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [to, target] : ended) {
      if (before.blocks(target) || told.count(target.bare_string())) continue;
      xml::Element presence("presence", "jabber:client");
      presence.set_attr("type", "unavailable");
      presence.set_attr("from", session.jid().to_string());
      presence.set_attr("to", to);
      st->host.route(std::move(presence));
    }
  };
  for (const auto& s : available) co_await st->host.visit_shard_of(s, end_for_session);
}

awaitable<IqReply> set_list(State st, const IqRequest& req) {
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
  const xml::Element& command = req.payload();
  const bool block = command.name() == "block";  // or <unblock/> (checked by serve_iq)
  auto items = blocking::parse_items(command);
  if (!items) co_return IqReply::fail(StanzaError(StanzaCondition::kJidMalformed));
  if (block && items->empty())
    co_return IqReply::fail(StanzaError(StanzaCondition::kBadRequest, "nothing to block"));
  const xmpp::Jid owner = req.to;
  const std::string bare = owner.bare_string();
  const storage::AccountKey key{owner.node(), owner.domain()};
  co_await ensure_loaded(st, owner);
  const Blocklist before = snapshot(st, bare);
  std::vector<storage::RosterItem> roster;
  co_await st->blocking.run([&] {
    if (block) {
      st->storage.blocklist().add(key, *items);
    } else {
      st->storage.blocklist().remove(key, *items);
    }
    roster = st->storage.roster().items(key);
  });
  const auto subscribers = presence_subscribers(roster);
  auto available = st->host.sessions().sessions_of(owner);
  std::erase_if(available, [](const router::SessionPtr& s) { return !s->is_available(); });

  if (block) {
    // XEP-0191 §3.3: newly blocked subscribers see the user go offline; sent
    // before the cache blocks presence to them.
    const Blocklist added(*items);
    for (const auto& contact : subscribers) {
      if (!added.blocks(contact) || before.blocks(contact)) continue;
      for (const auto& s : available) {
        xml::Element presence("presence", "jabber:client");
        presence.set_attr("type", "unavailable");
        presence.set_attr("from", s->jid().to_string());
        presence.set_attr("to", contact.to_string());
        st->host.route(std::move(presence));
      }
    }
    co_await end_directed_presence(st, available, added, before, subscribers);
  }
  Blocklist after;
  {
    auto& stripe = st->stripe_for(bare);
    std::lock_guard lock(stripe.mutex);
    auto it = stripe.by_bare.find(bare);
    if (it != stripe.by_bare.end() && it->second.loaded) {
      auto& list = it->second.list;
      if (block) {
        for (const auto& item : *items) list.add(item);
      } else if (items->empty()) {
        list.clear();
      } else {
        for (const auto& item : *items) list.remove(item);
      }
      after = list;
    }
  }
  if (!block) {
    // XEP-0191 §3.4: unblocked subscribers get the current presence of each
    // available resource (kept by the presence module on its session).
    std::vector<xmpp::Jid> unblocked;
    for (const auto& contact : subscribers)
      if (before.blocks(contact) && !after.blocks(contact)) unblocked.push_back(contact);
    if (!unblocked.empty()) {
      for (const auto& s : available) {
        st->host.on_shard_of(s, [st, unblocked](router::Session& session) {
          const auto* state = session.module_state().find<presence::SessionPresence>();
          auto last = state ? state->last_presence() : std::nullopt;
          if (!last) return;
          for (const auto& contact : unblocked) {
            xml::Element presence = *last;
            presence.set_attr("from", session.jid().to_string());
            presence.set_attr("to", contact.to_string());
            st->host.route(std::move(presence));
          }
        });
      }
    }
  }
  push(st, owner, blocking::make_command(command.name(), *items));
  co_return IqReply::result();
}

}  // namespace

std::unique_ptr<Module> start_blocking(ModuleContext& ctx) {
  read_no_options("blocking", ctx.options);
  auto st = std::make_shared<BlockingState>(ctx.host, ctx.storage, ctx.blocking);
  auto m = std::make_unique<Module>();
  // No payload name checked here: get_list and set_list tell <blocklist/>,
  // <block/> and <unblock/> apart after the ownership check.
  m->tokens.push_back(ctx.serve_iq({router::IqTarget::kAccount, router::IqType::kGet, blocking::kNs, "blocklist",
                                    Advertise::kOnServer},
                                   [st](const IqRequest& req) { return get_list(st, req); }));
  m->tokens.push_back(ctx.serve_iq({router::IqTarget::kAccount, router::IqType::kSet, blocking::kNs, "block|unblock"},
                                   [st](const IqRequest& req) { return set_list(st, req); }));
  // Before other pre_route handlers: a blocked stanza goes no further.
  m->tokens.push_back(ctx.hooks().pre_route.add(
      [st](router::RoutedStanza& ev) { return on_pre_route(st, ev); }, 100));

  // Load the list as the user arrives, so their first stanzas need not wait.
  m->tokens.push_back(ctx.hooks().session_bound.add([st](router::SessionEvent& ev) {
    const std::string bare = ev.session.jid().bare_string();
    bool start = false;
    {
      auto& stripe = st->stripe_for(bare);
      std::lock_guard lock(stripe.mutex);
      start = stripe.by_bare.try_emplace(bare).second;
    }
    if (start) spawn_load(st, bare);
    return core::Verdict::kPass;
  }));
  m->tokens.push_back(ctx.hooks().session_ended.add([st](router::SessionEvent& ev) {
    {
      std::lock_guard lock(st->interested_mutex);
      st->interested.erase(ev.session.jid().to_string());
    }
    const xmpp::Jid bare = ev.session.jid().bare();
    if (st->host.sessions().resource_count(bare) == 0) {
      const std::string key = bare.to_string();
      auto& stripe = st->stripe_for(key);
      std::lock_guard lock(stripe.mutex);
      auto it = stripe.by_bare.find(key);
      if (it != stripe.by_bare.end() && it->second.loaded) stripe.by_bare.erase(it);
    }
    return core::Verdict::kPass;
  }));
  return m;
}

TERN_MODULE("blocking", "XEP-0191 blocking command", &start_blocking, 50);

}  // namespace tern::modules
