// Publish-subscribe nodes, items, affiliations and subscriptions (see the
// PubsubStore interface and docs/pep.md). Every write is one transaction, so
// a publish and the trim to max_items that follows it land together.
#include <algorithm>

#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {

namespace {

std::vector<PubsubEntry> read_entries(Query q) {
  std::vector<PubsubEntry> out;
  while (q.step()) out.push_back({q.column_text(0), q.column_text(1), {}});
  return out;
}

void delete_node_rows(Db& db, const std::string& service, const std::string& node) {
  static constexpr std::string_view kTables[] = {
      "DELETE FROM pubsub_items WHERE service = ?1 AND node = ?2",
      "DELETE FROM pubsub_affiliations WHERE service = ?1 AND node = ?2",
      "DELETE FROM pubsub_subscriptions WHERE service = ?1 AND node = ?2",
  };
  for (std::string_view sql : kTables) db.query(sql).bind(1, service).bind(2, node).run();
}

}  // namespace

void delete_pubsub_rows(Db& db, const std::string& service) {
  static constexpr std::string_view kTables[] = {
      "DELETE FROM pubsub_items WHERE service = ?1",
      "DELETE FROM pubsub_affiliations WHERE service = ?1",
      "DELETE FROM pubsub_subscriptions WHERE service = ?1",
      "DELETE FROM pubsub_nodes WHERE service = ?1",
  };
  for (std::string_view sql : kTables) db.query(sql).bind(1, service).run();
}

std::optional<PubsubNodeRecord> SqlitePubsub::node(const std::string& service,
                                                   const std::string& node) {
  auto db = pool_.borrow();
  Query q = db->query("SELECT config FROM pubsub_nodes WHERE service = ?1 AND node = ?2");
  q.bind(1, service).bind(2, node);
  if (!q.step()) return std::nullopt;
  return PubsubNodeRecord{service, node, q.column_text(0)};
}

std::vector<PubsubNodeRecord> SqlitePubsub::nodes(const std::string& service) {
  auto db = pool_.borrow();
  Query q = db->query("SELECT node, config FROM pubsub_nodes WHERE service = ?1 ORDER BY node");
  q.bind(1, service);
  std::vector<PubsubNodeRecord> out;
  while (q.step()) out.push_back({service, q.column_text(0), q.column_text(1)});
  return out;
}

bool SqlitePubsub::create_node(const PubsubNodeRecord& node) {
  auto db = pool_.borrow();
  return db
             ->query(
                 "INSERT INTO pubsub_nodes (service, node, config) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (service, node) DO NOTHING")
             .bind(1, node.service)
             .bind(2, node.node)
             .bind(3, node.config)
             .run() > 0;
}

bool SqlitePubsub::set_config(const std::string& service, const std::string& node,
                              const std::string& config) {
  auto db = pool_.borrow();
  return db->query("UPDATE pubsub_nodes SET config = ?3 WHERE service = ?1 AND node = ?2")
             .bind(1, service)
             .bind(2, node)
             .bind(3, config)
             .run() > 0;
}

bool SqlitePubsub::delete_node(const std::string& service, const std::string& node) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  delete_node_rows(*db, service, node);
  const int removed = db->query("DELETE FROM pubsub_nodes WHERE service = ?1 AND node = ?2")
                          .bind(1, service)
                          .bind(2, node)
                          .run();
  tx.commit();
  return removed > 0;
}

bool SqlitePubsub::publish(const std::string& service, const std::string& node,
                           const PubsubItemRecord& item, std::size_t max_items) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  {
    Query exists = db->query("SELECT 1 FROM pubsub_nodes WHERE service = ?1 AND node = ?2");
    exists.bind(1, service).bind(2, node);
    if (!exists.step()) return false;
  }
  // Delete then insert, so that a republished id takes a new (highest) seq.
  db->query("DELETE FROM pubsub_items WHERE service = ?1 AND node = ?2 AND id = ?3")
      .bind(1, service)
      .bind(2, node)
      .bind(3, item.id)
      .run();
  db->query(
        "INSERT INTO pubsub_items (service, node, id, publisher, payload, published_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
      .bind(1, service)
      .bind(2, node)
      .bind(3, item.id)
      .bind(4, item.publisher)
      .bind(5, item.payload)
      .bind(6, item.published_at)
      .run();
  if (max_items > 0) {
    db->query(
          "DELETE FROM pubsub_items WHERE service = ?1 AND node = ?2 AND seq <= ("
          "SELECT seq FROM pubsub_items WHERE service = ?1 AND node = ?2"
          " ORDER BY seq DESC LIMIT 1 OFFSET ?3)")
        .bind(1, service)
        .bind(2, node)
        .bind(3, static_cast<std::int64_t>(max_items))
        .run();
  }
  tx.commit();
  return true;
}

bool SqlitePubsub::retract(const std::string& service, const std::string& node,
                           const std::string& id) {
  auto db = pool_.borrow();
  return db->query("DELETE FROM pubsub_items WHERE service = ?1 AND node = ?2 AND id = ?3")
             .bind(1, service)
             .bind(2, node)
             .bind(3, id)
             .run() > 0;
}

std::size_t SqlitePubsub::purge(const std::string& service, const std::string& node) {
  auto db = pool_.borrow();
  return static_cast<std::size_t>(
      db->query("DELETE FROM pubsub_items WHERE service = ?1 AND node = ?2")
          .bind(1, service)
          .bind(2, node)
          .run());
}

std::vector<PubsubItemRecord> SqlitePubsub::items(const std::string& service,
                                                  const std::string& node,
                                                  const std::vector<std::string>& ids,
                                                  std::size_t limit) {
  auto db = pool_.borrow();
  std::vector<PubsubItemRecord> out;
  auto read = [&out](Query& q) {
    while (q.step())
      out.push_back({q.column_text(0), q.column_text(1), q.column_text(2), q.column_int(3)});
  };
  if (ids.empty()) {
    // LIMIT -1 is SQLite's "no limit".
    Query q = db->query(
        "SELECT id, publisher, payload, published_at FROM pubsub_items"
        " WHERE service = ?1 AND node = ?2 ORDER BY seq DESC LIMIT ?3");
    q.bind(1, service).bind(2, node).bind(3, limit ? static_cast<std::int64_t>(limit) : -1);
    read(q);
    return out;
  }
  Transaction tx(*db, Transaction::Mode::kRead);
  std::vector<std::pair<std::int64_t, PubsubItemRecord>> found;
  for (const auto& id : ids) {
    Query q = db->query(
        "SELECT id, publisher, payload, published_at, seq FROM pubsub_items"
        " WHERE service = ?1 AND node = ?2 AND id = ?3");
    q.bind(1, service).bind(2, node).bind(3, id);
    if (q.step())
      found.emplace_back(q.column_int(4), PubsubItemRecord{q.column_text(0), q.column_text(1),
                                                           q.column_text(2), q.column_int(3)});
  }
  tx.commit();
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [seq, item] : found) {
    if (limit && out.size() == limit) break;
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<PubsubEntry> SqlitePubsub::affiliations(const std::string& service,
                                                    const std::string& node) {
  auto db = pool_.borrow();
  Query q = db->query(
      "SELECT jid, affiliation FROM pubsub_affiliations WHERE service = ?1 AND node = ?2"
      " ORDER BY jid");
  q.bind(1, service).bind(2, node);
  return read_entries(std::move(q));
}

void SqlitePubsub::set_affiliation(const std::string& service, const std::string& node,
                                   const std::string& jid, const std::string& value) {
  auto db = pool_.borrow();
  if (value == "none") {
    db->query("DELETE FROM pubsub_affiliations WHERE service = ?1 AND node = ?2 AND jid = ?3")
        .bind(1, service)
        .bind(2, node)
        .bind(3, jid)
        .run();
    return;
  }
  db->query(
        "INSERT INTO pubsub_affiliations (service, node, jid, affiliation) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (service, node, jid) DO UPDATE SET affiliation = ?4")
      .bind(1, service)
      .bind(2, node)
      .bind(3, jid)
      .bind(4, value)
      .run();
}

std::vector<PubsubEntry> SqlitePubsub::subscriptions(const std::string& service,
                                                     const std::string& node) {
  auto db = pool_.borrow();
  Query q = db->query(
      "SELECT jid, state, options FROM pubsub_subscriptions WHERE service = ?1 AND node = ?2"
      " ORDER BY jid");
  q.bind(1, service).bind(2, node);
  std::vector<PubsubEntry> out;
  while (q.step()) out.push_back({q.column_text(0), q.column_text(1), q.column_text(2)});
  return out;
}

bool SqlitePubsub::set_subscription_options(const std::string& service, const std::string& node,
                                            const std::string& jid, const std::string& options) {
  auto db = pool_.borrow();
  return db->query(
               "UPDATE pubsub_subscriptions SET options = ?4"
               " WHERE service = ?1 AND node = ?2 AND jid = ?3")
             .bind(1, service)
             .bind(2, node)
             .bind(3, jid)
             .bind(4, options)
             .run() > 0;
}

void SqlitePubsub::set_subscription(const std::string& service, const std::string& node,
                                    const std::string& jid, const std::string& value) {
  auto db = pool_.borrow();
  if (value == "none") {
    db->query("DELETE FROM pubsub_subscriptions WHERE service = ?1 AND node = ?2 AND jid = ?3")
        .bind(1, service)
        .bind(2, node)
        .bind(3, jid)
        .run();
    return;
  }
  db->query(
        "INSERT INTO pubsub_subscriptions (service, node, jid, state) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT (service, node, jid) DO UPDATE SET state = ?4")
      .bind(1, service)
      .bind(2, node)
      .bind(3, jid)
      .bind(4, value)
      .run();
}

std::vector<PubsubEntry> SqlitePubsub::subscriptions_of(const std::string& service,
                                                        const std::string& jid) {
  auto db = pool_.borrow();
  Query q = db->query(
      "SELECT node, state FROM pubsub_subscriptions WHERE service = ?1 AND jid = ?2 ORDER BY node");
  q.bind(1, service).bind(2, jid);
  return read_entries(std::move(q));
}

void SqlitePubsub::remove_service(const std::string& service) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  delete_pubsub_rows(*db, service);
  tx.commit();
}

}  // namespace tern::storage::sqlite
