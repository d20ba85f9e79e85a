#include "modules/pubsub/deliver.h"

#include "modules/presence/session_state.h"

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pubsub {
namespace {

std::string message_bytes(const std::string& from, const std::string& to, const std::string& body) {
  std::string out = "<message from='";
  xml::append_escaped_attr(out, from);
  out += "' to='";
  xml::append_escaped_attr(out, to);
  out += "' type='headline'>";
  out += body;
  out += "</message>";
  return out;
}

// The sessions of a local recipient that take a headline.
std::vector<router::SessionPtr> local_sessions(const Host& host, const xmpp::Jid& jid) {
  std::vector<router::SessionPtr> sessions;
  if (jid.is_full()) {
    if (auto s = host.sessions().find(jid)) sessions.push_back(std::move(s));
  } else {
    // A headline to a bare JID goes to every available resource with a
    // non-negative priority (RFC 6121 §8.5.2.1.1).
    for (auto& s : host.sessions().sessions_of(jid))
      if (s->is_available() && s->priority() >= 0) sessions.push_back(s);
  }
  return sessions;
}

// One recipient: `body_xml` (a serialized <body/>, or empty) follows the
// event; `options`, when given, filters local sessions by their show.
bool deliver_one(const Host& host, const std::string& from, const std::string& to,
                 const std::string& event_xml, const std::string& body_xml,
                 const SubscriptionOptions* options, std::optional<xml::Element>& parsed) {
  auto jid = xmpp::Jid::parse(to);
  if (!jid) return false;
  if (host.is_local_domain(jid->domain())) {
    auto sessions = local_sessions(host, *jid);
    if (sessions.empty()) return false;
    auto bytes = std::make_shared<const std::string>(message_bytes(from, to, event_xml + body_xml));
    for (const auto& session : sessions) {
      if (!options || options->show_values.empty()) {
        host.on_shard_of(session, [bytes](router::Session& s) { s.deliver_serialized(bytes); });
        continue;
      }
      // The show is the session's own state: read on its shard.
      host.on_shard_of(session, [bytes, shows = options->show_values](router::Session& s) {
        const auto* state = s.module_state().find<presence::SessionPresence>();
        if (!state || !s.is_available() || !state->has_last_presence()) return;
        SubscriptionOptions o;
        o.show_values = shows;
        if (wants_with_show(o, state->show())) s.deliver_serialized(bytes);
      });
    }
    return true;
  }
  if (!parsed) parsed = xml::parse_element(event_xml, ns::kClient);
  if (!parsed) return false;
  xml::Element msg("message", "jabber:client");
  msg.set_attr("from", from);
  msg.set_attr("to", to);
  msg.set_attr("type", "headline");
  msg.add_child(*parsed);
  if (!body_xml.empty())
    if (auto body = xml::parse_element(body_xml, ns::kClient)) msg.add_child(std::move(*body));
  host.route(std::move(msg));
  return true;
}

}  // namespace

std::size_t deliver_event(const Host& host, const std::string& from,
                          const std::set<std::string>& recipients, const std::string& event_xml) {
  std::size_t sent = 0;
  std::optional<xml::Element> parsed;  // for remote recipients only
  for (const auto& to : recipients)
    if (deliver_one(host, from, to, event_xml, {}, nullptr, parsed)) ++sent;
  return sent;
}

std::size_t deliver_to_subscribers(const Host& host, const std::string& from,
                                   const std::vector<Subscriber>& subscribers,
                                   const std::string& event_xml, const std::string& body) {
  std::set<std::string> plain;
  std::string body_xml;
  std::size_t sent = 0;
  std::optional<xml::Element> parsed;
  for (const auto& sub : subscribers) {
    const auto& o = sub.options;
    if (!o.deliver) continue;
    if (!o.include_body && o.show_values.empty()) {
      plain.insert(sub.jid);
      continue;
    }
    if (o.include_body && body_xml.empty()) {
      xml::Element b("body", "jabber:client");
      b.add_text(body);
      body_xml = xml::to_string(b, "jabber:client");
    }
    if (deliver_one(host, from, sub.jid, event_xml, o.include_body ? body_xml : std::string(), &o, parsed))
      ++sent;
  }
  return sent + deliver_event(host, from, plain, event_xml);
}

}  // namespace tern::modules::pubsub
