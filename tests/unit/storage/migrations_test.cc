#include "storage/sqlite/migrations.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

std::vector<std::string> table_names(Db& db) {
  Query q = db.query(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
      " ORDER BY name");
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.column_text(0));
  return out;
}

std::int64_t count_rows(Db& db, const std::string& table) {
  Query q = db.query("SELECT count(*) FROM " + table);
  EXPECT_TRUE(q.step());
  return q.column_int(0);
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const StorageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(MigrationsTest, MigratesAnEmptyDatabaseToTheLatestSchema) {
  TempDir dir;
  Db db(dir.file("tern.db"));
  EXPECT_EQ(schema_version(db), 0);
  migrate(db, schema_migrations());
  EXPECT_EQ(schema_version(db), static_cast<int>(schema_migrations().size()));
  EXPECT_EQ(schema_version(db), 6);
  EXPECT_EQ(table_names(db),
            (std::vector<std::string>{"accounts", "archive", "archive_prefs", "archive_prefs_jids",
                                      "blocklist", "documents", "muc_affiliations", "muc_rooms",
                                      "offline", "pubsub_affiliations", "pubsub_items",
                                      "pubsub_nodes", "pubsub_subscriptions", "roster",
                                      "roster_groups", "roster_version"}));
}

TEST(MigrationsTest, ReopeningAnUpToDateDatabaseDoesNothing) {
  TempDir dir;
  // A step with a side effect shows whether it ran again.
  constexpr std::array<std::string_view, 1> steps = {
      "CREATE TABLE t (x); INSERT INTO t VALUES (1);"};
  {
    Db db(dir.file("m.db"));
    migrate(db, steps);
    migrate(db, steps);
  }
  Db reopened(dir.file("m.db"));
  migrate(reopened, steps);
  EXPECT_EQ(schema_version(reopened), 1);
  EXPECT_EQ(count_rows(reopened, "t"), 1);
}

TEST(MigrationsTest, AppliesOnlyTheMissingSteps) {
  TempDir dir;
  constexpr std::array<std::string_view, 3> steps = {
      "CREATE TABLE t (x); INSERT INTO t VALUES (1);",
      "INSERT INTO t VALUES (2);",
      "INSERT INTO t VALUES (3);",
  };
  Db db(dir.file("m.db"));
  migrate(db, std::span(steps).first(1));
  EXPECT_EQ(schema_version(db), 1);
  migrate(db, steps);
  EXPECT_EQ(schema_version(db), 3);
  Query q = db.query("SELECT group_concat(x, ',') FROM (SELECT x FROM t ORDER BY x)");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_text(0), "1,2,3");
}

TEST(MigrationsTest, NewerDatabaseIsRefused) {
  TempDir dir;
  constexpr std::array<std::string_view, 2> steps = {"CREATE TABLE a (x);", "CREATE TABLE b (x);"};
  Db db(dir.file("m.db"));
  migrate(db, steps);
  std::string error = error_of([&] { migrate(db, std::span(steps).first(1)); });
  EXPECT_EQ(error, "database " + dir.file("m.db") +
                       " has schema version 2, newer than this Tern knows (1): it was written"
                       " by a newer Tern; run that version or restore a backup");
  EXPECT_EQ(schema_version(db), 2);
}

TEST(MigrationsTest, StorageRefusesADatabaseFromTheFuture) {
  TempDir dir;
  {
    Db db(dir.file("tern.db"));
    migrate(db, schema_migrations());
    db.exec("PRAGMA user_version = 99");
  }
  std::string error = error_of([&] { SqliteStorage storage(dir.file("tern.db")); });
  EXPECT_NE(error.find("has schema version 99, newer than this Tern knows (" +
                       std::to_string(schema_migrations().size()) + ")"),
            std::string::npos)
      << error;
  EXPECT_THROW(open_storage("sqlite", dir.file("tern.db")), StorageError);
}

TEST(MigrationsTest, FailedStepLeavesThePreviousVersionIntact) {
  TempDir dir;
  constexpr std::array<std::string_view, 2> steps = {
      "CREATE TABLE a (x);",
      "CREATE TABLE b (x); INSERT INTO nowhere VALUES (1);",
  };
  Db db(dir.file("m.db"));
  std::string error = error_of([&] { migrate(db, steps); });
  EXPECT_NE(error.find("migration of " + dir.file("m.db") + " to schema version 2 failed"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("no such table: nowhere"), std::string::npos) << error;
  EXPECT_EQ(schema_version(db), 1);
  EXPECT_EQ(table_names(db), std::vector<std::string>{"a"});
}

TEST(MigrationsTest, NegativeVersionIsRefused) {
  TempDir dir;
  Db db(dir.file("m.db"));
  db.exec("PRAGMA user_version = -3");
  EXPECT_EQ(error_of([&] { migrate(db, schema_migrations()); }),
            "database " + dir.file("m.db") + " has an invalid schema version -3");
}

}  // namespace
}  // namespace tern::storage::sqlite
