#include "modules/pubsub/access.h"

#include <algorithm>

#include "modules/pubsub/request.h"

namespace tern::modules::pubsub {

using xmpp::ErrorType;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

bool has_presence_subscription(const Requester& who) {
  return who.subscription == "from" || who.subscription == "both";
}

std::optional<StanzaError> refuse_access(const NodeConfig& config, const Requester& who) {
  if (who.is_owner || who.affiliation == "owner") return std::nullopt;
  if (who.affiliation == "outcast") return StanzaError(StanzaCondition::kForbidden, ErrorType::kAuth);
  switch (config.access_model) {
    case AccessModel::kOpen:
      return std::nullopt;
    case AccessModel::kPresence:
      if (has_presence_subscription(who)) return std::nullopt;
      {
        auto err = pubsub_error(StanzaCondition::kNotAuthorized, "presence-subscription-required");
        err.type = ErrorType::kAuth;
        return err;
      }
    case AccessModel::kRoster:
      if (has_presence_subscription(who) &&
          std::any_of(who.groups.begin(), who.groups.end(), [&](const std::string& g) {
            return std::find(config.roster_groups.begin(), config.roster_groups.end(), g) !=
                   config.roster_groups.end();
          }))
        return std::nullopt;
      {
        auto err = pubsub_error(StanzaCondition::kNotAuthorized, "not-in-roster-group");
        err.type = ErrorType::kAuth;
        return err;
      }
    case AccessModel::kWhitelist:
      if (who.affiliation == "member" || who.affiliation == "publisher" ||
          who.affiliation == "publish-only")
        return std::nullopt;
      {
        auto err = pubsub_error(StanzaCondition::kNotAllowed, "closed-node");
        err.type = ErrorType::kCancel;
        return err;
      }
  }
  return StanzaError(StanzaCondition::kForbidden);
}

}  // namespace tern::modules::pubsub
