#include "modules/muc/config_form.h"

#include <charconv>

#include "modules/adhoc/data_form.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::muc {

namespace {

using adhoc::DataForm;

constexpr const char* kName = "muc#roomconfig_roomname";
constexpr const char* kDesc = "muc#roomconfig_roomdesc";
constexpr const char* kPersistent = "muc#roomconfig_persistentroom";
constexpr const char* kPublic = "muc#roomconfig_publicroom";
constexpr const char* kMembersOnly = "muc#roomconfig_membersonly";
constexpr const char* kModerated = "muc#roomconfig_moderatedroom";
constexpr const char* kPasswordProtected = "muc#roomconfig_passwordprotectedroom";
constexpr const char* kSecret = "muc#roomconfig_roomsecret";
constexpr const char* kMaxUsers = "muc#roomconfig_maxusers";
constexpr const char* kWhois = "muc#roomconfig_whois";
constexpr const char* kChangeSubject = "muc#roomconfig_changesubject";
constexpr const char* kAllowInvites = "muc#roomconfig_allowinvites";
constexpr const char* kHistoryLength = "muc#roomconfig_historylength";
// The XEP's own name for it (§15.5.3); some clients send this one.
constexpr const char* kMaxHistoryFetch = "muc#maxhistoryfetch";
constexpr const char* kArchiving = "muc#roomconfig_enablearchiving";
// What ejabberd calls it; some clients send this one.
constexpr const char* kMam = "mam";
constexpr const char* kIdSalt = "tern#occupant_id_salt";

const char* bool_value(bool b) { return b ? "1" : "0"; }

void add_bool(DataForm& form, const char* var, const char* label, bool value) {
  form.add(var, "boolean", label).values = {bool_value(value)};
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false" || v.empty()) return false;
  return std::nullopt;
}

std::optional<int> parse_count(std::string_view v, int max) {
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0 || n > max) return std::nullopt;
  return n;
}

DataForm form_of(const RoomConfig& c, int max_history) {
  DataForm form;
  form.add("FORM_TYPE", "hidden").values = {std::string(kRoomConfigFormType)};
  form.add(kName, "text-single", "Name").values = {c.name};
  form.add(kDesc, "text-single", "Description").values = {c.description};
  add_bool(form, kPersistent, "Persistent room (kept when empty and across restarts)", c.persistent);
  add_bool(form, kPublic, "Listed in the room directory", c.is_public);
  add_bool(form, kMembersOnly, "Members only", c.members_only);
  add_bool(form, kModerated, "Moderated (visitors need voice to speak)", c.moderated);
  add_bool(form, kPasswordProtected, "Password protected", c.password_protected);
  form.add(kSecret, "text-private", "Password").values = {c.password};
  auto& max_users = form.add(kMaxUsers, "list-single", "Maximum number of occupants");
  max_users.values = {c.max_users == 0 ? "none" : std::to_string(c.max_users)};
  for (const char* v : {"10", "20", "30", "50", "100", "500", "none"}) max_users.options.push_back({"", v});
  auto& whois = form.add(kWhois, "list-single", "Who may see occupants' real addresses");
  whois.values = {c.whois == Whois::kAnyone ? "anyone" : "moderators"};
  whois.options = {{"Moderators only", "moderators"}, {"Anyone", "anyone"}};
  add_bool(form, kChangeSubject, "Occupants may change the subject", c.occupants_change_subject);
  add_bool(form, kAllowInvites, "Occupants may invite others", c.allow_invites);
  form.add(kHistoryLength, "text-single",
           "Messages of history sent on entry (at most " + std::to_string(max_history) + ")")
      .values = {std::to_string(c.history_length)};
  add_bool(form, kArchiving, "Archive messages (XEP-0313 on the room address)", c.archiving);
  return form;
}

}  // namespace

xml::Element config_form(const RoomConfig& config, int max_history) {
  auto form = form_of(config, max_history);
  form.title = "Room configuration";
  return adhoc::to_element(form);
}

std::optional<std::string> apply_config_form(const xml::Element& x, RoomConfig& config,
                                             int max_history) {
  auto form = adhoc::parse_form(x);
  if (!form) return "not a data form";
  if (form->type != "submit") return "the form must be of type submit";
  if (!form->form_type().empty() && form->form_type() != kRoomConfigFormType)
    return "not a muc#roomconfig form";
  RoomConfig next = config;
  for (const auto& f : form->fields) {
    const std::string v = f.values.empty() ? std::string() : f.values.front();
    auto set_bool = [&](bool& target) -> bool {
      auto b = parse_bool(v);
      if (b) target = *b;
      return b.has_value();
    };
    if (f.var == kName) {
      next.name = v;
    } else if (f.var == kDesc) {
      next.description = v;
    } else if (f.var == kPersistent) {
      if (!set_bool(next.persistent)) return "bad boolean in " + f.var;
    } else if (f.var == kPublic) {
      if (!set_bool(next.is_public)) return "bad boolean in " + f.var;
    } else if (f.var == kMembersOnly) {
      if (!set_bool(next.members_only)) return "bad boolean in " + f.var;
    } else if (f.var == kModerated) {
      if (!set_bool(next.moderated)) return "bad boolean in " + f.var;
    } else if (f.var == kPasswordProtected) {
      if (!set_bool(next.password_protected)) return "bad boolean in " + f.var;
    } else if (f.var == kChangeSubject) {
      if (!set_bool(next.occupants_change_subject)) return "bad boolean in " + f.var;
    } else if (f.var == kArchiving || f.var == kMam) {
      if (!set_bool(next.archiving)) return "bad boolean in " + f.var;
    } else if (f.var == kAllowInvites) {
      if (!set_bool(next.allow_invites)) return "bad boolean in " + f.var;
    } else if (f.var == kSecret) {
      next.password = v;
    } else if (f.var == kMaxUsers) {
      if (v == "none" || v.empty()) {
        next.max_users = 0;
      } else if (auto n = parse_count(v, 1000000)) {
        next.max_users = *n;
      } else {
        return "bad number in " + f.var;
      }
    } else if (f.var == kWhois) {
      if (v == "anyone") {
        next.whois = Whois::kAnyone;
      } else if (v == "moderators") {
        next.whois = Whois::kModerators;
      } else {
        return "whois must be moderators or anyone";
      }
    } else if (f.var == kHistoryLength || f.var == kMaxHistoryFetch) {
      // More than the service keeps is capped rather than refused: clients
      // offer values from their own lists.
      int n = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || end != v.data() + v.size() || n < 0) return "bad number in " + f.var;
      next.history_length = std::min(n, max_history);
    }
  }
  // A password given without the flag protects the room; the flag without
  // a password would lock everyone out.
  if (!form->field(kPasswordProtected) && !next.password.empty()) next.password_protected = true;
  if (next.password_protected && next.password.empty()) return "a password protected room needs a password";
  config = std::move(next);
  return std::nullopt;
}

std::string stored_config(const RoomConfig& config, const std::string& id_salt) {
  auto form = form_of(config, 1 << 30);
  form.type = "submit";
  for (auto& f : form.fields) {
    f.label.clear();
    f.options.clear();
  }
  form.add(kIdSalt, "hidden").values = {id_salt};
  return xml::to_string(adhoc::to_element(form), ns::kClient);
}

std::optional<std::pair<RoomConfig, std::string>> parse_stored_config(std::string_view text,
                                                                      int max_history) {
  auto x = xml::parse_element(text, ns::kClient);
  if (!x) return std::nullopt;
  RoomConfig config;
  if (apply_config_form(*x, config, max_history)) return std::nullopt;
  auto form = adhoc::parse_form(*x);
  return std::make_pair(config, form ? form->value(kIdSalt) : std::string());
}

}  // namespace tern::modules::muc
