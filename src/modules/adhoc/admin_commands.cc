// XEP-0133 §4.1 add-user, §4.2 delete-user, §4.7 change-user-password,
// §4.20 get-online-users-list and §4.23 announce. Field names are those of
// the XEP's examples and its FORM_TYPE registry (§6.2).
#include "modules/adhoc/admin_commands.h"

#include <fmt/format.h>

#include <set>
#include <variant>

#include "core/log.h"
#include "modules/adhoc/protocol.h"
#include "modules/roster/account_removal.h"

namespace tern::modules::adhoc {
namespace {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

// A form with the admin FORM_TYPE and the given title and instructions.
DataForm admin_form(const char* type, const char* title, const char* instructions) {
  DataForm form;
  form.type = type;
  form.title = title;
  form.instructions = instructions;
  form.add("FORM_TYPE", "hidden").values.push_back(kAdminNs);
  return form;
}

StanzaError bad_payload(std::string text) {
  return command_error(CommandCondition::kBadPayload, std::move(text));
}

// A bare JID of an account on one of our domains, or the error naming why not.
std::variant<xmpp::Jid, StanzaError> local_account(const Host& host,
                                                    const std::string& text) {
  auto jid = xmpp::Jid::parse(text);
  if (!jid || !jid->has_node() || jid->has_resource()) {
    return bad_payload(fmt::format("'{}' is not a bare JID (user@domain)", text));
  }
  if (!host.is_local_domain(jid->domain())) {
    return bad_payload(fmt::format("'{}' is not on a domain of this server", text));
  }
  return *jid;
}

enum class StoreResult { kDone, kNotDone, kFailed };

// ---- add-user (§4.1) ----------------------------------------------------

DataForm add_user_form() {
  auto form = admin_form("form", "Adding a User", "Fill out this form to add a user.");
  auto& jid = form.add("accountjid", "jid-single", "The Jabber ID for the account to be added");
  jid.required = true;
  form.add("password", "text-private", "The password for this account").required = true;
  form.add("password-verify", "text-private", "Retype password");
  return form;
}

StoreResult create_account(storage::Storage& storage, const storage::AccountKey& key,
                           const std::string& password) {
  try {
    return storage.accounts().create(key, password) ? StoreResult::kDone : StoreResult::kNotDone;
  } catch (const std::exception& e) {
    spdlog::error("adhoc: creating {}@{} failed: {}", key.user, key.domain, e.what());
    return StoreResult::kFailed;
  }
}

awaitable<CommandOutcome> add_user(const AdminServices& s, const router::IqRequest& req,
                                   const DataForm& form) {
  auto account = local_account(s.host, form.value("accountjid"));
  if (const auto* err = std::get_if<StanzaError>(&account)) co_return CommandOutcome::fail(*err);
  const auto& jid = std::get<xmpp::Jid>(account);
  const auto password = form.value("password");
  if (password.empty()) co_return CommandOutcome::fail(bad_payload("a password is required"));
  if (form.field("password-verify") && form.value("password-verify") != password) {
    co_return CommandOutcome::fail(bad_payload("the two passwords differ"));
  }
  const storage::AccountKey key{jid.node(), jid.domain()};
  const auto result =
      co_await s.blocking.run([&] { return create_account(s.storage, key, password); });
  if (result == StoreResult::kFailed) {
    co_return CommandOutcome::fail(StanzaError(StanzaCondition::kInternalServerError));
  }
  if (result == StoreResult::kNotDone) {
    // XEP-0133 §5: "a user already exists with that username".
    co_return CommandOutcome::fail(
        StanzaError(StanzaCondition::kConflict, "an account with this JID exists"));
  }
  spdlog::info("adhoc: {} added the account {}", req.from.bare_string(), jid.bare_string());
  co_return CommandOutcome::done("info", fmt::format("Account {} created.", jid.bare_string()));
}

// ---- delete-user (§4.2) -------------------------------------------------

DataForm delete_user_form() {
  auto form = admin_form("form", "Deleting a User", "Fill out this form to delete a user.");
  form.add("accountjids", "jid-multi", "The Jabber ID(s) to delete").required = true;
  return form;
}

awaitable<CommandOutcome> delete_user(const AdminServices& s, const router::IqRequest& req,
                                      const DataForm& form) {
  // Every JID is checked before anything is deleted; duplicates count once
  // (XEP-0004 §3.3, jid-multi).
  std::vector<xmpp::Jid> accounts;
  std::set<xmpp::Jid> seen;
  for (const auto& text : form.values("accountjids")) {
    if (text.empty()) continue;
    auto account = local_account(s.host, text);
    if (const auto* err = std::get_if<StanzaError>(&account)) co_return CommandOutcome::fail(*err);
    auto& jid = std::get<xmpp::Jid>(account);
    if (seen.insert(jid).second) accounts.push_back(jid);
  }
  if (accounts.empty()) co_return CommandOutcome::fail(bad_payload("no account given"));

  // One after another, each as its own owner would cancel it (the contacts
  // are told, the sessions end once this command's reply is out).
  std::vector<std::string> deleted, missing;
  bool failed = false;
  for (const auto& account : accounts) {
    auto removal = roster::remove_account(s.host, s.storage, s.blocking, account, "account deleted");
    switch (co_await std::move(removal)) {
      case roster::AccountRemoval::kRemoved:
        deleted.push_back(account.bare_string());
        break;
      case roster::AccountRemoval::kNoSuchAccount:
        missing.push_back(account.bare_string());
        break;
      case roster::AccountRemoval::kFailed:
        failed = true;
        break;
    }
  }
  if (!deleted.empty()) {
    spdlog::info("adhoc: {} deleted {}", req.from.bare_string(), fmt::join(deleted, ", "));
  }
  if (failed) {
    co_return CommandOutcome::done("error", "The store failed; some accounts may remain.");
  }
  if (!missing.empty()) {
    std::string note = fmt::format("No such account: {}.", fmt::join(missing, ", "));
    if (!deleted.empty()) note += fmt::format(" Deleted: {}.", fmt::join(deleted, ", "));
    co_return CommandOutcome::done("error", std::move(note));
  }
  co_return CommandOutcome::done("info", fmt::format("Deleted {}.", fmt::join(deleted, ", ")));
}

// ---- change-user-password (§4.7) ----------------------------------------

DataForm change_password_form() {
  auto form = admin_form("form", "Changing a User Password",
                         "Fill out this form to change a user's password.");
  form.add("accountjid", "jid-single", "The Jabber ID for this account").required = true;
  form.add("password", "text-private", "The password for this account").required = true;
  return form;
}

StoreResult set_password(storage::Storage& storage, const storage::AccountKey& key,
                         const std::string& password) {
  try {
    return storage.accounts().set_password(key, password) ? StoreResult::kDone
                                                          : StoreResult::kNotDone;
  } catch (const std::exception& e) {
    spdlog::error("adhoc: new password for {}@{} failed: {}", key.user, key.domain, e.what());
    return StoreResult::kFailed;
  }
}

awaitable<CommandOutcome> change_user_password(const AdminServices& s,
                                               const router::IqRequest& req,
                                               const DataForm& form) {
  auto account = local_account(s.host, form.value("accountjid"));
  if (const auto* err = std::get_if<StanzaError>(&account)) co_return CommandOutcome::fail(*err);
  const auto& jid = std::get<xmpp::Jid>(account);
  const auto password = form.value("password");
  if (password.empty()) co_return CommandOutcome::fail(bad_payload("a password is required"));
  const storage::AccountKey key{jid.node(), jid.domain()};
  const auto result = co_await s.blocking.run([&] { return set_password(s.storage, key, password); });
  if (result == StoreResult::kFailed) {
    co_return CommandOutcome::fail(StanzaError(StanzaCondition::kInternalServerError));
  }
  if (result == StoreResult::kNotDone) {
    co_return CommandOutcome::done("error", fmt::format("No such account: {}.", jid.bare_string()));
  }
  spdlog::info("adhoc: {} changed the password of {}", req.from.bare_string(), jid.bare_string());
  co_return CommandOutcome::done("info",
                                 fmt::format("Password of {} changed.", jid.bare_string()));
}

// ---- get-online-users-list (§4.20) --------------------------------------

DataForm online_users_form() {
  auto form = admin_form("form", "Requesting List of Online Users",
                         "Fill out this form to request the online users of this service.");
  auto& max = form.add("max_items", "list-single", "Maximum number of items to show");
  for (const char* n : {"25", "50", "75", "100", "150", "200"}) max.options.push_back({n, n});
  max.options.push_back({"None", "none"});
  return form;
}

// 0 for "none" or no value (no limit); nullopt when not a positive number.
std::optional<std::size_t> parse_max_items(const std::string& text) {
  if (text.empty() || text == "none") return 0;
  std::size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || n > 1'000'000'000) return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (n == 0) return std::nullopt;
  return n;
}

awaitable<CommandOutcome> online_users(const AdminServices& s, const router::IqRequest& req,
                                       const DataForm& form) {
  const auto max = parse_max_items(form.value("max_items"));
  if (!max) {
    co_return CommandOutcome::fail(bad_payload("max_items must be a positive number or 'none'"));
  }
  // Online users are accounts with a bound session; listed as bare JIDs, as
  // the XEP's example does.
  std::set<std::string> online;
  s.host.sessions().for_each(
      [&](const router::SessionPtr& session) { online.insert(session->jid().bare_string()); });
  auto result = admin_form("result", "Online Users", "");
  auto& field = result.add("onlineuserjids", "jid-multi", "The list of all online users");
  for (const auto& jid : online) {
    if (*max != 0 && field.values.size() >= *max) break;
    field.values.push_back(jid);
  }
  std::string note = fmt::format("{} user(s) online.", online.size());
  if (field.values.size() < online.size()) {
    note += fmt::format(" Showing the first {}.", field.values.size());
  }
  auto outcome = CommandOutcome::done("info", std::move(note));
  outcome.result = std::move(result);
  co_return outcome;
}

// ---- announce (§4.23) ---------------------------------------------------

DataForm announce_form() {
  auto form = admin_form("form", "Making an Announcement",
                         "Fill out this form to make an announcement to all online users of "
                         "this service.");
  form.add("subject", "text-single", "Subject");
  form.add("announcement", "text-multi", "Announcement").required = true;
  return form;
}

awaitable<CommandOutcome> announce(const AdminServices& s, const router::IqRequest& req,
                                   const DataForm& form) {
  // XEP-0004 §3.3: the lines of a text-multi field, one per <value/>.
  std::string body;
  for (const auto& line : form.values("announcement")) {
    if (!body.empty()) body += '\n';
    body += line;
  }
  if (body.empty()) co_return CommandOutcome::fail(bad_payload("the announcement is empty"));
  const auto subject = form.value("subject");

  std::vector<router::SessionPtr> sessions;
  s.host.sessions().for_each([&](const router::SessionPtr& session) { sessions.push_back(session); });
  for (const auto& session : sessions) {
    // A headline from the user's own server (RFC 6121 §5.2.2: to be shown,
    // not stored or answered).
    xml::Element message("message", "jabber:client");
    message.set_attr("from", session->jid().domain());
    message.set_attr("to", session->jid().to_string());
    message.set_attr("type", "headline");
    if (!subject.empty()) message.add_child("subject").add_text(subject);
    message.add_child("body").add_text(body);
    s.host.deliver(session, std::move(message));
  }
  spdlog::info("adhoc: {} announced to {} session(s)", req.from.bare_string(), sessions.size());
  co_return CommandOutcome::done("info",
                                 fmt::format("Announcement sent to {} session(s).", sessions.size()));
}

}  // namespace

const std::vector<AdminCommand>& admin_commands() {
  static const std::vector<AdminCommand> kCommands = {
      {"http://jabber.org/protocol/admin#add-user", "add-user", "Add User", &add_user_form,
       &add_user},
      {"http://jabber.org/protocol/admin#delete-user", "delete-user", "Delete User",
       &delete_user_form, &delete_user},
      {"http://jabber.org/protocol/admin#change-user-password", "change-user-password",
       "Change User Password", &change_password_form, &change_user_password},
      {"http://jabber.org/protocol/admin#get-online-users-list", "get-online-users-list",
       "Get List of Online Users", &online_users_form, &online_users},
      {"http://jabber.org/protocol/admin#announce", "announce", "Send Announcement to Online Users",
       &announce_form, &announce},
  };
  return kCommands;
}

const AdminCommand* find_admin_command(std::string_view node) {
  for (const auto& c : admin_commands())
    if (node == c.node) return &c;
  return nullptr;
}

}  // namespace tern::modules::adhoc
