// Nick registration (XEP-0045 §7.10) and the reserved nick (§7.12).
//
// A user registers with a room by submitting the muc#register form
// (jabber:iq:register, XEP-0077) with the nick it wants. Registration is
// membership: an unaffiliated user becomes a member (broadcast like any
// affiliation change); admins and owners keep theirs. The nick is then
// reserved: anyone else entering under it, or taking it by a nick change,
// gets 409 conflict. The nick goes with the affiliation (a ban or a removal
// from the member list forgets it) and is stored with it.
//
// Who may register: anyone but outcasts (forbidden) in an open room; in a
// members-only room only those already affiliated (not-allowed): there,
// membership is the admins' to give, and registering would bypass them.
// Unregistering (<remove/>) forgets the nick, and a member's membership.
#include "modules/adhoc/data_form.h"
#include "modules/muc/service.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";

xml::Element register_form(const std::string& nick) {
  adhoc::DataForm form;
  form.title = "Room registration";
  form.instructions = "Choose the nick this room keeps for you.";
  form.add("FORM_TYPE", "hidden").values = {std::string(kRegisterFormType)};
  auto& field = form.add("muc#register_roomnick", "text-single", "Desired nickname");
  field.required = true;
  if (!nick.empty()) field.values = {nick};
  return adhoc::to_element(form);
}

}  // namespace

void MucService::on_register(Room& room, const xml::Element& iq, const xml::Element& query,
                             const xmpp::Jid& from) {
  const Affiliation affiliation = affiliation_of(room, from);
  if (affiliation == Affiliation::kOutcast) {
    reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
    return;
  }
  if (room.config.members_only && affiliation < Affiliation::kMember) {
    reply_error(iq, StanzaError(StanzaCondition::kNotAllowed,
                                "members of this room are added by its admins"));
    return;
  }
  const xmpp::Jid bare = from.bare();
  const std::string* registered = room.registered_nick(bare);
  if (iq.attr_or("type") == "get") {
    // XEP-0077 §3.1: a registered user gets <registered/> and what it gave.
    auto reply = xmpp::make_iq_result(iq);
    auto& q = reply.add_child("query", std::string(kRegisterNs));
    if (registered) {
      q.add_child("registered");
      q.add_child("username").add_text(*registered);
    }
    q.add_child(register_form(registered ? *registered : std::string()));
    send(std::move(reply));
    return;
  }
  if (query.child("remove")) {
    const bool member = room.affiliation_of(bare) == Affiliation::kMember;
    if (!registered && !member) {
      reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
      return;
    }
    room.unregister_nick(bare);
    send(xmpp::make_iq_result(iq));
    if (member) apply_affiliation(room, bare, Affiliation::kNone, "", "");
    save(room);
    return;
  }
  const xml::Element* x = query.child("x", adhoc::kDataFormsNs);
  auto form = x ? adhoc::parse_form(*x) : std::nullopt;
  if (form && form->type == "cancel") {
    send(xmpp::make_iq_result(iq));
    return;
  }
  if (!form || form->type != "submit" || form->form_type() != kRegisterFormType) {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify,
                                "submit the muc#register form"));
    return;
  }
  const std::string wanted = form->value("muc#register_roomnick");
  // The nick as it will appear in room JIDs (resourceprep).
  auto as_jid = wanted.empty() ? std::nullopt : xmpp::Jid::parse(room.jid().bare_string() + "/" + wanted);
  if (!as_jid || as_jid->resource().empty()) {
    reply_error(iq, StanzaError(StanzaCondition::kNotAcceptable, ErrorType::kModify,
                                "muc#register_roomnick needs a valid nick"));
    return;
  }
  const std::string nick = as_jid->resource();
  const std::string* holder = room.nick_owner(nick);
  const Occupant* present = room.occupant_by_nick(nick);
  if ((holder && *holder != bare.bare_string()) || (present && present->bare != bare)) {
    reply_error(iq, StanzaError(StanzaCondition::kConflict));
    return;
  }
  send(xmpp::make_iq_result(iq));
  // §7.10: registering makes a member, and occupants hear of it.
  // (A server admin, an owner of every room, is on no list: it joins the
  // member list, so that its nick has an affiliation to go with.)
  if (room.affiliation_of(bare) == Affiliation::kNone)
    apply_affiliation(room, bare, Affiliation::kMember, "", "");
  room.register_nick(bare, nick);
  save(room);
}

xml::Element MucService::reserved_nick_info(const Room& room, const xmpp::Jid& from) const {
  xml::Element query("query", std::string(kInfoNs));
  query.set_attr("node", "x-roomuser-item");
  if (const std::string* nick = room.registered_nick(from.bare())) {
    auto& identity = query.add_child("identity");
    identity.set_attr("category", "conference");
    identity.set_attr("type", "text");
    identity.set_attr("name", *nick);
  }
  return query;
}

}  // namespace tern::modules::muc
