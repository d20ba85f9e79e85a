// The presence subscription state machine of RFC 6121 Appendix A as a pure
// function table: a roster item's state and a subscription stanza in, the
// new state and what the server does with the stanza out. No I/O, so every
// row of the RFC's tables is a unit test.
#pragma once

#include <optional>
#include <string_view>

#include "storage/storage.h"

namespace tern::modules::presence {

// The nine states of RFC 6121 §A.1 ("None + Pending Out+In" is kNonePendingOutIn).
enum class SubState {
  kNone, kNonePendingOut, kNonePendingIn, kNonePendingOutIn,
  kTo, kToPendingIn, kFrom, kFromPendingOut, kBoth
};

enum class SubType { kSubscribe, kSubscribed, kUnsubscribe, kUnsubscribed };

std::optional<SubType> sub_type_of(std::string_view type);  // "subscribe" …
const char* sub_type_name(SubType t);
const char* state_name(SubState s);  // "None + Pending Out", as the RFC writes it

// What the server does with one subscription stanza.
struct Transition {
  SubState next;
  // Outbound: route it to the contact. Inbound: deliver it to the user.
  bool pass_on = false;
  // Inbound subscribe the server answers itself with "subscribed" (§3.1.3:
  // the contact already has a subscription; §3.4: pre-approved).
  bool auto_subscribed = false;
  // The item's pre-approval flag (§3.4) after this stanza.
  bool approved = false;
};

// RFC 6121 §A.2: a stanza the user sends about `contact`. `approved` is the
// item's current pre-approval; an outbound "subscribed" without a pending
// request pre-approves, an outbound "unsubscribed" cancels it.
Transition outbound(SubState state, SubType type, bool approved);
// RFC 6121 §A.3: a stanza the user receives from `contact`.
Transition inbound(SubState state, SubType type, bool approved);

// Between the storage row and the state (subscription, ask_out, pending_in).
SubState state_of(const storage::RosterItem& item);
void apply_state(storage::RosterItem& item, SubState state);

bool has_to(SubState s);    // the user receives the contact's presence
bool has_from(SubState s);  // the contact receives the user's presence
bool has_pending_in(SubState s);
bool has_pending_out(SubState s);

}  // namespace tern::modules::presence
