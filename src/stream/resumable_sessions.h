// Sessions that can be resumed (XEP-0198 §5), by their resumption id, for
// the stream that presents <resume previd='…'/> on any shard. Holds weak
// references only: a session that ended is simply not found.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "router/session.h"

namespace tern::stream {

class ResumableSessions {
 public:
  struct Entry {
    std::weak_ptr<router::Session> session;
    std::string full_jid;  // the resumed stream takes this address
  };

  void add(const std::string& id, Entry entry) {
    std::lock_guard lock(mutex_);
    by_id_[id] = std::move(entry);
  }
  std::optional<Entry> find(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    return it->second;
  }
  // Forgets `id` if it still names `session` (a resumed stream re-adds it).
  void remove(const std::string& id, const router::Session* session) {
    std::lock_guard lock(mutex_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    auto current = it->second.session.lock();
    if (!current || current.get() == session) by_id_.erase(it);
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return by_id_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_id_;
};

}  // namespace tern::stream
