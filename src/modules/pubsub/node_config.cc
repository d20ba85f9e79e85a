// Each option is one row of kOptions: how it reads from the config as form
// values and how submitted values write to it. The form, the parser and
// the precondition check all walk that one table, so an option added there
// is offered, accepted and compared alike.
#include "modules/pubsub/node_config.h"

#include <charconv>
#include <functional>

#include "xml/parse_element.h"
#include "xml/serializer.h"
#include "xmpp/namespaces.h"

namespace tern::modules::pubsub {
namespace {

using Values = std::vector<std::string>;

template <class Enum>
struct Named {
  Enum value;
  const char* name;
};

constexpr Named<AccessModel> kAccessModels[] = {{AccessModel::kOpen, "open"},
                                                 {AccessModel::kPresence, "presence"},
                                                 {AccessModel::kRoster, "roster"},
                                                 {AccessModel::kWhitelist, "whitelist"}};
constexpr Named<PublishModel> kPublishModels[] = {{PublishModel::kPublishers, "publishers"},
                                                   {PublishModel::kSubscribers, "subscribers"},
                                                   {PublishModel::kOpen, "open"}};
constexpr Named<SendLastItem> kSendLast[] = {{SendLastItem::kNever, "never"},
                                              {SendLastItem::kOnSub, "on_sub"},
                                              {SendLastItem::kOnSubAndPresence, "on_sub_and_presence"}};

template <class Enum, std::size_t N>
std::string name_of(const Named<Enum> (&table)[N], Enum v) {
  for (const auto& n : table)
    if (n.value == v) return n.name;
  return {};
}

template <class Enum, std::size_t N>
std::optional<Enum> parse_enum(const Named<Enum> (&table)[N], std::string_view s) {
  for (const auto& n : table)
    if (s == n.name) return n.value;
  return std::nullopt;
}

template <class Enum, std::size_t N>
std::vector<adhoc::FormOption> options_of(const Named<Enum> (&table)[N]) {
  std::vector<adhoc::FormOption> out;
  for (const auto& n : table) out.push_back({{}, n.name});
  return out;
}

// XEP-0004 §3.3: "1"/"true" and "0"/"false".
std::optional<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  return std::nullopt;
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

std::string single(const Values& v) { return v.empty() ? std::string() : v.front(); }

struct Option {
  const char* var;
  const char* type;
  const char* label;
  std::function<Values(const NodeConfig&)> read;
  // Writes the values; false when they are not valid for the option.
  std::function<bool(NodeConfig&, const Values&, std::size_t server_limit)> write;
  std::function<std::vector<adhoc::FormOption>()> choices;
};

template <class Enum, std::size_t N>
Option enum_option(const char* var, const char* label, const Named<Enum> (&table)[N],
                   Enum NodeConfig::*field) {
  return Option{
      var, "list-single", label,
      [&table, field](const NodeConfig& c) { return Values{name_of(table, c.*field)}; },
      [&table, field](NodeConfig& c, const Values& v, std::size_t) {
        auto parsed = parse_enum(table, single(v));
        if (parsed) c.*field = *parsed;
        return parsed.has_value();
      },
      [&table] { return options_of(table); }};
}

Option bool_option(const char* var, const char* label, bool NodeConfig::*field) {
  return Option{var, "boolean", label,
                [field](const NodeConfig& c) { return Values{bool_text(c.*field)}; },
                [field](NodeConfig& c, const Values& v, std::size_t) {
                  auto parsed = parse_bool(single(v));
                  if (parsed) c.*field = *parsed;
                  return parsed.has_value();
                },
                nullptr};
}

Option text_option(const char* var, const char* label, std::string NodeConfig::*field) {
  return Option{var, "text-single", label,
                [field](const NodeConfig& c) { return Values{c.*field}; },
                [field](NodeConfig& c, const Values& v, std::size_t) {
                  c.*field = single(v);
                  return true;
                },
                nullptr};
}

bool write_max_items(NodeConfig& c, const Values& v, std::size_t server_limit) {
  const std::string s = single(v);
  if (s == "max") {
    c.max_items = kMaxItemsMax;
    return true;
  }
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size() || n == 0 || n > server_limit) return false;
  c.max_items = n;
  return true;
}

const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = {
      enum_option("pubsub#access_model", "Who may subscribe and retrieve items", kAccessModels,
                  &NodeConfig::access_model),
      enum_option("pubsub#publish_model", "Who may publish", kPublishModels,
                  &NodeConfig::publish_model),
      enum_option("pubsub#send_last_published_item", "When to send the last published item",
                  kSendLast, &NodeConfig::send_last),
      Option{"pubsub#max_items", "text-single", "Most items to keep (or max)",
             [](const NodeConfig& c) {
               return Values{c.max_items == kMaxItemsMax ? std::string("max")
                                                         : std::to_string(c.max_items)};
             },
             &write_max_items, nullptr},
      bool_option("pubsub#persist_items", "Persist items", &NodeConfig::persist_items),
      bool_option("pubsub#notify_retract", "Notify on retraction", &NodeConfig::notify_retract),
      bool_option("pubsub#notify_delete", "Notify on node deletion", &NodeConfig::notify_delete),
      bool_option("pubsub#notify_config", "Notify on configuration change",
                  &NodeConfig::notify_config),
      bool_option("pubsub#deliver_notifications", "Deliver event notifications",
                  &NodeConfig::deliver_notifications),
      bool_option("pubsub#deliver_payloads", "Deliver payloads with notifications",
                  &NodeConfig::deliver_payloads),
      text_option("pubsub#title", "Title", &NodeConfig::title),
      text_option("pubsub#type", "Payload type", &NodeConfig::payload_type),
      Option{"pubsub#roster_groups_allowed", "list-multi", "Roster groups allowed (roster access)",
             [](const NodeConfig& c) { return c.roster_groups; },
             [](NodeConfig& c, const Values& v, std::size_t) {
               c.roster_groups = v;
               return true;
             },
             nullptr},
  };
  return kOptions;
}

const Option* find_option(std::string_view var) {
  for (const auto& o : options())
    if (var == o.var) return &o;
  return nullptr;
}

}  // namespace

NodeConfig default_config(bool pep) {
  NodeConfig c;
  if (!pep) c.access_model = AccessModel::kOpen;
  return c;
}

std::size_t effective_max_items(const NodeConfig& config, std::size_t server_limit) {
  if (config.max_items == kMaxItemsMax || config.max_items > server_limit) return server_limit;
  return config.max_items;
}

adhoc::DataForm to_form(const NodeConfig& config, std::string type) {
  adhoc::DataForm form;
  form.type = std::move(type);
  form.add("FORM_TYPE", "hidden").values = {kNodeConfigFormType};
  for (const auto& o : options()) {
    auto& f = form.add(o.var, o.type, o.label);
    f.values = o.read(config);
    if (o.choices) f.options = o.choices();
  }
  return form;
}

std::optional<std::string> apply_form(NodeConfig& config, const adhoc::DataForm& form,
                                      std::size_t server_limit) {
  for (const auto& field : form.fields) {
    const Option* o = find_option(field.var);
    if (!o) continue;
    if (!o->write(config, field.values, server_limit))
      return "bad value for " + field.var;
  }
  return std::nullopt;
}

bool meets_preconditions(const NodeConfig& config, const adhoc::DataForm& options,
                         std::size_t server_limit) {
  for (const auto& field : options.fields) {
    if (field.var == "FORM_TYPE") continue;
    const Option* o = find_option(field.var);
    // An option this server does not know cannot make a node stricter
    // than it is, and creation ignores it too: both agree, so a client
    // that sends one is not refused on every publish after the first.
    if (!o) continue;
    // Compare in canonical form: what the value would make of the config.
    NodeConfig wanted = config;
    if (!o->write(wanted, field.values, server_limit)) return false;
    if (o->read(wanted) != o->read(config)) return false;
  }
  return true;
}

std::string serialize(const NodeConfig& config) {
  return xml::to_string(adhoc::to_element(to_form(config, "result")), "");
}

std::optional<NodeConfig> deserialize(std::string_view text) {
  auto element = xml::parse_element(text, ns::kClient);
  if (!element) return std::nullopt;
  auto form = adhoc::parse_form(*element);
  if (!form || form->form_type() != kNodeConfigFormType) return std::nullopt;
  NodeConfig config;
  // The stored limit was checked when it was set; the store is trusted.
  if (apply_form(config, *form, SIZE_MAX)) return std::nullopt;
  return config;
}

std::string_view access_model_name(AccessModel m) {
  for (const auto& n : kAccessModels)
    if (n.value == m) return n.name;
  return {};
}

}  // namespace tern::modules::pubsub
