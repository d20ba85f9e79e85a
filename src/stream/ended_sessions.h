// What is left of resumable sessions that ended (resume timeout, a new
// bind of their resource, a clean close): per resumption id, the account
// and how many of its stanzas the session had handled. A late <resume/> of
// that id by the same account hears <failed h='N'/> (XEP-0198 §5), so the
// client resends only what we never had. Another account learns nothing.
//
// Bounded by count (the oldest record goes first) and by age; in memory
// only, so a restart forgets it and the client, told no 'h', resends all it
// holds. Free of I/O and clocks (the caller says what time it is) so it can
// be tested alone; not thread-safe: ResumableSessions locks around it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tern::stream {

class EndedSessions {
 public:
  using Clock = std::chrono::steady_clock;

  EndedSessions(std::size_t capacity, Clock::duration lifetime)
      : capacity_(capacity), lifetime_(lifetime) {}

  // Session `id` of account `bare_jid` ended at `now`, having handled
  // `handled` stanzas. Drops expired records, then the oldest past capacity.
  void add(std::string id, std::string bare_jid, std::uint32_t handled, Clock::time_point now);
  // The handled count of session `id`, if it ended less than the lifetime
  // before `now` and belonged to `bare_jid`.
  std::optional<std::uint32_t> handled(std::string_view id, std::string_view bare_jid,
                                       Clock::time_point now) const;
  std::size_t size() const { return by_id_.size(); }

 private:
  struct Record {
    std::string id;
    std::string bare_jid;
    std::uint32_t handled;
    Clock::time_point ended;
  };
  void drop_oldest();

  std::size_t capacity_;
  Clock::duration lifetime_;
  // Oldest first. With one lifetime for all, also the order they expire
  // in. push_back and pop_front leave the other records where they are,
  // so by_id_ can point at them.
  std::deque<Record> records_;
  std::unordered_map<std::string_view, const Record*> by_id_;
};

}  // namespace tern::stream
