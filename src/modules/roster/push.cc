#include "modules/roster/push.h"

#include <array>
#include <atomic>
#include <functional>

#include "modules/roster/item.h"
#include "xmpp/namespaces.h"

namespace tern::modules::roster {

std::unique_lock<std::mutex> lock_account(const std::string& owner_bare) {
  static std::array<std::mutex, 64> stripes;
  return std::unique_lock(stripes[std::hash<std::string>{}(owner_bare) % stripes.size()]);
}

xml::Element push_stanza(const xml::Element& item, std::int64_t version, const xmpp::Jid& to) {
  static std::atomic<unsigned long> counter{0};
  xml::Element iq("iq", ns::kClient);
  iq.set_attr("type", "set");
  iq.set_attr("id", "push" + std::to_string(++counter));
  iq.set_attr("to", to.to_string());
  auto& query = iq.add_child("query", kNs);
  query.set_attr("ver", std::to_string(version));
  query.add_child(item);
  return iq;
}

void push(const Host& host, const xmpp::Jid& owner, const xml::Element& item,
          std::int64_t version) {
  for (auto& session : host.sessions().sessions_of(owner.bare())) {
    host.on_shard_of(session, [item, version](router::Session& s) {
      const auto* state = s.module_state().find<SessionRoster>();
      if (state && state->requested) s.deliver(push_stanza(item, version, s.jid()));
    });
  }
}

}  // namespace tern::modules::roster
