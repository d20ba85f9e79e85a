// Retraction (XEP-0424) and moderation (XEP-0425) of groupchat messages,
// read from untrusted XML and written back: the room stanza-id a message
// retracts, a moderator's request, the message occupants get, and the
// tombstone that takes the retracted message's place in the archive.
// Both the current namespaces (retract:1, moderate:1) and the older
// fastening form (XEP-0422 apply-to with retract:0 / moderate:0) that
// clients of a few years ago still send. Depends on xml and xmpp only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::muc {

inline constexpr std::string_view kRetractNs = "urn:xmpp:message-retract:1";
inline constexpr std::string_view kRetractLegacyNs = "urn:xmpp:message-retract:0";
inline constexpr std::string_view kModerateNs = "urn:xmpp:message-moderate:1";
inline constexpr std::string_view kModerateLegacyNs = "urn:xmpp:message-moderate:0";
inline constexpr std::string_view kFastenNs = "urn:xmpp:fasten:0";

// The id a message retracts (<retract id='…' xmlns='…:1'/>, or
// <apply-to id='…' xmlns='urn:xmpp:fasten:0'><retract xmlns='…:0'/></apply-to>);
// in a room that is the room's stanza-id. nullopt: not a retraction.
std::optional<std::string> retracted_id(const xml::Element& message);

struct ModerationRequest {
  std::string id;  // the room's stanza-id of the message
  std::string reason;
};
// Reads the payload of a moderator's iq set: <moderate id='…' xmlns='…:1'>
// <retract xmlns='urn:xmpp:message-retract:1'/><reason/></moderate>, or
// <apply-to id='…' xmlns='urn:xmpp:fasten:0'><moderate xmlns='…:0'>
// <retract xmlns='…retract:0'/><reason/></moderate></apply-to>.
// bad-request without an id or a <retract/> (moderation that does not
// retract is not supported: feature-not-implemented).
std::variant<ModerationRequest, xmpp::StanzaError> parse_moderation(const xml::Element& payload);
// Is this iq payload a moderation request (either form)?
bool is_moderation(const xml::Element& payload);

// What occupants get (from the room's bare JID, type groupchat), in both
// forms so that clients of either version understand it. `by` is the
// moderator's room JID (room/nick).
xml::Element moderation_message(const std::string& room, const ModerationRequest& request,
                                 const std::string& by, const std::string& moderator_occupant_id);

// The tombstone of an archived message: its attributes, its ids
// (stanza-id, origin-id, occupant-id) and `retracted`, nothing of what it
// said.
xml::Element tombstone(const xml::Element& original, xml::Element retracted);
// <retracted stamp='…' xmlns='…:1'/> for a sender's own retraction;
// `retraction_id`: the archive id of the retraction message, if any.
xml::Element retracted_by_sender(std::string_view stamp, std::string_view retraction_id);
// <retracted stamp='…'><moderated by='…'><occupant-id/></moderated><reason/></retracted>.
xml::Element retracted_by_moderator(std::string_view stamp, const std::string& by,
                                    const std::string& moderator_occupant_id,
                                    const std::string& reason);

}  // namespace tern::modules::muc
