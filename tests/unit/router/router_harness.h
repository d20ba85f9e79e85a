// A Router on real shard threads, for tests. Router::route expects to run on
// a shard, so every action is posted to a loop and the test waits for it;
// settle() then lets whatever the router spawned or posted (iq handlers,
// account lookups, cross-shard deliveries) finish before the test looks.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.h"
#include "core/shards.h"
#include "router/fake_session.h"
#include "router/router.h"
#include "xml/stream_parser.h"

namespace tern::router::fakes {

inline constexpr std::string_view kDomain = "example.com";

// One stanza written as a client would send it (jabber:client), parsed by the
// real stream parser so the test reads like the wire.
inline xml::Element parse_stanza(std::string_view text) {
  xml::StreamParser parser;
  std::string bytes =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  bytes += text;
  parser.feed(bytes);
  auto open = parser.next();
  auto ev = parser.next();
  if (!open || !std::holds_alternative<xml::StreamOpen>(*open) || !ev ||
      !std::holds_alternative<xml::StreamStanza>(*ev))
    throw std::invalid_argument("test stanza does not parse: " + std::string(text));
  return std::move(std::get<xml::StreamStanza>(*ev).element);
}

class RouterHarness {
 public:
  enum class Accounts { kExist, kDoNotExist, kLookupFails };

  explicit RouterHarness(unsigned shard_count = 1)
      : shards(shard_count), router(shards, {std::string(kDomain)}, [this](const xmpp::Jid& bare) {
          return lookup(bare);
        }) {
    shards.start();
  }
  ~RouterHarness() {
    settle();
    shards.stop();  // before the router goes: nothing may run on it afterwards
  }

  // Runs `f` on shard `shard` and waits for it, then for what it set off.
  void run_on(unsigned shard, const std::function<void()>& f) {
    std::promise<void> done;
    asio::post(shards.loop(shard), [&] {
      try {
        f();
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
    });
    auto fut = done.get_future();
    if (fut.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      throw std::runtime_error("shard did not run the test action");
    fut.get();
    settle();
  }

  // Routes `text` (a stanza with 'from' already stamped) on `shard`.
  void route(std::string_view text, unsigned shard = 0) {
    auto stanza = parse_stanza(text);
    run_on(shard, [&] { router.route(std::move(stanza)); });
  }

  // Posts a no-op to every loop, several rounds: work a loop posts to itself
  // or to another loop runs before the last round comes back.
  void settle() {
    for (int round = 0; round < 8; ++round) {
      for (unsigned i = 0; i < shards.size(); ++i) {
        std::promise<void> done;
        asio::post(shards.loop(i), [&] { done.set_value(); });
        done.get_future().wait_for(std::chrono::seconds(10));
      }
    }
  }

  // A bound session of a local account.
  std::shared_ptr<FakeSession> bind(std::string_view full_jid, int priority, bool available = true,
                                    unsigned shard = 0) {
    auto s = FakeSession::make(full_jid, shard);
    s->set_presence(available, priority);
    router.sessions().bind(s);
    return s;
  }

  std::vector<std::string> lookups() const {
    std::lock_guard lock(mutex_);
    return lookups_;
  }

  Accounts accounts = Accounts::kExist;
  core::Shards shards;
  Router router;

 private:
  awaitable<bool> lookup(xmpp::Jid bare) {
    {
      std::lock_guard lock(mutex_);
      lookups_.push_back(bare.to_string());
    }
    if (accounts == Accounts::kLookupFails) throw std::runtime_error("storage is down");
    co_return accounts == Accounts::kExist;
  }

  mutable std::mutex mutex_;
  std::vector<std::string> lookups_;
};

}  // namespace tern::router::fakes
