// What a client stream needs from the server: a narrow view, not the server.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "core/blocking_pool.h"
#include "core/config.h"
#include "router/router.h"
#include "storage/storage.h"
#include "stream/auth_throttle.h"
#include "stream/live_streams.h"
#include "stream/resumable_sessions.h"
#include "stream/stream_metrics.h"
#include "xml/stream_parser.h"

namespace tern::stream {

struct C2SContext {
  C2SContext(router::Router& r, storage::Storage& s, core::BlockingPool& b,
             const core::Config& c, boost::asio::ssl::context* t, AuthThrottle& th,
             LiveStreams& l)
      : router(r), storage(s), blocking(b), config(c), tls(t), throttle(th), live(l),
        // What an ended session had handled is kept as long as the session
        // itself could have waited, and never less than 10 minutes: a
        // client that missed the resume timeout was away a while already.
        resumable(10'000, std::max<std::chrono::seconds>(std::chrono::seconds(c.resume_timeout_seconds),
                                                         std::chrono::minutes(10))) {}

  router::Router& router;
  storage::Storage& storage;
  core::BlockingPool& blocking;
  const core::Config& config;
  boost::asio::ssl::context* tls = nullptr;  // null: TLS unavailable
  AuthThrottle& throttle;
  LiveStreams& live;
  // Stream features modules add once the client is authenticated
  // (serialized elements, e.g. roster versioning).
  std::vector<std::string> bound_features;
  // What modules enable inline when a client binds with its authentication.
  std::vector<router::InlineBindFeature> inline_bind;
  // Keys the salts SCRAM shows for accounts that do not exist, so they look
  // like real ones and stay the same across restarts (data_dir/scram-secret).
  // Also keys the resources generated for a client's user-agent id.
  std::string fake_salt_secret;
  // Features offered before authentication (e.g. in-band registration).
  std::vector<std::string> pre_auth_features;        // on confidential streams only
  std::vector<std::string> pre_auth_plain_features;  // before TLS as well
  std::atomic<std::uint64_t> next_stream_number{1};
  // One per shard: quiet streams park their expat parser here.
  std::vector<std::unique_ptr<xml::ParserPool>> parser_pools;
  // One per shard: every stream of the shard reads into it and hands the
  // bytes to its parser before suspending again (see Transport::read_some).
  std::vector<std::vector<char>> read_buffers;
  // Null: not counted (unit tests).
  StreamMetrics* metrics = nullptr;
  // Streams with stream management resumption enabled, by resumption id,
  // and what ended ones had handled.
  ResumableSessions resumable;
};

}  // namespace tern::stream
