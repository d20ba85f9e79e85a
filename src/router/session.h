// What the router knows of a connected client session: where it lives, its
// address, and how to hand it a stanza. Streams (c2s over TCP, later BOSH and
// WebSocket) implement it.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::router {

// A stanza serialised once on the shard that routed it: the bytes a c2s
// stream writes (top-level element in jabber:client, no xmlns). Immutable and
// shared by every recipient, so what crosses shards is one buffer, never an
// element tree that the receiving thread would have to free.
using SerializedStanza = std::shared_ptr<const std::string>;

// Per-session state that modules keep (a module declares its own struct):
// created on first use, owned and destroyed by the session, touched on the
// session's shard only. Keyed by type, so a module sees only the state it
// declared, or the state another module publishes in a header on purpose.
class SessionStateSlots {
 public:
  template <class T>
  T& get() {
    const std::size_t i = slot_of<T>();
    if (i >= slots_.size()) slots_.resize(i + 1);
    if (!slots_[i]) slots_[i] = Slot(new T(), SlotDeleter{[](void* p) { delete static_cast<T*>(p); }});
    return *static_cast<T*>(slots_[i].get());
  }
  // Null when the session never had one.
  template <class T>
  T* find() {
    const std::size_t i = slot_of<T>();
    return i < slots_.size() ? static_cast<T*>(slots_[i].get()) : nullptr;
  }

 private:
  struct SlotDeleter {
    void (*destroy)(void*) = nullptr;
    void operator()(void* p) const { destroy(p); }
  };
  using Slot = std::unique_ptr<void, SlotDeleter>;
  // One index per type, handed out at first use from a core-wide counter.
  static std::size_t next_slot();
  template <class T>
  static std::size_t slot_of() {
    static const std::size_t index = next_slot();
    return index;
  }
  std::vector<Slot> slots_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  // All three run on the session's own shard only (the router posts there).
  virtual void deliver(const xml::Element& stanza) = 0;
  // A stanza routed on another shard (Router::deliver serialised it there).
  virtual void deliver_serialized(const SerializedStanza& stanza) = 0;
  virtual void close_with_error(xmpp::StreamCondition condition, std::string_view text = {}) = 0;

  // XEP-0198 §4: a stanza counts as handled only once the work it set off
  // that must survive a crash (a write to offline storage) is done. A module
  // that starts such work while routing one of this session's stanzas, on
  // this session's shard, takes a ticket and drops it when the work is
  // done; the session's acknowledgements wait for the tickets taken before
  // them. Null when nothing waits (no stream management, another shard).
  virtual std::shared_ptr<void> hold_handled() { return nullptr; }

  unsigned shard() const { return shard_; }
  const xmpp::Jid& jid() const { return jid_; }  // full JID once bound
  // Presence state the router needs for bare-JID delivery (RFC 6121 §8.5.2).
  // Written on the session's shard, read by routers on every shard.
  int priority() const { return priority_.load(std::memory_order_relaxed); }
  bool is_available() const { return available_.load(std::memory_order_relaxed); }
  void set_presence(bool available, int priority) {
    priority_.store(priority, std::memory_order_relaxed);
    available_.store(available, std::memory_order_relaxed);
  }

  // A stream-managed session whose connection broke and that waits to be
  // resumed (XEP-0198 §5): it takes stanzas but nobody reads them yet.
  // Written on the session's shard, read by routers on every shard.
  bool is_hibernating() const { return hibernating_.load(std::memory_order_relaxed); }

  // State modules keep for this session (see SessionStateSlots).
  SessionStateSlots& module_state() { return module_state_; }

 protected:
  explicit Session(unsigned shard) : shard_(shard) {}
  void set_jid(xmpp::Jid jid) { jid_ = std::move(jid); }
  void set_hibernating(bool hibernating) { hibernating_.store(hibernating, std::memory_order_relaxed); }

  // Stream resumption (XEP-0198 §5): a new stream takes over the session's
  // state. Taken on the old session's shard, adopted on the new one's.
  struct CarriedState {
    SessionStateSlots module_state;
  };
  CarriedState carry_away() { return {std::move(module_state_)}; }
  void adopt(CarriedState state) {
    module_state_ = std::move(state.module_state);
  }

 private:
  unsigned shard_;
  xmpp::Jid jid_;
  std::atomic<int> priority_{0};
  std::atomic<bool> available_{false};
  std::atomic<bool> hibernating_{false};
  SessionStateSlots module_state_;
};

using SessionPtr = std::shared_ptr<Session>;

}  // namespace tern::router
