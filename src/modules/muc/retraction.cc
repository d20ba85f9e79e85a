#include "modules/muc/retraction.h"

#include "modules/muc/room.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

constexpr std::string_view kSidNs = "urn:xmpp:sid:0";

StanzaError bad(std::string why) {
  return StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify, std::move(why));
}

}  // namespace

std::optional<std::string> retracted_id(const xml::Element& message) {
  if (const auto* retract = message.child("retract", kRetractNs)) {
    auto id = retract->attr_or("id");
    if (!id.empty()) return std::string(id);
  }
  if (const auto* apply = message.child("apply-to", kFastenNs); apply && apply->child("retract", kRetractLegacyNs)) {
    auto id = apply->attr_or("id");
    if (!id.empty()) return std::string(id);
  }
  return std::nullopt;
}

bool is_moderation(const xml::Element& payload) {
  if (payload.name() == "moderate" && payload.ns() == kModerateNs) return true;
  return payload.name() == "apply-to" && payload.ns() == kFastenNs &&
         payload.child("moderate", kModerateLegacyNs) != nullptr;
}

std::variant<ModerationRequest, StanzaError> parse_moderation(const xml::Element& payload) {
  const xml::Element* moderate = nullptr;
  std::string_view retract_ns;
  if (payload.name() == "moderate" && payload.ns() == kModerateNs) {
    moderate = &payload;
    retract_ns = kRetractNs;
  } else if (payload.name() == "apply-to" && payload.ns() == kFastenNs) {
    moderate = payload.child("moderate", kModerateLegacyNs);
    retract_ns = kRetractLegacyNs;
  }
  if (!moderate) return bad("not a moderation request");
  ModerationRequest request;
  request.id = std::string(payload.attr_or("id"));
  if (request.id.empty()) return bad("the message's stanza-id is missing");
  if (!moderate->child("retract", retract_ns))
    return StanzaError(StanzaCondition::kFeatureNotImplemented, ErrorType::kCancel,
                       "only retraction is supported");
  request.reason = moderate->child_text("reason");
  return request;
}

xml::Element moderation_message(const std::string& room, const ModerationRequest& request,
                                const std::string& by, const std::string& moderator_occupant_id) {
  xml::Element m("message", ns::kClient);
  m.set_attr("type", "groupchat");
  m.set_attr("from", room);
  // XEP-0425 (moderate:1): a retraction the room makes, by the moderator.
  auto& retract = m.add_child("retract", std::string(kRetractNs));
  retract.set_attr("id", request.id);
  auto& moderated = retract.add_child("moderated", std::string(kModerateNs));
  moderated.set_attr("by", by);
  if (!moderator_occupant_id.empty())
    moderated.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", moderator_occupant_id);
  if (!request.reason.empty()) retract.add_child("reason").add_text(request.reason);
  // The same in the fastening form (moderate:0) for older clients.
  auto& apply = m.add_child("apply-to", std::string(kFastenNs));
  apply.set_attr("id", request.id);
  auto& legacy = apply.add_child("moderated", std::string(kModerateLegacyNs));
  legacy.set_attr("by", by);
  legacy.add_child("retract", std::string(kRetractLegacyNs));
  if (!request.reason.empty()) legacy.add_child("reason").add_text(request.reason);
  return m;
}

xml::Element tombstone(const xml::Element& original, xml::Element retracted) {
  xml::Element t(original.name(), original.ns(), original.attributes());
  for (const auto* child : original.children()) {
    const bool is_id = (child->ns() == kSidNs && (child->name() == "stanza-id" || child->name() == "origin-id")) ||
                       (child->ns() == kOccupantIdNs && child->name() == "occupant-id");
    if (is_id) t.add_child(*child);
  }
  t.add_child(std::move(retracted));
  return t;
}

xml::Element retracted_by_sender(std::string_view stamp, std::string_view retraction_id) {
  xml::Element r("retracted", std::string(kRetractNs));
  r.set_attr("stamp", stamp);
  if (!retraction_id.empty()) r.set_attr("id", retraction_id);
  return r;
}

xml::Element retracted_by_moderator(std::string_view stamp, const std::string& by,
                                    const std::string& moderator_occupant_id,
                                    const std::string& reason) {
  xml::Element r("retracted", std::string(kRetractNs));
  r.set_attr("stamp", stamp);
  auto& moderated = r.add_child("moderated", std::string(kModerateNs));
  moderated.set_attr("by", by);
  if (!moderator_occupant_id.empty())
    moderated.add_child("occupant-id", std::string(kOccupantIdNs)).set_attr("id", moderator_occupant_id);
  if (!reason.empty()) r.add_child("reason").add_text(reason);
  return r;
}

}  // namespace tern::modules::muc
