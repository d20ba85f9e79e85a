// What the roster module lets other modules do with an account's roster:
// the presence module changes a row's subscription (RFC 6121 §3) through
// this, without knowing how rows are locked, hidden, limited or pushed, and
// reads who gets an account's presence, kept in memory while it is online
// (subscriber_cache.h). Offered in ModuleServices by the roster module,
// which starts before presence.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"
#include "modules/roster/subscriber_cache.h"

namespace tern::modules::roster {

// A row's subscription fields as RFC 6121 Appendix A decides them; the row's
// name and groups are the user's and stay as they are.
struct SubscriptionUpdate {
  std::string subscription = "none";  // none, to, from, both
  bool ask_out = false;
  bool pending_in = false;
  bool approved = false;  // pre-approved (§3.4)
  // The inbound request to keep while it is pending (§3.1.3), for the
  // resources that become available later.
  std::optional<std::string> request;
};

class Rosters {
 public:
  Rosters(Host host, storage::Storage& storage, core::BlockingPool& blocking,
          std::size_t max_items)
      : host_(host), storage_(storage), blocking_(blocking), max_items_(max_items) {}

  enum class Outcome {
    kDone,         // stored (and pushed) or nothing to change
    kRosterFull,   // a new row past modules.roster.max_items: nothing stored
    kNoAccount,    // a new row for an account that does not exist
  };
  // `decide` sees owner's row for the contact as stored (none: nullopt) and
  // says what its subscription becomes (nullopt: leave it). Runs on the
  // blocking pool under the account's lock, so read and write are one step.
  using Decide =
      std::function<std::optional<SubscriptionUpdate>(const std::optional<storage::RosterItem>&)>;

  // Changes `owner`'s row for `contact` (a bare JID) as `decide` says, then
  // pushes the change to owner's interested resources (§2.1.6) unless the
  // row is one the user has never seen. A row only an inbound request
  // created that ends up empty is dropped. Call on a shard.
  awaitable<Outcome> change_subscription(xmpp::Jid owner, std::string contact, Decide decide);

  // owner's roster as stored, read afresh at a login (the initial presence
  // goes to its subscribers and probes the contacts it is subscribed to,
  // §4.2.2); its subscribers are kept for the presence changes that follow.
  struct Loaded {
    std::vector<storage::RosterItem> items;
    std::shared_ptr<const Subscribers> subscribers;
  };
  awaitable<Loaded> load(xmpp::Jid owner);
  // The contacts that get owner's presence (subscription from or both):
  // from memory while owner is online, read from storage otherwise.
  awaitable<std::shared_ptr<const Subscribers>> subscribers(xmpp::Jid owner);
  // After a write to owner's roster made elsewhere (the roster module's own
  // sets and removals), once committed.
  void invalidate(const xmpp::Jid& owner) { cache_.invalidate(owner.bare_string()); }
  // owner's last resource went offline.
  void release(const xmpp::Jid& owner) { cache_.release(owner.bare_string()); }

 private:
  std::vector<storage::RosterItem> read(const xmpp::Jid& owner);

  Host host_;
  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  std::size_t max_items_;
  SubscriberCache cache_;
};

}  // namespace tern::modules::roster
