#include "modules/presence/subscription.h"

#include <array>

namespace tern::modules::presence {
namespace {

using S = SubState;

struct Row {
  S next;
  bool pass_on;
};

// One row per existing state, in enum order; each table is the RFC's.
using Table = std::array<Row, 9>;

// §A.2.1 outbound subscribe: always routed (the contact's server may be out
// of sync); only the states without "to" gain Pending Out.
constexpr Table kOutSubscribe = {{
    {S::kNonePendingOut, true}, {S::kNonePendingOut, true}, {S::kNonePendingOutIn, true},
    {S::kNonePendingOutIn, true}, {S::kTo, true}, {S::kToPendingIn, true},
    {S::kFromPendingOut, true}, {S::kFromPendingOut, true}, {S::kBoth, true}}};
// §A.2.2 outbound unsubscribe: always routed.
constexpr Table kOutUnsubscribe = {{
    {S::kNone, true}, {S::kNone, true}, {S::kNonePendingIn, true},
    {S::kNonePendingIn, true}, {S::kNone, true}, {S::kNonePendingIn, true},
    {S::kFrom, true}, {S::kFrom, true}, {S::kFrom, true}}};
// §A.2.3 outbound subscribed: routed only when it answers a pending request.
constexpr Table kOutSubscribed = {{
    {S::kNone, false}, {S::kNonePendingOut, false}, {S::kFrom, true},
    {S::kFromPendingOut, true}, {S::kTo, false}, {S::kBoth, true},
    {S::kFrom, false}, {S::kFromPendingOut, false}, {S::kBoth, false}}};
// §A.2.4 outbound unsubscribed: routed when it denies or cancels something.
constexpr Table kOutUnsubscribed = {{
    {S::kNone, false}, {S::kNonePendingOut, false}, {S::kNone, true},
    {S::kNonePendingOut, true}, {S::kTo, false}, {S::kTo, true},
    {S::kNone, true}, {S::kNonePendingOut, true}, {S::kTo, true}}};
// §A.3.1 inbound subscribe. From, From + Pending Out and Both: not
// delivered, the server auto-replies (§3.1.3).
constexpr Table kInSubscribe = {{
    {S::kNonePendingIn, true}, {S::kNonePendingOutIn, true}, {S::kNonePendingIn, false},
    {S::kNonePendingOutIn, false}, {S::kToPendingIn, true}, {S::kToPendingIn, false},
    {S::kFrom, false}, {S::kFromPendingOut, false}, {S::kBoth, false}}};
// §A.3.2 inbound unsubscribe.
constexpr Table kInUnsubscribe = {{
    {S::kNone, false}, {S::kNonePendingOut, false}, {S::kNone, true},
    {S::kNonePendingOut, true}, {S::kTo, false}, {S::kTo, true},
    {S::kNone, true}, {S::kNonePendingOut, true}, {S::kTo, true}}};
// §A.3.3 inbound subscribed: only an outstanding request is approved.
constexpr Table kInSubscribed = {{
    {S::kNone, false}, {S::kTo, true}, {S::kNonePendingIn, false},
    {S::kToPendingIn, true}, {S::kTo, false}, {S::kToPendingIn, false},
    {S::kFrom, false}, {S::kBoth, true}, {S::kBoth, false}}};
// §A.3.4 inbound unsubscribed.
constexpr Table kInUnsubscribed = {{
    {S::kNone, false}, {S::kNone, true}, {S::kNonePendingIn, false},
    {S::kNonePendingIn, true}, {S::kNone, true}, {S::kNonePendingIn, true},
    {S::kFrom, false}, {S::kFrom, true}, {S::kFrom, true}}};

const Table& table(bool outbound, SubType type) {
  switch (type) {
    case SubType::kSubscribe: return outbound ? kOutSubscribe : kInSubscribe;
    case SubType::kSubscribed: return outbound ? kOutSubscribed : kInSubscribed;
    case SubType::kUnsubscribe: return outbound ? kOutUnsubscribe : kInUnsubscribe;
    case SubType::kUnsubscribed: return outbound ? kOutUnsubscribed : kInUnsubscribed;
  }
  return kOutSubscribe;
}

// The states where a pre-approval means something: no subscription from the
// contact and no request from the contact pending (§3.4).
bool can_preapprove(S s) { return s == S::kNone || s == S::kNonePendingOut || s == S::kTo; }

}  // namespace

std::optional<SubType> sub_type_of(std::string_view type) {
  if (type == "subscribe") return SubType::kSubscribe;
  if (type == "subscribed") return SubType::kSubscribed;
  if (type == "unsubscribe") return SubType::kUnsubscribe;
  if (type == "unsubscribed") return SubType::kUnsubscribed;
  return std::nullopt;
}

const char* sub_type_name(SubType t) {
  switch (t) {
    case SubType::kSubscribe: return "subscribe";
    case SubType::kSubscribed: return "subscribed";
    case SubType::kUnsubscribe: return "unsubscribe";
    case SubType::kUnsubscribed: return "unsubscribed";
  }
  return "?";
}

const char* state_name(SubState s) {
  switch (s) {
    case S::kNone: return "None";
    case S::kNonePendingOut: return "None + Pending Out";
    case S::kNonePendingIn: return "None + Pending In";
    case S::kNonePendingOutIn: return "None + Pending Out+In";
    case S::kTo: return "To";
    case S::kToPendingIn: return "To + Pending In";
    case S::kFrom: return "From";
    case S::kFromPendingOut: return "From + Pending Out";
    case S::kBoth: return "Both";
  }
  return "?";
}

Transition outbound(SubState state, SubType type, bool approved) {
  const Row& row = table(true, type)[static_cast<std::size_t>(state)];
  Transition t{row.next, row.pass_on, false, approved};
  if (type == SubType::kSubscribed && can_preapprove(state)) t.approved = true;     // §3.4
  if (type == SubType::kUnsubscribed && can_preapprove(state)) t.approved = false;  // §3.4.1 [2]
  if (has_from(t.next)) t.approved = false;  // meaningless once the contact is subscribed
  return t;
}

Transition inbound(SubState state, SubType type, bool approved) {
  const Row& row = table(false, type)[static_cast<std::size_t>(state)];
  Transition t{row.next, row.pass_on, false, approved};
  if (type == SubType::kSubscribe) {
    if (has_from(state)) {
      t.auto_subscribed = true;  // §3.1.3: already subscribed, say so again
    } else if (approved && can_preapprove(state)) {
      // §3.4: the user approved in advance; the request is never shown.
      t.auto_subscribed = true;
      t.pass_on = false;
      t.next = state == S::kNone ? S::kFrom : state == S::kNonePendingOut ? S::kFromPendingOut : S::kBoth;
    }
  }
  if (has_from(t.next)) t.approved = false;
  return t;
}

SubState state_of(const storage::RosterItem& item) {
  const auto& sub = item.subscription;
  if (sub == "both") return S::kBoth;
  if (sub == "from") return item.ask_out ? S::kFromPendingOut : S::kFrom;
  if (sub == "to") return item.pending_in ? S::kToPendingIn : S::kTo;
  if (item.ask_out && item.pending_in) return S::kNonePendingOutIn;
  if (item.ask_out) return S::kNonePendingOut;
  if (item.pending_in) return S::kNonePendingIn;
  return S::kNone;
}

void apply_state(storage::RosterItem& item, SubState state) {
  const bool to = has_to(state), from = has_from(state);
  item.subscription = to && from ? "both" : to ? "to" : from ? "from" : "none";
  item.ask_out = has_pending_out(state);
  item.pending_in = has_pending_in(state);
  if (!item.pending_in) item.pending_in_stanza.clear();
}

bool has_to(SubState s) { return s == S::kTo || s == S::kToPendingIn || s == S::kBoth; }
bool has_from(SubState s) { return s == S::kFrom || s == S::kFromPendingOut || s == S::kBoth; }
bool has_pending_in(SubState s) {
  return s == S::kNonePendingIn || s == S::kNonePendingOutIn || s == S::kToPendingIn;
}
bool has_pending_out(SubState s) {
  return s == S::kNonePendingOut || s == S::kNonePendingOutIn || s == S::kFromPendingOut;
}

}  // namespace tern::modules::presence
