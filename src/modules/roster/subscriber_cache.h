// Who gets an account's presence (its rows with subscription "from" or
// "both", RFC 6121 §4.2.2 and §4.4.2), kept in memory while the account is
// online, so that a presence change costs no storage read and no hop to the
// blocking pool. Every write to a roster row invalidates the owner's entry
// (the roster module and roster::Rosters are the only writers of a bound
// account's rows: `tern import` skips accounts that exist), a login reads
// the roster afresh, and the account's last resource going offline releases
// it.
//
// A read that raced with a write is not kept: `keep` stores only when no
// entry was invalidated since the matching `generation()` was taken before
// the storage read, so a list read before a write never outlives the write.
//
// Several nodes sharing one store would each need the others' drops; Tern
// runs one node per store today.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "xmpp/jid.h"

namespace tern::modules::roster {

using Subscribers = std::vector<xmpp::Jid>;

inline bool is_subscriber(const Subscribers& list, const xmpp::Jid& bare) {
  return std::find(list.begin(), list.end(), bare) != list.end();
}

class SubscriberCache {
 public:
  // The kept list of `owner_bare`, or null.
  std::shared_ptr<const Subscribers> find(std::string_view owner_bare) const;
  // Take before reading a roster from storage; pass to keep() after.
  std::uint64_t generation() const;
  // Keeps `list` as owner's unless an entry was invalidated since
  // `generation` (then owner has no entry after).
  void keep(std::string owner_bare, std::shared_ptr<const Subscribers> list,
            std::uint64_t generation);
  // After a write to owner's roster, once it is committed.
  void invalidate(std::string_view owner_bare);
  // When owner goes offline: its list is still right, only no longer needed.
  void release(std::string_view owner_bare);
  std::size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const Subscribers>, Hash, std::equal_to<>>
      by_owner_;
  std::uint64_t invalidations_ = 0;
};

}  // namespace tern::modules::roster
