// Every method of every store on the SQLite driver, against a real file.
#include "storage/sqlite/sqlite_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include "sasl/mechanism.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

// Low iterations keep PBKDF2 out of the test time; the default is checked
// separately through open_storage.
constexpr int kTestIterations = 64;

class SqliteStorageTest : public ::testing::Test {
 protected:
  SqliteStorageTest()
      : storage_(std::make_unique<SqliteStorage>(
            dir_.file("tern.db"), SqliteOptions{.scram_iterations = kTestIterations})) {}

  TempDir dir_;
  std::unique_ptr<SqliteStorage> storage_;
  const AccountKey alice_{"alice", "example.org"};
  const AccountKey bob_{"bob", "example.org"};
};

RosterItem contact(std::string jid, std::vector<std::string> groups = {},
                   std::string subscription = "none", std::string name = "", bool ask_out = false) {
  RosterItem item;
  item.jid = std::move(jid);
  item.name = std::move(name);
  item.subscription = std::move(subscription);
  item.ask_out = ask_out;
  item.groups = std::move(groups);
  return item;
}

std::vector<std::string> names(const std::vector<AccountKey>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.user + "@" + k.domain);
  return out;
}

// ---------------------------------------------------------------- accounts

TEST_F(SqliteStorageTest, CreateMakesAccountOnce) {
  AccountStore& accounts = storage_->accounts();
  EXPECT_FALSE(accounts.exists(alice_));
  EXPECT_TRUE(accounts.create(alice_, "secret"));
  EXPECT_TRUE(accounts.exists(alice_));
  EXPECT_FALSE(accounts.create(alice_, "other"));
  // The second create must not have replaced the first password.
  EXPECT_TRUE(accounts.check_password(alice_, "secret"));
  EXPECT_FALSE(accounts.exists(AccountKey{"alice", "example.net"}));
  EXPECT_FALSE(accounts.exists(bob_));
}

TEST_F(SqliteStorageTest, CredentialsAreBothScramKeySets) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "pencil"));
  auto creds = storage_->accounts().credentials(alice_);
  ASSERT_TRUE(creds.has_value());

  EXPECT_EQ(creds->sha1.salt.size(), 16u);
  EXPECT_EQ(creds->sha256.salt.size(), 16u);
  EXPECT_NE(creds->sha1.salt, creds->sha256.salt);
  EXPECT_EQ(creds->sha1.iterations, kTestIterations);
  EXPECT_EQ(creds->sha256.iterations, kTestIterations);
  EXPECT_EQ(creds->sha1.stored_key.size(), 20u);
  EXPECT_EQ(creds->sha1.server_key.size(), 20u);
  EXPECT_EQ(creds->sha256.stored_key.size(), 32u);
  EXPECT_EQ(creds->sha256.server_key.size(), 32u);

  auto sha1 =
      sasl::derive_credentials(sasl::Hash::kSha1, "pencil", creds->sha1.salt, kTestIterations);
  auto sha256 =
      sasl::derive_credentials(sasl::Hash::kSha256, "pencil", creds->sha256.salt, kTestIterations);
  EXPECT_EQ(creds->sha1.stored_key, sha1.stored_key);
  EXPECT_EQ(creds->sha1.server_key, sha1.server_key);
  EXPECT_EQ(creds->sha256.stored_key, sha256.stored_key);
  EXPECT_EQ(creds->sha256.server_key, sha256.server_key);
}

TEST_F(SqliteStorageTest, SaltsAreFreshPerAccount) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "same"));
  ASSERT_TRUE(storage_->accounts().create(bob_, "same"));
  auto a = storage_->accounts().credentials(alice_);
  auto b = storage_->accounts().credentials(bob_);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->sha1.salt, b->sha1.salt);
  EXPECT_NE(a->sha1.stored_key, b->sha1.stored_key);
  EXPECT_NE(a->sha256.salt, b->sha256.salt);
  EXPECT_NE(a->sha256.stored_key, b->sha256.stored_key);
}

TEST_F(SqliteStorageTest, CredentialsOfMissingAccountAreNullopt) {
  EXPECT_FALSE(storage_->accounts().credentials(alice_).has_value());
}

TEST_F(SqliteStorageTest, CheckPassword) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "correct horse"));
  EXPECT_TRUE(storage_->accounts().check_password(alice_, "correct horse"));
  EXPECT_FALSE(storage_->accounts().check_password(alice_, "correct hors"));
  EXPECT_FALSE(storage_->accounts().check_password(alice_, "correct horse "));
  EXPECT_FALSE(storage_->accounts().check_password(alice_, ""));
  EXPECT_FALSE(storage_->accounts().check_password(bob_, "correct horse"));
}

TEST_F(SqliteStorageTest, SetPasswordRederivesBothKeySets) {
  AccountStore& accounts = storage_->accounts();
  ASSERT_TRUE(accounts.create(alice_, "old"));
  auto before = accounts.credentials(alice_);
  EXPECT_TRUE(accounts.set_password(alice_, "new"));
  auto after = accounts.credentials(alice_);
  ASSERT_TRUE(before && after);
  EXPECT_NE(before->sha1.salt, after->sha1.salt);
  EXPECT_NE(before->sha256.salt, after->sha256.salt);
  EXPECT_EQ(after->sha1.stored_key,
            sasl::derive_credentials(sasl::Hash::kSha1, "new", after->sha1.salt, kTestIterations)
                .stored_key);
  EXPECT_FALSE(accounts.check_password(alice_, "old"));
  EXPECT_TRUE(accounts.check_password(alice_, "new"));
  EXPECT_FALSE(accounts.set_password(bob_, "new"));
  EXPECT_FALSE(accounts.exists(bob_));
}

TEST_F(SqliteStorageTest, RemoveDeletesAccountAndItsData) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "pw"));
  ASSERT_TRUE(storage_->accounts().create(bob_, "pw"));
  for (const AccountKey& who : {alice_, bob_}) {
    storage_->roster().put(who, contact("carol@example.org", {"G"}));
    storage_->offline().push(who, "<message/>");
    storage_->documents().put(who, "vcard", "<vCard/>");
    storage_->blocklist().add(who, {"spam@example.com"});
  }
  EXPECT_TRUE(storage_->accounts().remove(alice_));
  EXPECT_FALSE(storage_->accounts().exists(alice_));
  EXPECT_TRUE(storage_->roster().items(alice_).empty());
  EXPECT_EQ(storage_->roster().version(alice_), 0);
  EXPECT_EQ(storage_->offline().count(alice_), 0u);
  EXPECT_FALSE(storage_->documents().get(alice_, "vcard").has_value());
  EXPECT_TRUE(storage_->blocklist().items(alice_).empty());
  EXPECT_FALSE(storage_->accounts().remove(alice_));

  // Bob's rows are untouched.
  EXPECT_TRUE(storage_->accounts().exists(bob_));
  ASSERT_EQ(storage_->roster().items(bob_).size(), 1u);
  EXPECT_EQ(storage_->roster().items(bob_)[0].groups, std::vector<std::string>{"G"});
  EXPECT_EQ(storage_->offline().count(bob_), 1u);
  EXPECT_EQ(storage_->documents().get(bob_, "vcard"), "<vCard/>");
  EXPECT_EQ(storage_->blocklist().items(bob_), std::vector<std::string>{"spam@example.com"});
}

TEST_F(SqliteStorageTest, RemoveAccountDataClearsEverything) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "pw"));
  storage_->roster().put(alice_, contact("carol@example.org", {"G"}));
  storage_->offline().push(alice_, "<message/>");
  storage_->documents().put(alice_, "vcard", "<vCard/>");
  storage_->blocklist().add(alice_, {"spam@example.com"});
  storage_->offline().push(bob_, "<message id='b'/>");

  storage_->remove_account_data(alice_);
  EXPECT_FALSE(storage_->accounts().exists(alice_));
  EXPECT_TRUE(storage_->roster().items(alice_).empty());
  EXPECT_EQ(storage_->roster().version(alice_), 0);
  EXPECT_EQ(storage_->offline().count(alice_), 0u);
  EXPECT_FALSE(storage_->documents().get(alice_, "vcard").has_value());
  EXPECT_TRUE(storage_->blocklist().items(alice_).empty());
  EXPECT_EQ(storage_->offline().count(bob_), 1u);
  // Removing again (nothing left) is harmless.
  storage_->remove_account_data(alice_);
}

TEST_F(SqliteStorageTest, ListIsSortedByDomainThenUser) {
  AccountStore& accounts = storage_->accounts();
  EXPECT_TRUE(accounts.list("").empty());
  for (const char* user : {"zed", "amy", "Bob"}) {
    ASSERT_TRUE(accounts.create(AccountKey{user, "b.example"}, "pw"));
  }
  ASSERT_TRUE(accounts.create(AccountKey{"zoe", "a.example"}, "pw"));
  ASSERT_TRUE(accounts.create(AccountKey{"amy", "c.example"}, "pw"));

  EXPECT_EQ(names(accounts.list("")),
            (std::vector<std::string>{"zoe@a.example", "Bob@b.example", "amy@b.example",
                                      "zed@b.example", "amy@c.example"}));
  EXPECT_EQ(names(accounts.list("b.example")),
            (std::vector<std::string>{"Bob@b.example", "amy@b.example", "zed@b.example"}));
  EXPECT_TRUE(accounts.list("nowhere.example").empty());
}

TEST_F(SqliteStorageTest, PasswordBytesNeverReachTheDisk) {
  const std::string first = "Pl41ntext-Marker-7f3a9c";
  const std::string second = "Another-Plaintext-Marker-0b1d";
  ASSERT_TRUE(storage_->accounts().create(alice_, first));
  ASSERT_FALSE(storage_->accounts().set_password(bob_, first));  // no such account
  ASSERT_TRUE(storage_->accounts().create(bob_, second));
  ASSERT_TRUE(storage_->accounts().set_password(alice_, second));

  // While open: the main file plus its WAL and shared-memory index.
  std::string bytes = dir_.all_bytes();
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(first), std::string::npos);
  EXPECT_EQ(bytes.find(second), std::string::npos);
  // The account names are there, so the scan does look at the data.
  EXPECT_NE(bytes.find("alice"), std::string::npos);

  // After close the WAL is checkpointed into the main file.
  storage_.reset();
  bytes = dir_.all_bytes();
  EXPECT_NE(bytes.find("alice"), std::string::npos);
  EXPECT_EQ(bytes.find(first), std::string::npos);
  EXPECT_EQ(bytes.find(second), std::string::npos);
}

// ------------------------------------------------------------------ roster

TEST_F(SqliteStorageTest, EmptyRoster) {
  EXPECT_TRUE(storage_->roster().items(alice_).empty());
  EXPECT_FALSE(storage_->roster().item(alice_, "bob@example.org").has_value());
  EXPECT_EQ(storage_->roster().version(alice_), 0);
}

TEST_F(SqliteStorageTest, RosterPutStoresEveryField) {
  RosterItem item;
  item.jid = "bob@example.org";
  item.name = "Bob \xC3\x9F";
  item.subscription = "from";
  item.ask_out = true;
  item.pending_in = true;
  item.approved = true;
  item.groups = {"Work", "Friends", "A\nB"};
  item.pending_in_stanza = "<presence from='bob@example.org' type='subscribe'/>";
  storage_->roster().put(alice_, item);

  auto got = storage_->roster().item(alice_, "bob@example.org");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->jid, "bob@example.org");
  EXPECT_EQ(got->name, "Bob \xC3\x9F");
  EXPECT_EQ(got->subscription, "from");
  EXPECT_TRUE(got->ask_out);
  EXPECT_TRUE(got->pending_in);
  EXPECT_TRUE(got->approved);
  EXPECT_EQ(got->groups, (std::vector<std::string>{"Work", "Friends", "A\nB"}));
  EXPECT_EQ(got->pending_in_stanza, "<presence from='bob@example.org' type='subscribe'/>");
  EXPECT_EQ(storage_->roster().version(alice_), 1);
  // Another owner sees none of it.
  EXPECT_TRUE(storage_->roster().items(bob_).empty());
  EXPECT_EQ(storage_->roster().version(bob_), 0);
}

TEST_F(SqliteStorageTest, RosterPutUpsertsAndBumpsVersion) {
  storage_->roster().put(alice_, contact("bob@example.org", {"One", "Two"}, "to", "Bob", true));
  storage_->roster().put(alice_, contact("bob@example.org", {"Three"}, "both", "Robert"));
  auto items = storage_->roster().items(alice_);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].name, "Robert");
  EXPECT_EQ(items[0].subscription, "both");
  EXPECT_FALSE(items[0].ask_out);
  EXPECT_FALSE(items[0].pending_in);
  EXPECT_FALSE(items[0].approved);
  EXPECT_EQ(items[0].groups, std::vector<std::string>{"Three"});
  EXPECT_EQ(items[0].pending_in_stanza, "");
  EXPECT_EQ(storage_->roster().version(alice_), 2);
}

TEST_F(SqliteStorageTest, RosterItemsAreSortedWithTheirOwnGroups) {
  storage_->roster().put(alice_, contact("dave@example.org", {"D1", "D2"}));
  storage_->roster().put(alice_, contact("bob@example.org"));
  storage_->roster().put(alice_, contact("carol@example.org", {"C"}));
  storage_->roster().put(alice_, contact("abe@example.org", {"A"}));
  storage_->roster().put(bob_, contact("carol@example.org", {"X"}));

  auto items = storage_->roster().items(alice_);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].jid, "abe@example.org");
  EXPECT_EQ(items[0].groups, std::vector<std::string>{"A"});
  EXPECT_EQ(items[1].jid, "bob@example.org");
  EXPECT_TRUE(items[1].groups.empty());
  EXPECT_EQ(items[2].jid, "carol@example.org");
  EXPECT_EQ(items[2].groups, std::vector<std::string>{"C"});
  EXPECT_EQ(items[3].jid, "dave@example.org");
  EXPECT_EQ(items[3].groups, (std::vector<std::string>{"D1", "D2"}));
  EXPECT_EQ(items[3].subscription, "none");
  EXPECT_EQ(storage_->roster().version(alice_), 4);
  EXPECT_EQ(storage_->roster().version(bob_), 1);
}

TEST_F(SqliteStorageTest, RosterDuplicateGroupKeepsFirstPosition) {
  storage_->roster().put(alice_, contact("bob@example.org", {"B", "A", "B"}));
  EXPECT_EQ(storage_->roster().item(alice_, "bob@example.org")->groups,
            (std::vector<std::string>{"B", "A"}));
}

TEST_F(SqliteStorageTest, RosterRemoveBumpsVersionOnlyWhenSomethingWent) {
  storage_->roster().put(alice_, contact("bob@example.org", {"G"}));
  EXPECT_EQ(storage_->roster().version(alice_), 1);
  EXPECT_FALSE(storage_->roster().remove(alice_, "carol@example.org"));
  EXPECT_EQ(storage_->roster().version(alice_), 1);
  EXPECT_TRUE(storage_->roster().remove(alice_, "bob@example.org"));
  EXPECT_EQ(storage_->roster().version(alice_), 2);
  EXPECT_FALSE(storage_->roster().item(alice_, "bob@example.org").has_value());
  EXPECT_FALSE(storage_->roster().remove(alice_, "bob@example.org"));
  EXPECT_EQ(storage_->roster().version(alice_), 2);
  // The groups went with the item: putting it back without groups has none.
  storage_->roster().put(alice_, contact("bob@example.org"));
  EXPECT_TRUE(storage_->roster().item(alice_, "bob@example.org")->groups.empty());
  EXPECT_EQ(storage_->roster().version(alice_), 3);
}

TEST_F(SqliteStorageTest, BadRosterRowIsAStorageErrorNamingTheStatement) {
  try {
    storage_->roster().put(alice_, contact("bob@example.org", {}, "maybe"));
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("CHECK constraint failed"), std::string::npos) << what;
    EXPECT_NE(what.find("INSERT INTO roster"), std::string::npos) << what;
  }
  // The failed transaction was rolled back: no row, no version bump.
  EXPECT_TRUE(storage_->roster().items(alice_).empty());
  EXPECT_EQ(storage_->roster().version(alice_), 0);
}

// ----------------------------------------------------------------- offline

TEST_F(SqliteStorageTest, OfflinePopAllReturnsOldestFirstAndEmpties) {
  OfflineStore& offline = storage_->offline();
  EXPECT_EQ(offline.count(alice_), 0u);
  EXPECT_TRUE(offline.pop_all(alice_).empty());
  offline.push(alice_, "<message id='1'/>");
  offline.push(bob_, "<message id='b'/>");
  offline.push(alice_, "<message id='2'>\xE2\x9C\x93</message>");
  offline.push(alice_, "<message id='3'/>");
  EXPECT_EQ(offline.count(alice_), 3u);
  EXPECT_EQ(offline.count(bob_), 1u);

  EXPECT_EQ(offline.pop_all(alice_),
            (std::vector<std::string>{"<message id='1'/>", "<message id='2'>\xE2\x9C\x93</message>",
                                      "<message id='3'/>"}));
  EXPECT_EQ(offline.count(alice_), 0u);
  EXPECT_TRUE(offline.pop_all(alice_).empty());
  EXPECT_EQ(offline.pop_all(bob_), std::vector<std::string>{"<message id='b'/>"});
  // Order continues to hold after a pop (seq is never reused).
  offline.push(alice_, "<message id='4'/>");
  offline.push(alice_, "<message id='5'/>");
  EXPECT_EQ(offline.pop_all(alice_),
            (std::vector<std::string>{"<message id='4'/>", "<message id='5'/>"}));
}

// --------------------------------------------------------------- documents

TEST_F(SqliteStorageTest, DocumentsGetPutRemove) {
  DocumentStore& docs = storage_->documents();
  EXPECT_FALSE(docs.get(alice_, "vcard").has_value());
  docs.put(alice_, "vcard", "<vCard xmlns='vcard-temp'/>");
  docs.put(alice_, "private:{storage:bookmarks}storage", "<storage/>");
  docs.put(bob_, "vcard", "<vCard><FN>Bob</FN></vCard>");
  EXPECT_EQ(docs.get(alice_, "vcard"), "<vCard xmlns='vcard-temp'/>");
  EXPECT_EQ(docs.get(alice_, "private:{storage:bookmarks}storage"), "<storage/>");

  docs.put(alice_, "vcard", "<vCard><FN>Alice</FN></vCard>");
  EXPECT_EQ(docs.get(alice_, "vcard"), "<vCard><FN>Alice</FN></vCard>");
  EXPECT_EQ(docs.get(bob_, "vcard"), "<vCard><FN>Bob</FN></vCard>");

  EXPECT_TRUE(docs.remove(alice_, "vcard"));
  EXPECT_FALSE(docs.remove(alice_, "vcard"));
  EXPECT_FALSE(docs.get(alice_, "vcard").has_value());
  EXPECT_EQ(docs.get(alice_, "private:{storage:bookmarks}storage"), "<storage/>");
  EXPECT_EQ(docs.get(bob_, "vcard"), "<vCard><FN>Bob</FN></vCard>");
}

TEST_F(SqliteStorageTest, EmptyDocumentIsStoredAsEmptyNotMissing) {
  storage_->documents().put(alice_, "vcard", "");
  EXPECT_EQ(storage_->documents().get(alice_, "vcard"), std::optional<std::string>(""));
}

TEST_F(SqliteStorageTest, BulkDocumentsWithAPrefixAreTheOwnersOnlyOrderedByKey) {
  DocumentStore& docs = storage_->documents();
  docs.put(alice_, "vcard", "<vCard/>");
  docs.put(alice_, "private:{urn:b}b", "<b/>");
  docs.put(alice_, "private:{urn:a}a", "<a/>");
  docs.put(alice_, "privatE:{urn:c}c", "<c/>");  // not the prefix: case counts
  docs.put(alice_, "private", "<no-colon/>");
  docs.put(bob_, "private:{urn:a}a", "<bob/>");
  auto bulk = storage_->begin_bulk(Storage::BulkMode::kRead);
  using Docs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(bulk->documents(alice_, "private:"),
            (Docs{{"private:{urn:a}a", "<a/>"}, {"private:{urn:b}b", "<b/>"}}));
  EXPECT_EQ(bulk->documents(bob_, "private:"), (Docs{{"private:{urn:a}a", "<bob/>"}}));
  EXPECT_EQ(bulk->documents(alice_, "none:"), Docs{});
  EXPECT_EQ(bulk->documents(alice_, "").size(), 5u);
}

// --------------------------------------------------------------- blocklist

TEST_F(SqliteStorageTest, BlocklistAddIgnoresDuplicatesAndSorts) {
  BlocklistStore& blocks = storage_->blocklist();
  EXPECT_TRUE(blocks.items(alice_).empty());
  blocks.add(alice_, {"c@example.org", "a@example.org", "b@example.org", "a@example.org"});
  blocks.add(alice_, {"b@example.org"});
  blocks.add(alice_, {});
  blocks.add(bob_, {"z@example.org"});
  EXPECT_EQ(blocks.items(alice_),
            (std::vector<std::string>{"a@example.org", "b@example.org", "c@example.org"}));
  EXPECT_EQ(blocks.items(bob_), std::vector<std::string>{"z@example.org"});
}

TEST_F(SqliteStorageTest, BlocklistRemoveSomeThenAll) {
  BlocklistStore& blocks = storage_->blocklist();
  blocks.add(alice_, {"a@example.org", "b@example.org", "c@example.org"});
  blocks.add(bob_, {"a@example.org"});
  blocks.remove(alice_, {"b@example.org", "not-there@example.org"});
  EXPECT_EQ(blocks.items(alice_), (std::vector<std::string>{"a@example.org", "c@example.org"}));
  blocks.remove(alice_, {});
  EXPECT_TRUE(blocks.items(alice_).empty());
  EXPECT_EQ(blocks.items(bob_), std::vector<std::string>{"a@example.org"});
}

// ------------------------------------------------------------ open/connect

TEST(OpenStorageTest, UnknownBackendIsRefused) {
  try {
    open_storage("mongodb", "/tmp/x");
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()), "unknown storage backend \"mongodb\" (known: sqlite)");
  }
}

TEST(OpenStorageTest, SqliteCreatesDirectoryAndOwnerOnlyFile) {
  TempDir dir;
  std::string path = dir.file("data/nested/tern.db");
  auto storage = open_storage("sqlite", path);
  ASSERT_NE(storage, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Default options: RFC 7677's 4096 iterations.
  ASSERT_TRUE(storage->accounts().create(AccountKey{"u", "localhost"}, "pw"));
  auto creds = storage->accounts().credentials(AccountKey{"u", "localhost"});
  ASSERT_TRUE(creds.has_value());
  EXPECT_EQ(creds->sha1.iterations, 4096);
  EXPECT_EQ(creds->sha256.iterations, 4096);
  EXPECT_TRUE(storage->accounts().check_password(AccountKey{"u", "localhost"}, "pw"));
}

TEST(OpenStorageTest, UnopenablePathIsAStorageError) {
  TempDir dir;
  // A directory where the file should be.
  EXPECT_THROW(open_storage("sqlite", dir.path().string()), StorageError);
}

TEST_F(SqliteStorageTest, ConnectionsUseWalAndForeignKeys) {
  Db db(dir_.file("tern.db"));
  Query mode = db.query("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
  Query fk = db.query("PRAGMA foreign_keys");
  ASSERT_TRUE(fk.step());
  EXPECT_EQ(fk.column_int(0), 1);
  Query sync = db.query("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.column_int(0), 1);  // NORMAL
}

TEST_F(SqliteStorageTest, DataSurvivesReopen) {
  ASSERT_TRUE(storage_->accounts().create(alice_, "pw"));
  storage_->offline().push(alice_, "<message/>");
  storage_.reset();
  SqliteStorage again(dir_.file("tern.db"), SqliteOptions{.scram_iterations = kTestIterations});
  EXPECT_TRUE(again.accounts().check_password(alice_, "pw"));
  EXPECT_EQ(again.offline().count(alice_), 1u);
}

}  // namespace
}  // namespace tern::storage::sqlite
