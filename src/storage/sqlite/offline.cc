// Offline messages: one row per stanza; `seq` (AUTOINCREMENT, never reused)
// is the arrival order.
#include <chrono>

#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {

void SqliteOffline::push(const AccountKey& owner, const std::string& stanza_xml) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto db = pool_.borrow();
  db->query(
        "INSERT INTO offline (owner_user, owner_domain, stanza, stored_at)"
        " VALUES (?1, ?2, ?3, ?4)")
      .bind_owner(1, owner)
      .bind(3, stanza_xml)
      .bind(4, static_cast<std::int64_t>(now))
      .run();
}

std::size_t SqliteOffline::count(const AccountKey& owner) {
  auto db = pool_.borrow();
  Query q = db->query("SELECT count(*) FROM offline WHERE owner_user = ?1 AND owner_domain = ?2");
  q.bind_owner(1, owner);
  return q.step() ? static_cast<std::size_t>(q.column_int(0)) : 0;
}

std::vector<std::string> SqliteOffline::pop_all(const AccountKey& owner) {
  auto db = pool_.borrow();
  // The write lock is held from the SELECT to the DELETE, so a stanza pushed
  // in between can be neither lost nor delivered twice.
  Transaction tx(*db);
  std::vector<std::string> out;
  {
    Query q = db->query(
        "SELECT stanza FROM offline WHERE owner_user = ?1 AND owner_domain = ?2 ORDER BY seq");
    q.bind_owner(1, owner);
    while (q.step()) out.push_back(q.column_text(0));
  }
  if (!out.empty()) {
    db->query("DELETE FROM offline WHERE owner_user = ?1 AND owner_domain = ?2")
        .bind_owner(1, owner)
        .run();
  }
  tx.commit();
  return out;
}

}  // namespace tern::storage::sqlite
