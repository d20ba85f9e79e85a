#include "router/session_registry.h"

#include <algorithm>
#include <utility>

namespace tern::router {

SessionRegistry::Stripe& SessionRegistry::stripe_for(const std::string& bare) const {
  return stripes_[std::hash<std::string>{}(bare) % kStripes];
}

SessionPtr SessionRegistry::bind(const SessionPtr& session) {
  const auto bare = session->jid().bare_string();
  auto& s = stripe_for(bare);
  std::lock_guard lock(s.mutex);
  auto& list = s.by_bare[bare];
  SessionPtr displaced;
  for (auto& existing : list) {
    if (existing->jid().resource() == session->jid().resource()) {
      displaced = std::exchange(existing, session);
      return displaced;
    }
  }
  list.push_back(session);
  return nullptr;
}

void SessionRegistry::unbind(const Session& session) {
  const auto bare = session.jid().bare_string();
  auto& s = stripe_for(bare);
  std::lock_guard lock(s.mutex);
  auto it = s.by_bare.find(bare);
  if (it == s.by_bare.end()) return;
  std::erase_if(it->second, [&](const SessionPtr& p) { return p.get() == &session; });
  if (it->second.empty()) s.by_bare.erase(it);
}

SessionPtr SessionRegistry::find(const xmpp::Jid& full) const {
  const auto bare = full.bare_string();
  auto& s = stripe_for(bare);
  std::lock_guard lock(s.mutex);
  auto it = s.by_bare.find(bare);
  if (it == s.by_bare.end()) return nullptr;
  for (const auto& p : it->second)
    if (p->jid().resource() == full.resource()) return p;
  return nullptr;
}

std::vector<SessionPtr> SessionRegistry::sessions_of(const xmpp::Jid& bare) const {
  std::vector<SessionPtr> out;
  for_each_of(bare, [&](const SessionPtr& session) { out.push_back(session); });
  return out;
}

std::size_t SessionRegistry::resource_count(const xmpp::Jid& bare) const {
  const auto key = bare.bare_string();
  auto& s = stripe_for(key);
  std::lock_guard lock(s.mutex);
  auto it = s.by_bare.find(key);
  return it == s.by_bare.end() ? 0 : it->second.size();
}

std::size_t SessionRegistry::size() const {
  std::size_t n = 0;
  for (auto& s : stripes_) {
    std::lock_guard lock(s.mutex);
    for (auto& [_, list] : s.by_bare) n += list.size();
  }
  return n;
}

void SessionRegistry::for_each(const std::function<void(const SessionPtr&)>& f) const {
  std::vector<SessionPtr> all;
  for (auto& s : stripes_) {
    std::lock_guard lock(s.mutex);
    for (auto& [_, list] : s.by_bare) all.insert(all.end(), list.begin(), list.end());
  }
  for (auto& p : all) f(p);
}

}  // namespace tern::router
