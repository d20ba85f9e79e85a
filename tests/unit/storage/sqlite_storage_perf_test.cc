// Timings of the SQLite driver's main operations. Disabled by default (they
// measure, they do not check); run with
//   unit_storage --gtest_also_run_disabled_tests --gtest_filter='*Perf*'
#include <gtest/gtest.h>

#include <time.h>
#include <chrono>

#include <cstdio>
#include <string>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

// Wall time and this thread's CPU time: on a shared, loaded machine the CPU
// figure is the steadier one (file I/O waits show only in wall time).
class Stopwatch {
 public:
  Stopwatch() { restart(); }
  void restart() {
    wall_ = std::chrono::steady_clock::now();
    cpu_ = cpu_now();
  }
  // "<wall> us wall, <cpu> us cpu" per op over `ops` operations.
  std::string per_op(int ops) const {
    double wall =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall_).count();
    double cpu = (cpu_now() - cpu_) / 1e3;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%9.1f us wall %9.1f us cpu", wall / ops, cpu / ops);
    return buf;
  }

 private:
  static double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
  }
  std::chrono::steady_clock::time_point wall_;
  double cpu_ = 0;
};

TEST(SqliteStoragePerf, DISABLED_Figures) {
  testing::TempDir dir;
  SqliteStorage storage(dir.file("tern.db"));  // default: 4096 iterations
  const AccountKey owner{"alice", "example.org"};

  constexpr int kAccounts = 20;
  Stopwatch t;
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(storage.accounts().create(AccountKey{"u" + std::to_string(i), "example.org"},
                                          "password-" + std::to_string(i)));
  }
  std::printf("account create (SHA-1 + SHA-256, 4096 it) %s\n", t.per_op(kAccounts).c_str());

  t.restart();
  for (int i = 0; i < kAccounts; ++i) {
    ASSERT_TRUE(storage.accounts().check_password(
        AccountKey{"u" + std::to_string(i), "example.org"}, "password-" + std::to_string(i)));
  }
  std::printf("check_password (SHA-256, 4096 it)         %s\n", t.per_op(kAccounts).c_str());

  constexpr int kCredentialReads = 1000;
  t.restart();
  for (int i = 0; i < kCredentialReads; ++i) {
    ASSERT_TRUE(storage.accounts().credentials(AccountKey{"u7", "example.org"}).has_value());
  }
  std::printf("credentials lookup                        %s\n", t.per_op(kCredentialReads).c_str());

  constexpr int kRosterPuts = 500;
  t.restart();
  for (int i = 0; i < kRosterPuts; ++i) {
    RosterItem item;
    item.jid = "contact" + std::to_string(i) + "@example.net";
    item.name = "Contact " + std::to_string(i);
    item.subscription = "both";
    item.groups = {"Friends", "Work"};
    storage.roster().put(owner, item);
  }
  std::printf("roster put (2 groups, version bump)       %s\n", t.per_op(kRosterPuts).c_str());
  t.restart();
  auto items = storage.roster().items(owner);
  std::printf("roster items() of %d items               %s\n", kRosterPuts, t.per_op(1).c_str());
  ASSERT_EQ(items.size(), static_cast<std::size_t>(kRosterPuts));

  const std::string stanza =
      "<message xmlns='jabber:client' from='bob@example.net/phone' to='alice@example.org' "
      "type='chat' id='a1b2c3d4'><body>Hello Alice, are you around this evening? "
      "Let us meet at eight.</body><delay xmlns='urn:xmpp:delay' "
      "stamp='2024-01-01T12:00:00Z'/></message>";
  constexpr int kMessages = 100;
  t.restart();
  for (int i = 0; i < kMessages; ++i) storage.offline().push(owner, stanza);
  std::printf("offline push x%d, %zu B, per push      %s\n", kMessages, stanza.size(),
              t.per_op(kMessages).c_str());
  t.restart();
  auto popped = storage.offline().pop_all(owner);
  std::printf("offline pop_all of %d stanzas             %s\n", kMessages, t.per_op(1).c_str());
  ASSERT_EQ(popped.size(), static_cast<std::size_t>(kMessages));
}

}  // namespace
}  // namespace tern::storage::sqlite
