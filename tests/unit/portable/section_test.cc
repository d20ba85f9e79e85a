// The portable section registry: which child of <user/> goes where, what
// happens to one nobody claims, and a made-up section carried through
// import, the report and export without the core knowing it.
#include "portable/section.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "portable/export.h"
#include "portable/format.h"
#include "portable/import.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"

namespace tern::portable {
namespace {

constexpr std::string_view kPrefsNs = "urn:example:prefs";
constexpr const char* kPrefsKey = "example:prefs";

// Keeps the last <prefs/> it reads as one document; says so for each read.
class PrefsImport final : public SectionData {
 public:
  void read(const xml::Element& child, std::vector<std::string>& warnings) override {
    ++reads;
    if (child.children().empty()) {
      warnings.push_back("empty prefs");
      return;
    }
    prefs_ = xml::to_string(child, "");
  }
  void store(storage::BulkTransaction& bulk, const storage::AccountKey& owner, bool new_account,
             SectionTally& tally) override {
    if (prefs_) store_document(bulk, owner, kPrefsKey, *prefs_, new_account, tally);
  }
  int reads = 0;

 private:
  std::optional<std::string> prefs_;
};

std::uint64_t write_prefs(std::string& out, storage::BulkTransaction& bulk,
                          const storage::AccountKey& owner) {
  auto stored = bulk.document(owner, kPrefsKey);
  if (!stored) return 0;
  append_to_user(out, *xml::parse_element(*stored, ""));
  return 1;
}

Section prefs_section(std::string_view name = "prefs", int rank = 50) {
  return Section{
      .name = name,
      .element = "prefs",
      .ns = kPrefsNs,
      .rank = rank,
      .counted = "preference sets",
      .summary = Summary::kStored,
      .headline = true,
      .start_import = &start_import<PrefsImport>,
      .write = &write_prefs,
  };
}

xml::Element user_element(std::string_view text) {
  auto el = xml::parse_element(text, kNs);
  EXPECT_TRUE(el) << text;
  return el ? std::move(*el) : xml::Element();
}

TEST(SectionRegistry, KeepsSectionsByRankThenName) {
  SectionRegistry r;
  Section b = prefs_section("b", 20);
  b.element = "b";
  Section a = prefs_section("a", 20);
  a.element = "a";
  r.add(b);
  r.add(prefs_section("first", 10));
  r.add(a);
  ASSERT_EQ(r.all().size(), 3u);
  EXPECT_EQ(r.all()[0].name, "first");
  EXPECT_EQ(r.all()[1].name, "a");
  EXPECT_EQ(r.all()[2].name, "b");
  EXPECT_EQ(r.find("prefs", kPrefsNs)->name, "first");
  EXPECT_EQ(r.find("prefs", "urn:other"), nullptr);
  EXPECT_EQ(r.find("a")->element, "a");
  EXPECT_EQ(r.find("nothing"), nullptr);
}

TEST(SectionRegistry, RefusesASecondOwnerAndTheCoresNamespace) {
  SectionRegistry r;
  r.add(prefs_section());
  EXPECT_THROW(r.add(prefs_section("other")), std::logic_error);  // same element
  Section core = prefs_section("core");
  core.ns = kNs;
  EXPECT_THROW(r.add(core), std::logic_error);
}

TEST(SectionRegistry, ARegisteredChildGoesToItsSectionAnUnknownOneIsAWarning) {
  SectionRegistry r;
  r.add(prefs_section());
  auto read = read_user(user_element("<user name='juliet'>"
                                     "<prefs xmlns='urn:example:prefs'><a/></prefs>"
                                     "<unknown xmlns='urn:example:unknown'/>"
                                     "<prefs xmlns='urn:example:prefs'/>"
                                     "<prefs xmlns='urn:example:other'/>"
                                     "</user>"),
                        r);
  ASSERT_TRUE(read.user);
  // Both <prefs/> of the section's namespace reached one SectionData.
  ASSERT_EQ(read.user->sections.size(), 1u);
  EXPECT_EQ(read.user->sections[0].section, r.find("prefs"));
  EXPECT_EQ(static_cast<PrefsImport&>(*read.user->sections[0].data).reads, 2);
  EXPECT_EQ(read.user->warnings,
            (std::vector<std::string>{"ignored <unknown xmlns='urn:example:unknown'>",
                                      "empty prefs", "ignored <prefs xmlns='urn:example:other'>"}));
}

TEST(SectionRegistry, WithoutSectionsEveryOtherChildIsIgnored) {
  SectionRegistry none;
  auto read = read_user(user_element("<user name='juliet'>"
                                     "<query xmlns='jabber:iq:roster'/>"
                                     "<offline-messages/></user>"),
                        none);
  ASSERT_TRUE(read.user);
  EXPECT_TRUE(read.user->sections.empty());
  // The offline messages are the core's; the roster is nobody's here.
  EXPECT_EQ(read.user->warnings,
            (std::vector<std::string>{"ignored <query xmlns='jabber:iq:roster'>"}));
}

constexpr std::string_view kWithPrefs = R"(<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='capulet.lit'>
    <user name='juliet' password='s3crEt'>
      <prefs xmlns='urn:example:prefs'><colour>red</colour></prefs>
    </user>
  </host>
</server-data>)";

TEST(SectionRegistry, ASectionIsImportedReportedAndExportedThroughTheStorageInterfaces) {
  SectionRegistry r;
  r.add(prefs_section());
  storage::testing::TempDir dir;
  auto open = [&](const std::string& name) {
    return std::make_unique<storage::sqlite::SqliteStorage>(
        dir.file(name), storage::sqlite::SqliteOptions{.scram_iterations = 64});
  };
  auto source = open("source.db");
  ImportOptions options;
  options.domains = {"capulet.lit"};
  options.scram_iterations = 64;

  ImportReport first = import_portable_text(*source, options, kWithPrefs, r);
  EXPECT_EQ(first.error, "");
  EXPECT_EQ(first.warnings, 0u);
  EXPECT_EQ(first.section("prefs"), (SectionTally{.added = 1}));
  EXPECT_NE(first.summary().find("\npreference sets: 1 stored, 0 unchanged\n"), std::string::npos)
      << first.summary();
  const storage::AccountKey juliet{"juliet", "capulet.lit"};
  EXPECT_EQ(source->documents().get(juliet, kPrefsKey),
            "<prefs xmlns='urn:example:prefs'><colour>red</colour></prefs>");

  ImportReport again = import_portable_text(*source, options, kWithPrefs, r);
  EXPECT_FALSE(again.changed_anything());
  EXPECT_EQ(again.section("prefs"), (SectionTally{.unchanged = 1}));
  // The headline section stands beside the users.
  EXPECT_NE(again.summary().find("1 users, 1 preference sets: unchanged"), std::string::npos)
      << again.summary();

  std::string exported;
  ExportReport er = export_portable(
      *source, {"capulet.lit"}, [&](std::string_view piece) { exported += piece; }, r);
  EXPECT_EQ(er.items("prefs"), 1u);
  EXPECT_NE(exported.find("<prefs xmlns='urn:example:prefs'><colour>red</colour></prefs>"),
            std::string::npos)
      << exported;
  // Written after the credentials, inside the <user/>.
  EXPECT_LT(exported.find("</scram-credentials>"), exported.find("<prefs"));
  EXPECT_LT(exported.find("<prefs"), exported.find("</user>"));

  // A section that changed its mind: the stored document is replaced.
  std::string blue(kWithPrefs);
  blue.replace(blue.find("red"), 3, "blue");
  ImportReport changed = import_portable_text(*source, options, blue, r);
  EXPECT_EQ(changed.section("prefs"), (SectionTally{.changed = 1}));
  EXPECT_EQ(changed.users_updated, 1u);

  // And the builtin sections do not see it: the element is ignored there.
  auto target = open("target.db");
  ImportReport plain = import_portable_text(*target, options, exported);
  EXPECT_EQ(plain.section("prefs"), SectionTally{});
  ASSERT_FALSE(plain.shown_warnings.empty());
  EXPECT_EQ(plain.shown_warnings[0],
            "juliet@capulet.lit: ignored <prefs xmlns='urn:example:prefs'>");
}

}  // namespace
}  // namespace tern::portable
