#include "storage/sqlite/connection_pool.h"

#include <utility>

namespace tern::storage::sqlite {

ConnectionPool::ConnectionPool(std::string path, std::size_t max_connections, int busy_timeout_ms)
    : path_(std::move(path)),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      busy_timeout_ms_(busy_timeout_ms) {}

ConnectionPool::Lease::~Lease() {
  if (db_) pool_->give_back(std::move(db_));
}

ConnectionPool::Lease ConnectionPool::borrow() {
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < max_connections_; });
    if (!idle_.empty()) {
      std::unique_ptr<Db> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(db));
    }
    ++open_;
  }
  // Opened outside the lock: opening may wait on busy_timeout, and other
  // borrowers should not queue behind it.
  try {
    auto db = std::make_unique<Db>(path_, busy_timeout_ms_);
    db->set_write_gate(&write_gate_);
    return Lease(*this, std::move(db));
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      --open_;
    }
    available_.notify_one();
    throw;
  }
}

std::size_t ConnectionPool::open_connections() {
  std::lock_guard lock(mutex_);
  return open_;
}

void ConnectionPool::give_back(std::unique_ptr<Db> db) {
  // A connection still inside a transaction (a rollback that failed) would
  // hand its next borrower someone else's half-done work: close it instead.
  bool healthy = sqlite3_get_autocommit(db->handle()) != 0;
  if (!healthy) db.reset();
  {
    std::lock_guard lock(mutex_);
    if (healthy) {
      idle_.push_back(std::move(db));
    } else {
      --open_;
    }
  }
  available_.notify_one();
}

}  // namespace tern::storage::sqlite
