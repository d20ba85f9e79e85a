// The vCard's XEP-0227 section: <vCard xmlns='vcard-temp'/> in, stored as
// a vCard set stores it, and back out.
#include <gtest/gtest.h>

#include "modules/vcard/vcard.h"
#include "portable/section_harness.h"

namespace tern::modules::vcard {
namespace {

using portable::SectionTally;
using portable::testing::SectionHarness;

constexpr std::string_view kCard =
    "<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><NICKNAME>Jules</NICKNAME></vCard>";

TEST(VcardSection, IsRegisteredForTheVcard) {
  SectionHarness h("vcard");
  EXPECT_EQ(portable::builtin_sections().find("vCard", kNs), &h.section());
}

TEST(VcardSection, StoresTheVcardAsAVcardSetDoesAndOnlyOnce) {
  SectionHarness h("vcard");
  auto read = h.read(kCard);
  EXPECT_TRUE(read.warnings.empty());
  EXPECT_EQ(h.store(*read.data, true), (SectionTally{.added = 1}));
  EXPECT_EQ(h.storage().documents().get(h.owner, std::string(kDocumentKey)), kCard);
  EXPECT_EQ(h.store(kCard), (SectionTally{.unchanged = 1}));
  std::string other(kCard);
  other.replace(other.find("Jules"), 5, "Jule");
  EXPECT_EQ(h.store(other), (SectionTally{.changed = 1}));
}

TEST(VcardSection, AnEmptyVcardIsNoneAndTheLastOfSeveralCounts) {
  SectionHarness h("vcard");
  EXPECT_EQ(h.store("<vCard xmlns='vcard-temp'>\n  </vCard>"), SectionTally{});
  EXPECT_FALSE(h.storage().documents().get(h.owner, std::string(kDocumentKey)));

  auto read = h.read(
      {"<vCard xmlns='vcard-temp'><FN>First</FN></vCard>", kCard, "<vCard xmlns='vcard-temp'/>"});
  EXPECT_EQ(h.store(*read.data), (SectionTally{.added = 1}));
  EXPECT_EQ(h.storage().documents().get(h.owner, std::string(kDocumentKey)), kCard);
}

TEST(VcardSection, WritesTheStoredVcardBackForARoundTrip) {
  SectionHarness h("vcard");
  EXPECT_EQ(h.write().items, 0u);
  EXPECT_EQ(h.write().text, "");
  h.store(kCard);
  auto written = h.write();
  EXPECT_EQ(written.items, 1u);
  EXPECT_EQ(written.text, kCard);

  SectionHarness copy("vcard");
  EXPECT_EQ(copy.store(written.text), (SectionTally{.added = 1}));
  EXPECT_EQ(copy.storage().documents().get(copy.owner, std::string(kDocumentKey)), kCard);
}

}  // namespace
}  // namespace tern::modules::vcard
