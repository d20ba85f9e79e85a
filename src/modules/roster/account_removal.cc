#include "modules/roster/account_removal.h"

#include "core/log.h"
#include "modules/roster/item.h"
#include "xmpp/namespaces.h"

namespace tern::modules::roster {
namespace {

void send_presence(const Host& host, const std::string& from, const std::string& to,
                   const char* type) {
  xml::Element p("presence", ns::kClient);
  p.set_attr("from", from);
  p.set_attr("to", to);
  p.set_attr("type", type);
  host.route(std::move(p));
}

}  // namespace

void cancel_subscriptions(const Host& host, const xmpp::Jid& user_bare,
                          const storage::RosterItem& item) {
  const bool to = owner_sees_presence(item);
  const bool from = contact_sees_presence(item);
  const std::string user = user_bare.bare_string();
  if (to || item.ask_out) send_presence(host, user, item.jid, "unsubscribe");
  if (from || item.pending_in) send_presence(host, user, item.jid, "unsubscribed");
  if (!from) return;
  // §3.2.2: the contact no longer gets our presence; it learns we are gone.
  for (auto& s : host.sessions().sessions_of(user_bare)) {
    if (s->is_available()) send_presence(host, s->jid().to_string(), item.jid, "unavailable");
  }
}

awaitable<AccountRemoval> remove_account(Host host, storage::Storage& storage,
                                         core::BlockingPool& blocking, xmpp::Jid bare,
                                         std::string why) {
  const storage::AccountKey key{bare.node(), bare.domain()};
  std::vector<storage::RosterItem> roster;
  const auto result = co_await blocking.run([&] {
    try {
      roster = storage.roster().items(key);
      return storage.accounts().remove(key) ? AccountRemoval::kRemoved
                                            : AccountRemoval::kNoSuchAccount;
    } catch (const std::exception& e) {
      spdlog::error("removing the account {} failed: {}", bare.bare_string(), e.what());
      return AccountRemoval::kFailed;
    }
  });
  if (result != AccountRemoval::kRemoved) co_return result;
  // While the sessions are still bound, so that contacts who saw them
  // online get their unavailable presence.
  for (const auto& item : roster) cancel_subscriptions(host, bare, item);
  auto exec = co_await asio::this_coro::executor;
  host.close_sessions_after_reply(exec, bare, xmpp::StreamCondition::kNotAuthorized, std::move(why));
  co_return result;
}

}  // namespace tern::modules::roster
