// A pubsub request (XEP-0060) as a value: what an iq's <pubsub/> or
// <pubsub xmlns='…#owner'/> asks, parsed once from untrusted XML so that
// the PEP module and the pubsub service only ever see well-formed requests.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "modules/adhoc/data_form.h"
#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules::pubsub {

inline constexpr const char* kNs = "http://jabber.org/protocol/pubsub";
inline constexpr const char* kOwnerNs = "http://jabber.org/protocol/pubsub#owner";
inline constexpr const char* kEventNs = "http://jabber.org/protocol/pubsub#event";
inline constexpr const char* kErrorsNs = "http://jabber.org/protocol/pubsub#errors";
inline constexpr const char* kRsmNs = "http://jabber.org/protocol/rsm";

enum class Action {
  kPublish,         // set, <publish/> (+ <publish-options/>)
  kRetract,         // set, <retract/>
  kItems,           // get, <items/>
  kCreate,          // set, <create/> (+ <configure/>)
  kSubscribe,       // set, <subscribe/> (+ <options/>)
  kUnsubscribe,     // set, <unsubscribe/>
  kGetOptions,      // get, <options/>
  kSetOptions,      // set, <options/>
  kSubscriptions,   // get, <subscriptions/> (the requester's)
  kAffiliations,    // get, <affiliations/> (the requester's)
  kGetConfig,       // owner get, <configure/>
  kSetConfig,       // owner set, <configure/>
  kDefault,         // owner get, <default/>
  kDelete,          // owner set, <delete/>
  kPurge,           // owner set, <purge/>
  kGetNodeSubscriptions,  // owner get, <subscriptions node/>
  kSetNodeSubscriptions,  // owner set
  kGetNodeAffiliations,   // owner get, <affiliations node/>
  kSetNodeAffiliations,   // owner set
};

struct RequestItem {
  std::string id;                      // empty: none given
  std::optional<xml::Element> payload; // the item's one child, if any
};

// Result Set Management (XEP-0059) on an items request.
struct Rsm {
  std::optional<std::size_t> max;
  std::optional<std::string> after;
  std::optional<std::string> before;  // empty string: the last page
};

struct Request {
  Action action = Action::kItems;
  std::string node;
  std::vector<RequestItem> items;       // publish: one; retract / items: by id
  std::optional<std::size_t> max_items; // items
  std::optional<Rsm> rsm;               // items
  bool notify = false;                  // retract notify='true'
  std::optional<adhoc::DataForm> form;  // publish-options, configure, options
  std::string jid;                      // subscribe, unsubscribe, options
  // Owner affiliation / subscription changes: (jid, value).
  std::vector<std::pair<std::string, std::string>> changes;
};

// Parses the payload of an iq of type get (`is_set` false) or set. The
// error is the stanza error the requester gets (bad-request,
// feature-not-implemented with a pubsub#errors condition, …).
std::variant<Request, xmpp::StanzaError> parse_request(const xml::Element& pubsub, bool is_set);

// A pubsub#errors application condition (e.g. "precondition-not-met",
// "presence-subscription-required"), as a StanzaError's `app`. The element
// lives for the program's life.
const xml::Element* error_condition(std::string_view name);
// A stanza error with a pubsub#errors condition.
xmpp::StanzaError pubsub_error(xmpp::StanzaCondition condition, std::string_view app,
                               std::string text = {});
// feature-not-implemented with <unsupported feature='…'/> (XEP-0060 §7-8).
xmpp::StanzaError unsupported(std::string_view feature);

}  // namespace tern::modules::pubsub
