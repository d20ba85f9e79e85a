// Presence probes (RFC 6121 §4.3): answered for a local contact from the
// contact's sessions themselves, each on its own shard, with the last
// presence it broadcast. Probes are never delivered to clients.
#include "modules/presence/service.h"

namespace tern::modules::presence {

awaitable<void> PresenceService::answer_probe(xmpp::Jid prober, xmpp::Jid contact) {
  bool authorized = prober.bare() == contact;  // one's own presence
  if (!authorized) {
    const storage::AccountKey owner{contact.node(), contact.domain()};
    const std::string prober_bare = prober.bare_string();
    auto item = co_await blocking_.run([&] { return storage_.roster().item(owner, prober_bare); });
    authorized = item && (item->subscription == "from" || item->subscription == "both");
  }
  {
    if (!authorized) {
      // §4.3.2: no subscription (or no such account): nothing is revealed,
      // and the prober's server learns the subscription does not exist.
      send(make_presence(contact.bare_string(), prober.bare_string(), "unsubscribed"));
      co_return;
    }
    // §4.3.2: each available resource answers with its latest presence; a
    // contact with none available sends nothing.
    send_current_presence(contact, prober);
  }
}

}  // namespace tern::modules::presence
