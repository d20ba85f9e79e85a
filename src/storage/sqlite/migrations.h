// Versioned schema migrations for the SQLite driver. The schema version is
// PRAGMA user_version: the number of steps applied. Step i (0-based) moves a
// database from version i to i+1, in one transaction with the version bump,
// so a crash mid-migration leaves the previous version intact. Steps are
// append-only: a released step is never edited, a change is a new step.
// Inside a transaction SQLite ignores PRAGMA foreign_keys, so a step that
// rebuilds a table must keep its rows consistent by itself.
#pragma once

#include <span>
#include <string_view>

#include "storage/sqlite/sqlite_db.h"

namespace tern::storage::sqlite {

// The steps of Tern's own schema, oldest first.
std::span<const std::string_view> schema_migrations();

// PRAGMA user_version of the open database.
int schema_version(Db& db);

// Applies the steps the database lacks. Does nothing when it is up to date;
// throws StorageError when it is newer than `steps` knows (written by a
// newer Tern: running old code on it could corrupt it) or a step fails.
void migrate(Db& db, std::span<const std::string_view> steps);

}  // namespace tern::storage::sqlite
