// BOSH (XEP-0124) carrying XMPP (XEP-0206) at /http-bind. A BoshSession is
// a client stream whose framing is <body/> wrappers: it lives on the shard
// where it was created, and a request that arrives on another shard's
// connection runs there (co_spawn on the session's executor). Requests are
// processed in rid order: early ones wait for the gap to fill; an answered
// rid is answered again from the response window.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "stream/client_stream.h"

namespace tern::http {

struct BoshReply {
  int status = 200;
  std::string body;
};

// Limits we impose on what clients ask for.
struct BoshLimits {
  int max_wait_seconds = 60;
  int max_hold = 1;
  int requests = 2;  // hold + 1
  int inactivity_seconds = 60;
  int polling_seconds = 2;
};

class BoshSession;

class BoshRegistry {
 public:
  // One executor per shard, to create sessions where their requests arrive.
  BoshRegistry(stream::C2SContext& ctx, std::vector<asio::any_io_executor> shard_executors,
               BoshLimits limits = {});
  // Any shard: one HTTP request body.
  awaitable<BoshReply> handle(unsigned shard, const std::string& body, const std::string& peer,
                              bool confidential);
  void remove(const std::string& sid);
  // At shutdown, once the shards stopped: drops every session.
  void clear();
  std::size_t size() const;

 private:
  awaitable<BoshReply> create(unsigned shard, const xml::Element& body, const std::string& peer,
                              bool confidential);
  std::shared_ptr<BoshSession> find(const std::string& sid) const;

  stream::C2SContext& ctx_;
  std::vector<asio::any_io_executor> executors_;
  BoshLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<BoshSession>> sessions_;
};

// A binding error (XEP-0124 §17) as a terminating body.
std::string bosh_terminate(std::string_view condition);

class BoshSession final : public stream::ClientStream {
 public:
  BoshSession(stream::C2SContext& ctx, BoshRegistry& registry, unsigned shard,
              asio::any_io_executor executor, std::string sid, std::string remote_ip,
              bool confidential, int wait_seconds, int hold, const BoshLimits& limits);

  // On the session's shard.
  awaitable<BoshReply> create(const xml::Element& body);
  awaitable<BoshReply> request(xml::Element& body);
  asio::any_io_executor executor() const { return executor_; }
  const std::string& sid() const { return sid_; }

 private:
  struct Waiter;

  void write_stream_open(std::string_view attributes) override;
  void write_stream_close() override;
  void write_top(std::string_view xml) override;
  void write_stanza(const xml::Element& stanza) override;
  void write_serialized(std::string_view stanza) override;
  awaitable<void> drain() override { co_return; }
  void close_transport() override;
  bool is_confidential() const override { return confidential_; }
  bool offers_scram_in_clear() const override { return false; }

  // Runs the payloads of every request whose turn has come, in rid order.
  awaitable<void> process_ready();
  awaitable<void> process(xml::Element& body);
  void restart_stream(const xml::Element& body);
  // Gives what is pending to the oldest held request(s) that may answer.
  void dispatch();
  std::string take_body();
  void wake_all();
  awaitable<void> reap_when_inactive();

  BoshRegistry& registry_;
  std::string sid_;
  bool confidential_;
  int wait_seconds_;
  int hold_;
  BoshLimits limits_;
  std::string authid_;
  std::string pending_;  // serialised elements waiting for a response
  bool terminated_ = false;
  // The inactivity reaper's timer, cancelled when the session closes so
  // that the reaper (which keeps the session alive) ends at once rather
  // than up to `inactivity` seconds later, holding up shutdown.
  std::optional<asio::steady_timer> reap_timer_;
  std::string terminate_condition_;
  bool processing_ = false;
  std::uint64_t next_rid_ = 0;  // the next rid whose payload runs
  std::map<std::uint64_t, xml::Element> early_;  // arrived before their turn
  std::map<std::uint64_t, std::shared_ptr<Waiter>> held_;  // processed, awaiting data
  std::map<std::uint64_t, std::string> answered_;  // the response window
  std::vector<std::shared_ptr<Waiter>> waiting_;   // every request in flight
  std::chrono::steady_clock::time_point last_request_;
};

}  // namespace tern::http
