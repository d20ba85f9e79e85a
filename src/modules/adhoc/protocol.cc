#include "modules/adhoc/protocol.h"

namespace tern::modules::adhoc {
namespace {

// StanzaError points at its application condition; these live for the
// whole run, so an error can outlive the handler that made it.
const xml::Element& condition_element(CommandCondition c) {
  static const xml::Element bad_action("bad-action", kCommandsNs);
  static const xml::Element bad_payload("bad-payload", kCommandsNs);
  static const xml::Element bad_sessionid("bad-sessionid", kCommandsNs);
  static const xml::Element malformed_action("malformed-action", kCommandsNs);
  switch (c) {
    case CommandCondition::kBadAction: return bad_action;
    case CommandCondition::kBadPayload: return bad_payload;
    case CommandCondition::kBadSessionid: return bad_sessionid;
    case CommandCondition::kMalformedAction: return malformed_action;
  }
  return bad_payload;
}

}  // namespace

xmpp::StanzaError command_error(CommandCondition condition, std::string text) {
  xmpp::StanzaError err(xmpp::StanzaCondition::kBadRequest, xmpp::ErrorType::kModify,
                        std::move(text));
  err.app = &condition_element(condition);
  return err;
}

xml::Element to_element(const CommandReply& reply) {
  xml::Element command("command", kCommandsNs);
  command.set_attr("node", reply.node);
  command.set_attr("sessionid", reply.sessionid);
  command.set_attr("status", reply.status);
  if (reply.offer_complete) {
    auto& actions = command.add_child("actions");
    actions.set_attr("execute", "complete");
    actions.add_child("complete");
  }
  if (!reply.note_type.empty()) {
    auto& note = command.add_child("note");
    note.set_attr("type", reply.note_type);
    note.add_text(reply.note);
  }
  if (reply.form) command.add_child(to_element(*reply.form));
  return command;
}

}  // namespace tern::modules::adhoc
