// A small pool of SQLite connections to one file. A storage call borrows a
// connection for its duration and gives it back; connections are opened on
// demand up to a cap, after which borrowers wait. This gives each concurrent
// caller its own connection (SQLite's rule for threads) without any
// thread_local state, and keeps each connection's statement cache warm.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_db.h"

namespace tern::storage::sqlite {

class ConnectionPool {
 public:
  ConnectionPool(std::string path, std::size_t max_connections, int busy_timeout_ms);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Db> db) : pool_(&pool), db_(std::move(db)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Db& operator*() const { return *db_; }
    Db* operator->() const { return db_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Db> db_;
  };

  // Waits while `max_connections` are all borrowed. Throws StorageError if a
  // new connection cannot be opened.
  Lease borrow();

  // Connections currently open (idle or borrowed); for tests.
  std::size_t open_connections();

 private:
  void give_back(std::unique_ptr<Db> db);

  const std::string path_;
  const std::size_t max_connections_;
  const int busy_timeout_ms_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Db>> idle_;  // guarded by mutex_
  std::size_t open_ = 0;                   // guarded by mutex_
  std::mutex write_gate_;                  // see Db::set_write_gate
};

}  // namespace tern::storage::sqlite
