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
