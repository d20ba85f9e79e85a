// Voice requests (XEP-0045 §8.6): a visitor of a moderated room asks for
// voice with a muc#request form; the room passes the form to its
// moderators; a moderator who submits it with muc#request_allow true gives
// the visitor voice (the participant role), as a role change of §8.3.
#include "modules/adhoc/data_form.h"
#include "modules/muc/service.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

constexpr std::string_view kRequestFormType = "http://jabber.org/protocol/muc#request";

xml::Element request_form_for_moderators(const Occupant& visitor) {
  adhoc::DataForm form;
  form.title = "Voice request";
  form.instructions =
      "To approve this request for voice, select the \"Grant voice to this person?\" checkbox "
      "and click OK. To skip this request, click the cancel button.";
  form.add("FORM_TYPE", "hidden").values = {std::string(kRequestFormType)};
  auto& role = form.add("muc#role", "list-single", "Requested role");
  role.values = {"participant"};
  role.options = {{"Participant", "participant"}};
  form.add("muc#jid", "jid-single", "User ID").values = {
      visitor.sessions.empty() ? visitor.bare.to_string() : visitor.sessions.front().to_string()};
  form.add("muc#roomnick", "text-single", "Room Nickname").values = {visitor.nick};
  form.add("muc#request_allow", "boolean", "Grant voice to this person?").values = {"false"};
  return adhoc::to_element(form);
}

}  // namespace

std::optional<adhoc::DataForm> voice_request_form(const xml::Element& message) {
  const auto* x = message.child("x", adhoc::kDataFormsNs);
  if (!x) return std::nullopt;
  auto form = adhoc::parse_form(*x);
  if (!form || form->form_type() != kRequestFormType) return std::nullopt;
  return form;
}

void MucService::on_voice_request(Room& room, Occupant* sender, const xml::Element& stanza,
                                  const adhoc::DataForm& form) {
  if (!sender) {
    reply_error(stanza, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
    return;
  }
  if (form.type == "submit" && form.field("muc#request_allow")) {
    approve_voice(room, *sender, stanza, form);
    return;
  }
  // A request: only a visitor of a moderated room has one to make.
  if (!room.config.moderated || sender->role != Role::kVisitor) {
    reply_error(stanza, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify));
    return;
  }
  if (form.value("muc#role") != "participant") {
    reply_error(stanza, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }
  xml::Element m("message", ns::kClient);
  m.set_attr("from", room.jid().bare_string());
  m.add_child(request_form_for_moderators(*sender));
  for (const auto& [nick, o] : room.occupants())
    if (o.role == Role::kModerator) send_to_occupant(o, m);
}

void MucService::approve_voice(Room& room, Occupant& moderator, const xml::Element& stanza,
                               const adhoc::DataForm& form) {
  const std::string allow = form.value("muc#request_allow");
  if (allow != "true" && allow != "1") return;  // a request declined: nothing to do
  Occupant* visitor = room.occupant_by_nick(form.value("muc#roomnick"));
  if (!visitor) {
    reply_error(stanza, StanzaError(StanzaCondition::kItemNotFound));
    return;
  }
  if (auto err = check_role_change(affiliation_of(room, moderator.bare), moderator.role,
                                   affiliation_of(room, visitor->bare), visitor->role,
                                   Role::kParticipant)) {
    reply_error(stanza, StanzaError(*err, *err == StanzaCondition::kForbidden ? ErrorType::kAuth
                                                                            : ErrorType::kCancel));
    return;
  }
  if (visitor->role != Role::kVisitor) return;  // voiced meanwhile
  visitor->role = Role::kParticipant;
  broadcast_presence(room, *visitor, {});
}

}  // namespace tern::modules::muc
