// Private XML storage's XEP-0227 section: <query xmlns='jabber:iq:private'/>
// in <user/>, each element stored as a private set stores it, and back out;
// then the whole file through `tern import` and `tern export`.
#include <gtest/gtest.h>

#include "modules/private/private.h"
#include "portable/export.h"
#include "portable/import.h"
#include "portable/section_harness.h"

namespace tern::modules::private_storage {
namespace {

using portable::SectionTally;
using portable::testing::SectionHarness;

constexpr std::string_view kExodus =
    "<exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick></exodus>";
constexpr std::string_view kBookmarks =
    "<storage xmlns='storage:bookmarks'><conference jid='council@chat.lit'/></storage>";

std::string query_of(std::string_view inner) {
  return "<query xmlns='jabber:iq:private'>" + std::string(inner) + "</query>";
}

std::optional<std::string> stored(SectionHarness& h, std::string_view key) {
  return h.storage().documents().get(h.owner, std::string(key));
}

TEST(PrivateSection, IsRegisteredForThePrivateQuery) {
  SectionHarness h("private");
  EXPECT_EQ(portable::builtin_sections().find("query", kNs), &h.section());
}

TEST(PrivateSection, StoresEachElementUnderItsOwnKey) {
  SectionHarness h("private");
  auto read = h.read(query_of(std::string(kExodus) + std::string(kBookmarks)));
  EXPECT_TRUE(read.warnings.empty());
  EXPECT_EQ(h.store(*read.data, true), (SectionTally{.added = 2}));
  EXPECT_EQ(stored(h, "private:{exodus:prefs}exodus"), kExodus);
  EXPECT_EQ(stored(h, "private:{storage:bookmarks}storage"), kBookmarks);

  // Again: nothing. One element changed: that one.
  EXPECT_EQ(h.store(query_of(std::string(kExodus) + std::string(kBookmarks))),
            (SectionTally{.unchanged = 2}));
  EXPECT_EQ(
      h.store(query_of("<exodus xmlns='exodus:prefs'><defaultnick>Ham</defaultnick></exodus>")),
      (SectionTally{.changed = 1}));
}

TEST(PrivateSection, SkipsWhatASetWouldRefuseAndNamesIt) {
  SectionHarness h("private");
  auto read =
      h.read(query_of("<prefs/>"                                     // jabber:iq:private itself
                      "<query xmlns='jabber:iq:roster'/>"            // reserved
                      "<empty xmlns='urn:example:empty'>  </empty>"  // nothing to store
                      "<a xmlns='urn:example:a'><x>1</x></a>"
                      "<a xmlns='urn:example:a'><x>2</x></a>"));  // the second of one name
  EXPECT_EQ(read.warnings,
            (std::vector<std::string>{
                "private XML <prefs xmlns='jabber:iq:private'>: the element needs a namespace "
                "of its own; skipped",
                "private XML <query xmlns='jabber:iq:roster'>: reserved namespace "
                "jabber:iq:roster; skipped",
                "private XML <a xmlns='urn:example:a'> listed twice; the first one counts"}));
  EXPECT_EQ(h.store(*read.data), (SectionTally{.added = 1}));
  EXPECT_EQ(stored(h, "private:{urn:example:a}a"), "<a xmlns='urn:example:a'><x>1</x></a>");
  // An empty query is nothing to store, and no warning.
  auto empty = h.read("<query xmlns='jabber:iq:private'/>");
  EXPECT_TRUE(empty.warnings.empty());
  EXPECT_EQ(h.store(*empty.data), SectionTally{});
}

TEST(PrivateSection, WritesEveryStoredElementInOneQueryForARoundTrip) {
  SectionHarness h("private");
  EXPECT_EQ(h.write().text, "");
  // Other documents of the account are not private storage.
  h.storage().documents().put(h.owner, "vcard", "<vCard xmlns='vcard-temp'/>");
  EXPECT_EQ(h.write().text, "");
  h.store(query_of(std::string(kExodus) + std::string(kBookmarks)));

  auto written = h.write();
  EXPECT_EQ(written.items, 2u);
  // Ordered by key: {exodus:prefs} before {storage:bookmarks}.
  EXPECT_EQ(written.text, query_of(std::string(kExodus) + std::string(kBookmarks)));

  SectionHarness copy("private");
  EXPECT_EQ(copy.store(written.text), (SectionTally{.added = 2}));
  EXPECT_EQ(copy.write().text, written.text);
}

constexpr std::string_view kHamlet = R"(<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='shakespeare.lit'>
    <user name='hamlet' password='2b0Rnot2B'>
      <query xmlns="jabber:iq:private">
        <exodus xmlns="exodus:prefs">
          <defaultnick>Hamlet</defaultnick>
        </exodus>
      </query>
    </user>
  </host>
</server-data>)";

TEST(PrivateSection, TheXepsExampleGoesThroughImportAndExport) {
  storage::testing::TempDir dir;
  auto open = [&](const std::string& name) {
    return std::make_unique<storage::sqlite::SqliteStorage>(
        dir.file(name), storage::sqlite::SqliteOptions{.scram_iterations = 64});
  };
  portable::ImportOptions options;
  options.domains = {"shakespeare.lit"};
  options.scram_iterations = 64;
  auto source = open("source.db");
  auto r = portable::import_portable_text(*source, options, kHamlet);
  EXPECT_EQ(r.warnings, 0u) << (r.shown_warnings.empty() ? "" : r.shown_warnings[0]);
  EXPECT_EQ(r.section("private"), (SectionTally{.added = 1}));
  EXPECT_NE(r.summary().find("\nprivate XML elements: 1 stored, 0 unchanged\n"), std::string::npos)
      << r.summary();

  std::string exported;
  auto er = portable::export_portable(*source, {"shakespeare.lit"},
                                      [&](std::string_view piece) { exported += piece; });
  EXPECT_EQ(er.items("private"), 1u);
  EXPECT_NE(exported.find("<query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'>"),
            std::string::npos)
      << exported;

  auto target = open("target.db");
  auto copied = portable::import_portable_text(*target, options, exported);
  EXPECT_EQ(copied.section("private"), (SectionTally{.added = 1}));
  const storage::AccountKey hamlet{"hamlet", "shakespeare.lit"};
  EXPECT_EQ(target->documents().get(hamlet, "private:{exodus:prefs}exodus"),
            source->documents().get(hamlet, "private:{exodus:prefs}exodus"));
  EXPECT_FALSE(portable::import_portable_text(*target, options, exported).changed_anything());
}

}  // namespace
}  // namespace tern::modules::private_storage
