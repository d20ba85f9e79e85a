#include "stream/s2s.h"

#include "core/log.h"
#include "core/shards.h"
#include "sasl/mechanism.h"
#include "stream/server_in.h"
#include "stream/server_out.h"
#include "transport/tls13_records.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"

namespace tern::stream {

S2S::S2S(router::Router& router, core::BlockingPool& blocking, const core::Config& config,
         const transport::CertPaths& certs)
    : router_(router),
      blocking_(blocking),
      config_(config),
      server_tls_(transport::make_s2s_server_context(certs, config.s2s_ca_file)),
      client_tls_(transport::make_s2s_client_context(certs, config.s2s_ca_file)),
      // XEP-0220 §4.1: a secret per process is enough: keys are checked
      // within seconds of being issued, never after a restart.
      secret_(config.s2s_dialback_secret.empty() ? sasl::random_bytes(32) : config.s2s_dialback_secret),
      static_routes_(parse_static_routes(config.s2s_hosts)),
      read_buffers_(router.shard_count(), std::vector<char>(transport::kMaxTls13Record)),
      shards_(router.shard_count()) {}

S2S::~S2S() {
  // Links still registered go before the registry they report to.
  for (auto& s : shards_) {
    auto links = std::move(s.links);
    links.clear();
  }
}

xml::ParserLimits S2S::parser_limits() const {
  return xml::ParserLimits{static_cast<std::size_t>(config_.max_stanza_bytes),
                           static_cast<std::size_t>(config_.max_xml_depth),
                           static_cast<std::size_t>(config_.max_attributes)};
}

bool S2S::is_ours(const std::string& domain) const {
  return router_.is_local_domain(domain) || router_.is_claimed_domain(domain);
}

void S2S::attach() {
  // Last in the chain: components (and anything else that claims a remote
  // domain) come first.
  to_remote_ = router_.hooks().to_remote.add(
      [this](router::RoutedStanza& ev) {
        const auto& local = ev.from.domain();
        if (!is_ours(local)) return core::Verdict::kPass;  // we relay nobody's stanzas
        std::string bytes;
        xml::serialize(bytes, ev.stanza, ns::kServer);
        send(local, ev.to.domain(), std::move(bytes));
        return core::Verdict::kHandled;
      },
      -100);
}

unsigned S2S::owner_shard(const std::string& local, const std::string& remote) const {
  return static_cast<unsigned>(std::hash<std::string>{}(local + ' ' + remote) % shards_.size());
}

std::shared_ptr<ServerOut> S2S::link_for(unsigned shard, const std::string& local,
                                         const std::string& remote) {
  auto& links = shards_[shard].links;
  auto key = std::make_pair(local, remote);
  if (auto it = links.find(key); it != links.end()) return it->second;
  if (out_links_.load() >= static_cast<std::size_t>(config_.s2s_max_links)) return nullptr;
  auto link = std::make_shared<ServerOut>(*this, shard, router_.shard_executor(shard), local, remote);
  links.emplace(key, link);
  ++out_links_;
  link->start();
  return link;
}

void S2S::link_ended(const ServerOut& link) {
  auto& links = shards_[link.shard()].links;
  auto it = links.find({link.local(), link.remote()});
  if (it != links.end() && it->second.get() == &link) {
    links.erase(it);
    --out_links_;
  }
}

void S2S::send(const std::string& local, const std::string& remote, std::string stanza, bool bidi) {
  const unsigned shard = owner_shard(local, remote);
  auto deliver = [this, shard, local, remote, bidi](std::string bytes) {
    if (bidi) {
      auto& routes = shards_[shard].bidi;
      if (auto it = routes.find({local, remote}); it != routes.end()) {
        if (auto in = it->second.lock()) {
          // On the stream's shard; if it has ended meanwhile, our own link.
          return asio::post(router_.shard_executor(in->shard()),
                            [this, in, local, remote, bytes = std::move(bytes)]() mutable {
                              if (!in->send_bidi(local, remote, bytes)) send(local, remote, std::move(bytes), false);
                            });
        }
        routes.erase(it);
      }
    }
    if (auto link = link_for(shard, local, remote)) return link->send(std::move(bytes));
    // Over s2s.max_links: refuse rather than grow without bound.
    spdlog::warn("s2s: {} outgoing links open (s2s.max_links): not opening one to {}",
                 out_links_.load(), remote);
    if (auto el = xml::parse_element(bytes, ns::kClient)) {
      if (el->attr_or("type") != "error" && el->name() != "presence")
        router_.bounce(*el, xmpp::StanzaError(xmpp::StanzaCondition::kResourceConstraint));
    }
  };
  if (core::Shards::current() == static_cast<int>(shard)) return deliver(std::move(stanza));
  asio::post(router_.shard_executor(shard),
             [deliver, bytes = std::move(stanza)]() mutable { deliver(std::move(bytes)); });
}

void S2S::bidi_route_up(const std::string& local, const std::string& remote, std::weak_ptr<ServerIn> stream) {
  const unsigned shard = owner_shard(local, remote);
  asio::post(router_.shard_executor(shard), [this, shard, key = std::make_pair(local, remote),
                                             stream = std::move(stream)]() mutable {
    shards_[shard].bidi[std::move(key)] = std::move(stream);
  });
}

void S2S::bidi_route_down(const std::string& local, const std::string& remote, const ServerIn* stream) {
  const unsigned shard = owner_shard(local, remote);
  asio::post(router_.shard_executor(shard), [this, shard, key = std::make_pair(local, remote), stream] {
    auto& routes = shards_[shard].bidi;
    auto it = routes.find(key);
    // Only our own route: a newer stream may have taken the pair over.
    if (it != routes.end() && (it->second.expired() || it->second.lock().get() == stream)) routes.erase(it);
  });
}

void S2S::verify(const std::string& local, const std::string& remote, std::string id,
                 std::string key, VerifyDone done) {
  const int caller = core::Shards::current();
  const unsigned shard = owner_shard(local, remote);
  // The answer goes back to the asking stream's shard.
  auto reply = [this, caller, done = std::move(done)](VerifyOutcome outcome) {
    if (caller == core::Shards::current()) return done(std::move(outcome));
    asio::post(router_.shard_executor(static_cast<unsigned>(caller)),
               [done, outcome = std::move(outcome)]() { done(outcome); });
  };
  auto ask = [this, shard, local, remote, id = std::move(id), key = std::move(key), reply]() mutable {
    auto link = link_for(shard, local, remote);
    if (!link) return reply({"error", "resource-constraint"});
    link->verify(std::move(id), std::move(key), std::move(reply));
  };
  if (caller == static_cast<int>(shard)) return ask();
  asio::post(router_.shard_executor(shard), std::move(ask));
}

void S2S::accept(unsigned shard, tcp::socket socket, bool direct_tls) {
  auto in = std::make_shared<ServerIn>(*this, shard, std::move(socket), direct_tls);
  in->start();
}

namespace {

// The bucket of `key`, made full on first use; buckets quiet for a minute
// are forgotten once there are many (addresses that never named a domain
// must not pile up).
TokenBucket& bucket_of(std::map<std::string, TokenBucket>& buckets, const std::string& key, double rate,
                       TokenBucket::Clock::time_point now) {
  if (buckets.size() > 1024) {
    std::erase_if(buckets, [now](const auto& kv) { return now - kv.second.last_use() > std::chrono::minutes(1); });
  }
  return buckets.try_emplace(key, rate, now).first->second;
}

}  // namespace

std::chrono::steady_clock::duration S2S::charge_read(const std::string& source, std::size_t bytes) {
  const double rate = static_cast<double>(config_.s2s_max_bytes_per_second);
  if (rate <= 0) return TokenBucket::Clock::duration::zero();
  const auto now = TokenBucket::Clock::now();
  std::lock_guard lock(buckets_mutex_);
  return bucket_of(buckets_, source, rate, now).charge(bytes, now);
}

std::chrono::steady_clock::duration S2S::write_wait(const std::string& remote) {
  const double rate = static_cast<double>(config_.s2s_max_write_bytes_per_second);
  if (rate <= 0) return TokenBucket::Clock::duration::zero();
  const auto now = TokenBucket::Clock::now();
  std::lock_guard lock(buckets_mutex_);
  return bucket_of(write_buckets_, remote, rate, now).wait(now);
}

void S2S::charge_write(const std::string& remote, std::size_t bytes) {
  const double rate = static_cast<double>(config_.s2s_max_write_bytes_per_second);
  if (rate <= 0) return;
  const auto now = TokenBucket::Clock::now();
  std::lock_guard lock(buckets_mutex_);
  bucket_of(write_buckets_, remote, rate, now).charge(bytes, now);
}

void S2S::close_all(unsigned shard) {
  std::vector<std::shared_ptr<ServerStream>> streams;
  for (auto* s : shards_[shard].streams) {
    if (auto p = s->weak_from_this().lock()) streams.push_back(std::move(p));
  }
  for (auto& s : streams) s->close_with_error(xmpp::StreamCondition::kSystemShutdown);
  auto links = std::move(shards_[shard].links);
  out_links_ -= links.size();
}

void S2S::stream_opened(unsigned shard, ServerStream* s) {
  shards_[shard].streams.insert(s);
  ++open_;
}

void S2S::stream_closed(unsigned shard, ServerStream* s) {
  if (shards_[shard].streams.erase(s)) --open_;
  std::lock_guard lock(descriptions_mutex_);
  descriptions_.erase(s);
}

void S2S::set_description(const ServerStream* s, std::string text) {
  std::lock_guard lock(descriptions_mutex_);
  descriptions_[s] = std::move(text);
}

std::vector<std::string> S2S::describe_links() {
  std::lock_guard lock(descriptions_mutex_);
  std::vector<std::string> out;
  for (const auto& [s, text] : descriptions_) out.push_back(text);
  return out;
}

}  // namespace tern::stream
