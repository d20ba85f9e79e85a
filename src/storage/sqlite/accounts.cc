// Accounts: SCRAM-SHA-1 and SCRAM-SHA-256 salted keys per (user, domain).
// The password itself is never written anywhere; PBKDF2 runs with no
// connection borrowed, so a slow derivation does not hold up other callers.
#include <openssl/crypto.h>

#include <chrono>

#include "core/clock.h"
#include "storage/sqlite/stores.h"

namespace tern::storage::sqlite {
namespace {

constexpr std::size_t kSaltBytes = 16;

bool account_exists(Db& db, const AccountKey& who) {
  Query q = db.query("SELECT 1 FROM accounts WHERE user = ?1 AND domain = ?2");
  q.bind_owner(1, who);
  return q.step();
}

}  // namespace

void bind_credentials(Query& q, const AccountCredentials& c) {
  q.bind_blob(3, c.sha1.salt).bind(4, c.sha1.iterations);
  q.bind_blob(5, c.sha1.stored_key).bind_blob(6, c.sha1.server_key);
  q.bind_blob(7, c.sha256.salt).bind(8, c.sha256.iterations);
  q.bind_blob(9, c.sha256.stored_key).bind_blob(10, c.sha256.server_key);
}

bool delete_account_rows(Db& db, const AccountKey& who) {
  // Groups first would also follow from the cascade on roster; deleting them
  // by owner directly is one range delete instead of one per roster row.
  static constexpr std::string_view kTables[] = {
      "DELETE FROM roster_groups WHERE owner_user = ?1 AND owner_domain = ?2",
      "DELETE FROM roster WHERE owner_user = ?1 AND owner_domain = ?2",
      "DELETE FROM roster_version WHERE owner_user = ?1 AND owner_domain = ?2",
      "DELETE FROM offline WHERE owner_user = ?1 AND owner_domain = ?2",
      "DELETE FROM documents WHERE owner_user = ?1 AND owner_domain = ?2",
      "DELETE FROM blocklist WHERE owner_user = ?1 AND owner_domain = ?2",
  };
  for (std::string_view sql : kTables) db.query(sql).bind_owner(1, who).run();
  delete_archive_rows(db, who.user + "@" + who.domain);
  delete_pubsub_rows(db, who.user + "@" + who.domain);
  return db.query("DELETE FROM accounts WHERE user = ?1 AND domain = ?2").bind_owner(1, who).run() >
         0;
}

AccountCredentials SqliteAccounts::derive(const std::string& password) const {
  // A fresh salt per hash: the two key sets share nothing but the password.
  AccountCredentials c;
  c.sha1 = sasl::derive_credentials(sasl::Hash::kSha1, password, sasl::random_bytes(kSaltBytes),
                                    iterations_);
  c.sha256 = sasl::derive_credentials(sasl::Hash::kSha256, password, sasl::random_bytes(kSaltBytes),
                                      iterations_);
  return c;
}

bool insert_account(Db& db, const AccountKey& who, const AccountCredentials& c,
                    ExistingAccount existing) {
  static constexpr const char* kInsert =
      "INSERT INTO accounts (user, domain, sha1_salt, sha1_iter, sha1_stored, sha1_server,"
      " sha256_salt, sha256_iter, sha256_stored, sha256_server, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
  static const std::string kKeep = std::string(kInsert) + " ON CONFLICT (user, domain) DO NOTHING";
  static const std::string kReplace =
      std::string(kInsert) +
      " ON CONFLICT (user, domain) DO UPDATE SET sha1_salt = excluded.sha1_salt,"
      " sha1_iter = excluded.sha1_iter, sha1_stored = excluded.sha1_stored,"
      " sha1_server = excluded.sha1_server, sha256_salt = excluded.sha256_salt,"
      " sha256_iter = excluded.sha256_iter, sha256_stored = excluded.sha256_stored,"
      " sha256_server = excluded.sha256_server";
  Query q = db.query(existing == ExistingAccount::kKeep ? kKeep : kReplace);
  q.bind_owner(1, who);
  bind_credentials(q, c);
  q.bind(11, core::unix_now());
  return q.run() > 0;
}

bool SqliteAccounts::create(const AccountKey& who, const std::string& password) {
  // Checked first only to skip two PBKDF2 runs for a taken name; the insert
  // below is what decides when two creators race.
  if (exists(who)) return false;
  AccountCredentials c = derive(password);
  auto db = pool_.borrow();
  return insert_account(*db, who, c, ExistingAccount::kKeep);
}

bool SqliteAccounts::remove(const AccountKey& who) {
  auto db = pool_.borrow();
  Transaction tx(*db);
  bool existed = delete_account_rows(*db, who);
  tx.commit();
  return existed;
}

bool SqliteAccounts::set_password(const AccountKey& who, const std::string& password) {
  if (!exists(who)) return false;
  AccountCredentials c = derive(password);
  auto db = pool_.borrow();
  Query q = db->query(
      "UPDATE accounts SET sha1_salt = ?3, sha1_iter = ?4, sha1_stored = ?5, sha1_server = ?6,"
      " sha256_salt = ?7, sha256_iter = ?8, sha256_stored = ?9, sha256_server = ?10"
      " WHERE user = ?1 AND domain = ?2");
  q.bind_owner(1, who);
  bind_credentials(q, c);
  // The account may have been removed while PBKDF2 ran.
  return q.run() > 0;
}

bool SqliteAccounts::exists(const AccountKey& who) {
  auto db = pool_.borrow();
  return account_exists(*db, who);
}

std::optional<AccountCredentials> read_credentials(Db& db, const AccountKey& who) {
  Query q = db.query(
      "SELECT sha1_salt, sha1_iter, sha1_stored, sha1_server,"
      " sha256_salt, sha256_iter, sha256_stored, sha256_server"
      " FROM accounts WHERE user = ?1 AND domain = ?2");
  q.bind_owner(1, who);
  if (!q.step()) return std::nullopt;
  AccountCredentials c;
  c.sha1.salt = q.column_text(0);
  c.sha1.iterations = static_cast<int>(q.column_int(1));
  c.sha1.stored_key = q.column_text(2);
  c.sha1.server_key = q.column_text(3);
  c.sha256.salt = q.column_text(4);
  c.sha256.iterations = static_cast<int>(q.column_int(5));
  c.sha256.stored_key = q.column_text(6);
  c.sha256.server_key = q.column_text(7);
  return c;
}

std::optional<AccountCredentials> SqliteAccounts::credentials(const AccountKey& who) {
  auto db = pool_.borrow();
  return read_credentials(*db, who);
}

bool SqliteAccounts::check_password(const AccountKey& who, const std::string& password) {
  sasl::ScramCredentials stored;
  {
    auto db = pool_.borrow();
    Query q = db->query(
        "SELECT sha256_salt, sha256_iter, sha256_stored FROM accounts"
        " WHERE user = ?1 AND domain = ?2");
    q.bind_owner(1, who);
    if (!q.step()) return false;
    stored.salt = q.column_text(0);
    stored.iterations = static_cast<int>(q.column_int(1));
    stored.stored_key = q.column_text(2);
  }
  sasl::ScramCredentials candidate =
      sasl::derive_credentials(sasl::Hash::kSha256, password, stored.salt, stored.iterations);
  // Constant time, so response timing says nothing about how much matched.
  return !stored.stored_key.empty() && candidate.stored_key.size() == stored.stored_key.size() &&
         CRYPTO_memcmp(candidate.stored_key.data(), stored.stored_key.data(),
                       stored.stored_key.size()) == 0;
}

std::vector<AccountKey> SqliteAccounts::list(const std::string& domain) {
  auto db = pool_.borrow();
  // BINARY collation orders bytes like std::string's operator<.
  Query q = domain.empty()
                ? db->query("SELECT user, domain FROM accounts ORDER BY domain, user")
                : db->query("SELECT user, domain FROM accounts WHERE domain = ?1 ORDER BY user");
  if (!domain.empty()) q.bind(1, domain);
  std::vector<AccountKey> out;
  while (q.step()) out.push_back(AccountKey{q.column_text(0), q.column_text(1)});
  return out;
}

}  // namespace tern::storage::sqlite
