// Federation (RFC 6120 server-to-server, XEP-0220 dialback, XEP-0178 SASL
// EXTERNAL): the outgoing links, one per (local domain, remote domain) pair,
// each owned by one shard that the others post to; the accepted streams; the
// router's to_remote hook that feeds the links; and what both directions
// share (TLS contexts, dialback secret, static routes).
//
// Queues (see docs/s2s.md): stanzas for a link that is still being set up
// wait in memory on the link's shard, at most s2s.max_queued_stanzas per
// link. If the link fails or times out they bounce to their senders
// (remote-server-not-found / remote-server-timeout). On SIGTERM the links
// close and what is still queued bounces the same way (its senders are
// local sessions, closed just before; nothing is written to disk). On
// kill -9 the queue is lost with the process: those stanzas were accepted
// from local clients and are neither delivered nor bounced. A full disk
// does not touch the queue (it never goes to disk).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "core/blocking_pool.h"
#include "core/config.h"
#include "core/hook.h"
#include "router/router.h"
#include "stream/s2s_resolver.h"
#include "stream/token_bucket.h"
#include "transport/tls.h"
#include "xml/stream_parser.h"

namespace tern::stream {

class ServerIn;
class ServerOut;
class ServerStream;

// How a db:verify came out: "valid", "invalid", or "error" with the stanza
// error condition the receiving server reports (XEP-0220 §2.4).
struct VerifyOutcome {
  std::string type;
  std::string condition;
};
using VerifyDone = std::function<void(VerifyOutcome)>;

class S2S {
 public:
  S2S(router::Router& router, core::BlockingPool& blocking, const core::Config& config,
      const transport::CertPaths& certs);
  ~S2S();

  // Starts feeding the router's to_remote stanzas to the links.
  void attach();
  // Takes an accepted connection on `shard` (the calling shard); with
  // `direct_tls` the TLS handshake comes first (XEP-0368).
  void accept(unsigned shard, tcp::socket socket, bool direct_tls = false);
  // Any shard: queue a serialised jabber:server stanza for the pair. The
  // stanza bounces if the link cannot take it. It goes out on an accepted
  // bidirectional stream (XEP-0288) authenticated for the pair if there is
  // one (unless `bidi` is false), else on our own link.
  void send(const std::string& local, const std::string& remote, std::string stanza, bool bidi = true);
  // Any shard: `stream` (an accepted stream where the peer asked for bidi)
  // has authenticated the pair; it carries our stanzas from `local` to
  // `remote` until it ends (bidi_route_down).
  void bidi_route_up(const std::string& local, const std::string& remote, std::weak_ptr<ServerIn> stream);
  void bidi_route_down(const std::string& local, const std::string& remote, const ServerIn* stream);
  // Any shard: ask `remote` (the authoritative server) whether `key` is its
  // key for (receiving `local`, stream `id`); `done` runs on the calling shard.
  void verify(const std::string& local, const std::string& remote, std::string id,
              std::string key, VerifyDone done);
  // Closes every stream of `shard` (on that shard): shutdown.
  void close_all(unsigned shard);
  // Streams open on every shard (any thread).
  std::size_t open_streams() const { return open_.load(); }
  // One line per stream, for `tern status` (any thread).
  std::vector<std::string> describe_links();

  // --- for the streams -------------------------------------------------
  router::Router& router() { return router_; }
  core::BlockingPool& blocking() { return blocking_; }
  const core::Config& config() const { return config_; }
  asio::ssl::context& server_tls() { return *server_tls_; }
  asio::ssl::context& client_tls() { return *client_tls_; }
  const std::string& secret() const { return secret_; }
  const std::map<std::string, S2STarget>& static_routes() const { return static_routes_; }
  xml::ParserLimits parser_limits() const;
  std::vector<char>& read_buffer(unsigned shard) { return read_buffers_[shard]; }
  std::uint64_t next_stream_number() { return next_number_++; }
  // A domain we answer for: an account domain or a served subdomain.
  bool is_ours(const std::string& domain) const;
  void stream_opened(unsigned shard, ServerStream* s);
  void stream_closed(unsigned shard, ServerStream* s);
  // On the link's shard, when it has failed or closed.
  void link_ended(const ServerOut& link);
  // Set when the link state changes (any shard), read by describe_links.
  void set_description(const ServerStream* s, std::string text);
  // Counts `bytes` read from `source` (a remote domain, or the peer's
  // address before it named one) against s2s.max_bytes_per_second, shared
  // by all its streams on every shard; returns how long the reader pauses.
  std::chrono::steady_clock::duration charge_read(const std::string& source, std::size_t bytes);
  // s2s.max_write_bytes_per_second, shared by every link to `remote` on
  // every shard: how long until the next stanza may be written to it (zero:
  // now, and always when there is no limit); charge_write counts one that was.
  bool write_limited() const { return config_.s2s_max_write_bytes_per_second > 0; }
  std::chrono::steady_clock::duration write_wait(const std::string& remote);
  void charge_write(const std::string& remote, std::size_t bytes);

 private:
  unsigned owner_shard(const std::string& local, const std::string& remote) const;
  // On the owner shard: the link for the pair, made if there is none.
  std::shared_ptr<ServerOut> link_for(unsigned shard, const std::string& local,
                                      const std::string& remote);

  router::Router& router_;
  core::BlockingPool& blocking_;
  const core::Config& config_;
  std::unique_ptr<asio::ssl::context> server_tls_, client_tls_;
  std::string secret_;
  std::map<std::string, S2STarget> static_routes_;
  std::vector<std::vector<char>> read_buffers_;
  core::HookToken to_remote_;
  std::atomic<std::uint64_t> next_number_{1};
  std::atomic<std::size_t> open_{0};
  std::atomic<std::size_t> out_links_{0};
  // Per shard, touched only by that shard's thread.
  struct Shard {
    std::map<std::pair<std::string, std::string>, std::shared_ptr<ServerOut>> links;
    // XEP-0288 routes of the pairs this shard owns, to streams on any shard.
    std::map<std::pair<std::string, std::string>, std::weak_ptr<ServerIn>> bidi;
    std::unordered_set<ServerStream*> streams;
  };
  std::vector<Shard> shards_;
  std::mutex descriptions_mutex_;
  std::map<const ServerStream*, std::string> descriptions_;
  // Token buckets of bytes per remote domain (any shard, hence the lock;
  // taken once per read, and per stanza written only when writes are
  // limited).
  std::mutex buckets_mutex_;
  std::map<std::string, TokenBucket> buckets_;
  std::map<std::string, TokenBucket> write_buckets_;
};

}  // namespace tern::stream
