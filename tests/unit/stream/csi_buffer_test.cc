#include "stream/csi_buffer.h"

#include <gtest/gtest.h>

namespace tern::stream {
namespace {

const std::string kAway = "<presence from='bob@x/p'><show>away</show></presence>";
const std::string kDnd = "<presence from='bob@x/p'><show>dnd</show></presence>";
const std::string kCarol = "<presence from='carol@x/p'/>";
const std::string kComposing =
    "<message from='bob@x/p' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>";
const std::string kPaused =
    "<message from='bob@x/p' type='chat'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>";
const std::string kBody =
    "<message from='bob@x/p' type='chat'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>";

TEST(CsiBuffer, ActiveHoldsNothing) {
  CsiBuffer b;
  EXPECT_FALSE(b.hold(kAway));
  EXPECT_EQ(b.held(), 0u);
}

TEST(CsiBuffer, KeepsOnlyTheLatestPresenceOfEachSenderInOrder) {
  CsiBuffer b;
  b.set_inactive();
  EXPECT_TRUE(b.hold(kAway));
  EXPECT_TRUE(b.hold(kCarol));
  EXPECT_TRUE(b.hold(kDnd));
  EXPECT_EQ(b.set_active(), (std::vector<std::string>{kCarol, kDnd}));
  EXPECT_FALSE(b.inactive());
}

TEST(CsiBuffer, ChatStatesAreHeldAndMessagesWithABodyAreNot) {
  CsiBuffer b;
  b.set_inactive();
  EXPECT_TRUE(b.hold(kComposing));
  EXPECT_TRUE(b.hold(kPaused));
  EXPECT_FALSE(b.hold(kBody));
  EXPECT_EQ(b.take_held(), (std::vector<std::string>{kPaused}));
}

TEST(CsiBuffer, ImportantStanzasAreNeverHeld) {
  CsiBuffer b;
  b.set_inactive();
  EXPECT_FALSE(b.hold("<presence from='bob@x' type='subscribe'/>"));
  EXPECT_FALSE(b.hold("<iq from='bob@x/p' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"));
  EXPECT_FALSE(b.hold("<message from='bob@x/p' type='error'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  // A chat state with something else (a receipt) is not only a chat state.
  EXPECT_FALSE(b.hold("<message from='bob@x/p'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
                      "<received xmlns='urn:xmpp:receipts' id='1'/></message>"));
  EXPECT_FALSE(b.hold("<message from='bob@x/p'/>"));
  EXPECT_FALSE(b.hold("<presence from='bob@x'"));  // not well-formed: not ours to judge
  EXPECT_EQ(b.held(), 0u);
}

std::string event(const std::string& node, const std::string& entry, const std::string& id,
                  const std::string& payload = "") {
  return "<message from='bob@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
         "<items node='" + node + "'><" + entry + " id='" + id + "'>" + payload + "</" + entry +
         "></items></event></message>";
}

TEST(CsiBuffer, PubsubEventsAreHeldAndTheLatestOfAnItemWins) {
  CsiBuffer b;
  b.set_inactive();
  const auto tune1 = event("tune", "item", "current", "<tune xmlns='t'>1</tune>");
  const auto tune2 = event("tune", "item", "current", "<tune xmlns='t'>2</tune>");
  const auto mark_a = event("urn:xmpp:bookmarks:1", "item", "a@c");
  const auto mark_b = event("urn:xmpp:bookmarks:1", "item", "b@c");
  const auto unmark_a = event("urn:xmpp:bookmarks:1", "retract", "a@c");
  EXPECT_TRUE(b.hold(tune1));
  EXPECT_TRUE(b.hold(mark_a));
  EXPECT_TRUE(b.hold(mark_b));
  EXPECT_TRUE(b.hold(unmark_a));
  EXPECT_TRUE(b.hold(tune2));
  EXPECT_EQ(b.take_held(), (std::vector<std::string>{mark_a, mark_b, unmark_a, tune2}));
  // Purges, deletions and events with a body go out at once.
  EXPECT_FALSE(b.hold("<message from='bob@x'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
                      "<purge node='n'/></event></message>"));
  EXPECT_FALSE(b.hold("<message from='bob@x'><body>x</body><event xmlns='http://jabber.org/protocol/pubsub#event'>"
                      "<items node='n'><item id='1'/></items></event></message>"));
}

TEST(CsiBuffer, AFullBufferLetsTheNextStanzaThrough) {
  CsiBuffer b(2);
  b.set_inactive();
  EXPECT_TRUE(b.hold(kAway));
  EXPECT_TRUE(b.hold(kCarol));
  EXPECT_FALSE(b.hold(kComposing));  // the caller flushes both, then sends it
  EXPECT_TRUE(b.hold(kDnd));         // replacing a held one needs no room
  EXPECT_EQ(b.held(), 2u);
}

}  // namespace
}  // namespace tern::stream
