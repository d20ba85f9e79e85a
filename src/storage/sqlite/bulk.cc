// Bulk transactions (import/export): one borrowed connection and one
// transaction for a whole batch of accounts. The statements are the same
// cached ones the per-call stores use where they can be, so a batch costs
// SQLite's per-row work and nothing per call.
#include <chrono>
#include <utility>

#include "core/clock.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {
namespace {

// Bulk transactions write index pages all over the file, so their
// connection gets a 64 MiB page cache instead of the pool's 256 KiB (see
// sqlite_db.cc) and keeps it: setting it back would drop the cached pages
// before the next batch. Only the import and export commands, one-shot
// processes, take bulk transactions.
void use_large_cache(Db& db) { db.exec("PRAGMA cache_size=-65536"); }

class SqliteBulk final : public BulkTransaction {
 public:
  SqliteBulk(ConnectionPool::Lease lease, Storage::BulkMode mode)
      : db_(std::move(lease)),
        tx_((use_large_cache(*db_), *db_), mode == Storage::BulkMode::kWrite
                                               ? Transaction::Mode::kWrite
                                               : Transaction::Mode::kRead) {}

  std::optional<AccountCredentials> credentials(const AccountKey& who) override {
    return read_credentials(*db_, who);
  }

  void put_credentials(const AccountKey& who, const AccountCredentials& c) override {
    insert_account(*db_, who, c, ExistingAccount::kReplaceKeys);
  }

  std::vector<RosterItem> roster_items(const AccountKey& owner) override {
    return read_roster(*db_, owner);
  }

  void put_roster_item(const AccountKey& owner, const RosterItem& item) override {
    write_roster_item(*db_, owner, item);
  }

  void add_roster_item(const AccountKey& owner, const RosterItem& item) override {
    write_new_roster_item(*db_, owner, item);
  }

  void bump_roster_version(const AccountKey& owner) override {
    db_->query(
           "INSERT INTO roster_version (owner_user, owner_domain, version) VALUES (?1, ?2, 1)"
           " ON CONFLICT (owner_user, owner_domain) DO UPDATE SET version = version + 1")
        .bind_owner(1, owner)
        .run();
  }

  std::optional<std::string> document(const AccountKey& owner, const std::string& key) override {
    return read_document(*db_, owner, key);
  }

  void put_document(const AccountKey& owner, const std::string& key,
                    const std::string& xml) override {
    write_document(*db_, owner, key, xml);
  }

  std::vector<std::pair<std::string, std::string>> documents(const AccountKey& owner,
                                                             const std::string& prefix) override {
    return read_documents(*db_, owner, prefix);
  }

  std::vector<std::string> offline_messages(const AccountKey& owner) override {
    Query q = db_->query(
        "SELECT stanza FROM offline WHERE owner_user = ?1 AND owner_domain = ?2 ORDER BY seq");
    q.bind_owner(1, owner);
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.column_text(0));
    return out;
  }

  void push_offline(const AccountKey& owner, const std::string& stanza_xml) override {
    db_->query(
           "INSERT INTO offline (owner_user, owner_domain, stanza, stored_at)"
           " VALUES (?1, ?2, ?3, ?4)")
        .bind_owner(1, owner)
        .bind(3, stanza_xml)
        .bind(4, core::unix_now())
        .run();
  }

  void commit() override { tx_.commit(); }

 private:
  // Declared before tx_: the transaction ends before the lease goes back.
  ConnectionPool::Lease db_;
  Transaction tx_;
};

}  // namespace

std::unique_ptr<BulkTransaction> SqliteStorage::begin_bulk(BulkMode mode) {
  return std::make_unique<SqliteBulk>(pool_.borrow(), mode);
}

}  // namespace tern::storage::sqlite
