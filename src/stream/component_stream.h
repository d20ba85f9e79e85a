// External components (XEP-0114, the jabber:component:accept protocol):
// a gateway or a bot connects on listen.component, proves it knows the
// shared secret of its domain, and from then on sends and receives the
// stanzas of that domain as if it were a server of its own.
//
// ComponentHub claims every configured component domain in the router for
// the life of the server: stanzas to a connected component go to its
// stream; while it is away they bounce (service-unavailable), and the
// domain never falls through to federation.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/asio.h"
#include "core/hook.h"
#include "router/router.h"
#include "transport/outbox.h"
#include "transport/transport.h"
#include "xml/stream_parser.h"

namespace tern::stream {

class ComponentStream;

class ComponentHub {
 public:
  struct Limits {
    xml::ParserLimits parser;
    std::chrono::seconds handshake_timeout;
  };
  // Claims each domain of `secrets` (domain → shared secret) in `router`.
  ComponentHub(router::Router& router, std::map<std::string, std::string> secrets, Limits limits);
  ~ComponentHub();

  // The shared secret of `domain`; null when no such component is configured.
  const std::string* secret_of(const std::string& domain) const;
  // Makes `stream` the link of `domain`; false when the domain has one already.
  bool attach(const std::string& domain, const std::shared_ptr<ComponentStream>& stream);
  void detach(const std::string& domain, const ComponentStream* stream);
  // "echo.example.org: connected from 127.0.0.1" lines for `tern status`.
  std::vector<std::string> describe() const;
  // SIGTERM: every connected component gets <system-shutdown/>.
  void close_all();

  router::Router& router() { return router_; }
  const Limits& limits() const { return limits_; }

 private:
  // The router's handler for a claimed domain, on the routing shard.
  void deliver(const std::string& domain, xml::Element stanza);

  router::Router& router_;
  const std::map<std::string, std::string> secrets_;
  Limits limits_;
  mutable std::mutex mutex_;  // links_ is read by every shard
  std::map<std::string, std::weak_ptr<ComponentStream>> links_;
  std::vector<core::HookToken> claims_;
};

class ComponentStream : public std::enable_shared_from_this<ComponentStream> {
 public:
  // Takes over an accepted socket on `shard` (the caller's own shard).
  static void start(ComponentHub& hub, unsigned shard, tcp::socket socket);

  ComponentStream(ComponentHub& hub, unsigned shard, tcp::socket socket);

  // A stanza for the component, already serialised; on the stream's shard.
  void send(std::string_view bytes);
  unsigned shard() const { return shard_; }
  const std::string& remote_ip() const { return transport_.remote_ip(); }
  // Ends the stream with a stream error; on the stream's shard.
  void fail(xmpp::StreamCondition condition, std::string_view text = {});

 private:
  enum class State { kAwaitHeader, kAwaitHandshake, kReady, kClosing, kClosed };

  awaitable<void> run();
  awaitable<void> watchdog();
  void on_event(xml::StreamEvent& event);
  void on_header(const xml::StreamOpen& open);
  void on_handshake(const xml::Element& el);
  void on_stanza(xml::Element stanza);
  void close_stream();
  void finish();
  std::string log_id() const;

  ComponentHub& hub_;
  unsigned shard_;
  transport::Transport transport_;
  xml::StreamParser parser_;
  transport::Outbox outbox_;
  asio::steady_timer deadline_;  // handshake, then the grace after our close
  State state_ = State::kAwaitHeader;
  std::string stream_id_;
  std::string domain_;  // the component's, once its header named it
  std::vector<char> read_buffer_;
};

}  // namespace tern::stream
