// A Session that records what the router hands it, for router and registry
// tests. deliver() runs on a shard thread while the test reads from its own
// thread, so the records sit behind a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/shards.h"
#include "router/session.h"
#include "xml/serializer.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"

namespace tern::router::fakes {

class FakeSession : public Session {
 public:
  explicit FakeSession(unsigned shard = 0) : Session(shard) {}
  FakeSession(const xmpp::Jid& jid, unsigned shard = 0) : Session(shard) { set_jid(jid); }
  using Session::set_jid;

  static std::shared_ptr<FakeSession> make(std::string_view full_jid, unsigned shard = 0) {
    auto jid = xmpp::Jid::parse(full_jid);
    if (!jid) throw std::invalid_argument("bad test JID");
    return std::make_shared<FakeSession>(*jid, shard);
  }
  // An available session with this priority (RFC 6121 §8.5.2 only counts those).
  static std::shared_ptr<FakeSession> available(std::string_view full_jid, int priority,
                                                unsigned shard = 0) {
    auto s = make(full_jid, shard);
    s->set_presence(true, priority);
    return s;
  }

  void deliver(const xml::Element& stanza) override {
    std::lock_guard lock(mutex_);
    delivered_.push_back(xml::to_string(stanza, ns::kClient));
    delivered_on_.push_back(core::Shards::current());
    buffers_.push_back(nullptr);
  }
  void deliver_serialized(const SerializedStanza& stanza) override {
    std::lock_guard lock(mutex_);
    delivered_.push_back(*stanza);
    delivered_on_.push_back(core::Shards::current());
    buffers_.push_back(stanza.get());
  }
  void close_with_error(xmpp::StreamCondition condition, std::string_view text) override {
    std::lock_guard lock(mutex_);
    closed_with_.push_back(condition);
  }

  std::vector<std::string> delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  // The shard thread each delivery ran on (-1: off the shards).
  std::vector<int> delivered_on() const {
    std::lock_guard lock(mutex_);
    return delivered_on_;
  }
  // Per delivery: the shared buffer it came in, or null for an element tree
  // handed over on the same shard.
  std::vector<const void*> buffers() const {
    std::lock_guard lock(mutex_);
    return buffers_;
  }
  std::vector<xmpp::StreamCondition> closed_with() const {
    std::lock_guard lock(mutex_);
    return closed_with_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> delivered_;
  std::vector<int> delivered_on_;
  std::vector<const void*> buffers_;
  std::vector<xmpp::StreamCondition> closed_with_;
};

}  // namespace tern::router::fakes
