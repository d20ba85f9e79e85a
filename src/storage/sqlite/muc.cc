// Persistent MUC rooms: one row per room (with its vCard), one per
// affiliation (with the nick registered, if any). A put
// rewrites the room's rows in one transaction, so a reader sees a room
// either before or after a change, never half of it.
#include <map>

#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {

namespace {

std::string domain_of(const std::string& bare_jid) {
  auto at = bare_jid.find('@');
  return at == std::string::npos ? bare_jid : bare_jid.substr(at + 1);
}

}  // namespace

std::vector<MucRoomRecord> SqliteMuc::rooms(const std::string& service) {
  auto db = pool_.borrow();
  Transaction tx(*db, Transaction::Mode::kRead);
  std::vector<MucRoomRecord> out;
  {
    Query q = db->query(
        "SELECT jid, config, subject, subject_nick, vcard FROM muc_rooms WHERE service = ?1"
        " ORDER BY jid");
    q.bind(1, service);
    while (q.step()) {
      MucRoomRecord r;
      r.jid = q.column_text(0);
      r.config = q.column_text(1);
      r.subject = q.column_text(2);
      r.subject_nick = q.column_text(3);
      r.vcard = q.column_text(4);
      out.push_back(std::move(r));
    }
  }
  for (auto& r : out) {
    Query q = db->query(
        "SELECT jid, affiliation, nick FROM muc_affiliations WHERE room = ?1 ORDER BY jid");
    q.bind(1, r.jid);
    while (q.step()) {
      r.affiliations.emplace_back(q.column_text(0), q.column_text(1));
      if (auto nick = q.column_text(2); !nick.empty()) r.nicks.emplace_back(q.column_text(0), nick);
    }
  }
  tx.commit();
  return out;
}

void SqliteMuc::put(const MucRoomRecord& room) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  db->query(
        "INSERT INTO muc_rooms (jid, service, config, subject, subject_nick, vcard)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        " ON CONFLICT (jid) DO UPDATE SET config = ?3, subject = ?4, subject_nick = ?5, vcard = ?6")
      .bind(1, room.jid)
      .bind(2, domain_of(room.jid))
      .bind(3, room.config)
      .bind(4, room.subject)
      .bind(5, room.subject_nick)
      .bind(6, room.vcard)
      .run();
  db->query("DELETE FROM muc_affiliations WHERE room = ?1").bind(1, room.jid).run();
  const std::map<std::string, std::string> nicks(room.nicks.begin(), room.nicks.end());
  for (const auto& [jid, affiliation] : room.affiliations) {
    auto registered = nicks.find(jid);
    const std::string nick = registered == nicks.end() ? std::string() : registered->second;
    db->query("INSERT INTO muc_affiliations (room, jid, affiliation, nick) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, room.jid)
        .bind(2, jid)
        .bind(3, affiliation)
        .bind(4, nick)
        .run();
  }
  tx.commit();
}

bool SqliteMuc::remove(const std::string& jid) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  db->query("DELETE FROM muc_affiliations WHERE room = ?1").bind(1, jid).run();
  const int removed = db->query("DELETE FROM muc_rooms WHERE jid = ?1").bind(1, jid).run();
  tx.commit();
  return removed > 0;
}

}  // namespace tern::storage::sqlite
