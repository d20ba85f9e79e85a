// XEP-0227 import and export: reading a document, the round trip through
// storage, and the second import that must change nothing.
#include <gtest/gtest.h>

#include "portable/export.h"
#include "portable/format.h"
#include "portable/import.h"
#include "portable/reader.h"
#include "sasl/mechanism.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::portable {
namespace {

using storage::AccountKey;
using storage::testing::TempDir;

constexpr int kTestIterations = 64;

// juliet: plaintext password, a roster, a vCard, one offline message.
// romeo: SCRAM-SHA-1 keys only. nurse: on a host this server does not serve.
constexpr std::string_view kDocument = R"(<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='capulet.lit'>
    <user name='Juliet' password='s3crEt'>
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@montague.lit' name='Romeo' subscription='both'>
          <group>Friends</group><group>Lovers</group>
        </item>
        <item jid='tybalt@capulet.lit' subscription='none' ask='subscribe'/>
        <item jid='not a jid@@' subscription='both'/>
      </query>
      <vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN></vCard>
      <offline-messages>
        <message xmlns='jabber:client' from='romeo@montague.lit/orchard'
                 to='juliet@capulet.lit' type='chat'>
          <body>Neither, fair saint, if either thee dislike.</body>
          <delay xmlns='urn:xmpp:delay' from='capulet.lit' stamp='1469-07-21T00:32:29Z'/>
        </message>
      </offline-messages>
      <unknown xmlns='urn:example'/>
    </user>
  </host>
  <host jid='montague.lit'>
    <user name='romeo'>
      <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>
        <iter-count>4096</iter-count>
        <salt>QSXCR+Q6sek8bf92</salt>
        <server-key>D+CSWLOshSulAsxiupA+qs2/fTE=</server-key>
        <stored-key>6dlGYMOdZcOPutkcNY8U2g7vK9Y=</stored-key>
      </scram-credentials>
    </user>
  </host>
  <host jid='nurse.lit'><user name='nurse' password='x'/></host>
</server-data>
)";

TEST(PortableReader, StreamsEveryUserWithItsHost) {
  std::vector<std::pair<std::string, std::string>> seen;
  portable::ReadStats stats;
  std::string error = portable::read_portable_text(
      kDocument,
      [&](const std::string& host, xml::Element user) {
        seen.emplace_back(host, std::string(user.attr_or("name")));
      },
      &stats);
  EXPECT_EQ(error, "");
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(std::string("capulet.lit"), std::string("Juliet")));
  EXPECT_EQ(seen[1], std::make_pair(std::string("montague.lit"), std::string("romeo")));
  EXPECT_EQ(seen[2], std::make_pair(std::string("nurse.lit"), std::string("nurse")));
  EXPECT_EQ(stats.users, 3u);
}

TEST(PortableReader, ReadsAUserIntoWhatTernStores) {
  std::optional<portable::User> juliet;
  portable::read_portable_text(kDocument, [&](const std::string&, xml::Element user) {
    if (user.attr_or("name") == "Juliet") juliet = portable::read_user(user).user;
  });
  ASSERT_TRUE(juliet);
  EXPECT_EQ(juliet->password, "s3crEt");
  // The roster and the vCard went to their sections (their modules' tests
  // say what those read).
  ASSERT_EQ(juliet->sections.size(), 2u);
  EXPECT_EQ(juliet->sections[0].section->name, "roster");
  EXPECT_EQ(juliet->sections[1].section->name, "vcard");
  ASSERT_EQ(juliet->offline.size(), 1u);
  // As the offline module stores it: no xmlns on the stanza itself.
  EXPECT_TRUE(juliet->offline[0].starts_with("<message from='romeo@montague.lit/orchard'"));
  auto parsed = xml::parse_element(juliet->offline[0], ns::kClient);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->child_text("body"), "Neither, fair saint, if either thee dislike.");
  // The bad roster jid and the unknown element are named, not fatal.
  EXPECT_EQ(juliet->warnings.size(), 2u);
}

TEST(PortableReader, RefusesWhatItMustNotExpand) {
  auto ignore = [](const std::string&, xml::Element) {};
  EXPECT_NE(portable::read_portable_text("<!DOCTYPE x [<!ENTITY a 'b'>]><server-data "
                                         "xmlns='urn:xmpp:pie:0'/>",
                                         ignore),
            "");
  EXPECT_NE(portable::read_portable_text("<server-data xmlns='urn:xmpp:pie:0' "
                                         "xmlns:xi='http://www.w3.org/2001/XInclude'>"
                                         "<xi:include href='a.xml'/></server-data>",
                                         ignore),
            "");
  EXPECT_NE(portable::read_portable_text("<other/>", ignore), "");
  EXPECT_NE(portable::read_portable_text("<server-data xmlns='urn:xmpp:pie:0'><host", ignore),
            "");
}

class PortableImport : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Storage> open(const std::string& name) {
    return std::make_unique<storage::sqlite::SqliteStorage>(
        dir_.file(name), storage::sqlite::SqliteOptions{.scram_iterations = kTestIterations});
  }
  ImportOptions options() const {
    ImportOptions o;
    o.domains = {"capulet.lit", "montague.lit"};
    o.scram_iterations = kTestIterations;
    o.batch_users = 1;  // every user in its own transaction: exercises flushing
    return o;
  }
  TempDir dir_;
};

TEST_F(PortableImport, ImportsUsersRostersVcardsAndOfflineMessages) {
  auto st = open("a.db");
  ImportReport r = import_portable_text(*st, options(), kDocument);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.users_read, 3u);
  EXPECT_EQ(r.users_created, 2u);
  EXPECT_EQ(r.users_skipped, 1u);  // nurse.lit is not served
  EXPECT_EQ(r.section("roster").added, 2u);
  EXPECT_EQ(r.section("vcard").added, 1u);
  EXPECT_EQ(r.offline_added, 1u);

  const AccountKey juliet{"juliet", "capulet.lit"};  // the name is normalised
  EXPECT_TRUE(st->accounts().check_password(juliet, "s3crEt"));
  auto keys = st->accounts().credentials(juliet);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->sha1.stored_key.size(), 20u);  // both derived
  EXPECT_EQ(keys->sha256.stored_key.size(), 32u);
  auto roster = st->roster().items(juliet);
  ASSERT_EQ(roster.size(), 2u);
  EXPECT_EQ(roster[0].groups, (std::vector<std::string>{"Friends", "Lovers"}));
  EXPECT_GT(st->roster().version(juliet), 0);
  EXPECT_TRUE(st->documents().get(juliet, "vcard"));
  EXPECT_EQ(st->offline().count(juliet), 1u);

  // romeo's SHA-1 keys as they were; no SHA-256 keys made up.
  auto romeo = st->accounts().credentials(AccountKey{"romeo", "montague.lit"});
  ASSERT_TRUE(romeo);
  EXPECT_EQ(romeo->sha1.iterations, 4096);
  EXPECT_EQ(sasl::base64_encode(romeo->sha1.stored_key), "6dlGYMOdZcOPutkcNY8U2g7vK9Y=");
  EXPECT_TRUE(romeo->sha256.stored_key.empty());
  EXPECT_FALSE(st->accounts().exists(AccountKey{"nurse", "nurse.lit"}));
}

TEST_F(PortableImport, ASecondImportChangesNothing) {
  auto st = open("a.db");
  import_portable_text(*st, options(), kDocument);
  const AccountKey juliet{"juliet", "capulet.lit"};
  auto keys = st->accounts().credentials(juliet);
  auto version = st->roster().version(juliet);

  ImportReport again = import_portable_text(*st, options(), kDocument);
  EXPECT_FALSE(again.changed_anything()) << again.summary();
  EXPECT_EQ(again.users_unchanged, 2u);
  EXPECT_EQ(again.section("roster").unchanged, 2u);
  EXPECT_EQ(again.section("vcard").unchanged, 1u);
  EXPECT_EQ(again.offline_present, 1u);
  EXPECT_NE(again.summary().find("2 users, 2 roster items: unchanged"), std::string::npos);
  // The password matched the stored keys, so not even the salt changed.
  auto after = st->accounts().credentials(juliet);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->sha256.salt, keys->sha256.salt);
  EXPECT_EQ(st->roster().version(juliet), version);
  EXPECT_EQ(st->offline().count(juliet), 1u);
}

TEST_F(PortableImport, UpdatesWhatDiffersAndKeepsWhatTheFileDoesNotName) {
  auto st = open("a.db");
  import_portable_text(*st, options(), kDocument);
  const AccountKey juliet{"juliet", "capulet.lit"};
  storage::RosterItem nurse;
  nurse.jid = "nurse@capulet.lit";
  st->roster().put(juliet, nurse);
  std::string changed(kDocument);
  changed.replace(changed.find("s3crEt"), 6, "n3wPwd");
  changed.replace(changed.find("name='Romeo'"), 12, "name='Romy'");
  ImportReport r = import_portable_text(*st, options(), changed);
  EXPECT_EQ(r.users_updated, 1u);
  EXPECT_EQ(r.credentials_replaced, 1u);
  EXPECT_EQ(r.section("roster").changed, 1u);
  EXPECT_EQ(r.section("roster").unchanged, 1u);
  EXPECT_TRUE(st->accounts().check_password(juliet, "n3wPwd"));
  EXPECT_EQ(st->roster().items(juliet).size(), 3u);  // nurse stays
  EXPECT_EQ(st->roster().item(juliet, "romeo@montague.lit")->name, "Romy");
}

// As ejabberd 23.01's export_piefxis writes SCRAM credentials: salt and keys
// are base64 of the base64 ejabberd stores (carol's password is "carolpw").
constexpr std::string_view kEjabberdScram = R"(<server-data xmlns='urn:xmpp:pie:0'>
<host xmlns='urn:xmpp:pie:0' jid='capulet.lit'><user name='carol'>
<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-256'>
<iter-count>4096</iter-count><salt>K1g0aEF1bkRlM3ZBYSs3UmFmNG1YQT09</salt>
<server-key>dUxDMjVxc2MvS0ZVSkhERGNhSHFLQWpDazE2STl4YTF0dmJGK3pRTWh1UT0=</server-key>
<stored-key>cWNwZkh2cFFXMnNlRGhzaDM3MnRWMGZLdGhTR2pjeEVlVVQ1K0wvTGZ5UT0=</stored-key>
</scram-credentials></user></host></server-data>)";

TEST_F(PortableImport, ReadsEjabberdsDoublyEncodedScramCredentials) {
  auto st = open("a.db");
  ImportReport r = import_portable_text(*st, options(), kEjabberdScram);
  EXPECT_EQ(r.users_created, 1u);
  EXPECT_EQ(r.warnings, 0u) << (r.shown_warnings.empty() ? "" : r.shown_warnings[0]);
  const AccountKey carol{"carol", "capulet.lit"};
  auto keys = st->accounts().credentials(carol);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->sha256.salt.size(), 16u);
  EXPECT_TRUE(st->accounts().check_password(carol, "carolpw"));
}

TEST_F(PortableImport, ExportThenImportGivesTheSameData) {
  auto source = open("source.db");
  import_portable_text(*source, options(), kDocument);
  std::string exported;
  ExportReport er = export_portable(*source, {"capulet.lit", "montague.lit"},
                                    [&](std::string_view piece) { exported += piece; });
  EXPECT_EQ(er.users, 2u);
  EXPECT_EQ(exported.find("password"), std::string::npos);

  auto target = open("target.db");
  ImportReport r = import_portable_text(*target, options(), exported);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.users_created, 2u);
  EXPECT_EQ(r.warnings, 0u) << (r.shown_warnings.empty() ? "" : r.shown_warnings[0]);
  for (const AccountKey& who :
       {AccountKey{"juliet", "capulet.lit"}, AccountKey{"romeo", "montague.lit"}}) {
    auto a = source->accounts().credentials(who);
    auto b = target->accounts().credentials(who);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->sha1.salt, b->sha1.salt);
    EXPECT_EQ(a->sha1.stored_key, b->sha1.stored_key);
    EXPECT_EQ(a->sha256.stored_key, b->sha256.stored_key);
    EXPECT_EQ(a->sha256.server_key, b->sha256.server_key);
    auto ra = source->roster().items(who);
    auto rb = target->roster().items(who);
    ASSERT_EQ(ra.size(), rb.size());
    for (std::size_t i = 0; i < ra.size(); ++i) {
      EXPECT_EQ(ra[i].jid, rb[i].jid);
      EXPECT_EQ(ra[i].name, rb[i].name);
      EXPECT_EQ(ra[i].subscription, rb[i].subscription);
      EXPECT_EQ(ra[i].ask_out, rb[i].ask_out);
      EXPECT_EQ(ra[i].groups, rb[i].groups);
    }
    EXPECT_EQ(source->documents().get(who, "vcard"), target->documents().get(who, "vcard"));
    EXPECT_EQ(source->offline().pop_all(who), target->offline().pop_all(who));
  }
  EXPECT_TRUE(target->accounts().check_password(AccountKey{"juliet", "capulet.lit"}, "s3crEt"));

  // And exporting the copy gives the same document.
  std::string again;
  import_portable_text(*source, options(), exported);  // offline popped above: restore
  export_portable(*target, {"capulet.lit", "montague.lit"},
                  [&](std::string_view piece) { again += piece; });
  EXPECT_NE(again.find("<user name='romeo'>"), std::string::npos);
  EXPECT_FALSE(import_portable_text(*target, options(), again).changed_anything());
}

}  // namespace
}  // namespace tern::portable
