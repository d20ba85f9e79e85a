// A subscriber's options (XEP-0060 §6.3): whether it wants notifications
// at all, with a <body/>, and only while its presence is one of some show
// values. Parsed from the pubsub#subscribe_options form a subscriber
// submits, kept serialized beside its subscription (PubsubEntry::options).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "modules/adhoc/data_form.h"

namespace tern::modules::pubsub {

inline constexpr const char* kSubscribeOptionsFormType =
    "http://jabber.org/protocol/pubsub#subscribe_options";

struct SubscriptionOptions {
  bool deliver = true;        // pubsub#deliver
  bool include_body = false;  // pubsub#include_body
  // pubsub#show-values: chat, online, away, xa, dnd; empty: any presence
  // (and none: notifications are stored offline as usual).
  std::set<std::string> show_values;
  bool operator==(const SubscriptionOptions&) const = default;
};

// The form a subscriber gets (type "form") or is answered with after a
// subscribe with options (type "result").
adhoc::DataForm to_form(const SubscriptionOptions& options, std::string type = "form");
// Applies a submitted form; the error text when it asks for what this
// server cannot do (digests, an unknown show value, a non-boolean) — the
// requester gets bad-request with <invalid-options/>. Unknown fields are
// ignored, as XEP-0060 §16.4.1 lets services do.
std::optional<std::string> apply_form(SubscriptionOptions& options, const adhoc::DataForm& form);

// Compact text for storage ("" for the defaults) and back; a stored text
// that does not parse reads as the defaults.
std::string serialize(const SubscriptionOptions& options);
SubscriptionOptions deserialize_options(std::string_view text);

// Whether a session whose presence has `show` (empty: plain available)
// gets a notification under these options.
bool wants_with_show(const SubscriptionOptions& options, std::string_view show);

}  // namespace tern::modules::pubsub
