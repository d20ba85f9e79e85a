// The message archive (XEP-0313) on the SQLite driver: paging both ways,
// filters, ids, deletion with the account, retention, prefs, and the page
// time on a large archive.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

class SqliteArchiveTest : public ::testing::Test {
 protected:
  SqliteArchiveTest()
      : storage_(std::make_unique<SqliteStorage>(dir_.file("tern.db"),
                                                 SqliteOptions{.scram_iterations = 64})) {}

  MessageArchive& archive() { return storage_->archive(); }

  // Rows 1..n for alice: odd ids with bob, even ids with carol/phone.
  void fill(int n) {
    std::vector<ArchiveRow> rows;
    for (int i = 1; i <= n; ++i) {
      bool odd = i % 2 == 1;
      rows.push_back(ArchiveRow{kAlice, i, odd ? "bob@example.org" : "carol@example.org",
                                odd ? "" : "phone", "<message>" + std::to_string(i) + "</message>"});
    }
    archive().append(rows);
  }

  static std::vector<std::int64_t> ids(const ArchivePage& page) {
    std::vector<std::int64_t> out;
    for (const auto& r : page.rows) out.push_back(r.id);
    return out;
  }

  static constexpr const char* kAlice = "alice@example.org";
  TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
};

using Ids = std::vector<std::int64_t>;

TEST_F(SqliteArchiveTest, PagesForwardFromTheStart) {
  fill(10);
  ArchiveQuery q;
  q.limit = 4;
  auto page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{1, 2, 3, 4}));
  EXPECT_FALSE(page.complete);
  EXPECT_EQ(page.rows[0].stanza, "<message>1</message>");
  q.after = 8;
  page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{9, 10}));
  EXPECT_TRUE(page.complete);
}

TEST_F(SqliteArchiveTest, PagesBackwardFromTheEndInChronologicalOrder) {
  fill(10);
  ArchiveQuery q;
  q.limit = 3;
  q.from_end = true;
  auto page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{8, 9, 10}));
  EXPECT_FALSE(page.complete);
  q.before = 3;
  page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{1, 2}));
  EXPECT_TRUE(page.complete);
}

TEST_F(SqliteArchiveTest, ExactlyFullLastPageIsComplete) {
  fill(4);
  ArchiveQuery q;
  q.limit = 4;
  auto page = archive().query(kAlice, q);
  EXPECT_EQ(page.rows.size(), 4u);
  EXPECT_TRUE(page.complete);
}

TEST_F(SqliteArchiveTest, FiltersByBareAndFullJidAndCounts) {
  fill(10);
  ArchiveQuery q;
  q.with = "bob@example.org";
  q.with_count = true;
  auto page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{1, 3, 5, 7, 9}));
  EXPECT_EQ(page.count, 5u);
  q.with = "carol@example.org";
  q.with_resource = "phone";
  q.after = 4;
  EXPECT_EQ(ids(archive().query(kAlice, q)), (Ids{6, 8, 10}));
  q.with_resource = "laptop";
  EXPECT_TRUE(archive().query(kAlice, q).rows.empty());
}

TEST_F(SqliteArchiveTest, IdsQueryReturnsOnlyThoseOfTheOwner) {
  fill(10);
  archive().append({ArchiveRow{"bob@example.org", 11, "alice@example.org", "", "<m/>"}});
  ArchiveQuery q;
  q.ids = {7, 2, 11, 99};
  EXPECT_EQ(ids(archive().query(kAlice, q)), (Ids{2, 7}));
  EXPECT_TRUE(archive().contains(kAlice, 7));
  EXPECT_FALSE(archive().contains(kAlice, 11));
  EXPECT_TRUE(archive().contains("bob@example.org", 11));
}

TEST_F(SqliteArchiveTest, BoundsAndMaxId) {
  EXPECT_FALSE(archive().bounds(kAlice));
  EXPECT_EQ(archive().max_id(), 0);
  fill(5);
  auto b = archive().bounds(kAlice);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first.id, 1);
  EXPECT_EQ(b->second.id, 5);
  EXPECT_EQ(archive().max_id(), 5);
}

TEST_F(SqliteArchiveTest, AccountRemovalDeletesTheArchiveAndPrefs) {
  ASSERT_TRUE(storage_->accounts().create({"alice", "example.org"}, "pw"));
  fill(5);
  archive().append({ArchiveRow{"bob@example.org", 6, "alice@example.org", "", "<m/>"}});
  archive().set_prefs(kAlice, ArchivePrefs{"never", {"bob@example.org"}, {}});
  ASSERT_TRUE(storage_->accounts().remove({"alice", "example.org"}));
  EXPECT_TRUE(archive().query(kAlice, ArchiveQuery{}).rows.empty());
  EXPECT_FALSE(archive().prefs(kAlice));
  EXPECT_EQ(archive().query("bob@example.org", ArchiveQuery{}).rows.size(), 1u);
}

TEST_F(SqliteArchiveTest, PurgeDeletesOldRowsInBatches) {
  fill(10);
  EXPECT_EQ(archive().purge_before(8, 4), 4u);
  EXPECT_EQ(archive().purge_before(8, 4), 3u);
  EXPECT_EQ(archive().purge_before(8, 4), 0u);
  EXPECT_EQ(ids(archive().query(kAlice, ArchiveQuery{})), (Ids{8, 9, 10}));
}

TEST_F(SqliteArchiveTest, PurgeOfOneOwnerLeavesTheOthers) {
  fill(6);
  const std::string room = "room@conference.example.org";
  archive().append({ArchiveRow{room, 7, "bob@example.org", "bob", "<m/>"},
                    ArchiveRow{room, 8, "bob@example.org", "bob", "<m/>"}});
  EXPECT_EQ(archive().purge_owner_before(room, 8, 10), 1u);
  EXPECT_EQ(ids(archive().query(room, ArchiveQuery{})), (Ids{8}));
  EXPECT_EQ(ids(archive().query(kAlice, ArchiveQuery{})).size(), 6u);
}

// A room archive filters by nick (the resource) without a real JID.
TEST_F(SqliteArchiveTest, FiltersByResourceAlone) {
  fill(6);
  ArchiveQuery q;
  q.with_resource = "phone";
  q.with_count = true;
  auto page = archive().query(kAlice, q);
  EXPECT_EQ(ids(page), (Ids{2, 4, 6}));
  EXPECT_EQ(page.count, 3u);
  q.ids = {3, 4};
  EXPECT_EQ(ids(archive().query(kAlice, q)), (Ids{4}));
}

TEST_F(SqliteArchiveTest, ReplaceChangesOnlyThatRowOfThatOwner) {
  fill(3);
  EXPECT_TRUE(archive().replace(kAlice, 2, "<tombstone/>"));
  EXPECT_FALSE(archive().replace("bob@example.org", 3, "<tombstone/>"));
  EXPECT_FALSE(archive().replace(kAlice, 99, "<tombstone/>"));
  auto rows = archive().query(kAlice, ArchiveQuery{}).rows;
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].stanza, "<tombstone/>");
  EXPECT_EQ(rows[2].stanza, "<message>3</message>");
}

TEST_F(SqliteArchiveTest, PrefsRoundTrip) {
  EXPECT_FALSE(archive().prefs(kAlice));
  ArchivePrefs p{"roster", {"a@x", "b@x"}, {"c@x"}};
  archive().set_prefs(kAlice, p);
  EXPECT_EQ(archive().prefs(kAlice), p);
  ArchivePrefs both{"always", {"a@x"}, {"a@x"}};
  archive().set_prefs(kAlice, both);
  EXPECT_EQ(archive().prefs(kAlice), (ArchivePrefs{"always", {}, {"a@x"}}));
  archive().set_prefs("bob@example.org", ArchivePrefs{"never", {}, {}});
  auto all = archive().all_prefs();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].first, kAlice);
  EXPECT_EQ(all[0].second.never, std::vector<std::string>{"a@x"});
  EXPECT_EQ(all[1].second.default_mode, "never");
}

// The budget in the brief: a page on a 1,000,000-message archive well under
// a millisecond. Disabled by default (10 s to fill); run with
//   unit_storage --gtest_also_run_disabled_tests --gtest_filter="*Perf*Archive*"
// The archive is filled through one transaction; other
// owners' rows are interleaved so the index seek matters.
TEST_F(SqliteArchiveTest, DISABLED_PerfPageOnAMillionRowArchive) {
  constexpr int kRows = 1'000'000;
  {
    Db db(dir_.file("tern.db"));
    Transaction tx(db);
    for (int i = 1; i <= kRows; ++i) {
      db.query("INSERT INTO archive (id, owner, with_jid, stanza) VALUES (?1, ?2, ?3, ?4)")
          .bind(1, static_cast<std::int64_t>(i))
          .bind(2, i % 10 == 0 ? "other@example.org" : kAlice)
          .bind(3, i % 3 == 0 ? "bob@example.org" : "carol@example.org")
          .bind(4, "<message type='chat' to='bob@example.org/x' from='alice@example.org/y'>"
                   "<body>hello there, this is message number " +
                       std::to_string(i) + "</body></message>")
          .run();
    }
    tx.commit();
  }
  auto time_page = [&](ArchiveQuery q) {
    q.limit = 50;
    archive().query(kAlice, q);  // warm the statement cache and pages
    auto t0 = std::chrono::steady_clock::now();
    constexpr int kRuns = 200;
    for (int i = 0; i < kRuns; ++i) {
      auto page = archive().query(kAlice, q);
      EXPECT_EQ(page.rows.size(), 50u);
    }
    auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                  .count() / kRuns;
    return us;
  };
  ArchiveQuery last;
  last.from_end = true;
  ArchiveQuery middle;
  middle.after = kRows / 2;
  ArchiveQuery with;
  with.with = "bob@example.org";
  with.before = kRows / 3;
  with.from_end = true;
  double t_last = time_page(last), t_middle = time_page(middle), t_with = time_page(with);
  std::printf("archive page of 50 on %d rows: last %.0f us, middle %.0f us, with+before %.0f us\n",
              kRows, t_last, t_middle, t_with);
  // Generous bounds for a loaded 2-core machine; the figures are in the note.
  EXPECT_LT(t_last, 1000.0);
  EXPECT_LT(t_middle, 1000.0);
  EXPECT_LT(t_with, 1000.0);
}

}  // namespace
}  // namespace tern::storage::sqlite
