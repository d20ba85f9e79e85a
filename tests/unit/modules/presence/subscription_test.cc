// RFC 6121 Appendix A, row by row: every table of §A.2 (outbound) and §A.3
// (inbound), plus pre-approval (§3.4).
#include "modules/presence/subscription.h"

#include <gtest/gtest.h>

#include <cctype>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

namespace tern::modules::presence {
namespace {

using S = SubState;
using T = SubType;

constexpr S kAll[] = {S::kNone, S::kNonePendingOut, S::kNonePendingIn, S::kNonePendingOutIn, S::kTo,
                      S::kToPendingIn, S::kFrom, S::kFromPendingOut, S::kBoth};

// One row of RFC 6121 Appendix A: the section, the direction, the stanza,
// the state before, whether the stanza is passed on, and the state after.
struct RfcRow {
  const char* section;
  bool outbound;
  T type;
  S before;
  bool pass_on;
  S after;
};

constexpr RfcRow kRfcRows[] = {
    {"A.2.1", true, T::kSubscribe, S::kNone, true, S::kNonePendingOut},
    {"A.2.1", true, T::kSubscribe, S::kNonePendingOut, true, S::kNonePendingOut},
    {"A.2.1", true, T::kSubscribe, S::kNonePendingIn, true, S::kNonePendingOutIn},
    {"A.2.1", true, T::kSubscribe, S::kNonePendingOutIn, true, S::kNonePendingOutIn},
    {"A.2.1", true, T::kSubscribe, S::kTo, true, S::kTo},
    {"A.2.1", true, T::kSubscribe, S::kToPendingIn, true, S::kToPendingIn},
    {"A.2.1", true, T::kSubscribe, S::kFrom, true, S::kFromPendingOut},
    {"A.2.1", true, T::kSubscribe, S::kFromPendingOut, true, S::kFromPendingOut},
    {"A.2.1", true, T::kSubscribe, S::kBoth, true, S::kBoth},
    {"A.2.2", true, T::kUnsubscribe, S::kNone, true, S::kNone},
    {"A.2.2", true, T::kUnsubscribe, S::kNonePendingOut, true, S::kNone},
    {"A.2.2", true, T::kUnsubscribe, S::kNonePendingIn, true, S::kNonePendingIn},
    {"A.2.2", true, T::kUnsubscribe, S::kNonePendingOutIn, true, S::kNonePendingIn},
    {"A.2.2", true, T::kUnsubscribe, S::kTo, true, S::kNone},
    {"A.2.2", true, T::kUnsubscribe, S::kToPendingIn, true, S::kNonePendingIn},
    {"A.2.2", true, T::kUnsubscribe, S::kFrom, true, S::kFrom},
    {"A.2.2", true, T::kUnsubscribe, S::kFromPendingOut, true, S::kFrom},
    {"A.2.2", true, T::kUnsubscribe, S::kBoth, true, S::kFrom},
    {"A.2.3", true, T::kSubscribed, S::kNone, false, S::kNone},
    {"A.2.3", true, T::kSubscribed, S::kNonePendingOut, false, S::kNonePendingOut},
    {"A.2.3", true, T::kSubscribed, S::kNonePendingIn, true, S::kFrom},
    {"A.2.3", true, T::kSubscribed, S::kNonePendingOutIn, true, S::kFromPendingOut},
    {"A.2.3", true, T::kSubscribed, S::kTo, false, S::kTo},
    {"A.2.3", true, T::kSubscribed, S::kToPendingIn, true, S::kBoth},
    {"A.2.3", true, T::kSubscribed, S::kFrom, false, S::kFrom},
    {"A.2.3", true, T::kSubscribed, S::kFromPendingOut, false, S::kFromPendingOut},
    {"A.2.3", true, T::kSubscribed, S::kBoth, false, S::kBoth},
    {"A.2.4", true, T::kUnsubscribed, S::kNone, false, S::kNone},
    {"A.2.4", true, T::kUnsubscribed, S::kNonePendingOut, false, S::kNonePendingOut},
    {"A.2.4", true, T::kUnsubscribed, S::kNonePendingIn, true, S::kNone},
    {"A.2.4", true, T::kUnsubscribed, S::kNonePendingOutIn, true, S::kNonePendingOut},
    {"A.2.4", true, T::kUnsubscribed, S::kTo, false, S::kTo},
    {"A.2.4", true, T::kUnsubscribed, S::kToPendingIn, true, S::kTo},
    {"A.2.4", true, T::kUnsubscribed, S::kFrom, true, S::kNone},
    {"A.2.4", true, T::kUnsubscribed, S::kFromPendingOut, true, S::kNonePendingOut},
    {"A.2.4", true, T::kUnsubscribed, S::kBoth, true, S::kTo},
    {"A.3.1", false, T::kSubscribe, S::kNone, true, S::kNonePendingIn},
    {"A.3.1", false, T::kSubscribe, S::kNonePendingOut, true, S::kNonePendingOutIn},
    {"A.3.1", false, T::kSubscribe, S::kNonePendingIn, false, S::kNonePendingIn},
    {"A.3.1", false, T::kSubscribe, S::kNonePendingOutIn, false, S::kNonePendingOutIn},
    {"A.3.1", false, T::kSubscribe, S::kTo, true, S::kToPendingIn},
    {"A.3.1", false, T::kSubscribe, S::kToPendingIn, false, S::kToPendingIn},
    {"A.3.1", false, T::kSubscribe, S::kFrom, false, S::kFrom},
    {"A.3.1", false, T::kSubscribe, S::kFromPendingOut, false, S::kFromPendingOut},
    {"A.3.1", false, T::kSubscribe, S::kBoth, false, S::kBoth},
    {"A.3.2", false, T::kUnsubscribe, S::kNone, false, S::kNone},
    {"A.3.2", false, T::kUnsubscribe, S::kNonePendingOut, false, S::kNonePendingOut},
    {"A.3.2", false, T::kUnsubscribe, S::kNonePendingIn, true, S::kNone},
    {"A.3.2", false, T::kUnsubscribe, S::kNonePendingOutIn, true, S::kNonePendingOut},
    {"A.3.2", false, T::kUnsubscribe, S::kTo, false, S::kTo},
    {"A.3.2", false, T::kUnsubscribe, S::kToPendingIn, true, S::kTo},
    {"A.3.2", false, T::kUnsubscribe, S::kFrom, true, S::kNone},
    {"A.3.2", false, T::kUnsubscribe, S::kFromPendingOut, true, S::kNonePendingOut},
    {"A.3.2", false, T::kUnsubscribe, S::kBoth, true, S::kTo},
    {"A.3.3", false, T::kSubscribed, S::kNone, false, S::kNone},
    {"A.3.3", false, T::kSubscribed, S::kNonePendingOut, true, S::kTo},
    {"A.3.3", false, T::kSubscribed, S::kNonePendingIn, false, S::kNonePendingIn},
    {"A.3.3", false, T::kSubscribed, S::kNonePendingOutIn, true, S::kToPendingIn},
    {"A.3.3", false, T::kSubscribed, S::kTo, false, S::kTo},
    {"A.3.3", false, T::kSubscribed, S::kToPendingIn, false, S::kToPendingIn},
    {"A.3.3", false, T::kSubscribed, S::kFrom, false, S::kFrom},
    {"A.3.3", false, T::kSubscribed, S::kFromPendingOut, true, S::kBoth},
    {"A.3.3", false, T::kSubscribed, S::kBoth, false, S::kBoth},
    {"A.3.4", false, T::kUnsubscribed, S::kNone, false, S::kNone},
    {"A.3.4", false, T::kUnsubscribed, S::kNonePendingOut, true, S::kNone},
    {"A.3.4", false, T::kUnsubscribed, S::kNonePendingIn, false, S::kNonePendingIn},
    {"A.3.4", false, T::kUnsubscribed, S::kNonePendingOutIn, true, S::kNonePendingIn},
    {"A.3.4", false, T::kUnsubscribed, S::kTo, true, S::kNone},
    {"A.3.4", false, T::kUnsubscribed, S::kToPendingIn, true, S::kNonePendingIn},
    {"A.3.4", false, T::kUnsubscribed, S::kFrom, false, S::kFrom},
    {"A.3.4", false, T::kUnsubscribed, S::kFromPendingOut, true, S::kFrom},
    {"A.3.4", false, T::kUnsubscribed, S::kBoth, true, S::kFrom},
};

void PrintTo(const RfcRow& row, std::ostream* os) {
  *os << row.section << " " << (row.outbound ? "outbound " : "inbound ") << sub_type_name(row.type)
      << " in " << state_name(row.before) << " -> " << state_name(row.after)
      << (row.pass_on ? ", passed on" : "");
}

class SubscriptionTable : public ::testing::TestWithParam<RfcRow> {};

TEST_P(SubscriptionTable, FollowsTheRfcRow) {
  const RfcRow& row = GetParam();
  auto t = row.outbound ? outbound(row.before, row.type, false) : inbound(row.before, row.type, false);
  EXPECT_EQ(t.pass_on, row.pass_on);
  EXPECT_STREQ(state_name(t.next), state_name(row.after));
}

// "A_2_1_outbound_subscribe_in_None_Pending_Out", … : a failure names its row.
std::string row_name(const ::testing::TestParamInfo<RfcRow>& info) {
  std::string name = std::string("A") + (info.param.section + 1) + "_" +
                     (info.param.outbound ? "outbound_" : "inbound_") +
                     sub_type_name(info.param.type) + "_in_" + state_name(info.param.before);
  std::string out;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    if (c != '_' || out.empty() || out.back() != '_') out += c;
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Rfc6121AppendixA, SubscriptionTable, ::testing::ValuesIn(kRfcRows), row_name);

TEST(SubscriptionTableRows, CoverEveryStateForEachOfTheEightTables) {
  for (bool out : {true, false}) {
    for (T type : {T::kSubscribe, T::kUnsubscribe, T::kSubscribed, T::kUnsubscribed}) {
      std::vector<S> states;
      for (const auto& row : kRfcRows)
        if (row.outbound == out && row.type == type) states.push_back(row.before);
      EXPECT_EQ(states, std::vector<S>(std::begin(kAll), std::end(kAll)))
          << (out ? "outbound " : "inbound ") << sub_type_name(type);
    }
  }
}

TEST(SubscriptionRules, InboundSubscribeWithASubscriptionAutoRepliesSubscribed) {
  // §3.1.3: the contact already has a subscription from the user.
  for (S s : {S::kFrom, S::kFromPendingOut, S::kBoth}) {
    SCOPED_TRACE(state_name(s));
    auto t = inbound(s, T::kSubscribe, false);
    EXPECT_TRUE(t.auto_subscribed);
    EXPECT_FALSE(t.pass_on);
  }
  for (S s : {S::kNone, S::kNonePendingOut, S::kTo}) EXPECT_FALSE(inbound(s, T::kSubscribe, false).auto_subscribed);
}

TEST(SubscriptionRules, OutboundSubscribedWithoutRequestPreApproves) {
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

TEST(SubscriptionRules, OutboundUnsubscribedCancelsPreApproval) {
  for (S s : {S::kNone, S::kNonePendingOut, S::kTo}) {
    SCOPED_TRACE(state_name(s));
    auto t = outbound(s, T::kUnsubscribed, true);
    EXPECT_FALSE(t.approved);
    EXPECT_FALSE(t.pass_on);
  }
}

TEST(SubscriptionRules, InboundSubscribePreApprovedIsAnsweredNotDelivered) {
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

TEST(SubscriptionRules, PreApprovalSurvivesUnrelatedStanzas) {
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
