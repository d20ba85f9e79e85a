// The SQLite driver: every storage interface over one database file in WAL
// mode, so the server's blocking pool and the `tern user` command (another
// process) can use the same file at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "storage/sqlite/connection_pool.h"
#include "storage/storage.h"

namespace tern::storage::sqlite {

struct SqliteOptions {
  // PBKDF2 iterations for new SCRAM credentials (RFC 7677 asks for >= 4096;
  // tests lower it to stay fast).
  int scram_iterations = 4096;
  // Connections kept to the file; concurrent callers beyond this wait.
  std::size_t max_connections = 8;
  // How long a writer waits for another connection's write lock.
  int busy_timeout_ms = 5000;
};

class SqliteStorage final : public Storage {
 public:
  // Opens or creates `path` (and its parent directory) and migrates it.
  // Throws StorageError when it cannot, or when the schema is newer than
  // this code.
  explicit SqliteStorage(const std::string& path, SqliteOptions options = {});
  ~SqliteStorage() override;

  AccountStore& accounts() override;
  RosterStore& roster() override;
  OfflineStore& offline() override;
  DocumentStore& documents() override;
  BlocklistStore& blocklist() override;
  MessageArchive& archive() override;
  MucStore& muc() override;
  PubsubStore& pubsub() override;
  void remove_account_data(const AccountKey& who) override;
  std::unique_ptr<BulkTransaction> begin_bulk(BulkMode mode) override;

  ConnectionPool& pool() { return pool_; }

 private:
  ConnectionPool pool_;
  std::unique_ptr<AccountStore> accounts_;
  std::unique_ptr<RosterStore> roster_;
  std::unique_ptr<OfflineStore> offline_;
  std::unique_ptr<DocumentStore> documents_;
  std::unique_ptr<BlocklistStore> blocklist_;
  std::unique_ptr<MessageArchive> archive_;
  std::unique_ptr<MucStore> muc_;
  std::unique_ptr<PubsubStore> pubsub_;
};

}  // namespace tern::storage::sqlite
