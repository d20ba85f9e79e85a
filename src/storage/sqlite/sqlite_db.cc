#include "storage/sqlite/sqlite_db.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "storage/storage.h"

namespace tern::storage::sqlite {

Query::~Query() {
  if (stmt_ == nullptr) return;
  // The result of reset repeats the last step's error, already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  // turn_, destroyed after this, gives the write gate back.
}

Query& Query::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

Query& Query::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static constexpr char kEmpty = 0;
  const char* data = bytes.empty() ? &kEmpty : bytes.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

Query& Query::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->fail(rc, sqlite3_sql(stmt_));
  return *this;
}

bool Query::step() {
  // BEGIN, COMMIT and ROLLBACK count as read-only: a Transaction gates them.
  if (!turn_ && !sqlite3_stmt_readonly(stmt_)) turn_ = WriteTurn(*db_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail(rc, sqlite3_sql(stmt_));
}

int Query::run() {
  while (step()) {
  }
  return static_cast<int>(db_->changes());
}

std::string Query::column_text(int index) const {
  // Ask for the blob view so embedded NULs and raw key bytes survive; the
  // pointer must be fetched before the size (SQLite's documented order).
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::int64_t Query::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

Db::Db(const std::string& path, int busy_timeout_ms) : path_(path) {
  // NOMUTEX: the pool guarantees one thread per connection at a time, so the
  // per-connection mutex of serialized mode would be pure overhead.
  int rc =
      sqlite3_open_v2(path.c_str(), &handle_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "sqlite: cannot open " + path + ": " +
                          (handle_ ? sqlite3_errmsg(handle_) : sqlite3_errstr(rc));
    sqlite3_close(handle_);
    handle_ = nullptr;
    throw StorageError(message);
  }
  try {
    // The busy timeout comes first: switching to WAL needs a lock that a
    // concurrent opener (the CLI next to the server) may be holding.
    sqlite3_busy_timeout(handle_, busy_timeout_ms);
    sqlite3_extended_result_codes(handle_, 1);
    switch_to_wal(busy_timeout_ms);
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
    // 256 KiB of page cache per connection instead of SQLite's 2 MiB: the
    // pool's connections each filled theirs during a login burst and kept
    // it (1,000 logins: 14.1 -> 8.5 KiB of server RSS per session). The
    // kernel's page cache, shared by all connections, holds the rest.
    exec("PRAGMA cache_size=-256");
  } catch (...) {
    sqlite3_close(handle_);
    handle_ = nullptr;
    throw;
  }
}

void Db::switch_to_wal(int busy_timeout_ms) {
  // Two connections switching a fresh file to WAL at once each hold a shared
  // lock and want an exclusive one; SQLite answers one of them SQLITE_BUSY at
  // once instead of calling the busy handler (waiting could deadlock), so the
  // busy timeout alone does not cover this race: retry until it has passed.
  static constexpr std::string_view kSql = "PRAGMA journal_mode=WAL";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  auto pause = std::chrono::microseconds(100);
  for (;;) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(handle_, kSql.data(), static_cast<int>(kSql.size()), &stmt,
                                nullptr);
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW || rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    // The answer is the mode now in force: "wal", or "memory" for an
    // in-memory database, where WAL does not apply.
    if (rc == SQLITE_OK) return;
    const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    if (!busy || std::chrono::steady_clock::now() >= deadline) fail(rc, kSql);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

Db::~Db() {
  // Statements must be finalized before the connection can close cleanly.
  statements_.clear();
  sqlite3_close(handle_);
}

Query Db::query(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      fail(rc, sql);
    }
    it = statements_.emplace(std::string(sql), stmt).first;
  }
  return Query(*this, it->second.get());
}

void Db::exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return;
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  throw StorageError("sqlite error " + std::to_string(rc) + ": " + message + " [in: " + sql + "]");
}

WriteTurn::WriteTurn(Db& db) {
  if (db.write_gate_ == nullptr || db.in_write_gate_) return;
  db.write_gate_->lock();
  db.in_write_gate_ = true;
  db_ = &db;
}

void WriteTurn::release() {
  if (db_ == nullptr) return;
  db_->in_write_gate_ = false;
  db_->write_gate_->unlock();
  db_ = nullptr;
}

void Db::fail(int rc, std::string_view sql) const {
  // errmsg describes the most recent failure on this connection, which is the
  // one at hand since a connection is never shared between threads.
  const char* message = handle_ ? sqlite3_errmsg(handle_) : sqlite3_errstr(rc);
  throw StorageError("sqlite error " + std::to_string(rc) + ": " + message +
                     " [in: " + std::string(sql) + "]");
}

Transaction::Transaction(Db& db, Mode mode) : db_(db) {
  if (mode == Mode::kWrite) turn_ = WriteTurn(db_);
  // Cached like any statement: transactions are on every write path.
  db_.query(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN").run();
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.query("ROLLBACK").run();
  } catch (const StorageError&) {
    // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL);
    // nothing is left to undo then, and a destructor must not throw.
  }
}

void Transaction::commit() {
  db_.query("COMMIT").run();
  done_ = true;
  turn_.release();
}

}  // namespace tern::storage::sqlite
