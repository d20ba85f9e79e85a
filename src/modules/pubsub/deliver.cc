#include "modules/pubsub/deliver.h"

#include "xml/parse_element.h"
#include "xml/serializer.h"

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

}  // namespace

std::size_t deliver_event(const Host& host, const std::string& from,
                          const std::set<std::string>& recipients, const std::string& event_xml) {
  std::size_t sent = 0;
  std::optional<xml::Element> parsed;  // for remote recipients only
  for (const auto& to : recipients) {
    auto jid = xmpp::Jid::parse(to);
    if (!jid) continue;
    if (host.is_local_domain(jid->domain())) {
      std::vector<router::SessionPtr> sessions;
      if (jid->is_full()) {
        if (auto s = host.sessions().find(*jid)) sessions.push_back(std::move(s));
      } else {
        // A headline to a bare JID goes to every available resource with a
        // non-negative priority (RFC 6121 §8.5.2.1.1).
        for (auto& s : host.sessions().sessions_of(*jid))
          if (s->is_available() && s->priority() >= 0) sessions.push_back(s);
      }
      if (sessions.empty()) continue;
      auto bytes = std::make_shared<const std::string>(message_bytes(from, to, event_xml));
      for (const auto& session : sessions)
        host.on_shard_of(session, [bytes](router::Session& s) { s.deliver_serialized(bytes); });
      ++sent;
      continue;
    }
    if (!parsed) parsed = xml::parse_element(event_xml);
    if (!parsed) return sent;
    xml::Element msg("message", "jabber:client");
    msg.set_attr("from", from);
    msg.set_attr("to", to);
    msg.set_attr("type", "headline");
    msg.add_child(*parsed);
    host.route(std::move(msg));
    ++sent;
  }
  return sent;
}

}  // namespace tern::modules::pubsub
