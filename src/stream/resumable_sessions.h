// Sessions that can be resumed (XEP-0198 §5), by their resumption id, for
// the stream that presents <resume previd='…'/> on any shard. Holds weak
// references only: a session that ended is simply not found, but what it
// had handled is remembered a while (EndedSessions) for its <failed h/>.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "router/session.h"
#include "stream/ended_sessions.h"

namespace tern::stream {

class ResumableSessions {
 public:
  // How many ended sessions are remembered, and for how long.
  explicit ResumableSessions(std::size_t ended_capacity = 10'000,
                             std::chrono::seconds ended_lifetime = std::chrono::minutes(10))
      : ended_(ended_capacity, ended_lifetime) {}

  // `session` is the object that holds the session now (its address is
  // fixed for its life, so a stream on another shard may read it).
  void add(const std::string& id, const router::SessionPtr& session) {
    std::lock_guard lock(mutex_);
    by_id_[id] = session;
  }
  // Null when `id` names no session, or one that ended.
  router::SessionPtr find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.lock();
  }
  // The session ended: forgets `id` if it still names `session` (a resumed
  // stream re-adds it, and the old one's end must not drop it) and then
  // remembers that `bare_jid`'s session had handled `handled` stanzas.
  void end(const std::string& id, const router::Session* session, std::string bare_jid,
           std::uint32_t handled) {
    std::lock_guard lock(mutex_);
    if (auto it = by_id_.find(id); it != by_id_.end()) {
      auto current = it->second.lock();
      if (current && current.get() != session) return;
      by_id_.erase(it);
    }
    ended_.add(id, std::move(bare_jid), handled, EndedSessions::Clock::now());
  }
  // For an id not found: what the session had handled when it ended, if it
  // was `bare_jid`'s and that is still remembered.
  std::optional<std::uint32_t> handled_when_ended(const std::string& id, std::string_view bare_jid) const {
    std::lock_guard lock(mutex_);
    return ended_.handled(id, bare_jid, EndedSessions::Clock::now());
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return by_id_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<router::Session>> by_id_;
  EndedSessions ended_;
};

}  // namespace tern::stream
