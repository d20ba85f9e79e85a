// Client state indication (XEP-0352): while a client says it is inactive
// (a phone with its screen off), the stanzas it does not need at once are
// held back so that its radio can sleep: presence (only the latest from
// each sender is kept), chat state notifications without a body, and
// pubsub/PEP events about one item (only the latest per sender, node and
// item). Any
// other stanza, a full buffer, or <active/> releases them first, in order.
// Free of I/O so it can be tested alone; a stream owns one.
//
// Held stanzas live in memory. They are sent before anything else goes out
// and are part of what a resumed stream takes over; when the session ends
// (SIGTERM, kill -9, a broken connection not resumed) they are dropped: a
// stale presence or "typing…" has no value once the session is gone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::stream {

class CsiBuffer {
 public:
  explicit CsiBuffer(std::size_t max_held = 256) : max_held_(max_held) {}

  bool inactive() const { return inactive_; }
  // <inactive/> and <active/>; going active returns the held stanzas to send.
  void set_inactive() { inactive_ = true; }
  std::vector<std::string> set_active();

  // While inactive: takes a serialised stanza for later and returns true, or
  // returns false when it must go out now (after take_held()).
  bool hold(std::string_view stanza);
  std::vector<std::string> take_held();
  std::size_t held() const { return held_.size(); }

  // What a held stanza replaces: "presence from X" or "chat state from X";
  // nullopt when the stanza is important and goes out at once.
  static std::optional<std::string> supersession_key(std::string_view stanza);

 private:
  struct Held {
    std::string key;
    std::string stanza;
  };
  std::size_t max_held_;
  bool inactive_ = false;
  std::vector<Held> held_;  // oldest first; a newer stanza of a key replaces it at the end
};

}  // namespace tern::stream
