#include "storage/sqlite/sqlite_storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "storage/sqlite/migrations.h"
#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {
namespace {

// Creates the parent directory and an empty owner-only file before SQLite
// opens it: SQLite would create it 0644, and it holds credential hashes.
// The -wal and -shm files SQLite makes later copy the database's mode.
void prepare_file(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) return;
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec)
      throw StorageError("cannot create directory " + p.parent_path().string() + ": " +
                         ec.message());
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StorageError("cannot open " + path + ": " + std::strerror(errno));
  ::close(fd);
}

std::string prepared(const std::string& path) {
  // The pool's connections are opened without their own mutex, which is only
  // sound when SQLite was built thread-safe.
  if (sqlite3_threadsafe() == 0)
    throw StorageError("sqlite: this libsqlite3 was built without thread support");
  prepare_file(path);
  return path;
}

}  // namespace

SqliteStorage::SqliteStorage(const std::string& path, SqliteOptions options)
    : pool_(prepared(path), options.max_connections, options.busy_timeout_ms),
      accounts_(std::make_unique<SqliteAccounts>(pool_, options.scram_iterations)),
      roster_(std::make_unique<SqliteRoster>(pool_)),
      offline_(std::make_unique<SqliteOffline>(pool_)),
      documents_(std::make_unique<SqliteDocuments>(pool_)),
      blocklist_(std::make_unique<SqliteBlocklist>(pool_)),
      archive_(std::make_unique<SqliteArchive>(pool_)),
      muc_(std::make_unique<SqliteMuc>(pool_)),
      pubsub_(std::make_unique<SqlitePubsub>(pool_)) {
  // The first connection migrates, then stays in the pool for reuse.
  auto db = pool_.borrow();
  migrate(*db, schema_migrations());
}

SqliteStorage::~SqliteStorage() = default;

AccountStore& SqliteStorage::accounts() { return *accounts_; }
RosterStore& SqliteStorage::roster() { return *roster_; }
OfflineStore& SqliteStorage::offline() { return *offline_; }
DocumentStore& SqliteStorage::documents() { return *documents_; }
BlocklistStore& SqliteStorage::blocklist() { return *blocklist_; }
MessageArchive& SqliteStorage::archive() { return *archive_; }
MucStore& SqliteStorage::muc() { return *muc_; }
PubsubStore& SqliteStorage::pubsub() { return *pubsub_; }

void SqliteStorage::remove_account_data(const AccountKey& who) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  delete_account_rows(*db, who);
  tx.commit();
}

}  // namespace tern::storage::sqlite
