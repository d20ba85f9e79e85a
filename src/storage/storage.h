// Storage interfaces. Every call is synchronous and thread-safe: the server
// runs them on its blocking pool (never on a shard thread); the `tern user`
// command calls them directly. Drivers: sqlite (embedded default); postgres
// later. Failures other than "not found" throw StorageError (a bug or a
// broken disk: the caller turns it into internal-server-error).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sasl/mechanism.h"

namespace tern::storage {

struct StorageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Accounts are keyed by (localpart, domain), both already normalised.
struct AccountKey {
  std::string user;
  std::string domain;
};

struct AccountCredentials {
  sasl::ScramCredentials sha1;
  sasl::ScramCredentials sha256;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // Derives SCRAM-SHA-1 and SCRAM-SHA-256 keys; false if the account exists.
  virtual bool create(const AccountKey& who, const std::string& password) = 0;
  // Deletes the account and all its data (as remove_account_data) in one
  // transaction. False if there was no such account.
  virtual bool remove(const AccountKey& who) = 0;
  virtual bool set_password(const AccountKey& who, const std::string& password) = 0;
  virtual bool exists(const AccountKey& who) = 0;
  virtual std::optional<AccountCredentials> credentials(const AccountKey& who) = 0;
  // Checks a plaintext password against the stored keys (for SASL PLAIN).
  virtual bool check_password(const AccountKey& who, const std::string& password) = 0;
  // Localparts on a domain (all domains when empty), sorted.
  virtual std::vector<AccountKey> list(const std::string& domain) = 0;
};

// Roster items (RFC 6121 §2), one row per (owner, contact bare JID).
struct RosterItem {
  std::string jid;  // contact bare JID, normalised
  std::string name;
  std::string subscription = "none";  // none | to | from | both
  bool ask_out = false;               // pending-out ("ask='subscribe'")
  bool pending_in = false;            // pending-in (stored request, RFC 6121 §3.1.3)
  bool approved = false;              // pre-approved (RFC 6121 §3.4)
  std::vector<std::string> groups;
  std::string pending_in_stanza;  // the stored subscribe request, serialized
};

class RosterStore {
 public:
  virtual ~RosterStore() = default;
  virtual std::vector<RosterItem> items(const AccountKey& owner) = 0;
  virtual std::optional<RosterItem> item(const AccountKey& owner, const std::string& jid) = 0;
  virtual void put(const AccountKey& owner, const RosterItem& item) = 0;  // upsert
  virtual bool remove(const AccountKey& owner, const std::string& jid) = 0;
  // Roster version (XEP-0237): bumped by every put/remove.
  virtual std::int64_t version(const AccountKey& owner) = 0;
};

// Offline messages: serialized stanzas in arrival order.
class OfflineStore {
 public:
  virtual ~OfflineStore() = default;
  virtual void push(const AccountKey& owner, const std::string& stanza_xml) = 0;
  virtual std::size_t count(const AccountKey& owner) = 0;
  // Returns and deletes all stored stanzas, oldest first.
  virtual std::vector<std::string> pop_all(const AccountKey& owner) = 0;
};

// Per-account XML blobs keyed by a name: vcard-temp ("vcard"), private XML
// storage ("private:{ns}name"), blocklist is separate below.
class DocumentStore {
 public:
  virtual ~DocumentStore() = default;
  virtual std::optional<std::string> get(const AccountKey& owner, const std::string& key) = 0;
  virtual void put(const AccountKey& owner, const std::string& key, const std::string& xml) = 0;
  virtual bool remove(const AccountKey& owner, const std::string& key) = 0;
};

class BlocklistStore {
 public:
  virtual ~BlocklistStore() = default;
  virtual std::vector<std::string> items(const AccountKey& owner) = 0;
  virtual void add(const AccountKey& owner, const std::vector<std::string>& jids) = 0;
  // Empty `jids`: unblock all.
  virtual void remove(const AccountKey& owner, const std::vector<std::string>& jids) = 0;
};

// Message archive (XEP-0313). Rows are keyed by an "archive owner": the
// bare JID string of an account ("user@domain") or of a room, so one table
// serves user and MUC archives. An archive id is a positive integer that
// orders rows by arrival (the MAM module makes it from the time, see
// docs/mam.md); ids are unique across all archives and never reused.
struct ArchiveRow {
  std::string owner;
  std::int64_t id = 0;
  std::string with;           // the peer's bare JID
  std::string with_resource;  // the peer's resource, if any
  std::string stanza;         // the message, serialized
};

// What to read from one archive. Bounds are exclusive; a filter left empty
// matches everything.
struct ArchiveQuery {
  std::string with;           // peer bare JID
  std::string with_resource;  // with `with`: only this full JID; alone: this resource (a nick)
  std::int64_t after = 0;
  std::int64_t before = INT64_MAX;
  std::vector<std::int64_t> ids;  // non-empty: only these ids (bounds still apply)
  std::size_t limit = 50;
  // False: the oldest `limit` rows in range; true: the newest (RSM <before>).
  bool from_end = false;
  bool with_count = false;  // also count every row in range (costs a scan)
};

struct ArchivePage {
  std::vector<ArchiveRow> rows;  // oldest first, whatever the direction
  // No further row in the paging direction.
  bool complete = true;
  std::optional<std::size_t> count;
};

// Per-archive preferences (XEP-0313 §6): default "always" | "never" |
// "roster", and JIDs always or never archived.
struct ArchivePrefs {
  std::string default_mode;
  std::vector<std::string> always;
  std::vector<std::string> never;
  bool operator==(const ArchivePrefs&) const = default;
};

class MessageArchive {
 public:
  virtual ~MessageArchive() = default;
  // Writes rows (of any owners) in one transaction.
  virtual void append(const std::vector<ArchiveRow>& rows) = 0;
  virtual ArchivePage query(const std::string& owner, const ArchiveQuery& q) = 0;
  virtual bool contains(const std::string& owner, std::int64_t id) = 0;
  // The oldest and newest row of an archive (ids and stanzas).
  virtual std::optional<std::pair<ArchiveRow, ArchiveRow>> bounds(const std::string& owner) = 0;
  // Deletes an archive's rows and prefs; returns the rows deleted.
  virtual std::size_t remove_owner(const std::string& owner) = 0;
  // Deletes at most `max_rows` rows of any archive with an id below `id`
  // (retention); returns how many went, so callers repeat until 0.
  virtual std::size_t purge_before(std::int64_t id, std::size_t max_rows) = 0;
  // The same for one archive only (a room's own retention).
  virtual std::size_t purge_owner_before(const std::string& owner, std::int64_t id,
                                         std::size_t max_rows) = 0;
  // Replaces the stanza of one row (a retracted message's tombstone); false
  // when the archive has no such row.
  virtual bool replace(const std::string& owner, std::int64_t id, const std::string& stanza) = 0;
  // The highest id stored (0 when empty), so new ids stay above it.
  virtual std::int64_t max_id() = 0;
  virtual std::optional<ArchivePrefs> prefs(const std::string& owner) = 0;
  virtual void set_prefs(const std::string& owner, const ArchivePrefs& prefs) = 0;
  // Every archive's stored prefs (few: only those who changed them).
  virtual std::vector<std::pair<std::string, ArchivePrefs>> all_prefs() = 0;
};

// A persistent multi-user chat room (XEP-0045): what survives a restart.
// Occupants and history do not.
struct MucRoomRecord {
  std::string jid;      // the room's bare JID
  std::string config;   // its configuration, as the muc module writes it
  std::string subject;
  std::string subject_nick;  // who set the subject; empty: the room
  // Bare JID and affiliation name ("owner", "admin", "member", "outcast").
  std::vector<std::pair<std::string, std::string>> affiliations;
  // Registered nicks (§7.10): bare JID and nick, each one of an affiliated
  // JID (stored with its affiliation).
  std::vector<std::pair<std::string, std::string>> nicks;
  std::string vcard;  // the room's vCard (its avatar, XEP-0486), serialized; empty: none
  bool operator==(const MucRoomRecord&) const = default;
};

class MucStore {
 public:
  virtual ~MucStore() = default;
  // Every stored room of one service domain (conference.example.com).
  virtual std::vector<MucRoomRecord> rooms(const std::string& service) = 0;
  // Writes the whole room (configuration, subject, affiliations, nicks, vCard), replacing
  // what was stored, in one transaction.
  virtual void put(const MucRoomRecord& room) = 0;
  // Forgets a room; false when it was not stored.
  virtual bool remove(const std::string& jid) = 0;
};

// Publish-subscribe (XEP-0060), for PEP (XEP-0163) and a pubsub service.
// Everything is keyed by (service, node): service is the bare JID string of
// an account for PEP ("user@example.org") or a pubsub domain
// ("pubsub.example.org"). A node's configuration is opaque text that the
// pubsub code writes and reads; items are ordered by when they were last
// published (a republished id becomes the newest).
struct PubsubNodeRecord {
  std::string service;
  std::string node;
  std::string config;
  bool operator==(const PubsubNodeRecord&) const = default;
};

struct PubsubItemRecord {
  std::string id;
  std::string publisher;  // bare or full JID of who published it
  std::string payload;    // the item's payload, serialized (may be empty)
  std::int64_t published_at = 0;  // unix milliseconds
  bool operator==(const PubsubItemRecord&) const = default;
};

// (JID, affiliation or subscription state) of one node.
struct PubsubEntry {
  std::string jid;
  std::string value;
  std::string options;  // a subscription's options (XEP-0060 §6.3), serialized; empty: defaults
  bool operator==(const PubsubEntry&) const = default;
};

class PubsubStore {
 public:
  virtual ~PubsubStore() = default;
  virtual std::optional<PubsubNodeRecord> node(const std::string& service,
                                               const std::string& node) = 0;
  // Every node of a service, ordered by name.
  virtual std::vector<PubsubNodeRecord> nodes(const std::string& service) = 0;
  // False when the node exists already.
  virtual bool create_node(const PubsubNodeRecord& node) = 0;
  // False when there is no such node.
  virtual bool set_config(const std::string& service, const std::string& node,
                          const std::string& config) = 0;
  // Removes the node with its items, affiliations and subscriptions.
  virtual bool delete_node(const std::string& service, const std::string& node) = 0;
  // Stores the item (replacing one with its id, which becomes the newest)
  // and then keeps only the newest `max_items` (0: no limit), in one
  // transaction. False when there is no such node.
  virtual bool publish(const std::string& service, const std::string& node,
                       const PubsubItemRecord& item, std::size_t max_items) = 0;
  // False when there was no such item.
  virtual bool retract(const std::string& service, const std::string& node,
                       const std::string& id) = 0;
  // Removes every item of the node; returns how many went.
  virtual std::size_t purge(const std::string& service, const std::string& node) = 0;
  // Items, newest first: those with the given ids (all when empty), at most
  // `limit` (0: no limit).
  virtual std::vector<PubsubItemRecord> items(const std::string& service, const std::string& node,
                                              const std::vector<std::string>& ids,
                                              std::size_t limit) = 0;
  // Affiliations ("owner", "publisher", "member", "outcast", …) by JID.
  virtual std::vector<PubsubEntry> affiliations(const std::string& service,
                                                const std::string& node) = 0;
  // value "none" removes the JID's affiliation.
  virtual void set_affiliation(const std::string& service, const std::string& node,
                               const std::string& jid, const std::string& value) = 0;
  // Subscriptions ("subscribed", "pending", "unconfigured") by JID.
  virtual std::vector<PubsubEntry> subscriptions(const std::string& service,
                                                 const std::string& node) = 0;
  // value "none" removes the JID's subscription.
  virtual void set_subscription(const std::string& service, const std::string& node,
                                const std::string& jid, const std::string& value) = 0;
  // The subscriptions of one JID across a service: (node, state).
  // Replaces the options of an existing subscription; false when `jid`
  // has none to the node.
  virtual bool set_subscription_options(const std::string& service, const std::string& node,
                                        const std::string& jid, const std::string& options) = 0;
  virtual std::vector<PubsubEntry> subscriptions_of(const std::string& service,
                                                    const std::string& jid) = 0;
  // Removes a whole service (an account's PEP on account deletion).
  virtual void remove_service(const std::string& service) = 0;
};

// Many reads and writes of many accounts in one transaction, for `tern
// import` and `tern export`: 100,000 accounts become ~100 commits instead of
// millions. A write batch holds the database's write lock from creation to
// commit() or destruction (which rolls back), so callers keep each batch to
// about a second of work; a read batch pins one snapshot.
class BulkTransaction {
 public:
  virtual ~BulkTransaction() = default;
  virtual std::optional<AccountCredentials> credentials(const AccountKey& who) = 0;
  // Creates the account with these keys, or replaces the keys it has.
  virtual void put_credentials(const AccountKey& who, const AccountCredentials& c) = 0;
  virtual std::vector<RosterItem> roster_items(const AccountKey& owner) = 0;
  // Upserts one item (groups included) without bumping the roster version:
  // call bump_roster_version once per owner after its changes.
  virtual void put_roster_item(const AccountKey& owner, const RosterItem& item) = 0;
  // put_roster_item for an item the owner does not have yet (cheaper).
  virtual void add_roster_item(const AccountKey& owner, const RosterItem& item) = 0;
  virtual void bump_roster_version(const AccountKey& owner) = 0;
  virtual std::optional<std::string> document(const AccountKey& owner, const std::string& key) = 0;
  virtual void put_document(const AccountKey& owner, const std::string& key,
                            const std::string& xml) = 0;
  // Every document of `owner` whose key starts with `prefix`, as (key, xml)
  // ordered by key (private XML storage: "private:").
  virtual std::vector<std::pair<std::string, std::string>> documents(const AccountKey& owner,
                                                                     const std::string& prefix) = 0;
  // Stored offline stanzas, oldest first, left in place.
  virtual std::vector<std::string> offline_messages(const AccountKey& owner) = 0;
  virtual void push_offline(const AccountKey& owner, const std::string& stanza_xml) = 0;
  virtual void commit() = 0;
};

// One opened store: all interfaces over one database.
class Storage {
 public:
  virtual ~Storage() = default;
  virtual AccountStore& accounts() = 0;
  virtual RosterStore& roster() = 0;
  virtual OfflineStore& offline() = 0;
  virtual DocumentStore& documents() = 0;
  virtual BlocklistStore& blocklist() = 0;
  virtual MessageArchive& archive() = 0;
  virtual MucStore& muc() = 0;
  virtual PubsubStore& pubsub() = 0;
  // Removes every row of an account, the account itself included, in one
  // transaction (account deletion).
  virtual void remove_account_data(const AccountKey& who) = 0;
  enum class BulkMode { kRead, kWrite };
  // Starts a bulk transaction (see BulkTransaction). Throws StorageError.
  virtual std::unique_ptr<BulkTransaction> begin_bulk(BulkMode mode) = 0;
};

// Opens (creating and migrating as needed) the configured backend.
// backend "sqlite": url is a file path. Throws StorageError on failure.
std::unique_ptr<Storage> open_storage(const std::string& backend, const std::string& url);

}  // namespace tern::storage
