// Per-account XML documents (vCard, private XML storage) and the blocklist.
#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {

std::optional<std::string> read_document(Db& db, const AccountKey& owner, const std::string& key) {
  Query q = db.query(
      "SELECT xml FROM documents WHERE owner_user = ?1 AND owner_domain = ?2 AND key = ?3");
  q.bind_owner(1, owner).bind(3, key);
  if (!q.step()) return std::nullopt;
  return q.column_text(0);
}

void write_document(Db& db, const AccountKey& owner, const std::string& key,
                    const std::string& xml) {
  db.query(
        "INSERT INTO documents (owner_user, owner_domain, key, xml) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (owner_user, owner_domain, key) DO UPDATE SET xml = excluded.xml")
      .bind_owner(1, owner)
      .bind(3, key)
      .bind(4, xml)
      .run();
}

std::vector<std::pair<std::string, std::string>> read_documents(Db& db, const AccountKey& owner,
                                                                const std::string& prefix) {
  // `key >= prefix` starts the scan of the unique index at the prefix; an
  // account has few documents past it.
  Query q = db.query(
      "SELECT key, xml FROM documents WHERE owner_user = ?1 AND owner_domain = ?2"
      " AND key >= ?3 AND substr(key, 1, length(?3)) = ?3 ORDER BY key");
  q.bind_owner(1, owner).bind(3, prefix);
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step()) out.emplace_back(q.column_text(0), q.column_text(1));
  return out;
}

std::optional<std::string> SqliteDocuments::get(const AccountKey& owner, const std::string& key) {
  auto db = pool_.borrow();
  return read_document(*db, owner, key);
}

void SqliteDocuments::put(const AccountKey& owner, const std::string& key, const std::string& xml) {
  auto db = pool_.borrow();
  write_document(*db, owner, key, xml);
}

bool SqliteDocuments::remove(const AccountKey& owner, const std::string& key) {
  auto db = pool_.borrow();
  return db->query("DELETE FROM documents WHERE owner_user = ?1 AND owner_domain = ?2 AND key = ?3")
             .bind_owner(1, owner)
             .bind(3, key)
             .run() > 0;
}

std::vector<std::string> SqliteBlocklist::items(const AccountKey& owner) {
  auto db = pool_.borrow();
  Query q = db->query(
      "SELECT jid FROM blocklist WHERE owner_user = ?1 AND owner_domain = ?2 ORDER BY jid");
  q.bind_owner(1, owner);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.column_text(0));
  return out;
}

void SqliteBlocklist::add(const AccountKey& owner, const std::vector<std::string>& jids) {
  if (jids.empty()) return;
  auto db = pool_.borrow();
  // One transaction: a block request of several JIDs applies whole or not.
  Transaction tx(*db);
  for (const std::string& jid : jids) {
    db->query(
          "INSERT INTO blocklist (owner_user, owner_domain, jid) VALUES (?1, ?2, ?3)"
          " ON CONFLICT DO NOTHING")
        .bind_owner(1, owner)
        .bind(3, jid)
        .run();
  }
  tx.commit();
}

void SqliteBlocklist::remove(const AccountKey& owner, const std::vector<std::string>& jids) {
  auto db = pool_.borrow();
  if (jids.empty()) {
    db->query("DELETE FROM blocklist WHERE owner_user = ?1 AND owner_domain = ?2")
        .bind_owner(1, owner)
        .run();
    return;
  }
  Transaction tx(*db);
  for (const std::string& jid : jids) {
    db->query("DELETE FROM blocklist WHERE owner_user = ?1 AND owner_domain = ?2 AND jid = ?3")
        .bind_owner(1, owner)
        .bind(3, jid)
        .run();
  }
  tx.commit();
}

}  // namespace tern::storage::sqlite
