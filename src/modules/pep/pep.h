// Personal eventing (XEP-0163): a pubsub service (XEP-0060) on every
// account's bare JID, for what clients keep there (bookmarks, avatars,
// nicknames, OMEMO device lists and bundles) and tell their contacts.
//
// Facets, one file each: pep.cc (start, options, hooks), requests.cc (the
// iq requests: publish, retract, items, configure, …), notify.cc (who gets
// an event: caps +notify filtering, the fan-out, the last item on coming
// online), caps.cc (XEP-0115 cache). Nodes and items live in PubsubStore;
// see docs/pep.md for limits and what happens on stop, kill -9, full disk.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <memory>
#include <string>
#include <vector>

#include "modules/module.h"
#include "modules/pep/avatar.h"
#include "modules/pep/caps.h"
#include "modules/pubsub/node_config.h"
#include "modules/pubsub/request.h"

namespace tern::modules {

std::unique_ptr<Module> start_pep(ModuleContext& ctx);

namespace pep {

struct PepOptions {
  std::size_t max_items = 256;               // what "max" means, and the most a node keeps
  std::size_t max_payload_bytes = 128 * 1024;  // one item's payload, serialized
  std::size_t max_nodes = 256;               // nodes per account
  // The vcard module runs: avatars are converted (XEP-0398), their hash
  // goes into presence and vCard4 follows vcard-temp (XEP-0292).
  bool with_vcard = false;
};
inline constexpr OptionField<PepOptions> kPepOptions[] = {
    option("max_items", &PepOptions::max_items, 1, 100000,
           "The most items one PEP node keeps (what a node's max_items \"max\" means)"),
    option("max_payload_bytes", &PepOptions::max_payload_bytes, 1024, 16 << 20,
           "Largest payload of one PEP item, serialized, in bytes (larger publishes are refused)"),
    option("max_nodes", &PepOptions::max_nodes, 1, 100000, "The most PEP nodes one account may have"),
};

// One event to fan out: the <event/> child, serialized once.
struct Event {
  std::string account;  // the PEP service (bare JID)
  std::string node;
  std::string event_xml;  // <event xmlns='…#event'>…</event>
};

// The photo hash (XEP-0153) of each account with a session, kept so that
// a presence never waits for storage: loaded when a resource binds, changed
// when the avatar changes, dropped when the last session ends. Any shard.
class PhotoHashes {
 public:
  // nullopt: not loaded; a nullopt inside: loaded, no avatar.
  std::optional<std::optional<std::string>> find(const std::string& account) const;
  // Stores the hash; returns what was stored before (nullopt: not loaded).
  std::optional<std::optional<std::string>> set(const std::string& account,
                                                std::optional<std::string> hash);
  void forget(const std::string& account);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::optional<std::string>, std::less<>> hashes_;
};

// Facts about an account loaded with a request: its roster and explicit
// subscriptions/affiliations of one node.
struct Audience {
  std::vector<storage::RosterItem> roster;
  std::vector<storage::PubsubEntry> subscriptions;
  std::vector<storage::PubsubEntry> affiliations;
};

class PepService : public std::enable_shared_from_this<PepService> {
 public:
  PepService(Host host, storage::Storage& storage, core::BlockingPool& blocking, PepOptions opts)
      : host_(host), storage_(storage), blocking_(blocking), opts_(opts) {}

  // An iq in the pubsub or pubsub#owner namespace to an account.
  awaitable<router::IqReply> handle(const router::IqRequest& req);

  // A presence `account` hears from `from` (a contact's, or its own
  // resource's): who listens with which caps. Runs on a shard.
  void heard_presence(const xmpp::Jid& account, const xmpp::Jid& from, const xml::Element& presence);
  // The answer to a caps disco#info query this module sent; false when it
  // is not one.
  bool take_caps_reply(const xml::Element& iq);
  // Sends `event` to everyone allowed and interested (see notify.cc).
  void fan_out(const Event& event, const pubsub::NodeConfig& config, const Audience& audience);
  // An account's last session ended: forget whom it heard (its next login
  // probes its contacts and hears them again).
  void account_offline(const std::string& account);
  // Notifications sent since start (for the note's measurements and tests).
  std::uint64_t notifications_sent() const { return sent_.load(std::memory_order_relaxed); }

  Host& host() { return host_; }
  storage::Storage& storage() { return storage_; }
  core::BlockingPool& blocking() { return blocking_; }
  const PepOptions& options() const { return opts_; }
  CapsCache& caps() { return caps_; }
  Listeners& listeners() { return listeners_; }
  PhotoHashes& photo_hashes() { return photo_hashes_; }
  std::string next_id();

  // XEP-0398 §4 (photo_hash.cc): the account's photo hash in an available
  // presence one of its resources sends (broadcast or directed). On a shard.
  void stamp_photo_hash(const xmpp::Jid& from, xml::Element& presence);
  // Loads the account's photo hash if it is not cached, as work the
  // account has in flight (its first presence waits for it). On a shard.
  void load_photo_hash(const xmpp::Jid& account);

 private:
  Host host_;
  storage::Storage& storage_;
  core::BlockingPool& blocking_;
  PepOptions opts_;
  CapsCache caps_;
  Listeners listeners_;
  PhotoHashes photo_hashes_;
  std::atomic<std::uint64_t> ids_{0};
  std::atomic<std::uint64_t> sent_{0};
  // Caps queries in flight: iq id → what was asked.
  struct CapsQuery {
    CapsRef ref;
    std::string target;
  };
  std::mutex queries_mutex_;
  std::map<std::string, CapsQuery> queries_;
  void query_caps(const xmpp::Jid& account, const xmpp::Jid& target, const CapsRef& ref);
  const std::int64_t started_ms_ = now_ms();

 public:
  static std::int64_t now_ms();
};

// Sends the newest item of every node of `account` that `listener` (a full
// JID) may see and wants (+notify in `features`): on coming online.
awaitable<void> send_last_items(std::shared_ptr<PepService> self, std::string account,
                                std::string listener, FeatureSet features);

// Where a bookmark change came from (bookmarks.h): the other homes follow.
enum class BookmarkSource { kPep, kLegacyPep, kPrivate };
// The source a change to `node` is, if it is a bookmarks node.
std::optional<BookmarkSource> bookmark_source(std::string_view node);
// Rewrites the other homes of the account's bookmarks from `source` and
// notifies the owner's resources of the PEP changes (sync.cc).
awaitable<void> sync_bookmarks(std::shared_ptr<PepService> self, std::string account,
                               BookmarkSource source);

// XEP-0398: after a publish to the avatar metadata node, the vCard PHOTO
// follows; after a vCard set with a PHOTO, the PEP avatar follows.
awaitable<void> sync_avatar_from_pep(std::shared_ptr<PepService> self, std::string account);
awaitable<void> sync_avatar_from_vcard(std::shared_ptr<PepService> self, std::string account,
                                       avatar::Photo photo);

// XEP-0292: the basic fields of vcard-temp and of the vCard4 node follow
// each other (vcard4.h). Written to storage directly, never through the
// request handlers, so neither sets the other off again.
awaitable<void> sync_vcard4_from_vcard_temp(std::shared_ptr<PepService> self, std::string account);
awaitable<void> sync_vcard_temp_from_vcard4(std::shared_ptr<PepService> self, std::string account);

// The avatar of `account` may have changed (a vCard set, a PEP avatar
// publish): its photo hash is read again from the stored vCard, and if it
// differs, every available resource's presence goes out again with the new
// one (XEP-0153 §4.1, XEP-0398 §4), so contacts fetch the new avatar.
awaitable<void> photo_may_have_changed(std::shared_ptr<PepService> self, std::string account);

// The <event/> of a publish, a retraction, a purge or a deletion.
xml::Element item_event(const std::string& node, const std::string& id, const xml::Element* payload);
xml::Element retract_event(const std::string& node, const std::string& id);
xml::Element purge_event(const std::string& node);
xml::Element delete_event(const std::string& node);

}  // namespace pep
}  // namespace tern::modules
