// What the presence module keeps per session: the last presence, kept
// serialised, and its <show/>, read without parsing it.
#include "modules/presence/session_state.h"

#include <gtest/gtest.h>

namespace tern::modules::presence {
namespace {

xml::Element presence_with(std::string_view show) {
  auto p = *xml::parse_element("<presence from='a@example.com/r'><priority>5</priority></presence>",
                               ns::kClient);
  if (!show.empty()) p.add_child("show").add_text(show);
  return p;
}

TEST(SessionPresenceTest, ShowFollowsTheLastPresence) {
  SessionPresence s;
  EXPECT_FALSE(s.has_last_presence());
  EXPECT_EQ(s.show(), "");
  s.set_last_presence(presence_with("dnd"));
  EXPECT_EQ(s.show(), "dnd");
  EXPECT_EQ(s.last_presence()->child_text("show"), "dnd");
  s.set_last_presence(presence_with("xa"));
  EXPECT_EQ(s.show(), "xa");
  s.set_last_presence(presence_with(""));
  EXPECT_EQ(s.show(), "");
  s.set_last_presence(presence_with("away"));
  s.forget_last_presence();
  EXPECT_FALSE(s.has_last_presence());
  EXPECT_EQ(s.show(), "");
}

TEST(SessionPresenceTest, AnUnknownShowCountsAsNone) {
  SessionPresence s;
  s.set_last_presence(presence_with("sleeping"));
  EXPECT_EQ(s.show(), "");
  EXPECT_TRUE(s.has_last_presence());
}

}  // namespace
}  // namespace tern::modules::presence
