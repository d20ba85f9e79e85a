#include "storage/sqlite/migrations.h"

#include <array>
#include <string>

#include "storage/storage.h"

namespace tern::storage::sqlite {
namespace {

// Every per-account table is keyed by its owner's (user, domain) first, so
// reading or deleting one account's rows is an index range scan.
//
// Roster groups live in their own table, one row per (item, group), with
// `position` keeping the order the client sent them in: a group name is any
// XML text, so no separator character would be safe, and a table keeps them
// queryable (shared groups) without parsing. Deleting a roster row cascades
// to its groups.
//
// Rows that can be large (documents: vCards with photos; offline stanzas;
// roster items holding a stored subscribe stanza) stay in rowid tables;
// WITHOUT ROWID is reserved for small rows, where it saves a second b-tree.
//
// Data tables carry no foreign key to `accounts`: the account row and its
// data are removed together by remove_account_data, and stores stay usable
// where accounts are kept elsewhere.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE accounts (
  user TEXT NOT NULL,
  domain TEXT NOT NULL,
  sha1_salt BLOB NOT NULL,
  sha1_iter INTEGER NOT NULL,
  sha1_stored BLOB NOT NULL,
  sha1_server BLOB NOT NULL,
  sha256_salt BLOB NOT NULL,
  sha256_iter INTEGER NOT NULL,
  sha256_stored BLOB NOT NULL,
  sha256_server BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user, domain)
) WITHOUT ROWID;
CREATE INDEX accounts_by_domain ON accounts (domain, user);

CREATE TABLE roster (
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  jid TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  subscription TEXT NOT NULL DEFAULT 'none'
    CHECK (subscription IN ('none', 'to', 'from', 'both')),
  ask_out INTEGER NOT NULL DEFAULT 0,
  pending_in INTEGER NOT NULL DEFAULT 0,
  approved INTEGER NOT NULL DEFAULT 0,
  pending_in_stanza TEXT NOT NULL DEFAULT '',
  UNIQUE (owner_user, owner_domain, jid)
);

CREATE TABLE roster_groups (
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  jid TEXT NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (owner_user, owner_domain, jid, name),
  FOREIGN KEY (owner_user, owner_domain, jid)
    REFERENCES roster (owner_user, owner_domain, jid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE roster_version (
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (owner_user, owner_domain)
) WITHOUT ROWID;

CREATE TABLE offline (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  stanza TEXT NOT NULL,
  stored_at INTEGER NOT NULL
);
CREATE INDEX offline_by_owner ON offline (owner_user, owner_domain, seq);

CREATE TABLE documents (
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  key TEXT NOT NULL,
  xml TEXT NOT NULL,
  UNIQUE (owner_user, owner_domain, key)
);

CREATE TABLE blocklist (
  owner_user TEXT NOT NULL,
  owner_domain TEXT NOT NULL,
  jid TEXT NOT NULL,
  PRIMARY KEY (owner_user, owner_domain, jid)
) WITHOUT ROWID;
)sql";

// Message archive (XEP-0313), see docs/mam.md. `id` is the rowid, so rows
// are stored in id order and an index on (owner) or (owner, with) is an
// index on (owner, id) / (owner, with, id): a page is one index seek and a
// short range walk, however large the archive. Retention deletes by id
// range on the table itself. `owner` is a bare JID string (account or room).
constexpr std::string_view kSchemaV2Archive = R"sql(
CREATE TABLE archive (
  id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  with_jid TEXT NOT NULL,
  with_resource TEXT NOT NULL DEFAULT '',
  stanza TEXT NOT NULL
);
CREATE INDEX archive_by_owner ON archive (owner);
CREATE INDEX archive_by_with ON archive (owner, with_jid);

CREATE TABLE archive_prefs (
  owner TEXT NOT NULL PRIMARY KEY,
  default_mode TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE archive_prefs_jids (
  owner TEXT NOT NULL,
  jid TEXT NOT NULL,
  always INTEGER NOT NULL,
  PRIMARY KEY (owner, jid)
) WITHOUT ROWID;
)sql";

// Persistent multi-user chat rooms (XEP-0045), see docs/muc.md. `service`
// is the room JID's domain, so a service loads its rooms with one index
// range; affiliations go with their room.
constexpr std::string_view kSchemaV3Muc = R"sql(
CREATE TABLE muc_rooms (
  jid TEXT NOT NULL PRIMARY KEY,
  service TEXT NOT NULL,
  config TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  subject_nick TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX muc_rooms_by_service ON muc_rooms (service);

CREATE TABLE muc_affiliations (
  room TEXT NOT NULL,
  jid TEXT NOT NULL,
  affiliation TEXT NOT NULL,
  PRIMARY KEY (room, jid)
) WITHOUT ROWID;
)sql";

// Publish-subscribe nodes and items (XEP-0060 / XEP-0163), see docs/pep.md.
// `service` is an account's bare JID (PEP) or a pubsub domain. Items are a
// rowid table ordered by `seq`, so "the newest N items of a node" is one
// backwards index walk and trimming to max_items deletes by seq; a
// republished id is deleted and inserted again, becoming the newest.
constexpr std::string_view kSchemaV4Pubsub = R"sql(
CREATE TABLE pubsub_nodes (
  service TEXT NOT NULL,
  node TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (service, node)
) WITHOUT ROWID;

CREATE TABLE pubsub_items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  service TEXT NOT NULL,
  node TEXT NOT NULL,
  id TEXT NOT NULL,
  publisher TEXT NOT NULL,
  payload TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  UNIQUE (service, node, id)
);
CREATE INDEX pubsub_items_by_node ON pubsub_items (service, node, seq);

CREATE TABLE pubsub_affiliations (
  service TEXT NOT NULL,
  node TEXT NOT NULL,
  jid TEXT NOT NULL,
  affiliation TEXT NOT NULL,
  PRIMARY KEY (service, node, jid)
) WITHOUT ROWID;

CREATE TABLE pubsub_subscriptions (
  service TEXT NOT NULL,
  node TEXT NOT NULL,
  jid TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (service, node, jid)
) WITHOUT ROWID;
CREATE INDEX pubsub_subscriptions_by_jid ON pubsub_subscriptions (service, jid);
)sql";

// XEP-0060 §6.3: a subscription's options (the pubsub#subscribe_options
// form, serialized; empty: the defaults).
constexpr std::string_view kSchemaV5SubscriptionOptions = R"sql(
ALTER TABLE pubsub_subscriptions ADD COLUMN options TEXT NOT NULL DEFAULT '';
)sql";

// MUC rooms (docs/muc.md): a room's vCard (its avatar, XEP-0486) and the
// nicks registered with it (XEP-0045 §7.10), which go with an affiliation.
constexpr std::string_view kSchemaV6MucAvatarsAndNicks = R"sql(
ALTER TABLE muc_rooms ADD COLUMN vcard TEXT NOT NULL DEFAULT '';
ALTER TABLE muc_affiliations ADD COLUMN nick TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::array<std::string_view, 6> kSteps = {kSchemaV1,       kSchemaV2Archive,
                                                    kSchemaV3Muc,    kSchemaV4Pubsub,
                                                    kSchemaV5SubscriptionOptions,
                                                    kSchemaV6MucAvatarsAndNicks};

std::string newer_message(const Db& db, int found, std::size_t known) {
  return "database " + db.path() + " has schema version " + std::to_string(found) +
         ", newer than this Tern knows (" + std::to_string(known) +
         "): it was written by a newer Tern; run that version or restore a backup";
}

}  // namespace

std::span<const std::string_view> schema_migrations() { return kSteps; }

int schema_version(Db& db) {
  Query q = db.query("PRAGMA user_version");
  if (!q.step()) throw StorageError("sqlite: PRAGMA user_version returned no row");
  return static_cast<int>(q.column_int(0));
}

void migrate(Db& db, std::span<const std::string_view> steps) {
  const auto known = steps.size();
  for (;;) {
    // A cheap read first, so opening an up-to-date database takes no write
    // lock and never waits on a server that is busy writing.
    int version = schema_version(db);
    if (version < 0)
      throw StorageError("database " + db.path() + " has an invalid schema version " +
                         std::to_string(version));
    if (static_cast<std::size_t>(version) > known)
      throw StorageError(newer_message(db, version, known));
    if (static_cast<std::size_t>(version) == known) return;

    Transaction tx(db);
    // Read again under the write lock: another process opening the same file
    // may have applied this step since.
    version = schema_version(db);
    if (static_cast<std::size_t>(version) > known)
      throw StorageError(newer_message(db, version, known));
    if (static_cast<std::size_t>(version) == known) return;
    try {
      db.exec(std::string(steps[version]));
      db.exec("PRAGMA user_version = " + std::to_string(version + 1));
      tx.commit();
    } catch (const StorageError& e) {
      throw StorageError("migration of " + db.path() + " to schema version " +
                         std::to_string(version + 1) + " failed: " + e.what());
    }
  }
}

}  // namespace tern::storage::sqlite
