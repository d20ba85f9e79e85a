#include "router/close_sessions.h"

namespace tern::router {

std::size_t close_account_sessions(Router& router, const xmpp::Jid& bare,
                                   xmpp::StreamCondition condition, std::string text) {
  auto sessions = router.sessions().sessions_of(bare);
  for (auto& session : sessions)
    router.on_shard_of(session, [condition, text](Session& s) { s.close_with_error(condition, text); });
  return sessions.size();
}

void close_account_sessions_after_reply(asio::any_io_executor exec, Router& router,
                                        xmpp::Jid bare, xmpp::StreamCondition condition,
                                        std::string text) {
  asio::post(exec, [&router, bare = std::move(bare), condition, text = std::move(text)] {
    close_account_sessions(router, bare, condition, text);
  });
}

}  // namespace tern::router
