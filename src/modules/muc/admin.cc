// The muc#admin iq (XEP-0045 §8-9): role and affiliation lists and
// changes — kick (307), ban (301), voice, moderators, members, admins,
// owners — checked item by item before any is applied.
#include "modules/muc/service.h"

namespace tern::modules::muc {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

namespace {

// One checked change of a muc#admin set.
struct Change {
  std::optional<Role> role;  // for the occupant `nick`
  std::string nick;
  std::optional<Affiliation> affiliation;  // for the account `jid`
  xmpp::Jid jid;
  std::string reason;
};

}  // namespace

void MucService::on_admin(Room& room, const xml::Element& iq, const xml::Element& query,
                          const xmpp::Jid& from) {
  const Affiliation actor_aff = affiliation_of(room, from);
  const Occupant* actor = room.occupant_by_session(from);
  const Role actor_role = actor ? actor->role : Role::kNone;
  std::vector<const xml::Element*> items;
  for (const auto* child : query.children())
    if (child->name() == "item" && child->ns() == kAdminNs) items.push_back(child);
  if (items.empty()) {
    reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
    return;
  }

  if (iq.attr_or("type") == "get") {
    const auto* item = items.front();
    auto reply = xmpp::make_iq_result(iq);
    auto& out = reply.add_child("query", std::string(kAdminNs));
    if (auto a = item->attr("affiliation")) {
      auto wanted = parse_affiliation(*a);
      if (!wanted || *wanted == Affiliation::kNone) {
        reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
        return;
      }
      // §9.5, §10.5: lists are for admins and owners.
      if (actor_aff < Affiliation::kAdmin) {
        reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
        return;
      }
      for (const auto& [jid, aff] : room.affiliations()) {
        if (aff != *wanted) continue;
        auto& i = out.add_child("item");
        i.set_attr("affiliation", affiliation_name(aff));
        i.set_attr("jid", jid);
        // §9.5/§10.5: the nick the member registered (§7.10), if any.
        if (auto nick = room.registered_nicks().find(jid); nick != room.registered_nicks().end())
          i.set_attr("nick", nick->second);
      }
    } else if (auto r = item->attr("role")) {
      auto wanted = parse_role(*r);
      if (!wanted || *wanted == Role::kNone) {
        reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
        return;
      }
      if (actor_role != Role::kModerator) {
        reply_error(iq, StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth));
        return;
      }
      for (const auto& [nick, o] : room.occupants()) {
        if (o.role != *wanted) continue;
        auto& i = out.add_child("item");
        i.set_attr("affiliation", affiliation_name(affiliation_of(room, o.bare)));
        i.set_attr("role", role_name(o.role));
        i.set_attr("nick", nick);
        if (may_see_jids(room, actor) && !o.sessions.empty()) i.set_attr("jid", o.sessions.front().to_string());
      }
    } else {
      reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
      return;
    }
    send(std::move(reply));
    return;
  }

  // A set: check every item, then apply them all (§9: the change is one).
  std::vector<Change> changes;
  std::size_t owners = room.count_of(Affiliation::kOwner);
  for (const auto* item : items) {
    Change c;
    c.reason = item->child_text("reason", kAdminNs);
    if (auto r = item->attr("role")) {
      c.role = parse_role(*r);
      c.nick = std::string(item->attr_or("nick"));
      if (!c.role || c.nick.empty()) {
        reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
        return;
      }
      const Occupant* target = room.occupant_by_nick(c.nick);
      if (!target) {
        reply_error(iq, StanzaError(StanzaCondition::kItemNotFound));
        return;
      }
      if (auto err = check_role_change(actor_aff, actor_role, affiliation_of(room, target->bare),
                                       target->role, *c.role)) {
        reply_error(iq, StanzaError(*err, *err == StanzaCondition::kForbidden ? ErrorType::kAuth
                                                                               : ErrorType::kCancel));
        return;
      }
    } else if (auto a = item->attr("affiliation")) {
      c.affiliation = parse_affiliation(*a);
      std::optional<xmpp::Jid> jid;
      if (auto j = item->attr("jid")) {
        jid = xmpp::Jid::parse(*j);
      } else if (auto n = item->attr("nick")) {
        if (const Occupant* o = room.occupant_by_nick(*n)) jid = o->bare;
      }
      if (!c.affiliation || !jid) {
        reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
        return;
      }
      c.jid = jid->bare();
      const Affiliation current = room.affiliation_of(c.jid);
      if (auto err = check_affiliation_change(actor_aff, current, *c.affiliation)) {
        reply_error(iq, StanzaError(*err, *err == StanzaCondition::kForbidden ? ErrorType::kAuth
                                                                               : ErrorType::kCancel));
        return;
      }
      if (current == Affiliation::kOwner && *c.affiliation != Affiliation::kOwner) --owners;
      if (current != Affiliation::kOwner && *c.affiliation == Affiliation::kOwner) ++owners;
    } else {
      reply_error(iq, StanzaError(StanzaCondition::kBadRequest, ErrorType::kModify));
      return;
    }
    changes.push_back(std::move(c));
  }
  if (owners == 0) {
    // §10.6: a room always keeps an owner.
    reply_error(iq, StanzaError(StanzaCondition::kConflict));
    return;
  }

  // The actor hears of its success first, then everyone of the changes.
  send(xmpp::make_iq_result(iq));
  const std::string actor_nick = actor ? actor->nick : std::string();
  bool affiliations_changed = false;
  for (const auto& c : changes) {
    if (c.affiliation) {
      apply_affiliation(room, c.jid, *c.affiliation, actor_nick, c.reason);
      affiliations_changed = true;
      continue;
    }
    Occupant* target = room.occupant_by_nick(c.nick);
    if (!target) continue;  // kicked by an earlier item
    if (*c.role == Role::kNone) {
      Departure d;
      d.codes = {307};
      d.actor_nick = actor_nick;
      d.reason = c.reason;
      remove_occupant(room, c.nick, d);
    } else if (target->role != *c.role) {
      target->role = *c.role;
      broadcast_presence(room, *target, {});
    }
  }
  if (affiliations_changed) save(room);
}

void MucService::apply_affiliation(Room& room, const xmpp::Jid& bare, Affiliation wanted,
                                   const std::string& actor_nick, const std::string& reason) {
  room.set_affiliation(bare, wanted);
  std::vector<std::string> nicks;
  for (const Occupant* o : room.occupants_of(bare)) nicks.push_back(o->nick);
  for (const auto& nick : nicks) {
    Departure d;
    d.actor_nick = actor_nick;
    d.reason = reason;
    if (wanted == Affiliation::kOutcast) {
      d.codes = {301};  // §9.1: banned
      remove_occupant(room, nick, d);
    } else if (room.config.members_only && wanted < Affiliation::kMember) {
      d.codes = {321};  // §9.4: no longer a member of a members-only room
      remove_occupant(room, nick, d);
    } else if (Occupant* o = room.occupant_by_nick(nick)) {
      o->role = default_role(wanted, room.config);
      broadcast_presence(room, *o, {});
    }
  }
}

}  // namespace tern::modules::muc
