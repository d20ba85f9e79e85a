// Roster items with their groups (table roster_groups, ordered by position)
// and the per-owner roster version, bumped in the same transaction as every
// change so a client's cached version can never name a state that was not
// committed.
#include <utility>

#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {
namespace {

// Reads the columns "jid, name, subscription, ask_out, pending_in, approved,
// pending_in_stanza", in that order.
RosterItem read_item(const Query& q) {
  RosterItem item;
  item.jid = q.column_text(0);
  item.name = q.column_text(1);
  item.subscription = q.column_text(2);
  item.ask_out = q.column_bool(3);
  item.pending_in = q.column_bool(4);
  item.approved = q.column_bool(5);
  item.pending_in_stanza = q.column_text(6);
  return item;
}

void bump_version(Db& db, const AccountKey& owner) {
  db.query(
        "INSERT INTO roster_version (owner_user, owner_domain, version) VALUES (?1, ?2, 1)"
        " ON CONFLICT (owner_user, owner_domain) DO UPDATE SET version = version + 1")
      .bind_owner(1, owner)
      .run();
}

}  // namespace

std::vector<RosterItem> read_roster(Db& db, const AccountKey& owner) {
  std::vector<RosterItem> out;
  {
    Query q = db.query(
        "SELECT jid, name, subscription, ask_out, pending_in, approved, pending_in_stanza"
        " FROM roster WHERE owner_user = ?1 AND owner_domain = ?2 ORDER BY jid");
    q.bind_owner(1, owner);
    while (q.step()) out.push_back(read_item(q));
  }
  if (out.empty()) return out;  // no groups to look for (most imported accounts)
  {
    // Both results are ordered by jid, so one forward walk pairs them up.
    Query q = db.query(
        "SELECT jid, name FROM roster_groups WHERE owner_user = ?1 AND owner_domain = ?2"
        " ORDER BY jid, position");
    q.bind_owner(1, owner);
    auto it = out.begin();
    while (q.step()) {
      std::string jid = q.column_text(0);
      while (it != out.end() && it->jid < jid) ++it;
      if (it == out.end()) break;
      if (it->jid == jid) it->groups.push_back(q.column_text(1));
    }
  }
  return out;
}

std::vector<RosterItem> SqliteRoster::items(const AccountKey& owner) {
  auto db = pool_.borrow();
  // One snapshot for both SELECTs, so groups match the items they belong to.
  Transaction tx(*db, Transaction::Mode::kRead);
  auto out = read_roster(*db, owner);
  tx.commit();
  return out;
}

std::optional<RosterItem> SqliteRoster::item(const AccountKey& owner, const std::string& jid) {
  auto db = pool_.borrow();
  Transaction tx(*db, Transaction::Mode::kRead);
  std::optional<RosterItem> out;
  {
    Query q = db->query(
        "SELECT jid, name, subscription, ask_out, pending_in, approved, pending_in_stanza"
        " FROM roster WHERE owner_user = ?1 AND owner_domain = ?2 AND jid = ?3");
    q.bind_owner(1, owner).bind(3, jid);
    if (!q.step()) return std::nullopt;
    out = read_item(q);
  }
  {
    Query q = db->query(
        "SELECT name FROM roster_groups"
        " WHERE owner_user = ?1 AND owner_domain = ?2 AND jid = ?3 ORDER BY position");
    q.bind_owner(1, owner).bind(3, jid);
    while (q.step()) out->groups.push_back(q.column_text(0));
  }
  tx.commit();
  return out;
}

namespace {

void upsert_roster_row(Db& db, const AccountKey& owner, const RosterItem& item) {
  // An upsert rather than INSERT OR REPLACE: REPLACE deletes the old row,
  // which would fire the cascade on its groups for nothing.
  Query q = db.query(
      "INSERT INTO roster (owner_user, owner_domain, jid, name, subscription, ask_out,"
      " pending_in, approved, pending_in_stanza) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
      " ON CONFLICT (owner_user, owner_domain, jid) DO UPDATE SET name = excluded.name,"
      " subscription = excluded.subscription, ask_out = excluded.ask_out,"
      " pending_in = excluded.pending_in, approved = excluded.approved,"
      " pending_in_stanza = excluded.pending_in_stanza");
  q.bind_owner(1, owner).bind(3, item.jid).bind(4, item.name).bind(5, item.subscription);
  q.bind(6, item.ask_out).bind(7, item.pending_in).bind(8, item.approved);
  q.bind(9, item.pending_in_stanza);
  q.run();
}

void insert_roster_groups(Db& db, const AccountKey& owner, const RosterItem& item) {
  // A repeated group name keeps its first position (RFC 6121 makes the
  // duplicate a client error; the roster module rejects it before here).
  std::int64_t position = 0;
  for (const std::string& group : item.groups) {
    db.query(
          "INSERT INTO roster_groups (owner_user, owner_domain, jid, position, name)"
          " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING")
        .bind_owner(1, owner)
        .bind(3, item.jid)
        .bind(4, position++)
        .bind(5, group)
        .run();
  }
}

}  // namespace

void write_roster_item(Db& db, const AccountKey& owner, const RosterItem& item) {
  upsert_roster_row(db, owner, item);
  db.query("DELETE FROM roster_groups WHERE owner_user = ?1 AND owner_domain = ?2 AND jid = ?3")
      .bind_owner(1, owner)
      .bind(3, item.jid)
      .run();
  insert_roster_groups(db, owner, item);
}

void write_new_roster_item(Db& db, const AccountKey& owner, const RosterItem& item) {
  upsert_roster_row(db, owner, item);
  insert_roster_groups(db, owner, item);
}

void SqliteRoster::put(const AccountKey& owner, const RosterItem& item) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  write_roster_item(*db, owner, item);
  bump_version(*db, owner);
  tx.commit();
}

bool SqliteRoster::remove(const AccountKey& owner, const std::string& jid) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  // Its groups go with it through ON DELETE CASCADE.
  bool removed =
      db->query("DELETE FROM roster WHERE owner_user = ?1 AND owner_domain = ?2 AND jid = ?3")
          .bind_owner(1, owner)
          .bind(3, jid)
          .run() > 0;
  if (removed) bump_version(*db, owner);
  tx.commit();
  return removed;
}

std::int64_t SqliteRoster::version(const AccountKey& owner) {
  auto db = pool_.borrow();
  Query q =
      db->query("SELECT version FROM roster_version WHERE owner_user = ?1 AND owner_domain = ?2");
  q.bind_owner(1, owner);
  return q.step() ? q.column_int(0) : 0;
}

}  // namespace tern::storage::sqlite
