// XEP-0050 names: the namespace, the <command/> a responder answers with,
// and the application-specific error conditions of §6.4.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "modules/adhoc/data_form.h"
#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::adhoc {

inline constexpr const char* kCommandsNs = "http://jabber.org/protocol/commands";

// XEP-0050 §6.4 specific conditions (namespace kCommandsNs).
enum class CommandCondition { kBadAction, kBadPayload, kBadSessionid, kMalformedAction };

// <bad-request/> with the specific condition (type modify, as §6.4 lists).
xmpp::StanzaError command_error(CommandCondition condition, std::string text = {});

// A command's answer: <command node sessionid status> with, in order, the
// allowed actions (when executing), a note, and a form.
struct CommandReply {
  std::string node;
  std::string sessionid;
  std::string status;                  // executing | completed | canceled
  bool offer_complete = false;         // <actions execute='complete'><complete/></actions>
  std::string note_type;               // info | warn | error (empty: no note)
  std::string note;
  std::optional<DataForm> form;
};

xml::Element to_element(const CommandReply& reply);

}  // namespace tern::modules::adhoc
