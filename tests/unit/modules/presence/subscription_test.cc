// RFC 6121 Appendix A, row by row: every table of §A.2 (outbound) and §A.3
// (inbound), plus pre-approval (§3.4).
#include "modules/presence/subscription.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tern::modules::presence {
namespace {

using S = SubState;
using T = SubType;

struct Row {
  S from;
  bool pass_on;
  S to;
};

constexpr S kAll[] = {S::kNone, S::kNonePendingOut, S::kNonePendingIn, S::kNonePendingOutIn, S::kTo,
                      S::kToPendingIn, S::kFrom, S::kFromPendingOut, S::kBoth};

void expect_table(bool is_outbound, T type, const std::vector<Row>& rows) {
  ASSERT_EQ(rows.size(), 9u);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].from, kAll[i]);
    auto t = is_outbound ? outbound(rows[i].from, type, false) : inbound(rows[i].from, type, false);
    SCOPED_TRACE(std::string(is_outbound ? "outbound " : "inbound ") + sub_type_name(type) + " in " +
                 state_name(rows[i].from));
    EXPECT_EQ(t.pass_on, rows[i].pass_on);
    EXPECT_STREQ(state_name(t.next), state_name(rows[i].to));
  }
}

TEST(SubscriptionTable, OutboundSubscribeA21) {
  expect_table(true, T::kSubscribe,
               {{S::kNone, true, S::kNonePendingOut},
                {S::kNonePendingOut, true, S::kNonePendingOut},
                {S::kNonePendingIn, true, S::kNonePendingOutIn},
                {S::kNonePendingOutIn, true, S::kNonePendingOutIn},
                {S::kTo, true, S::kTo},
                {S::kToPendingIn, true, S::kToPendingIn},
                {S::kFrom, true, S::kFromPendingOut},
                {S::kFromPendingOut, true, S::kFromPendingOut},
                {S::kBoth, true, S::kBoth}});
}

TEST(SubscriptionTable, OutboundUnsubscribeA22) {
  expect_table(true, T::kUnsubscribe,
               {{S::kNone, true, S::kNone},
                {S::kNonePendingOut, true, S::kNone},
                {S::kNonePendingIn, true, S::kNonePendingIn},
                {S::kNonePendingOutIn, true, S::kNonePendingIn},
                {S::kTo, true, S::kNone},
                {S::kToPendingIn, true, S::kNonePendingIn},
                {S::kFrom, true, S::kFrom},
                {S::kFromPendingOut, true, S::kFrom},
                {S::kBoth, true, S::kFrom}});
}

TEST(SubscriptionTable, OutboundSubscribedA23) {
  expect_table(true, T::kSubscribed,
               {{S::kNone, false, S::kNone},
                {S::kNonePendingOut, false, S::kNonePendingOut},
                {S::kNonePendingIn, true, S::kFrom},
                {S::kNonePendingOutIn, true, S::kFromPendingOut},
                {S::kTo, false, S::kTo},
                {S::kToPendingIn, true, S::kBoth},
                {S::kFrom, false, S::kFrom},
                {S::kFromPendingOut, false, S::kFromPendingOut},
                {S::kBoth, false, S::kBoth}});
}

TEST(SubscriptionTable, OutboundUnsubscribedA24) {
  expect_table(true, T::kUnsubscribed,
               {{S::kNone, false, S::kNone},
                {S::kNonePendingOut, false, S::kNonePendingOut},
                {S::kNonePendingIn, true, S::kNone},
                {S::kNonePendingOutIn, true, S::kNonePendingOut},
                {S::kTo, false, S::kTo},
                {S::kToPendingIn, true, S::kTo},
                {S::kFrom, true, S::kNone},
                {S::kFromPendingOut, true, S::kNonePendingOut},
                {S::kBoth, true, S::kTo}});
}

TEST(SubscriptionTable, InboundSubscribeA31) {
  expect_table(false, T::kSubscribe,
               {{S::kNone, true, S::kNonePendingIn},
                {S::kNonePendingOut, true, S::kNonePendingOutIn},
                {S::kNonePendingIn, false, S::kNonePendingIn},
                {S::kNonePendingOutIn, false, S::kNonePendingOutIn},
                {S::kTo, true, S::kToPendingIn},
                {S::kToPendingIn, false, S::kToPendingIn},
                {S::kFrom, false, S::kFrom},
                {S::kFromPendingOut, false, S::kFromPendingOut},
                {S::kBoth, false, S::kBoth}});
}

TEST(SubscriptionTable, InboundUnsubscribeA32) {
  expect_table(false, T::kUnsubscribe,
               {{S::kNone, false, S::kNone},
                {S::kNonePendingOut, false, S::kNonePendingOut},
                {S::kNonePendingIn, true, S::kNone},
                {S::kNonePendingOutIn, true, S::kNonePendingOut},
                {S::kTo, false, S::kTo},
                {S::kToPendingIn, true, S::kTo},
                {S::kFrom, true, S::kNone},
                {S::kFromPendingOut, true, S::kNonePendingOut},
                {S::kBoth, true, S::kTo}});
}

TEST(SubscriptionTable, InboundSubscribedA33) {
  expect_table(false, T::kSubscribed,
               {{S::kNone, false, S::kNone},
                {S::kNonePendingOut, true, S::kTo},
                {S::kNonePendingIn, false, S::kNonePendingIn},
                {S::kNonePendingOutIn, true, S::kToPendingIn},
                {S::kTo, false, S::kTo},
                {S::kToPendingIn, false, S::kToPendingIn},
                {S::kFrom, false, S::kFrom},
                {S::kFromPendingOut, true, S::kBoth},
                {S::kBoth, false, S::kBoth}});
}

TEST(SubscriptionTable, InboundUnsubscribedA34) {
  expect_table(false, T::kUnsubscribed,
               {{S::kNone, false, S::kNone},
                {S::kNonePendingOut, true, S::kNone},
                {S::kNonePendingIn, false, S::kNonePendingIn},
                {S::kNonePendingOutIn, true, S::kNonePendingIn},
                {S::kTo, true, S::kNone},
                {S::kToPendingIn, true, S::kNonePendingIn},
                {S::kFrom, false, S::kFrom},
                {S::kFromPendingOut, true, S::kFrom},
                {S::kBoth, true, S::kFrom}});
}

TEST(SubscriptionTable, InboundSubscribeWithASubscriptionAutoRepliesSubscribed) {
  // §3.1.3: the contact already has a subscription from the user.
  for (S s : {S::kFrom, S::kFromPendingOut, S::kBoth}) {
    SCOPED_TRACE(state_name(s));
    auto t = inbound(s, T::kSubscribe, false);
    EXPECT_TRUE(t.auto_subscribed);
    EXPECT_FALSE(t.pass_on);
  }
  for (S s : {S::kNone, S::kNonePendingOut, S::kTo}) EXPECT_FALSE(inbound(s, T::kSubscribe, false).auto_subscribed);
}

TEST(SubscriptionTable, OutboundSubscribedWithoutRequestPreApproves) {
  // §3.4: only where there is no pending request and no subscription from.
  for (S s : {S::kNone, S::kNonePendingOut, S::kTo}) {
    SCOPED_TRACE(state_name(s));
    auto t = outbound(s, T::kSubscribed, false);
    EXPECT_TRUE(t.approved);
    EXPECT_FALSE(t.pass_on);
    EXPECT_EQ(t.next, s);
  }
  EXPECT_FALSE(outbound(S::kNonePendingIn, T::kSubscribed, false).approved);  // answers the request
  EXPECT_FALSE(outbound(S::kFrom, T::kSubscribed, false).approved);
}

TEST(SubscriptionTable, OutboundUnsubscribedCancelsPreApproval) {
  for (S s : {S::kNone, S::kNonePendingOut, S::kTo}) {
    SCOPED_TRACE(state_name(s));
    auto t = outbound(s, T::kUnsubscribed, true);
    EXPECT_FALSE(t.approved);
    EXPECT_FALSE(t.pass_on);
  }
}

TEST(SubscriptionTable, InboundSubscribePreApprovedIsAnsweredNotDelivered) {
  struct Case {
    S from, to;
  } cases[] = {{S::kNone, S::kFrom}, {S::kNonePendingOut, S::kFromPendingOut}, {S::kTo, S::kBoth}};
  for (auto c : cases) {
    SCOPED_TRACE(state_name(c.from));
    auto t = inbound(c.from, T::kSubscribe, true);
    EXPECT_TRUE(t.auto_subscribed);
    EXPECT_FALSE(t.pass_on);
    EXPECT_EQ(t.next, c.to);
    EXPECT_FALSE(t.approved);  // used up
  }
}

TEST(SubscriptionTable, PreApprovalSurvivesUnrelatedStanzas) {
  EXPECT_TRUE(inbound(S::kNone, T::kUnsubscribe, true).approved);
  EXPECT_TRUE(outbound(S::kNone, T::kSubscribe, true).approved);
}

TEST(SubscriptionState, RoundTripsThroughTheStorageRow) {
  for (S s : kAll) {
    SCOPED_TRACE(state_name(s));
    storage::RosterItem item;
    item.pending_in_stanza = "<presence/>";
    apply_state(item, s);
    EXPECT_EQ(state_of(item), s);
    EXPECT_EQ(item.pending_in_stanza.empty(), !has_pending_in(s));
  }
  storage::RosterItem both;
  apply_state(both, S::kBoth);
  EXPECT_EQ(both.subscription, "both");
  EXPECT_FALSE(both.ask_out);
  storage::RosterItem npo;
  apply_state(npo, S::kNonePendingOut);
  EXPECT_EQ(npo.subscription, "none");
  EXPECT_TRUE(npo.ask_out);
}

TEST(SubscriptionState, ParsesTheFourTypesOnly) {
  EXPECT_EQ(sub_type_of("subscribe"), T::kSubscribe);
  EXPECT_EQ(sub_type_of("subscribed"), T::kSubscribed);
  EXPECT_EQ(sub_type_of("unsubscribe"), T::kUnsubscribe);
  EXPECT_EQ(sub_type_of("unsubscribed"), T::kUnsubscribed);
  EXPECT_FALSE(sub_type_of("probe"));
  EXPECT_FALSE(sub_type_of(""));
  EXPECT_FALSE(sub_type_of("Subscribe"));
}

}  // namespace
}  // namespace tern::modules::presence
