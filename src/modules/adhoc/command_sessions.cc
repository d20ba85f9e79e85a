#include "modules/adhoc/command_sessions.h"

#include <fmt/format.h>

namespace tern::modules::adhoc {

void CommandSessions::sweep(Clock::time_point now) {
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires <= now; });
}

std::string CommandSessions::open(std::string_view prefix, std::string_view node,
                                  std::string_view owner, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  sweep(now);
  if (sessions_.size() >= max_sessions_) return {};
  std::string id;
  do {
    // 128 random bits: ids are also checked against their owner, so this
    // only keeps them unique (XEP-0050 §4.3: never reused).
    id = fmt::format("{}:{:016x}{:016x}", prefix, random_(), random_());
  } while (sessions_.count(id) > 0);
  sessions_.emplace(id, Entry{std::string(node), std::string(owner), now + lifetime_});
  return id;
}

bool CommandSessions::touch(std::string_view id, std::string_view node, std::string_view owner,
                            Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return false;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return false;
  }
  if (it->second.node != node || it->second.owner != owner) return false;
  it->second.expires = now + lifetime_;
  return true;
}

void CommandSessions::close(std::string_view id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(std::string(id));
}

std::size_t CommandSessions::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace tern::modules::adhoc
