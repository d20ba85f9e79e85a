// The SQLite implementations of each store interface (private to the driver;
// SqliteStorage is the public face). Each borrows a pooled connection per call.
#pragma once

#include "storage/sqlite/connection_pool.h"
#include "storage/storage.h"

namespace tern::storage::sqlite {

// Deletes the account row and every row the account owns, inside the
// caller's transaction. True if the account row existed.
bool delete_account_rows(Db& db, const AccountKey& who);
// Deletes an archive (XEP-0313) and its prefs, inside the caller's
// transaction; returns the rows deleted.
std::size_t delete_archive_rows(Db& db, const std::string& owner);
// Deletes a pubsub service (an account's PEP nodes) with everything in it,
// inside the caller's transaction.
void delete_pubsub_rows(Db& db, const std::string& service);
// Binds parameters ?3..?10 (sha1 salt, iter, stored, server; then sha256).
void bind_credentials(Query& q, const AccountCredentials& c);
// Inserts an account row with these keys (created now). An account that
// exists already keeps its row (kKeep: false is returned) or gets these keys
// (kReplaceKeys, for a bulk import). True when a row was written.
enum class ExistingAccount { kKeep, kReplaceKeys };
bool insert_account(Db& db, const AccountKey& who, const AccountCredentials& c,
                    ExistingAccount existing);
// The SCRAM keys of an account; nullopt when there is none.
std::optional<AccountCredentials> read_credentials(Db& db, const AccountKey& who);
// An owner's roster items with their groups, ordered by jid (call inside a
// transaction so items and groups come from one snapshot).
std::vector<RosterItem> read_roster(Db& db, const AccountKey& owner);
// Upserts one roster item and replaces its groups; the version is the caller's.
void write_roster_item(Db& db, const AccountKey& owner, const RosterItem& item);
// The same for an item known to be new (bulk import): no old groups to delete.
void write_new_roster_item(Db& db, const AccountKey& owner, const RosterItem& item);
// One per-account XML document (vCard, private storage) by key.
std::optional<std::string> read_document(Db& db, const AccountKey& owner, const std::string& key);
void write_document(Db& db, const AccountKey& owner, const std::string& key,
                    const std::string& xml);
// The documents whose key starts with `prefix`, ordered by key.
std::vector<std::pair<std::string, std::string>> read_documents(Db& db, const AccountKey& owner,
                                                                const std::string& prefix);

class SqliteAccounts final : public AccountStore {
 public:
  SqliteAccounts(ConnectionPool& pool, int iterations) : pool_(pool), iterations_(iterations) {}
  bool create(const AccountKey& who, const std::string& password) override;
  bool remove(const AccountKey& who) override;
  bool set_password(const AccountKey& who, const std::string& password) override;
  bool exists(const AccountKey& who) override;
  std::optional<AccountCredentials> credentials(const AccountKey& who) override;
  bool check_password(const AccountKey& who, const std::string& password) override;
  std::vector<AccountKey> list(const std::string& domain) override;

 private:
  AccountCredentials derive(const std::string& password) const;

  ConnectionPool& pool_;
  const int iterations_;
};

class SqliteRoster final : public RosterStore {
 public:
  explicit SqliteRoster(ConnectionPool& pool) : pool_(pool) {}
  std::vector<RosterItem> items(const AccountKey& owner) override;
  std::optional<RosterItem> item(const AccountKey& owner, const std::string& jid) override;
  void put(const AccountKey& owner, const RosterItem& item) override;
  bool remove(const AccountKey& owner, const std::string& jid) override;
  std::int64_t version(const AccountKey& owner) override;

 private:
  ConnectionPool& pool_;
};

class SqliteOffline final : public OfflineStore {
 public:
  explicit SqliteOffline(ConnectionPool& pool) : pool_(pool) {}
  void push(const AccountKey& owner, const std::string& stanza_xml) override;
  std::size_t count(const AccountKey& owner) override;
  std::vector<std::string> pop_all(const AccountKey& owner) override;

 private:
  ConnectionPool& pool_;
};

class SqliteDocuments final : public DocumentStore {
 public:
  explicit SqliteDocuments(ConnectionPool& pool) : pool_(pool) {}
  std::optional<std::string> get(const AccountKey& owner, const std::string& key) override;
  void put(const AccountKey& owner, const std::string& key, const std::string& xml) override;
  bool remove(const AccountKey& owner, const std::string& key) override;

 private:
  ConnectionPool& pool_;
};

class SqliteBlocklist final : public BlocklistStore {
 public:
  explicit SqliteBlocklist(ConnectionPool& pool) : pool_(pool) {}
  std::vector<std::string> items(const AccountKey& owner) override;
  void add(const AccountKey& owner, const std::vector<std::string>& jids) override;
  void remove(const AccountKey& owner, const std::vector<std::string>& jids) override;

 private:
  ConnectionPool& pool_;
};

class SqliteArchive final : public MessageArchive {
 public:
  explicit SqliteArchive(ConnectionPool& pool) : pool_(pool) {}
  void append(const std::vector<ArchiveRow>& rows) override;
  ArchivePage query(const std::string& owner, const ArchiveQuery& q) override;
  bool contains(const std::string& owner, std::int64_t id) override;
  std::optional<std::pair<ArchiveRow, ArchiveRow>> bounds(const std::string& owner) override;
  std::size_t remove_owner(const std::string& owner) override;
  std::size_t purge_before(std::int64_t id, std::size_t max_rows) override;
  std::size_t purge_owner_before(const std::string& owner, std::int64_t id,
                                 std::size_t max_rows) override;
  bool replace(const std::string& owner, std::int64_t id, const std::string& stanza) override;
  std::int64_t max_id() override;
  std::optional<ArchivePrefs> prefs(const std::string& owner) override;
  void set_prefs(const std::string& owner, const ArchivePrefs& prefs) override;
  std::vector<std::pair<std::string, ArchivePrefs>> all_prefs() override;

 private:
  ConnectionPool& pool_;
};

class SqliteMuc final : public MucStore {
 public:
  explicit SqliteMuc(ConnectionPool& pool) : pool_(pool) {}
  std::vector<MucRoomRecord> rooms(const std::string& service) override;
  void put(const MucRoomRecord& room) override;
  bool remove(const std::string& jid) override;

 private:
  ConnectionPool& pool_;
};

class SqlitePubsub final : public PubsubStore {
 public:
  explicit SqlitePubsub(ConnectionPool& pool) : pool_(pool) {}
  std::optional<PubsubNodeRecord> node(const std::string& service,
                                       const std::string& node) override;
  std::vector<PubsubNodeRecord> nodes(const std::string& service) override;
  bool create_node(const PubsubNodeRecord& node) override;
  bool set_config(const std::string& service, const std::string& node,
                  const std::string& config) override;
  bool delete_node(const std::string& service, const std::string& node) override;
  bool publish(const std::string& service, const std::string& node, const PubsubItemRecord& item,
               std::size_t max_items) override;
  bool retract(const std::string& service, const std::string& node, const std::string& id) override;
  std::size_t purge(const std::string& service, const std::string& node) override;
  std::vector<PubsubItemRecord> items(const std::string& service, const std::string& node,
                                      const std::vector<std::string>& ids,
                                      std::size_t limit) override;
  std::vector<PubsubEntry> affiliations(const std::string& service, const std::string& node) override;
  void set_affiliation(const std::string& service, const std::string& node, const std::string& jid,
                       const std::string& value) override;
  std::vector<PubsubEntry> subscriptions(const std::string& service,
                                         const std::string& node) override;
  void set_subscription(const std::string& service, const std::string& node,
                        const std::string& jid, const std::string& value) override;
  bool set_subscription_options(const std::string& service, const std::string& node,
                                const std::string& jid, const std::string& options) override;
  std::vector<PubsubEntry> subscriptions_of(const std::string& service,
                                            const std::string& jid) override;
  void remove_service(const std::string& service) override;

 private:
  ConnectionPool& pool_;
};

}  // namespace tern::storage::sqlite
