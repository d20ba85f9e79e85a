// A publish-subscribe service (XEP-0060) on its own domain,
// pubsub.<domain> by default (`[modules.pubsub] domain`): nodes that local
// accounts create and own, explicit subscriptions, affiliations, the open
// and whitelist access models, and notifications to subscribers.
//
// Where state lives: nowhere but PubsubStore (service = the domain). Each
// request is one coroutine on the shard that routed it; its storage work is
// one blocking job, then it answers and (for changes) notifies. See
// docs/pep.md for limits and what happens on stop, kill -9 and a full disk.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "modules/module.h"
#include "modules/pubsub/node_config.h"
#include "modules/pubsub/request.h"

namespace tern::modules::pubsub {

std::unique_ptr<Module> start_pubsub(ModuleContext& ctx);

struct ServiceOptions {
  std::string domain = "pubsub.{domain}";  // per local domain, see service_domain()
  std::size_t max_items = 256;
  std::size_t max_payload_bytes = 128 * 1024;
  std::size_t max_nodes = 10000;  // per service
  std::set<std::string> admins;   // server admins (bare JIDs): owners of every node
};
inline constexpr OptionField<ServiceOptions> kPubsubOptions[] = {
    option("domain", &ServiceOptions::domain,
           "Where the publish-subscribe service of each local domain lives ({domain}: that domain)"),
    option("max_items", &ServiceOptions::max_items, 1, 100000,
           "The most items one node of the pubsub service keeps (what max_items \"max\" means)"),
    option("max_payload_bytes", &ServiceOptions::max_payload_bytes, 1024, 16 << 20,
           "Largest payload of one pubsub item, serialized, in bytes"),
    option("max_nodes", &ServiceOptions::max_nodes, 1, 10000000,
           "The most nodes the pubsub service of one domain holds"),
};

class PubsubService : public std::enable_shared_from_this<PubsubService> {
 public:
  PubsubService(Host host, storage::Storage& storage, core::BlockingPool& blocking,
                ServiceOptions opts)
      : host_(host), storage_(storage), blocking_(blocking), opts_(std::move(opts)) {}

  // Every stanza to the service's domain (or a JID on it).
  void on_stanza(xml::Element stanza, const xmpp::Jid& from, const xmpp::Jid& to);

  awaitable<router::IqReply> handle(const router::IqRequest& req);
  Host& host() { return host_; }
  storage::Storage& storage() { return storage_; }
  core::BlockingPool& blocking() { return blocking_; }
  const ServiceOptions& options() const { return opts_; }
  bool is_admin(const std::string& bare) const { return opts_.admins.count(bare) > 0; }
  std::string next_id();

 private:
  awaitable<void> answer(xml::Element stanza, xmpp::Jid from, xmpp::Jid to);
  Host host_;
  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  ServiceOptions opts_;
  std::atomic<std::uint64_t> ids_{0};
};

}  // namespace tern::modules::pubsub
