// A thin RAII layer over one sqlite3 connection: prepared statements cached
// per connection, typed bind/column helpers, and an IMMEDIATE transaction
// guard. Every SQLite failure becomes a StorageError naming the statement.
// A Db is used by one thread at a time (the pool in SqliteStorage hands it
// out); it is opened in multi-thread mode, so it takes no mutex of its own.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tern::storage::sqlite {

class Db;

// A connection's turn at its pool's write gate (see Db::set_write_gate),
// given back when destroyed. Empty when the connection has no gate or one
// of its statements or transactions holds the turn already.
class WriteTurn {
 public:
  WriteTurn() = default;
  explicit WriteTurn(Db& db);
  WriteTurn(WriteTurn&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  WriteTurn& operator=(WriteTurn&& other) noexcept {
    release();
    db_ = std::exchange(other.db_, nullptr);
    return *this;
  }
  ~WriteTurn() { release(); }
  explicit operator bool() const { return db_ != nullptr; }
  void release();

 private:
  Db* db_ = nullptr;
};

// A cached prepared statement in use. Destruction resets it and clears its
// bindings, so a half-read SELECT never keeps a read transaction (and the
// WAL snapshot behind it) open after the caller is done.
class Query {
 public:
  Query(Db& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query(Query&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), turn_(std::move(other.turn_)) {}
  Query& operator=(Query&&) = delete;
  ~Query();

  // Parameters are 1-based, as in SQLite. Values are copied by SQLite, so
  // temporaries are safe to pass.
  Query& bind(int index, std::string_view text);
  Query& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Query& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Query& bind_blob(int index, std::string_view bytes);
  Query& bind(int index, std::int64_t value);
  Query& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Query& bind(int index, bool value) { return bind(index, static_cast<std::int64_t>(value)); }

  // Binds (index, index+1) to an owner's (user, domain).
  template <typename Key>
  Query& bind_owner(int index, const Key& owner) {
    bind(index, owner.user);
    return bind(index + 1, owner.domain);
  }

  // True when a row is available; false when the statement is done.
  bool step();
  // Runs a statement that returns no rows; returns sqlite3_changes().
  int run();

  // Columns are 0-based, as in SQLite. Text and blobs come back as bytes.
  std::string column_text(int index) const;
  std::int64_t column_int(int index) const;
  bool column_bool(int index) const { return column_int(index) != 0; }

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
  // A writing statement outside a write transaction takes its connection's
  // turn to write at its first step and keeps it until reset.
  WriteTurn turn_;
};

class Db {
 public:
  // Opens (creating if needed) the database file and applies the connection
  // pragmas: WAL, synchronous=NORMAL, foreign_keys=ON, busy_timeout.
  explicit Db(const std::string& path, int busy_timeout_ms = 5000);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Returns the cached statement for `sql`, preparing it on first use. `sql`
  // is one statement; the cache is keyed by its text.
  Query query(std::string_view sql);
  // Runs one or more statements without caching (schema, pragmas, BEGIN).
  void exec(const std::string& sql);
  std::int64_t changes() const { return sqlite3_changes64(handle_); }

  sqlite3* handle() const { return handle_; }
  const std::string& path() const { return path_; }

  // Writers of one process take turns at `gate` before asking SQLite for
  // the write lock (the pool gives all its connections the same one).
  // SQLite's busy handler polls on a back-off up to 100 ms apart and is not
  // fair: when another process releases its lock, this process's writers
  // race each other, and one that keeps losing fails with SQLITE_BUSY after
  // busy_timeout although the file was free most of that time. With one
  // writer at a time, busy_timeout bounds only the wait for another process.
  void set_write_gate(std::mutex* gate) { write_gate_ = gate; }

  // Throws StorageError("sqlite error <code>: <errmsg> [in: <sql>]") for rc.
  [[noreturn]] void fail(int rc, std::string_view sql) const;

 private:
  // Sets journal_mode=WAL, retrying while another opener holds the lock.
  void switch_to_wal(int busy_timeout_ms);
  struct StmtDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  // Lets the cache be searched with a string_view without building a string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  friend class WriteTurn;
  std::string path_;
  sqlite3* handle_ = nullptr;
  std::mutex* write_gate_ = nullptr;
  bool in_write_gate_ = false;  // a WriteTurn of this connection holds the gate
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StmtDeleter>, Hash, Equal>
      statements_;
};

// BEGIN … COMMIT, rolled back when destroyed uncommitted (an exception on
// the way). A write transaction is BEGIN IMMEDIATE: it takes the write lock up
// front, so a read-then-write transaction waits on busy_timeout instead of
// failing with SQLITE_BUSY when another connection (or the CLI process) wrote
// meanwhile. A read transaction only pins one snapshot for several SELECTs.
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  explicit Transaction(Db& db, Mode mode = Mode::kWrite);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
  WriteTurn turn_;  // write mode only; kept until commit or rollback
};

}  // namespace tern::storage::sqlite
