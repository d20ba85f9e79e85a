// Persistent MUC rooms on the SQLite driver: a room is written whole,
// replaced whole, listed per service, and removed with its affiliations.
#include <gtest/gtest.h>

#include <memory>

#include "storage/sqlite/sqlite_storage.h"
#include "storage/temp_dir.h"

namespace tern::storage::sqlite {
namespace {

using testing::TempDir;

MucRoomRecord room(std::string jid, std::string config) {
  MucRoomRecord r;
  r.jid = std::move(jid);
  r.config = std::move(config);
  r.subject = "topic";
  r.subject_nick = "alice";
  r.affiliations = {{"alice@example.org", "owner"}, {"bob@example.org", "member"}};
  r.nicks = {{"bob@example.org", "bobby"}};
  r.vcard = "<vCard xmlns='vcard-temp'><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></vCard>";
  return r;
}

TEST(SqliteMuc, RoomsAreWrittenReplacedListedAndRemoved) {
  TempDir dir;
  const auto path = dir.file("tern.db");
  {
    SqliteStorage storage(path, SqliteOptions{.scram_iterations = 64});
    auto& muc = storage.muc();
    EXPECT_TRUE(muc.rooms("conference.example.org").empty());
    muc.put(room("a@conference.example.org", "<x/>"));
    muc.put(room("b@conference.example.org", "<y/>"));
    muc.put(room("c@chat.example.net", "<z/>"));
    auto changed = room("a@conference.example.org", "<x2/>");
    changed.affiliations = {{"carol@example.org", "admin"}};
    changed.nicks = {{"carol@example.org", "carol"}};
    changed.vcard.clear();
    changed.subject.clear();
    muc.put(changed);
  }
  SqliteStorage storage(path, SqliteOptions{.scram_iterations = 64});
  auto& muc = storage.muc();
  auto rooms = muc.rooms("conference.example.org");
  ASSERT_EQ(rooms.size(), 2u);
  auto expected = room("a@conference.example.org", "<x2/>");
  expected.affiliations = {{"carol@example.org", "admin"}};
  expected.nicks = {{"carol@example.org", "carol"}};
  expected.vcard.clear();
  expected.subject.clear();
  EXPECT_EQ(rooms[0], expected);
  EXPECT_EQ(rooms[1], room("b@conference.example.org", "<y/>"));
  EXPECT_TRUE(muc.remove("a@conference.example.org"));
  EXPECT_FALSE(muc.remove("a@conference.example.org"));
  EXPECT_EQ(muc.rooms("conference.example.org").size(), 1u);
  EXPECT_EQ(muc.rooms("chat.example.net").size(), 1u);
}

}  // namespace
}  // namespace tern::storage::sqlite
