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
  // Calls `f` with each session of `bare` while its stripe is locked, with
  // no copy of the list (fan-out): `f` must not use the registry.
  template <typename F>
  void for_each_of(const xmpp::Jid& bare, F&& f) const {
    const auto key = bare.bare_string();
    auto& s = stripe_for(key);
    std::lock_guard lock(s.mutex);
    auto it = s.by_bare.find(key);
    if (it == s.by_bare.end()) return;
    for (const auto& session : it->second) f(session);
  }
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
