// Which sessions are bound to which full JIDs. Split into stripes by bare JID
// so that lookups from different shards rarely meet on a lock, and never on a
// global one.
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/session.h"

namespace tern::router {

class SessionRegistry {
 public:
  // Binds `session` to its full JID. Returns the session it displaced (same
  // full JID), which the caller closes with <conflict/>.
  SessionPtr bind(const SessionPtr& session);
  // Removes the binding if it still belongs to `session`.
  void unbind(const Session& session);
  SessionPtr find(const xmpp::Jid& full) const;
  std::vector<SessionPtr> sessions_of(const xmpp::Jid& bare) const;
  std::size_t resource_count(const xmpp::Jid& bare) const;
  std::size_t size() const;
  void for_each(const std::function<void(const SessionPtr&)>& f) const;

 private:
  struct Stripe {
    mutable std::mutex mutex;
    // bare JID string → sessions of that account
    std::unordered_map<std::string, std::vector<SessionPtr>> by_bare;
  };
  static constexpr std::size_t kStripes = 64;
  Stripe& stripe_for(const std::string& bare) const;
  mutable std::array<Stripe, kStripes> stripes_;
};

}  // namespace tern::router
