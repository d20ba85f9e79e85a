#include "modules/muc/room.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>

#include "sasl/mechanism.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

using xmpp::StanzaCondition;

namespace {

constexpr std::pair<Affiliation, const char*> kAffiliationNames[] = {
    {Affiliation::kOutcast, "outcast"}, {Affiliation::kNone, "none"},
    {Affiliation::kMember, "member"},   {Affiliation::kAdmin, "admin"},
    {Affiliation::kOwner, "owner"}};
constexpr std::pair<Role, const char*> kRoleNames[] = {{Role::kNone, "none"},
                                                       {Role::kVisitor, "visitor"},
                                                       {Role::kParticipant, "participant"},
                                                       {Role::kModerator, "moderator"}};

template <class T>
std::optional<std::int64_t> parse_number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

// XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm).
std::optional<std::chrono::system_clock::time_point> parse_datetime(std::string_view s) {
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
    if (pos + len > s.size()) return std::nullopt;
    auto v = parse_number<int>(s.substr(pos, len));
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  int offset_minutes = 0;
  if (pos < s.size() && s[pos] == 'Z' && pos + 1 == s.size()) {
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    auto oh = num(pos + 1, 2), om = num(pos + 4, 2);
    if (!oh || !om) return std::nullopt;
    offset_minutes = (*oh * 60 + *om) * (s[pos] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  const sys_seconds at = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se} - minutes{offset_minutes};
  // system_clock counts nanoseconds: past ~2262 it would overflow.
  constexpr std::int64_t kLimit = 9'000'000'000;
  if (at.time_since_epoch().count() > kLimit) return system_clock::time_point::max();
  if (at.time_since_epoch().count() < -kLimit) return system_clock::time_point::min();
  return time_point_cast<system_clock::duration>(at);
}

}  // namespace

const char* affiliation_name(Affiliation a) {
  for (auto& [value, name] : kAffiliationNames)
    if (value == a) return name;
  return "none";
}

std::optional<Affiliation> parse_affiliation(std::string_view name) {
  for (auto& [value, n] : kAffiliationNames)
    if (name == n) return value;
  return std::nullopt;
}

const char* role_name(Role r) {
  for (auto& [value, name] : kRoleNames)
    if (value == r) return name;
  return "none";
}

std::optional<Role> parse_role(std::string_view name) {
  for (auto& [value, n] : kRoleNames)
    if (name == n) return value;
  return std::nullopt;
}

Role default_role(Affiliation a, const RoomConfig& config) {
  switch (a) {
    case Affiliation::kOwner:
    case Affiliation::kAdmin:
      return Role::kModerator;
    case Affiliation::kMember:
      return Role::kParticipant;
    case Affiliation::kNone:
      return config.moderated ? Role::kVisitor : Role::kParticipant;
    case Affiliation::kOutcast:
      break;
  }
  return Role::kNone;
}

std::optional<StanzaCondition> check_role_change(Affiliation actor_aff, Role actor_role,
                                                 Affiliation target_aff, Role target_role,
                                                 Role new_role) {
  if (actor_role != Role::kModerator) return StanzaCondition::kForbidden;
  // Granting or taking away moderator status is for admins and owners (§9.6, §9.7).
  const bool touches_moderator = new_role == Role::kModerator || target_role == Role::kModerator;
  if (touches_moderator && actor_aff < Affiliation::kAdmin) return StanzaCondition::kNotAllowed;
  // Nobody lowers the role of an admin or owner, nor of someone who
  // outranks them (§8.2, §9.7).
  if (new_role < target_role) {
    if (target_aff >= Affiliation::kAdmin) return StanzaCondition::kNotAllowed;
    if (target_aff > actor_aff) return StanzaCondition::kNotAllowed;
  }
  return std::nullopt;
}

std::optional<StanzaCondition> check_affiliation_change(Affiliation actor, Affiliation current,
                                                        Affiliation wanted) {
  if (actor < Affiliation::kAdmin) return StanzaCondition::kForbidden;
  if (actor == Affiliation::kOwner) return std::nullopt;
  // An admin manages members and outcasts, never admins and owners (§9).
  if (current >= Affiliation::kAdmin || wanted >= Affiliation::kAdmin)
    return StanzaCondition::kNotAllowed;
  return std::nullopt;
}

HistoryRequest parse_history_request(const xml::Element* history) {
  HistoryRequest r;
  if (!history) return r;
  if (auto v = history->attr("maxstanzas"))
    if (auto n = parse_number<std::int64_t>(*v)) r.max_stanzas = static_cast<std::size_t>(*n);
  if (auto v = history->attr("maxchars"))
    if (auto n = parse_number<std::int64_t>(*v)) r.max_chars = static_cast<std::size_t>(*n);
  if (auto v = history->attr("seconds"))
    if (auto n = parse_number<std::int64_t>(*v)) r.seconds = *n;
  if (auto v = history->attr("since")) r.since = parse_datetime(*v);
  return r;
}

void History::push(xml::Element stanza, std::chrono::system_clock::time_point at,
                   std::size_t limit) {
  if (limit == 0) {
    entries_.clear();
    return;
  }
  HistoryEntry e;
  e.chars = xml::to_string(stanza, ns::kClient).size();
  e.stanza = std::move(stanza);
  e.at = at;
  entries_.push_back(std::move(e));
  trim(limit);
}

void History::erase_stanza(std::string_view room, std::string_view stanza_id,
                           std::string_view occupant_id) {
  std::erase_if(entries_, [&](const HistoryEntry& e) {
    if (!occupant_id.empty()) {
      const auto* sender = e.stanza.child("occupant-id", kOccupantIdNs);
      if (!sender || sender->attr_or("id") != occupant_id) return false;
    }
    for (const auto* child : e.stanza.children())
      if (child->name() == "stanza-id" && child->ns() == "urn:xmpp:sid:0" &&
          child->attr_or("by") == room && child->attr_or("id") == stanza_id)
        return true;
    return false;
  });
}

void History::trim(std::size_t limit) {
  while (entries_.size() > limit) entries_.pop_front();
}

std::vector<const HistoryEntry*> History::select(const HistoryRequest& request,
                                                 std::chrono::system_clock::time_point now) const {
  std::vector<const HistoryEntry*> picked;
  std::size_t chars = 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (request.max_stanzas && picked.size() >= *request.max_stanzas) break;
    if (request.max_chars && chars + it->chars > *request.max_chars) break;
    if (request.seconds && it->at < now - std::chrono::seconds(*request.seconds)) break;
    if (request.since && it->at < *request.since) break;
    chars += it->chars;
    picked.push_back(&*it);
  }
  std::reverse(picked.begin(), picked.end());
  return picked;
}

bool Occupant::has_session(const xmpp::Jid& full) const {
  return std::find(sessions.begin(), sessions.end(), full) != sessions.end();
}

Affiliation Room::affiliation_of(const xmpp::Jid& jid) const {
  auto it = affiliations_.find(jid.bare_string());
  return it == affiliations_.end() ? Affiliation::kNone : it->second;
}

void Room::set_affiliation(const xmpp::Jid& bare, Affiliation a) {
  if (a == Affiliation::kNone) {
    affiliations_.erase(bare.bare_string());
  } else {
    affiliations_[bare.bare_string()] = a;
  }
  if (a <= Affiliation::kNone) nicks_.erase(bare.bare_string());
}

const std::string* Room::registered_nick(const xmpp::Jid& bare) const {
  auto it = nicks_.find(bare.bare_string());
  return it == nicks_.end() ? nullptr : &it->second;
}

const std::string* Room::nick_owner(std::string_view nick) const {
  // Few rooms register many nicks; a scan keeps one map to keep in step.
  for (const auto& [bare, registered] : nicks_)
    if (registered == nick) return &bare;
  return nullptr;
}

void Room::register_nick(const xmpp::Jid& bare, std::string nick) {
  nicks_[bare.bare_string()] = std::move(nick);
}

void Room::unregister_nick(const xmpp::Jid& bare) { nicks_.erase(bare.bare_string()); }

std::size_t Room::count_of(Affiliation a) const {
  return static_cast<std::size_t>(std::count_if(affiliations_.begin(), affiliations_.end(),
                                                [a](const auto& e) { return e.second == a; }));
}

Occupant* Room::occupant_by_nick(std::string_view nick) {
  auto it = occupants_.find(std::string(nick));
  return it == occupants_.end() ? nullptr : &it->second;
}

Occupant* Room::occupant_by_session(const xmpp::Jid& full) {
  for (auto& [nick, o] : occupants_)
    if (o.has_session(full)) return &o;
  return nullptr;
}

std::vector<Occupant*> Room::occupants_of(const xmpp::Jid& bare) {
  std::vector<Occupant*> found;
  for (auto& [nick, o] : occupants_)
    if (o.bare == bare) found.push_back(&o);
  return found;
}

Occupant& Room::add_occupant(Occupant o) {
  auto nick = o.nick;
  return occupants_.insert_or_assign(nick, std::move(o)).first->second;
}

Occupant& Room::rename_occupant(const std::string& from, const std::string& to) {
  auto node = occupants_.extract(from);
  node.key() = to;
  node.mapped().nick = to;
  return occupants_.insert(std::move(node)).position->second;
}

std::string Room::occupant_id_for(const xmpp::Jid& bare) const {
  // A keyed hash: the same account gets the same id in this room, and the
  // id cannot be checked against a guessed JID without the room's salt.
  const std::string input = id_salt_ + '\0' + bare.bare_string();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return sasl::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), 18));
}

}  // namespace tern::modules::muc
