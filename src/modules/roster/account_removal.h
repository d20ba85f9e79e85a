// Deleting an account the way its contacts should see it. Every path that
// deletes one — XEP-0077 cancellation, the XEP-0133 delete-user command,
// `tern user del` with the server running — goes through remove_account.
#pragma once

#include <string>

#include "core/asio.h"
#include "core/blocking_pool.h"
#include "modules/module.h"
#include "storage/storage.h"
#include "xmpp/jid.h"

namespace tern::modules::roster {

// RFC 6121 §2.5.2 for one roster item being removed: `unsubscribe` where the
// user had (or asked for) the contact's presence, `unsubscribed` where the
// contact had (or asked for) the user's, and unavailable presence from each
// available resource to a contact that saw it. Call on a shard.
void cancel_subscriptions(const Host& host, const xmpp::Jid& user_bare,
                          const storage::RosterItem& item);

enum class AccountRemoval { kRemoved, kNoSuchAccount, kFailed };

// Deletes the account and all its data, then tells every contact as if each
// roster item had been removed, then ends the account's sessions with
// <not-authorized/> (`why` as the text) once the caller's current reply is
// out. Storage failures are logged and give kFailed. Call on a shard. (The
// host by value: the coroutine outlives the caller's copy.)
awaitable<AccountRemoval> remove_account(Host host, storage::Storage& storage,
                                         core::BlockingPool& blocking, xmpp::Jid bare,
                                         std::string why);

}  // namespace tern::modules::roster
