// Presence probes (RFC 6121 §4.3): answered for a local contact from the
// contact's sessions themselves, each on its own shard, with the last
// presence it broadcast. Probes are never delivered to clients.
#include "modules/presence/service.h"
#include "modules/roster/item.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::modules::presence {

awaitable<void> PresenceService::answer_probe(xmpp::Jid prober, xmpp::Jid contact) {
  const bool own = prober.bare() == contact;  // one's own presence
  // Looked at before the storage read: a contact with no available
  // resource is answered from what it left, read in the same job.
  const bool online = has_available_session(contact);
  const storage::AccountKey owner{contact.node(), contact.domain()};
  const std::string prober_bare = prober.bare_string();
  bool authorized = own;
  std::optional<std::string> last_unavailable;
  if (online && !own) {
    // Online: who may see its presence is kept in memory.
    const auto subscribers = co_await rosters_->subscribers(contact);
    authorized = roster::is_subscriber(*subscribers, prober.bare());
  } else if (!online) {
    co_await blocking_.run([&] {
      if (!own) {
        auto item = storage_.roster().item(owner, prober_bare);
        authorized = item && roster::contact_sees_presence(*item);
      }
      if (authorized) last_unavailable = storage_.documents().get(owner, kLastUnavailableKey);
    });
  }
  if (!authorized) {
    // §4.3.2: no subscription (or no such account): nothing is revealed,
    // and the prober's server learns the subscription does not exist.
    send(make_presence(contact.bare_string(), prober_bare, "unsubscribed"));
    co_return;
  }
  if (online) {
    // §4.3.2: each available resource answers with its latest presence.
    send_current_presence(contact, prober);
    co_return;
  }
  // §4.3.2: none available: the last unavailable presence, with its delay
  // (or nothing, for an account never seen online).
  if (!last_unavailable) co_return;
  auto presence = xml::parse_element(*last_unavailable, ns::kClient);
  if (!presence) co_return;
  presence->set_attr("to", prober.to_string());
  send(std::move(*presence));
}

}  // namespace tern::modules::presence
