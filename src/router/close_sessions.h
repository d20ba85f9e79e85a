// Ends every session of one account at once — the account was deleted
// (`tern user del`, XEP-0133 delete-user) or removed itself (XEP-0077): each
// stream gets a stream error on its own shard.
#pragma once

#include <cstddef>
#include <string>

#include "core/asio.h"
#include "router/router.h"

namespace tern::router {

// Returns how many sessions the account had.
std::size_t close_account_sessions(Router& router, const xmpp::Jid& bare,
                                   xmpp::StreamCondition condition, std::string text);

// The same, once the loop of `exec` has finished what it is doing now: the
// iq result the router is about to send on that loop reaches the client
// before its stream error (XEP-0077 §3.2, and an admin deleting itself).
void close_account_sessions_after_reply(asio::any_io_executor exec, Router& router,
                                        xmpp::Jid bare, xmpp::StreamCondition condition,
                                        std::string text);

}  // namespace tern::router
