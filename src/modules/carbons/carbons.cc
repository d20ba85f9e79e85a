// XEP-0280 Message Carbons. Two moments make a copy:
//  - a local client sends an eligible message (pre_route): its account's
//    other carbons-enabled resources get it wrapped in <sent/>;
//  - the router picks the sessions of a local account for an eligible
//    message (message_delivery): the account's carbons-enabled resources
//    it did not pick get it wrapped in <received/>.
// Copies go straight to their sessions, never back through routing, so they
// are neither archived twice nor copied again.
#include "modules/carbons/carbons.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "xmpp/namespaces.h"

namespace tern::modules {
namespace carbons {
namespace {
constexpr std::string_view kHintsNs = "urn:xmpp:hints";
constexpr std::string_view kMucUserNs = "http://jabber.org/protocol/muc#user";
}  // namespace

bool eligible(const xml::Element& message) {
  if (message.name() != "message") return false;
  const auto type = message.attr_or("type", "normal");
  if (type != "chat" && !(type == "normal" && message.child("body"))) return false;
  // A private message through a room comes with the MUC user payload.
  if (message.child_by_ns(kMucUserNs)) return false;
  if (message.child("private", kNs) || message.child("no-copy", kHintsNs)) return false;
  // A carbon (or anything claiming to be one) is never copied again.
  return !message.child("sent", kNs) && !message.child("received", kNs);
}

xml::Element wrap(Direction direction, const xml::Element& original, const xmpp::Jid& account,
                  const xmpp::Jid& resource) {
  xml::Element copy("message", ns::kClient);
  copy.set_attr("from", account.bare_string());
  copy.set_attr("to", resource.to_string());
  copy.set_attr("type", original.attr_or("type", "normal"));
  auto& envelope = copy.add_child(direction == Direction::kSent ? "sent" : "received", std::string(kNs));
  auto& forwarded = envelope.add_child("forwarded", std::string(kForwardNs));
  forwarded.add_child(original);
  return copy;
}

}  // namespace carbons

namespace {

using router::IqReply;
using router::IqRequest;
using router::SessionPtr;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

// Which sessions asked for carbons, by account. Written on the sessions'
// shards, read by whichever shard routes a message to the account, hence
// the lock; the count lets a server where nobody enabled carbons skip it.
class EnabledSessions {
 public:
  void set(const router::Session& session, bool enabled) {
    std::lock_guard lock(mutex_);
    auto& list = by_account_[session.jid().bare_string()];
    const bool present = std::find(list.begin(), list.end(), &session) != list.end();
    if (enabled && !present) {
      list.push_back(&session);
      count_.fetch_add(1, std::memory_order_relaxed);
    } else if (!enabled && present) {
      std::erase(list, &session);
      count_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (list.empty()) by_account_.erase(session.jid().bare_string());
  }
  bool any() const { return count_.load(std::memory_order_relaxed) > 0; }
  bool has(const router::Session& session) const {
    std::lock_guard lock(mutex_);
    auto it = by_account_.find(session.jid().bare_string());
    return it != by_account_.end() &&
           std::find(it->second.begin(), it->second.end(), &session) != it->second.end();
  }

 private:
  mutable std::mutex mutex_;
  // Pointers identify sessions only; an entry goes when its session ends.
  std::unordered_map<std::string, std::vector<const router::Session*>> by_account_;
  std::atomic<std::size_t> count_{0};
};

struct CarbonsModule : Module {
  explicit CarbonsModule(const Host& h) : host(h) {}
  Host host;
  EnabledSessions enabled;

  // Every carbons-enabled session of `account` outside `skip` gets a copy.
  void copy_to_others(carbons::Direction direction, const xml::Element& original,
                      const xmpp::Jid& account, std::span<const SessionPtr> skip) {
    for (const auto& session : host.sessions().sessions_of(account)) {
      if (std::find(skip.begin(), skip.end(), session) != skip.end()) continue;
      if (!enabled.has(*session)) continue;
      host.deliver(session, carbons::wrap(direction, original, account, session->jid()));
    }
  }

  IqReply toggle(const IqRequest& req) {
    const auto& payload = req.payload();  // <enable/> or <disable/> (checked by serve_iq)
    // Only one's own sessions (XEP-0280 §4: not-allowed otherwise).
    if (req.to.has_node() && req.to.bare_string() != req.from.bare_string())
      return StanzaError(StanzaCondition::kNotAllowed);
    auto session = host.sessions().find(req.from);
    if (!session) return StanzaError(StanzaCondition::kNotAllowed);
    // Repeated enable or disable is not an error (§9.1).
    enabled.set(*session, payload.name() == "enable");
    return IqReply::result();
  }
};

}  // namespace

std::unique_ptr<Module> start_carbons(ModuleContext& ctx) {
  using router::IqTarget, router::IqType;
  read_no_options("carbons", ctx.options);
  auto m = std::make_unique<CarbonsModule>(ctx.host);
  auto* c = m.get();
  auto toggle = [c](const IqRequest& req) { return c->toggle(req); };
  m->tokens.push_back(ctx.serve_iq_sync(
      {IqTarget::kServer, IqType::kSet, carbons::kNs, "enable|disable", Advertise::kOnServer}, toggle));
  m->tokens.push_back(
      ctx.serve_iq_sync({IqTarget::kAccount, IqType::kSet, carbons::kNs, "enable|disable"}, toggle));

  // Sent: after blocking (which may refuse the message) and the archive
  // (which stamps the stanza-id the copy should carry).
  m->tokens.push_back(ctx.hooks().pre_route.add(
      [c](router::RoutedStanza& ev) {
        if (!c->enabled.any() || !ev.had_to || !ev.from.has_resource()) return core::Verdict::kPass;
        if (!c->host.is_local_domain(ev.from.domain()) || !carbons::eligible(ev.stanza))
          return core::Verdict::kPass;
        auto sender = c->host.sessions().find(ev.from);
        if (!sender) return core::Verdict::kPass;  // the server or a module, not a client
        c->copy_to_others(carbons::Direction::kSent, ev.stanza, ev.from.bare(), {&sender, 1});
        return core::Verdict::kPass;
      },
      -60));

  m->tokens.push_back(ctx.hooks().message_delivery.add([c](router::MessageDelivery& ev) {
    // The receiving server removes <private/> before delivery (§7).
    const bool was_private = ev.stanza.remove_child("private", carbons::kNs);
    if (was_private || !c->enabled.any() || !carbons::eligible(ev.stanza)) return core::Verdict::kPass;
    // Between two resources of one account the sent copy already told the others.
    if (ev.from.bare_string() == ev.to.bare_string()) return core::Verdict::kPass;
    c->copy_to_others(carbons::Direction::kReceived, ev.stanza, ev.to.bare(), ev.receivers);
    return core::Verdict::kPass;
  }));

  // XEP-0386 (Bind 2): <enable xmlns='urn:xmpp:carbons:2'/> in the bind
  // request enables carbons for the new session, as the iq would.
  ctx.features.inline_bind.push_back(
      {std::string(carbons::kNs),
       [c](router::Session& session, const xml::Element& request, xml::Element&) -> awaitable<void> {
         if (request.child("enable", carbons::kNs)) c->enabled.set(session, true);
         co_return;
       }});

  m->tokens.push_back(ctx.hooks().session_moved.add([c](router::SessionMoved& ev) {
    c->enabled.set(ev.fresh, c->enabled.has(ev.old));
    c->enabled.set(ev.old, false);
    return core::Verdict::kPass;
  }));
  m->tokens.push_back(ctx.hooks().session_ended.add([c](router::SessionEvent& ev) {
    c->enabled.set(ev.session, false);
    return core::Verdict::kPass;
  }));
  return m;
}

TERN_MODULE("carbons", "XEP-0280 Message Carbons", &start_carbons, 50);

}  // namespace tern::modules
