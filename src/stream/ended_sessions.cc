#include "stream/ended_sessions.h"

namespace tern::stream {

void EndedSessions::add(std::string id, std::string bare_jid, std::uint32_t handled,
                        Clock::time_point now) {
  if (capacity_ == 0) return;
  while (!records_.empty() && now - records_.front().ended >= lifetime_) drop_oldest();
  while (records_.size() >= capacity_) drop_oldest();
  const auto& record = records_.emplace_back(Record{std::move(id), std::move(bare_jid), handled, now});
  // An id ends once (it is never handed out again), but if it came back the
  // newer record wins; the older one stays in records_ until it is dropped.
  // (Erased, not assigned: the key must view the newer record's id.)
  by_id_.erase(std::string_view(record.id));
  by_id_.emplace(std::string_view(record.id), &record);
}

std::optional<std::uint32_t> EndedSessions::handled(std::string_view id, std::string_view bare_jid,
                                                    Clock::time_point now) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  const Record& record = *it->second;
  if (now - record.ended >= lifetime_ || record.bare_jid != bare_jid) return std::nullopt;
  return record.handled;
}

void EndedSessions::drop_oldest() {
  const Record& oldest = records_.front();
  auto it = by_id_.find(oldest.id);
  if (it != by_id_.end() && it->second == &oldest) by_id_.erase(it);
  records_.pop_front();
}

}  // namespace tern::stream
