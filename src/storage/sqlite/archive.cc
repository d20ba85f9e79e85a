// Message archive (XEP-0313) on SQLite. `id` is the rowid: a page is an
// index seek on (owner[, with_jid]) — whose entries end with the rowid — and
// a walk of `limit + 1` entries in id order; the extra row says whether the
// page is the last one. See the schema comment in migrations.cc.
#include <algorithm>
#include <string>

#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {
namespace {

// The SELECT for one shape of query. Shapes are few (with filter: none,
// bare, full; direction), so each is prepared once per connection.
std::string page_sql(const ArchiveQuery& q) {
  std::string sql =
      "SELECT id, with_jid, with_resource, stanza FROM archive"
      " WHERE owner = ?1 AND id > ?2 AND id < ?3";
  if (!q.with.empty()) sql += " AND with_jid = ?4";
  if (!q.with_resource.empty()) sql += " AND with_resource = ?5";
  sql += q.from_end ? " ORDER BY id DESC LIMIT ?6" : " ORDER BY id ASC LIMIT ?6";
  return sql;
}

std::string count_sql(const ArchiveQuery& q) {
  std::string sql = "SELECT count(*) FROM archive WHERE owner = ?1 AND id > ?2 AND id < ?3";
  if (!q.with.empty()) sql += " AND with_jid = ?4";
  if (!q.with_resource.empty()) sql += " AND with_resource = ?5";
  return sql;
}

void bind_filters(Query& query, const std::string& owner, const ArchiveQuery& q) {
  query.bind(1, owner).bind(2, q.after).bind(3, q.before);
  if (!q.with.empty()) query.bind(4, q.with);
  if (!q.with_resource.empty()) query.bind(5, q.with_resource);
}

ArchiveRow read_row(const Query& query, const std::string& owner) {
  return ArchiveRow{owner, query.column_int(0), query.column_text(1), query.column_text(2),
                    query.column_text(3)};
}

bool matches(const ArchiveRow& row, const ArchiveQuery& q) {
  if (row.id <= q.after || row.id >= q.before) return false;
  if (!q.with.empty() && row.with != q.with) return false;
  if (!q.with_resource.empty() && row.with_resource != q.with_resource) return false;
  return true;
}

// `ids` queries: one primary-key lookup per id, filters applied after.
ArchivePage query_ids(Db& db, const std::string& owner, const ArchiveQuery& q) {
  std::vector<std::int64_t> ids = q.ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (q.from_end) std::reverse(ids.begin(), ids.end());
  ArchivePage page;
  std::size_t matched = 0;
  for (auto id : ids) {
    Query query = db.query(
        "SELECT id, with_jid, with_resource, stanza FROM archive WHERE id = ?1 AND owner = ?2");
    query.bind(1, id).bind(2, owner);
    if (!query.step()) continue;
    ArchiveRow row = read_row(query, owner);
    if (!matches(row, q)) continue;
    ++matched;
    if (page.rows.size() < q.limit) {
      page.rows.push_back(std::move(row));
    } else {
      page.complete = false;
    }
  }
  if (q.from_end) std::reverse(page.rows.begin(), page.rows.end());
  if (q.with_count) page.count = matched;
  return page;
}

}  // namespace

std::size_t delete_archive_rows(Db& db, const std::string& owner) {
  db.query("DELETE FROM archive_prefs WHERE owner = ?1").bind(1, owner).run();
  db.query("DELETE FROM archive_prefs_jids WHERE owner = ?1").bind(1, owner).run();
  return static_cast<std::size_t>(
      db.query("DELETE FROM archive WHERE owner = ?1").bind(1, owner).run());
}

void SqliteArchive::append(const std::vector<ArchiveRow>& rows) {
  if (rows.empty()) return;
  auto db = pool_.borrow();
  // Appends touch the last leaf of each owner's range in two indexes: with
  // many archives written at once that is more pages than the 256 KiB a
  // connection caches by default, and inserts thrash (measured: rows/s
  // doubles with 4 MiB). A connection that appended keeps the larger cache.
  db->query("PRAGMA cache_size=-4096").run();
  Transaction tx(*db);
  for (const auto& row : rows) {
    db->query(
          "INSERT INTO archive (id, owner, with_jid, with_resource, stanza)"
          " VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, row.id)
        .bind(2, row.owner)
        .bind(3, row.with)
        .bind(4, row.with_resource)
        .bind(5, row.stanza)
        .run();
  }
  tx.commit();
}

ArchivePage SqliteArchive::query(const std::string& owner, const ArchiveQuery& q) {
  auto db = pool_.borrow();
  // One snapshot for the page and its count.
  Transaction tx(*db, Transaction::Mode::kRead);
  if (!q.ids.empty()) return query_ids(*db, owner, q);
  ArchivePage page;
  {
    Query query = db->query(page_sql(q));
    bind_filters(query, owner, q);
    query.bind(6, static_cast<std::int64_t>(q.limit + 1));
    while (query.step()) {
      if (page.rows.size() == q.limit) {
        page.complete = false;
        break;
      }
      page.rows.push_back(read_row(query, owner));
    }
  }
  if (q.from_end) std::reverse(page.rows.begin(), page.rows.end());
  if (q.with_count) {
    Query count = db->query(count_sql(q));
    bind_filters(count, owner, q);
    page.count = count.step() ? static_cast<std::size_t>(count.column_int(0)) : 0;
  }
  return page;
}

bool SqliteArchive::contains(const std::string& owner, std::int64_t id) {
  auto db = pool_.borrow();
  Query q = db->query("SELECT 1 FROM archive WHERE id = ?1 AND owner = ?2");
  q.bind(1, id).bind(2, owner);
  return q.step();
}

std::optional<std::pair<ArchiveRow, ArchiveRow>> SqliteArchive::bounds(const std::string& owner) {
  auto db = pool_.borrow();
  Transaction tx(*db, Transaction::Mode::kRead);
  auto one = [&](const char* sql) -> std::optional<ArchiveRow> {
    Query q = db->query(sql);
    q.bind(1, owner);
    if (!q.step()) return std::nullopt;
    return read_row(q, owner);
  };
  auto first = one(
      "SELECT id, with_jid, with_resource, stanza FROM archive WHERE owner = ?1"
      " ORDER BY id ASC LIMIT 1");
  if (!first) return std::nullopt;
  auto last = one(
      "SELECT id, with_jid, with_resource, stanza FROM archive WHERE owner = ?1"
      " ORDER BY id DESC LIMIT 1");
  return std::make_pair(std::move(*first), std::move(*last));
}

std::size_t SqliteArchive::remove_owner(const std::string& owner) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  auto n = delete_archive_rows(*db, owner);
  tx.commit();
  return n;
}

std::size_t SqliteArchive::purge_before(std::int64_t id, std::size_t max_rows) {
  auto db = pool_.borrow();
  // The oldest rows are the lowest rowids: a range delete on the table.
  return static_cast<std::size_t>(
      db->query("DELETE FROM archive WHERE id IN"
                " (SELECT id FROM archive WHERE id < ?1 ORDER BY id LIMIT ?2)")
          .bind(1, id)
          .bind(2, static_cast<std::int64_t>(max_rows))
          .run());
}

std::size_t SqliteArchive::purge_owner_before(const std::string& owner, std::int64_t id,
                                              std::size_t max_rows) {
  auto db = pool_.borrow();
  // archive_by_owner ends with the rowid: the owner's oldest rows first.
  return static_cast<std::size_t>(
      db->query("DELETE FROM archive WHERE id IN"
                " (SELECT id FROM archive WHERE owner = ?1 AND id < ?2 ORDER BY id LIMIT ?3)")
          .bind(1, owner)
          .bind(2, id)
          .bind(3, static_cast<std::int64_t>(max_rows))
          .run());
}

bool SqliteArchive::replace(const std::string& owner, std::int64_t id, const std::string& stanza) {
  auto db = pool_.borrow();
  return db->query("UPDATE archive SET stanza = ?3 WHERE id = ?1 AND owner = ?2")
             .bind(1, id)
             .bind(2, owner)
             .bind(3, stanza)
             .run() > 0;
}

std::int64_t SqliteArchive::max_id() {
  auto db = pool_.borrow();
  Query q = db->query("SELECT max(id) FROM archive");
  return q.step() ? q.column_int(0) : 0;
}

std::optional<ArchivePrefs> SqliteArchive::prefs(const std::string& owner) {
  auto db = pool_.borrow();
  Transaction tx(*db, Transaction::Mode::kRead);
  ArchivePrefs prefs;
  {
    Query q = db->query("SELECT default_mode FROM archive_prefs WHERE owner = ?1");
    q.bind(1, owner);
    if (!q.step()) return std::nullopt;
    prefs.default_mode = q.column_text(0);
  }
  Query q = db->query("SELECT jid, always FROM archive_prefs_jids WHERE owner = ?1 ORDER BY jid");
  q.bind(1, owner);
  while (q.step()) (q.column_bool(1) ? prefs.always : prefs.never).push_back(q.column_text(0));
  return prefs;
}

void SqliteArchive::set_prefs(const std::string& owner, const ArchivePrefs& prefs) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  db->query("INSERT OR REPLACE INTO archive_prefs (owner, default_mode) VALUES (?1, ?2)")
      .bind(1, owner)
      .bind(2, prefs.default_mode)
      .run();
  db->query("DELETE FROM archive_prefs_jids WHERE owner = ?1").bind(1, owner).run();
  auto put = [&](const std::vector<std::string>& jids, bool always) {
    for (const auto& jid : jids) {
      // A JID in both lists: XEP-0313 leaves it open; "never" wins here.
      db->query("INSERT OR REPLACE INTO archive_prefs_jids (owner, jid, always) VALUES (?1, ?2, ?3)")
          .bind(1, owner)
          .bind(2, jid)
          .bind(3, always)
          .run();
    }
  };
  put(prefs.always, true);
  put(prefs.never, false);
  tx.commit();
}

std::vector<std::pair<std::string, ArchivePrefs>> SqliteArchive::all_prefs() {
  auto db = pool_.borrow();
  Transaction tx(*db, Transaction::Mode::kRead);
  std::vector<std::pair<std::string, ArchivePrefs>> out;
  {
    Query q = db->query("SELECT owner, default_mode FROM archive_prefs ORDER BY owner");
    while (q.step()) out.push_back({q.column_text(0), ArchivePrefs{q.column_text(1), {}, {}}});
  }
  Query q = db->query("SELECT owner, jid, always FROM archive_prefs_jids ORDER BY owner, jid");
  while (q.step()) {
    auto owner = q.column_text(0);
    auto it = std::lower_bound(out.begin(), out.end(), owner,
                               [](const auto& e, const std::string& o) { return e.first < o; });
    if (it == out.end() || it->first != owner) continue;
    (q.column_bool(2) ? it->second.always : it->second.never).push_back(q.column_text(1));
  }
  return out;
}

}  // namespace tern::storage::sqlite
