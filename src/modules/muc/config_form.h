// The muc#roomconfig data form (XEP-0045 §10.2, XEP-0004): what an owner
// gets to fill in, what they submit, and the same form as the stored form
// of a persistent room's configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modules/muc/room.h"
#include "xml/element.h"

namespace tern::modules::muc {

inline constexpr std::string_view kRoomConfigFormType = "http://jabber.org/protocol/muc#roomconfig";

// <x xmlns='jabber:x:data' type='form'> with the current values;
// historylength offers at most `max_history`.
xml::Element config_form(const RoomConfig& config, int max_history);

// Applies a submitted form (<x type='submit'>) to `config`. Fields not in
// the form keep their value; unknown fields are ignored (§10.2: a service
// may support a subset). Returns the reason on a malformed form or a bad
// value (the caller answers bad-request / not-acceptable) and leaves
// `config` untouched then. An empty submit form is the instant room (§10.1.2).
std::optional<std::string> apply_config_form(const xml::Element& x, RoomConfig& config,
                                             int max_history);

// A persistent room's configuration as stored: the submit form of every
// field, plus the room's occupant-id salt in a hidden field.
std::string stored_config(const RoomConfig& config, const std::string& id_salt);
// nullopt when `text` is not a stored configuration.
std::optional<std::pair<RoomConfig, std::string>> parse_stored_config(std::string_view text,
                                                                      int max_history);

}  // namespace tern::modules::muc
