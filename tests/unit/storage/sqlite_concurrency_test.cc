// Several threads on one SqliteStorage plus a second SqliteStorage on the
// same file (what the `tern user` command is next to a running server), all
// writing at once: every row must arrive, and per-writer order must hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

constexpr int kServerThreads = 4;
constexpr int kAccountsPerWriter = 10;
constexpr int kMessagesPerWriter = 40;
constexpr int kRosterPutsPerWriter = 15;

RosterItem contact(std::string jid, std::vector<std::string> groups = {},
                   std::string subscription = "none", std::string name = "", bool ask_out = false) {
  RosterItem item;
  item.jid = std::move(jid);
  item.name = std::move(name);
  item.subscription = std::move(subscription);
  item.ask_out = ask_out;
  item.groups = std::move(groups);
  return item;
}

// A thread whose StorageError (or any exception) fails the test instead of
// terminating the whole test binary, which would hide every other result.
template <typename F>
std::thread catching_thread(F work) {
  return std::thread([work = std::move(work)]() mutable {
    try {
      work();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "a test thread threw: " << e.what();
    }
  });
}

// One writer's work: accounts, offline messages to a shared inbox, and
// roster puts to a shared owner (so version bumps race too).
void write_all(Storage& storage, const std::string& writer) {
  const AccountKey inbox{"inbox", "example.org"};
  for (int i = 0; i < kAccountsPerWriter; ++i) {
    AccountKey who{writer + "-" + std::to_string(i), "example.org"};
    EXPECT_TRUE(storage.accounts().create(who, "pw-" + who.user));
    storage.offline().push(who, "<message>hi " + who.user + "</message>");
  }
  for (int i = 0; i < kMessagesPerWriter; ++i) {
    storage.offline().push(inbox, writer + ":" + std::to_string(i));
  }
  for (int i = 0; i < kRosterPutsPerWriter; ++i) {
    storage.roster().put(inbox, contact(writer + "-" + std::to_string(i) + "@x", {writer}));
  }
}

TEST(SqliteConcurrencyTest, ThreadsAndASecondProcessLikeStorageAllLand) {
  TempDir dir;
  const std::string path = dir.file("tern.db");
  SqliteStorage server(path, SqliteOptions{.scram_iterations = 32, .max_connections = 3});
  SqliteStorage cli(path, SqliteOptions{.scram_iterations = 32, .max_connections = 1});

  // Start everyone together so the writes really overlap.
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kServerThreads; ++t) {
    threads.push_back(catching_thread([&, t] {
      while (!go.load()) std::this_thread::yield();
      write_all(server, "s" + std::to_string(t));
    }));
  }
  threads.push_back(catching_thread([&] {
    while (!go.load()) std::this_thread::yield();
    write_all(cli, "cli");
  }));
  go.store(true);
  for (auto& t : threads) t.join();

  // At most max_connections were ever opened by the server object.
  EXPECT_LE(server.pool().open_connections(), 3u);

  const int writers = kServerThreads + 1;
  const AccountKey inbox{"inbox", "example.org"};
  auto accounts = server.accounts().list("example.org");
  EXPECT_EQ(accounts.size(), static_cast<std::size_t>(writers * kAccountsPerWriter));
  for (const auto& who : accounts) {
    EXPECT_TRUE(cli.accounts().check_password(who, "pw-" + who.user)) << who.user;
    EXPECT_EQ(server.offline().pop_all(who),
              std::vector<std::string>{"<message>hi " + who.user + "</message>"});
  }

  EXPECT_EQ(server.offline().count(inbox), static_cast<std::size_t>(writers * kMessagesPerWriter));
  // Each writer's messages come back complete and in the order it sent them.
  std::map<std::string, std::vector<int>> by_writer;
  for (const std::string& m : cli.offline().pop_all(inbox)) {
    auto colon = m.find(':');
    by_writer[m.substr(0, colon)].push_back(std::stoi(m.substr(colon + 1)));
  }
  ASSERT_EQ(by_writer.size(), static_cast<std::size_t>(writers));
  std::vector<int> expected(kMessagesPerWriter);
  for (int i = 0; i < kMessagesPerWriter; ++i) expected[i] = i;
  for (const auto& [writer, seqs] : by_writer) EXPECT_EQ(seqs, expected) << writer;

  // Every roster put bumped the version exactly once.
  EXPECT_EQ(server.roster().version(inbox), writers * kRosterPutsPerWriter);
  auto roster = server.roster().items(inbox);
  ASSERT_EQ(roster.size(), static_cast<std::size_t>(writers * kRosterPutsPerWriter));
  for (const auto& item : roster) {
    ASSERT_EQ(item.groups.size(), 1u);
    EXPECT_EQ(item.jid.substr(0, item.groups[0].size() + 1), item.groups[0] + "-");
  }
}

// pop_all reads then deletes; with pushes landing in between (from this
// object and from a second one on the file), nothing may be lost, repeated
// or reordered, and no SQLITE_BUSY may escape.
TEST(SqliteConcurrencyTest, PopAllRacingPushesLosesNothing) {
  TempDir dir;
  const std::string path = dir.file("tern.db");
  SqliteStorage server(path);
  SqliteStorage cli(path);
  const AccountKey owner{"alice", "example.org"};
  constexpr int kPushes = 300;

  std::atomic<int> pushers_done{0};
  auto pusher = [&](Storage& storage, const std::string& tag) {
    try {
      for (int i = 0; i < kPushes; ++i)
        storage.offline().push(owner, tag + ":" + std::to_string(i));
    } catch (...) {
      ++pushers_done;  // or the drain loop below would wait forever
      throw;
    }
    ++pushers_done;
  };
  std::thread a = catching_thread([&] { pusher(server, "server"); });
  std::thread b = catching_thread([&] { pusher(cli, "cli"); });

  std::map<std::string, std::vector<int>> popped;
  auto drain = [&] {
    for (const std::string& m : server.offline().pop_all(owner)) {
      auto colon = m.find(':');
      popped[m.substr(0, colon)].push_back(std::stoi(m.substr(colon + 1)));
    }
  };
  while (pushers_done.load() < 2) drain();
  a.join();
  b.join();
  drain();

  std::vector<int> expected(kPushes);
  for (int i = 0; i < kPushes; ++i) expected[i] = i;
  EXPECT_EQ(popped["server"], expected);
  EXPECT_EQ(popped["cli"], expected);
  EXPECT_EQ(server.offline().count(owner), 0u);
}

// Deterministic form of the race above: another connection holds the write
// lock with an uncommitted push. pop_all must wait for it (busy_timeout) and
// then take both rows, rather than read a stale snapshot and fail on delete.
TEST(SqliteConcurrencyTest, PopAllWaitsForAnotherWriterAndSeesItsRows) {
  TempDir dir;
  const std::string path = dir.file("tern.db");
  SqliteStorage storage(path);
  const AccountKey owner{"alice", "example.org"};
  storage.offline().push(owner, "one");

  Db other(path);
  other.exec("BEGIN IMMEDIATE");
  other
      .query(
          "INSERT INTO offline (owner_user, owner_domain, stanza, stored_at)"
          " VALUES ('alice', 'example.org', 'two', 0)")
      .run();
  std::vector<std::string> got;
  std::string error;
  std::thread popper([&] {
    try {
      got = storage.offline().pop_all(owner);
    } catch (const StorageError& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  other.exec("COMMIT");
  popper.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(storage.offline().count(owner), 0u);
}

TEST(SqliteConcurrencyTest, PoolWaitsInsteadOfExceedingItsCap) {
  TempDir dir;
  SqliteStorage storage(dir.file("tern.db"), SqliteOptions{.max_connections = 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.push_back(catching_thread([&, t] {
      AccountKey who{"u" + std::to_string(t), "example.org"};
      for (int i = 0; i < 50; ++i) storage.documents().put(who, "k" + std::to_string(i), "<x/>");
    }));
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(storage.pool().open_connections(), 2u);
  for (int t = 0; t < 6; ++t) {
    AccountKey who{"u" + std::to_string(t), "example.org"};
    EXPECT_EQ(storage.documents().get(who, "k49"), "<x/>");
  }
}

// `tern user add` while `tern serve` opens a fresh data directory: both
// switch the new file to WAL and migrate it at once. SQLite answers the
// loser of that race SQLITE_BUSY without waiting on busy_timeout (the lock
// upgrade would deadlock), and the StorageError it became once killed the
// process from a thread. The race is narrow, so many fresh files are opened
// in pairs; each thread catches what it gets so a failure is reported, not
// an abort.
TEST(SqliteConcurrencyTest, TwoOpenersOfAFreshFileBothMigrate) {
  constexpr int kPairs = 1000;
  // The race is in SQLite's file locks, not in the disk: on a tmpfs the
  // fsyncs of 1,000 fresh databases cost nothing (on /tmp they took 110 ms a
  // pair here, so the test took minutes).
  std::error_code ec;
  TempDir dir(std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                             : std::filesystem::temp_directory_path());
  std::vector<std::string> errors;
  std::mutex errors_mutex;
  for (int pair = 0; pair < kPairs && errors.empty(); ++pair) {
    const std::string path = dir.file("tern-" + std::to_string(pair) + ".db");
    std::atomic<int> ready{0};
    auto open_and_write = [&](const std::string& who) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      try {
        SqliteStorage storage(path, SqliteOptions{.scram_iterations = 32, .max_connections = 1});
        storage.documents().put(AccountKey{who, "example.org"}, "k", "v");
      } catch (const StorageError& e) {
        std::lock_guard lock(errors_mutex);
        errors.push_back("pair " + std::to_string(pair) + ", " + who + ": " + e.what());
      }
    };
    std::thread server(open_and_write, "server");
    std::thread cli(open_and_write, "cli");
    server.join();
    cli.join();
    if (!errors.empty()) break;
    // Both writes landed in one schema, and the file is in WAL mode.
    Db db(path);
    Query mode = db.query("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    ASSERT_EQ(mode.column_text(0), "wal") << "pair " << pair;
    Query owners = db.query("SELECT group_concat(owner_user) FROM"
                            " (SELECT owner_user FROM documents ORDER BY owner_user)");
    ASSERT_TRUE(owners.step());
    ASSERT_EQ(owners.column_text(0), "cli,server") << "pair " << pair;
  }
  EXPECT_EQ(errors, std::vector<std::string>{});
}

// A backup or `tern user add` holds the write lock for a while, shorter than
// busy_timeout, while the server's threads keep writing. SQLite's busy handler
// polls on a back-off (up to 100 ms apart) and is not fair: once the lock is
// free, writers of one process race each other, and one that keeps losing
// failed with "database is locked" although the file was free most of the
// time (an offline message was bounced at shutdown this way). Every write
// must wait its turn instead, bounded only by the other process's lock.
TEST(SqliteConcurrencyTest, WritersOfOneProcessAllOutlastAnotherProcessLock) {
  constexpr int kWriters = 6;
  constexpr auto kHold = std::chrono::milliseconds(600);
  constexpr auto kWriting = std::chrono::milliseconds(2500);
  TempDir dir;
  const std::string path = dir.file("tern.db");
  SqliteStorage storage(path, SqliteOptions{.scram_iterations = 32,
                                            .max_connections = kWriters,
                                            .busy_timeout_ms = 1500});
  Db other(path);
  other.exec("BEGIN IMMEDIATE");
  const auto until = std::chrono::steady_clock::now() + kWriting;
  std::atomic<int> pushed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.push_back(catching_thread([&, t] {
      const AccountKey inbox{"inbox" + std::to_string(t), "example.org"};
      while (std::chrono::steady_clock::now() < until) {
        storage.offline().push(inbox, "<message/>");
        ++pushed;
      }
    }));
  }
  std::this_thread::sleep_for(kHold);
  other.exec("COMMIT");
  for (auto& t : threads) t.join();
  std::size_t stored = 0;
  for (int t = 0; t < kWriters; ++t)
    stored += storage.offline().count(AccountKey{"inbox" + std::to_string(t), "example.org"});
  EXPECT_EQ(stored, static_cast<std::size_t>(pushed.load()));
}

}  // namespace
}  // namespace tern::storage::sqlite
