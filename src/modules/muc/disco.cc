// Service discovery of the MUC service and its rooms (XEP-0045 §6, XEP-0030),
// the iq entry point of a room, and XEP-0410 self-pings.
#include "modules/adhoc/data_form.h"
#include "modules/mam/policy.h"
#include "modules/mam/query.h"
#include "modules/muc/service.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kItemsNs = "http://jabber.org/protocol/disco#items";
constexpr std::string_view kPingNs = "urn:xmpp:ping";
constexpr std::string_view kRoomInfoFormType = "http://jabber.org/protocol/muc#roominfo";

xml::Element info_query(std::string_view name, const std::vector<std::string>& features) {
  xml::Element query("query", std::string(kInfoNs));
  auto& identity = query.add_child("identity");
  identity.set_attr("category", "conference");
  identity.set_attr("type", "text");
  identity.set_attr("name", name);
  for (const auto& f : features) query.add_child("feature").set_attr("var", f);
  return query;
}

const xml::Element* first_child(const xml::Element& el) {
  auto children = el.children();
  return children.empty() ? nullptr : children.front();
}

}  // namespace

void MucService::on_service_stanza(const xml::Element& stanza, const xmpp::Jid& from,
                                   const xmpp::Jid& to) {
  if (stanza.name() == "presence") return;
  if (stanza.name() != "iq") {
    if (stanza.name() == "message") reply_error(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
    return;
  }
  const auto type = stanza.attr_or("type");
  if (type != "get" && type != "set") return;
  const xml::Element* payload = first_child(stanza);
  if (type == "get" && payload && payload->name() == "query" && payload->ns() == kInfoNs &&
      !payload->attr("node")) {
    auto reply = xmpp::make_iq_result(stanza);
    std::vector<std::string> features = {std::string(kInfoNs), std::string(kItemsNs),
                                         std::string(kMucNs), std::string(kPingNs)};
    if (services_.archive) {
      // Rooms archive (unless their owner turns it off) and take moderation.
      for (auto f : {mam::kNs, kModerateNs, kModerateLegacyNs}) features.emplace_back(f);
    }
    reply.add_child(info_query("Chatrooms", features));
    send(std::move(reply));
    return;
  }
  if (type == "get" && payload && payload->name() == "query" && payload->ns() == kItemsNs &&
      !payload->attr("node")) {
    auto reply = xmpp::make_iq_result(stanza);
    auto& query = reply.add_child("query", std::string(kItemsNs));
    for (const auto& item : directory_.items(to.domain())) {
      auto& i = query.add_child("item");
      i.set_attr("jid", item.jid);
      if (!item.name.empty()) i.set_attr("name", item.name);
    }
    send(std::move(reply));
    return;
  }
  if (type == "get" && payload && payload->name() == "ping" && payload->ns() == kPingNs) {
    send(xmpp::make_iq_result(stanza));
    return;
  }
  reply_error(stanza, StanzaError(StanzaCondition::kServiceUnavailable));
}

xml::Element MucService::room_info(const Room& room) const {
  const auto& c = room.config;
  std::vector<std::string> features = {
      std::string(kInfoNs),
      std::string(kMucNs),
      std::string(kOccupantIdNs),
      c.persistent ? "muc_persistent" : "muc_temporary",
      c.is_public ? "muc_public" : "muc_hidden",
      c.members_only ? "muc_membersonly" : "muc_open",
      c.moderated ? "muc_moderated" : "muc_unmoderated",
      c.password_protected ? "muc_passwordprotected" : "muc_unsecured",
      c.is_non_anonymous() ? "muc_nonanonymous" : "muc_semianonymous",
      std::string(kVcardNs),           // XEP-0486 room avatars
      std::string(kRegisterNs),        // §7.10 nick registration
      std::string(kRegisterFormType),
  };
  if (archives(room)) {
    // XEP-0313 on the room, with stanza-ids (XEP-0359) that retraction
    // (XEP-0424) and moderation (XEP-0425, both versions) refer to.
    for (auto f : {mam::kNs, mam::kExtendedFeature, mam::kStanzaIdNs, kRetractNs, kModerateNs,
                   kModerateLegacyNs})
      features.emplace_back(f);
  }
  auto query = info_query(c.name.empty() ? room.jid().node() : c.name, features);
  // §6.4: the extended room information (XEP-0128).
  adhoc::DataForm form;
  form.type = "result";
  form.add("FORM_TYPE", "hidden").values = {std::string(kRoomInfoFormType)};
  form.add("muc#roominfo_description", "text-single", "Description").values = {c.description};
  form.add("muc#roominfo_subject", "text-single", "Subject").values = {room.subject};
  form.add("muc#roominfo_occupants", "text-single", "Number of occupants")
      .values = {std::to_string(room.occupants().size())};
  form.add("muc#roomconfig_roomname", "text-single", "Name").values = {c.name};
  form.add("muc#roomconfig_changesubject", "boolean", "Occupants may change the subject")
      .values = {c.occupants_change_subject ? "1" : "0"};
  if (room.avatar) {
    // XEP-0486 §3.3: the SHA-1 of each image of the room's vCard.
    form.add("muc#roominfo_avatarhash", "text-multi", "Avatar hash").values = room.avatar->hashes;
  }
  query.add_child(adhoc::to_element(form));
  return query;
}

void MucService::on_room_iq(Room* room, const xml::Element& iq, const xmpp::Jid& from,
                            const xmpp::Jid& to) {
  const auto type = iq.attr_or("type");
  if (type != "get" && type != "set") {
    // The answer to an iq passed on to an occupant goes back the same way.
    if (room && to.has_resource()) forward_iq(*room, iq, from, to);
    return;
  }
  const xml::Element* payload = first_child(iq);
  if (!payload) {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  if (!room || (room->locked && affiliation_of(*room, from) != Affiliation::kOwner)) {
    reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  if (to.has_resource()) {
    // XEP-0410: a client checks it is still joined by pinging itself; the
    // room answers for its occupants. Other iqs go to the occupant.
    const Occupant* sender = room->occupant_by_session(from);
    if (!sender) {
      reply_error(iq, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
    } else if (!room->occupant_by_nick(to.resource())) {
      reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
    } else if (payload->name() == "ping" && payload->ns() == kPingNs && type == "get") {
      send(xmpp::make_iq_result(iq));
    } else {
      forward_iq(*room, iq, from, to);
    }
    return;
  }
  const auto& ns = payload->ns();
  if (ns == kInfoNs && type == "get" && !payload->attr("node")) {
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child(room_info(*room));
    send(std::move(reply));
  } else if (ns == kInfoNs && type == "get" && payload->attr_or("node") == "x-roomuser-item") {
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child(reserved_nick_info(*room, from));
    send(std::move(reply));
  } else if (ns == kVcardNs && payload->name() == "vCard") {
    on_vcard(*room, iq, *payload, from);
  } else if (ns == kRegisterNs && payload->name() == "query") {
    on_register(*room, iq, *payload, from);
  } else if (ns == kItemsNs && type == "get") {
    // §6.5: occupants are not listed (their nicks are theirs to show).
    auto reply = xmpp::make_iq_result(iq);
    reply.add_child("query", std::string(kItemsNs));
    send(std::move(reply));
  } else if (ns == kAdminNs && payload->name() == "query") {
    on_admin(*room, iq, *payload, from);
  } else if (ns == kOwnerNs && payload->name() == "query") {
    on_owner(*room, iq, *payload, from);
  } else if (ns == kPingNs && type == "get") {
    send(xmpp::make_iq_result(iq));
  } else if (ns == mam::kNs) {
    on_mam(*room, iq, *payload, from);
  } else if (is_moderation(*payload)) {
    on_moderate(*room, iq, *payload, from);
  } else {
    reply_error(iq, StanzaError(StanzaCondition::kServiceUnavailable));
  }
}

void MucService::forward_iq(Room& room, const xml::Element& iq, const xmpp::Jid& from,
                            const xmpp::Jid& to) {
  // §7.7 (private iq, e.g. a vCard of room/nick): from one occupant to
  // another, under the sender's room JID, to the target's first session.
  // Only occupants take part: the real JIDs stay hidden both ways.
  const Occupant* sender = room.occupant_by_session(from);
  const Occupant* target = room.occupant_by_nick(to.resource());
  if (!sender || !target || target->sessions.empty()) {
    const auto type = iq.attr_or("type");
    if (type == "get" || type == "set")
      reply_error(iq, StanzaError(sender ? StanzaCondition::kItemNotFound : StanzaCondition::kNotAcceptable,
                                sender ? ErrorType::kCancel : ErrorType::kModify));
    return;
  }
  xml::Element copy = iq;
  copy.set_attr("from", room.jid().with_resource(sender->nick).to_string());
  copy.set_attr("to", target->sessions.front().to_string());
  send(std::move(copy));
}

}  // namespace tern::modules::muc
