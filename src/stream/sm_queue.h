// Stream management (XEP-0198) bookkeeping, free of I/O so it can be tested
// alone: the handled-stanza counters, which wrap modulo 2^32 (§4), and the
// queue of stanzas sent to the client and not yet acknowledged by it.
//
// The queue lives in memory only. When the session ends without resumption
// (resume timeout, clean close, SIGTERM) its messages are routed again as if
// sent to the bare JID: another resource or offline storage takes them, and
// iq requests are answered with an error (ResumableSession::requeue_unacked). On
// kill -9 they are lost; they were never acknowledged by the client. On a
// full disk offline storage fails and the sender gets an error.
// The queue is capped (`max_unacked`): past the cap the stream is closed with
// <policy-violation/> rather than growing without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace tern::stream {

// A count of handled stanzas, modulo 2^32 as XEP-0198 §4 requires.
class HandledCounter {
 public:
  std::uint32_t value() const { return value_; }
  void advance() { ++value_; }  // unsigned: wraps to 0 after 2^32 - 1
  void set(std::uint32_t v) { value_ = v; }

  // How many stanzas lie between `older` and `newer`, across the wrap.
  static std::uint32_t distance(std::uint32_t older, std::uint32_t newer) {
    return newer - older;
  }

 private:
  std::uint32_t value_ = 0;
};

// Outbound stanzas the client has not yet acknowledged, oldest first.
// A vector read from `head_` rather than a std::deque: a deque allocates
// 576 bytes the moment it exists, in every session, and an idle session
// (nearly all of them) has nothing unacknowledged. Acknowledged stanzas are
// erased in bulk once they are half of the vector, and an emptied queue
// gives back what a burst made it grow to.
template <typename StanzaT>
class UnackedQueue {
 public:
  explicit UnackedQueue(std::size_t max_unacked) : max_(max_unacked) {}

  // Records a stanza just written to the client. False when the queue is
  // already full: the caller closes the stream (the stanza stays unsent).
  bool push(StanzaT stanza) {
    if (size() >= max_) return false;
    items_.push_back(std::move(stanza));
    ++sent_;
    return true;
  }

  // Applies the client's <a h='...'/>: drops the stanzas it covers. Returns
  // false (and changes nothing) when h acknowledges more than was sent,
  // which XEP-0198 §4 treats as an <undefined-condition/> stream error.
  bool acknowledge(std::uint32_t h) {
    std::uint32_t acked_before = sent_ - static_cast<std::uint32_t>(size());
    std::uint32_t newly = HandledCounter::distance(acked_before, h);
    if (newly > size()) return false;
    for (std::size_t i = head_; i < head_ + newly; ++i) items_[i] = StanzaT();
    head_ += newly;
    if (head_ == items_.size()) {
      clear();
    } else if (head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return true;
  }

  // The stanzas still unacknowledged, for re-sending after <resumed/> or for
  // offline storage when the session times out.
  std::vector<StanzaT> take_all() {
    std::vector<StanzaT> out(std::make_move_iterator(items_.begin() + static_cast<std::ptrdiff_t>(head_)),
                             std::make_move_iterator(items_.end()));
    clear();
    return out;
  }

  std::size_t size() const { return items_.size() - head_; }
  bool full() const { return size() >= max_; }
  std::uint32_t sent() const { return sent_; }  // outbound h, mod 2^32

  // For a resumed session whose counter did not start at zero.
  void set_sent(std::uint32_t sent) { sent_ = sent; }

 private:
  // Keeps a small buffer for the next stanzas; frees a large one.
  void clear() {
    head_ = 0;
    if (items_.capacity() > kKeptCapacity) {
      std::vector<StanzaT>().swap(items_);
    } else {
      items_.clear();
    }
  }

  static constexpr std::size_t kKeptCapacity = 8;
  std::size_t max_;
  std::uint32_t sent_ = 0;
  std::size_t head_ = 0;  // items_[0, head_) are acknowledged, already moved from
  std::vector<StanzaT> items_;
};

}  // namespace tern::stream
