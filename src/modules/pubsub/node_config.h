// A pubsub node's configuration (XEP-0060 §16.4, FORM_TYPE
// http://jabber.org/protocol/pubsub#node_config) as a value: the defaults,
// the form a client reads and submits, publish-options preconditions
// (§7.1.5), and the text the store keeps.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/adhoc/data_form.h"

namespace tern::modules::pubsub {

inline constexpr const char* kNodeConfigFormType = "http://jabber.org/protocol/pubsub#node_config";
inline constexpr const char* kPublishOptionsFormType =
    "http://jabber.org/protocol/pubsub#publish-options";

enum class AccessModel { kOpen, kPresence, kRoster, kWhitelist };
enum class PublishModel { kPublishers, kSubscribers, kOpen };
enum class SendLastItem { kNever, kOnSub, kOnSubAndPresence };

// max_items = kMaxItemsMax is "max": as many as the server allows.
inline constexpr std::size_t kMaxItemsMax = 0;

struct NodeConfig {
  AccessModel access_model = AccessModel::kPresence;
  PublishModel publish_model = PublishModel::kPublishers;
  SendLastItem send_last = SendLastItem::kOnSubAndPresence;
  std::size_t max_items = 1;
  bool persist_items = true;
  bool notify_retract = true;
  bool notify_delete = true;
  bool notify_config = false;
  bool deliver_notifications = true;
  bool deliver_payloads = true;
  std::string title;
  std::string payload_type;                // pubsub#type
  std::vector<std::string> roster_groups;  // pubsub#roster_groups_allowed

  bool operator==(const NodeConfig&) const = default;
};

// The defaults of a new node: PEP nodes share presence with contacts
// (XEP-0163 §4); nodes of a pubsub service are open.
NodeConfig default_config(bool pep);

// The limit a node's max_items stands for, given the server's limit.
std::size_t effective_max_items(const NodeConfig& config, std::size_t server_limit);

// The configuration as a form (type "form" to fill in, "result" to store).
adhoc::DataForm to_form(const NodeConfig& config, std::string type = "form");

// Applies the fields of a submitted node_config or publish-options form to
// `config`. Fields it does not know are ignored; a known field with a bad
// value returns why, and leaves `config` partly changed.
std::optional<std::string> apply_form(NodeConfig& config, const adhoc::DataForm& form,
                                      std::size_t server_limit);

// XEP-0060 §7.1.5: does the node's configuration match every option of a
// publish-options form? An option the server does not know never matches.
bool meets_preconditions(const NodeConfig& config, const adhoc::DataForm& options,
                         std::size_t server_limit);

// What the store keeps: the "result" form, serialized.
std::string serialize(const NodeConfig& config);
// nullopt for text serialize() did not write.
std::optional<NodeConfig> deserialize(std::string_view text);

std::string_view access_model_name(AccessModel m);

}  // namespace tern::modules::pubsub
