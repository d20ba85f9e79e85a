// XEP-0050 ad-hoc commands with XEP-0133 service administration.
//
// The server answers <command/> sets addressed to it. Every command here is
// two stages (XEP-0050 §4.4): the first request opens a command session and
// gets a form; submitting the form with that sessionid runs the command and
// ends the session ('completed', with a note). Sessions are bound to the
// requester's full JID and expire after modules.adhoc.session_timeout
// seconds without use. Only server.admins may run them (XEP-0133 §8).
#include "modules/adhoc/adhoc.h"

#include <set>

#include "modules/adhoc/admin_commands.h"
#include "modules/adhoc/command_sessions.h"
#include "modules/adhoc/protocol.h"
#include "modules/options.h"

namespace tern::modules {
namespace {

using namespace adhoc;
using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

// An admin running many commands at once is fine; a table without bound
// is not.
constexpr std::size_t kMaxCommandSessions = 10'000;

struct AdhocOptions {
  std::chrono::seconds session_timeout{600};
};
constexpr OptionField<AdhocOptions> kAdhocOptions[] = {
    option("session_timeout", &AdhocOptions::session_timeout, 10, 86'400,
           "Seconds a command session (a form waiting to be submitted) lasts without use"),
};

// server.admins as normalised bare JIDs (the config may spell them in any case).
std::set<std::string> admin_set(const core::Config& config) {
  std::set<std::string> admins;
  for (const auto& text : config.admins) {
    if (auto jid = xmpp::Jid::parse(text)) admins.insert(jid->bare_string());
  }
  return admins;
}

struct Adhoc {
  Adhoc(AdminServices services, std::set<std::string> admins, std::chrono::seconds lifetime)
      : services(services), admins(std::move(admins)), sessions(lifetime, kMaxCommandSessions) {}

  bool is_admin(const xmpp::Jid& who) const { return admins.count(who.bare_string()) > 0; }

  AdminServices services;
  const std::set<std::string> admins;
  CommandSessions sessions;
};

bool is_known_action(std::string_view a) {
  return a == "execute" || a == "cancel" || a == "prev" || a == "next" || a == "complete";
}

IqReply first_stage(const AdminCommand& command, const std::string& sessionid) {
  CommandReply reply{command.node, sessionid, "executing", true, {}, {}, command.form()};
  return to_element(reply);
}

IqReply ended(const AdminCommand& command, const std::string& sessionid, const char* status,
              CommandOutcome outcome) {
  CommandReply reply{command.node,          sessionid,
                     status,                false,
                     std::move(outcome.note_type), std::move(outcome.note),
                     std::move(outcome.result)};
  return to_element(reply);
}

awaitable<IqReply> run_command(std::shared_ptr<Adhoc> a, const IqRequest& req) {
  const auto& cmd = req.payload();
  if (cmd.name() != "command") co_return StanzaError(StanzaCondition::kBadRequest);
  const std::string node(cmd.attr_or("node"));
  const std::string action(cmd.attr_or("action", "execute"));
  if (node.empty()) co_return StanzaError(StanzaCondition::kBadRequest, "the node is missing");
  if (!is_known_action(action)) {
    co_return command_error(CommandCondition::kMalformedAction, "unknown action");
  }
  const AdminCommand* command = find_admin_command(node);
  if (!command) co_return StanzaError(StanzaCondition::kItemNotFound, "no such command");
  if (!a->is_admin(req.from)) {
    // XEP-0050 §6.4 types it 'cancel' (RFC 6120's default would be 'auth').
    co_return StanzaError(StanzaCondition::kForbidden, xmpp::ErrorType::kCancel,
                          "this command is for administrators");
  }

  const std::string owner = req.from.to_string();
  const auto now = CommandSessions::Clock::now();
  const xml::Element* x = cmd.child("x", kDataFormsNs);
  std::string sessionid;
  if (auto given = cmd.attr("sessionid")) {
    sessionid = std::string(*given);
    if (!a->sessions.touch(sessionid, node, owner, now)) {
      co_return command_error(CommandCondition::kBadSessionid, "no such command session");
    }
    if (action == "cancel") {
      a->sessions.close(sessionid);
      co_return ended(*command, sessionid, "canceled", CommandOutcome::done({}, {}));
    }
    // One form, then completion: there is no other stage to go to.
    if (action == "prev" || action == "next") {
      co_return command_error(CommandCondition::kBadAction, "this command has a single form");
    }
    if (!x) co_return command_error(CommandCondition::kBadPayload, "submit the form");
  } else {
    if (action != "execute" && action != "complete") {
      co_return command_error(CommandCondition::kBadAction, "start the command with 'execute'");
    }
    sessionid = a->sessions.open(command->short_name, node, owner, now);
    if (sessionid.empty()) {
      co_return StanzaError(StanzaCondition::kResourceConstraint, xmpp::ErrorType::kWait,
                            "too many command sessions");
    }
    if (!x) co_return first_stage(*command, sessionid);
    // A form submitted with the first request runs at once.
  }

  auto form = parse_form(*x);
  // XEP-0050 §4.5: a requester's x:data is a submission ('cancel' counts as one).
  if (!form || (form->type != "submit" && form->type != "cancel")) {
    co_return command_error(CommandCondition::kBadPayload, "expected a submitted data form");
  }
  if (!form->form_type().empty() && form->form_type() != kAdminNs) {
    co_return command_error(CommandCondition::kBadPayload, "wrong FORM_TYPE");
  }
  auto outcome = co_await command->submit(a->services, req, *form);
  if (outcome.error) co_return *outcome.error;
  a->sessions.close(sessionid);
  co_return ended(*command, sessionid, "completed", std::move(outcome));
}

}  // namespace

std::vector<DiscoItem> adhoc_commands_for(const core::Config& config,
                                          const xmpp::Jid& requester) {
  std::vector<DiscoItem> items;
  if (admin_set(config).count(requester.bare_string()) == 0) return items;
  for (const auto& c : admin_commands()) items.push_back({{}, c.node, c.name});
  return items;
}

std::unique_ptr<Module> start_adhoc(ModuleContext& ctx) {
  auto m = std::make_unique<Module>();
  const auto opts = read_options("adhoc", ctx.options, kAdhocOptions);
  auto a = std::make_shared<Adhoc>(AdminServices{ctx.host, ctx.storage, ctx.blocking},
                                   admin_set(ctx.config), opts.session_timeout);
  m->tokens.push_back(ctx.serve_iq(
      {router::IqTarget::kServer, router::IqType::kSet, kCommandsNs, "command", Advertise::kOnServer},
      [a](const IqRequest& req) { return run_command(a, req); }));
  ctx.features.disco_item_nodes[kCommandsNs] = [&config = ctx.config](const xmpp::Jid& requester) {
    return adhoc_commands_for(config, requester);
  };
  return m;
}

TERN_MODULE("adhoc", "XEP-0050 ad-hoc commands with XEP-0133 service administration", &start_adhoc, 50,
            kAdhocOptions);

}  // namespace tern::modules
