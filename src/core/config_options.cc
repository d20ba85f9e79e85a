// The option declarations, and the documents generated from them (the README
// reference and tern.example.toml). Defaults are not repeated here: they are
// read back from a default-constructed Config, so config.h stays the one place
// that states them.
#include "core/config_options.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <sstream>

#include "core/config_checks.h"

namespace tern::core {
namespace {

// Small constructors so that the table below reads as a list of options.
OptionSpec string_option(std::string_view path, StringField field, std::string_view doc,
                         ValueCheck check = nullptr) {
  OptionSpec spec{.path = path, .field = field, .doc = doc};
  spec.check = check;
  return spec;
}
OptionSpec bool_option(std::string_view path, BoolField field, std::string_view doc) {
  return OptionSpec{.path = path, .field = field, .doc = doc};
}
OptionSpec int_option(std::string_view path, IntField field, std::int64_t min, std::int64_t max,
                      std::string_view doc) {
  return OptionSpec{.path = path, .field = field, .doc = doc, .min = min, .max = max};
}
OptionSpec small_int_option(std::string_view path, SmallIntField field, std::int64_t min,
                            std::int64_t max, std::string_view doc) {
  return OptionSpec{.path = path, .field = field, .doc = doc, .min = min, .max = max};
}
OptionSpec list_option(std::string_view path, ListField field, std::string_view doc,
                       ValueCheck check, ListCheck list_check = check_no_duplicates) {
  OptionSpec spec{.path = path, .field = field, .doc = doc};
  spec.check = check;
  spec.list_check = list_check;
  return spec;
}

// An empty listener list is allowed: it disables that listener.
OptionSpec listen_option(std::string_view path, ListField field, std::string_view doc) {
  return list_option(path, field, doc, check_listen_address);
}

const std::vector<OptionSpec>& all_options() {
  // Built once, read-only afterwards.
  static const std::vector<OptionSpec> options = [] {
    std::vector<OptionSpec> o;
    // [server]
    o.push_back(list_option(
        "server.domains", [](Config & c) -> auto& { return c.domains; },
        "XMPP domains hosted by this server; the first one is the default", check_domain,
        check_domain_list));
    o.push_back(string_option(
        "server.data_dir", [](Config & c) -> auto& { return c.data_dir; },
        "Directory for the database, the generated certificate and other state"));
    o.push_back(small_int_option(
        "server.shards", [](Config & c) -> auto& { return c.shards; }, 0, 1024,
        "Event loop threads; 0 starts one per CPU core"));
    o.push_back(string_option(
        "server.log_level", [](Config & c) -> auto& { return c.log_level; },
        "Least severe log level written: trace, debug, info, warn or error", check_log_level));
    o.push_back(list_option(
        "server.admins", [](Config & c) -> auto& { return c.admins; },
        "Bare JIDs (user@domain) with administrative rights", check_bare_jid));
    o.push_back(int_option(
        "server.shutdown_timeout_seconds",
        [](Config & c) -> auto& { return c.shutdown_timeout_seconds; }, 1, 3600,
        "Seconds a stop (SIGTERM) may take to close streams and finish queued storage writes"));
    // [listen]
    o.push_back(listen_option(
        "listen.c2s", [](Config & c) -> auto& { return c.listen.c2s; },
        "Client connections with STARTTLS (\"address:port\"; [] disables)"));
    o.push_back(listen_option(
        "listen.c2s_tls", [](Config & c) -> auto& { return c.listen.c2s_tls; },
        "Client connections with direct TLS (XEP-0368)"));
    o.push_back(listen_option(
        "listen.s2s", [](Config & c) -> auto& { return c.listen.s2s; },
        "Connections from other XMPP servers"));
    o.push_back(listen_option(
        "listen.http", [](Config & c) -> auto& { return c.listen.http; },
        "Plain HTTP: web chat page, BOSH, WebSocket, /metrics"));
    o.push_back(listen_option(
        "listen.https", [](Config & c) -> auto& { return c.listen.https; },
        "HTTPS: the same services over TLS"));
    o.push_back(listen_option(
        "listen.component", [](Config & c) -> auto& { return c.listen.component; },
        "External components (XEP-0114); keep it on loopback unless firewalled"));
    o.push_back(listen_option(
        "listen.s2s_tls", [](Config & c) -> auto& { return c.listen.s2s_tls; },
        "Connections from other XMPP servers with direct TLS (XEP-0368)"));
    // [tls]
    o.push_back(string_option(
        "tls.cert", [](Config & c) -> auto& { return c.tls_cert; },
        "PEM certificate chain; empty: a self-signed pair is made in data_dir"));
    o.push_back(string_option(
        "tls.key", [](Config & c) -> auto& { return c.tls_key; }, "PEM private key for tls.cert"));
    o.push_back(bool_option(
        "tls.require_starttls", [](Config & c) -> auto& { return c.require_starttls; },
        "Clients must upgrade to TLS before they may authenticate"));
    o.push_back(int_option(
        "tls.session_ticket_seconds", [](Config & c) -> auto& { return c.tls_session_ticket_seconds; },
        0, 7 * 24 * 3600,
        "TLS 1.3 session tickets: how long a client may resume without a full handshake (the ticket key rotates as often); 0: no tickets"));
    // [http]
    o.push_back(list_option(
        "http.allowed_origins", [](Config & c) -> auto& { return c.http_allowed_origins; },
        "Origins (scheme://host:port) allowed for WebSocket, BOSH and CORS besides the page's own; \"*\" allows any",
        nullptr));
    o.push_back(list_option(
        "http.trusted_addresses", [](Config & c) -> auto& { return c.http_trusted_addresses; },
        "Peer addresses whose plain-HTTP connections count as confidential (loopback, a TLS-terminating proxy)",
        nullptr));
    o.push_back(list_option(
        "http.metrics_addresses", [](Config & c) -> auto& { return c.http_metrics_addresses; },
        "Peer addresses allowed to read /metrics", nullptr));
    o.push_back(string_option(
        "http.web_root", [](Config & c) -> auto& { return c.http_web_root; },
        "Directory served at /; empty: the web chat page built with Tern"));
    o.push_back(int_option(
        "http.max_body_bytes", [](Config & c) -> auto& { return c.http_max_body_bytes; }, 1024,
        16777216, "Largest HTTP request body accepted (BOSH), in bytes"));
    o.push_back(int_option(
        "http.requests_per_connection",
        [](Config & c) -> auto& { return c.http_requests_per_connection; }, 1, 1000000,
        "Requests served on one keep-alive connection before it is closed"));
    // [storage]
    o.push_back(string_option(
        "storage.backend", [](Config & c) -> auto& { return c.storage_backend; },
        "Storage driver; sqlite is the only one so far", check_storage_backend));
    o.push_back(string_option(
        "storage.url", [](Config & c) -> auto& { return c.storage_url; },
        "sqlite: database file path; empty: data_dir/tern.db"));
    // [limits]
    o.push_back(int_option(
        "limits.max_stanza_bytes", [](Config & c) -> auto& { return c.max_stanza_bytes; }, 1024,
        16777216, "Largest stanza accepted, in bytes; larger ones close the stream"));
    o.push_back(int_option(
        "limits.max_xml_depth", [](Config & c) -> auto& { return c.max_xml_depth; }, 8, 1024,
        "Deepest element nesting accepted in a stream"));
    o.push_back(int_option(
        "limits.max_attributes", [](Config & c) -> auto& { return c.max_attributes; }, 8, 4096,
        "Most attributes accepted on one element"));
    o.push_back(int_option(
        "limits.max_resources_per_account",
        [](Config & c) -> auto& { return c.max_resources_per_account; }, 1, 1000,
        "Most sessions one account may have bound at once"));
    o.push_back(int_option(
        "limits.sasl_max_attempts", [](Config & c) -> auto& { return c.sasl_max_attempts; }, 1, 100,
        "Failed authentications before the stream is closed"));
    o.push_back(int_option(
        "limits.stanza_rate", [](Config & c) -> auto& { return c.stanza_rate; }, 1, 1000000,
        "Sustained stanzas per second allowed per session"));
    o.push_back(int_option(
        "limits.stanza_burst", [](Config & c) -> auto& { return c.stanza_burst; }, 1, 10000000,
        "Stanzas a session may send in a burst above the rate"));
    o.push_back(int_option(
        "limits.connections_per_ip_per_minute",
        [](Config & c) -> auto& { return c.connections_per_ip_per_minute; }, 1, 1000000,
        "New connections accepted per minute from one address (IPv6: one /64), sustained"));
    o.push_back(int_option(
        "limits.connections_per_ip_burst",
        [](Config & c) -> auto& { return c.connections_per_ip_burst; }, 1, 1000000,
        "New connections one address may open at once before the per-minute rate applies"));
    o.push_back(bool_option(
        "limits.connections_exempt_loopback",
        [](Config & c) -> auto& { return c.connections_exempt_loopback; },
        "Connections from 127.0.0.0/8 and ::1 are not rate limited"));
    o.push_back(list_option(
        "limits.connections_exempt_networks",
        [](Config & c) -> auto& { return c.connections_exempt_networks; },
        "Networks (CIDR, IPv4 or IPv6, e.g. \"10.0.0.0/8\") whose connections are not rate "
        "limited",
        check_ip_network));
    o.push_back(int_option(
        "limits.idle_timeout_seconds", [](Config & c) -> auto& { return c.idle_timeout_seconds; },
        10, 604800, "Seconds without any traffic before a connection is closed"));
    o.push_back(int_option(
        "limits.handshake_timeout_seconds",
        [](Config & c) -> auto& { return c.handshake_timeout_seconds; }, 1, 3600,
        "Seconds a new connection has to authenticate"));
    o.push_back(int_option(
        "limits.sm_queue_max", [](Config & c) -> auto& { return c.sm_queue_max; }, 10, 100000,
        "Stanzas a stream-management session (XEP-0198) keeps until the client acknowledges "
        "them; one more closes a live stream with <policy-violation/>, or ends a hibernating "
        "session, its messages going to offline storage"));
    o.push_back(int_option(
        "limits.resume_timeout_seconds",
        [](Config & c) -> auto& { return c.resume_timeout_seconds; }, 0, 86400,
        "Seconds a session whose connection was lost waits to be resumed (XEP-0198 stream "
        "management); 0 turns resumption off"));
    // [s2s]
    o.push_back(list_option(
        "s2s.hosts", [](Config & c) -> auto& { return c.s2s_hosts; },
        "Static routes to other servers, \"domain=host:port\", used instead of DNS for those domains",
        check_s2s_host));
    o.push_back(bool_option(
        "s2s.require_tls", [](Config & c) -> auto& { return c.s2s_require_tls; },
        "Server-to-server streams must use TLS (STARTTLS) in both directions"));
    o.push_back(bool_option(
        "s2s.dialback", [](Config & c) -> auto& { return c.s2s_dialback; },
        "Allow server dialback (XEP-0220) when a peer cannot use SASL EXTERNAL with a valid certificate"));
    o.push_back(string_option(
        "s2s.dialback_secret", [](Config & c) -> auto& { return c.s2s_dialback_secret; },
        "Secret behind dialback keys; empty: random at each start"));
    o.push_back(string_option(
        "s2s.ca_file", [](Config & c) -> auto& { return c.s2s_ca_file; },
        "PEM file of CAs trusted for peer server certificates besides the system store"));
    o.push_back(int_option(
        "s2s.connect_timeout_seconds",
        [](Config & c) -> auto& { return c.s2s_connect_timeout_seconds; }, 1, 3600,
        "Seconds to resolve, connect and authenticate to another server before its queued stanzas bounce"));
    o.push_back(int_option(
        "s2s.idle_timeout_seconds", [](Config & c) -> auto& { return c.s2s_idle_timeout_seconds; },
        1, 604800, "Seconds an outgoing server link may send nothing before it is closed"));
    o.push_back(int_option(
        "s2s.max_queued_stanzas", [](Config & c) -> auto& { return c.s2s_max_queued_stanzas; },
        1, 1000000,
        "Stanzas queued per link while it is being set up or held back by "
        "s2s.max_write_bytes_per_second; more bounce"));
    o.push_back(int_option(
        "s2s.max_links", [](Config & c) -> auto& { return c.s2s_max_links; }, 1, 1000000,
        "Outgoing server links open at once; stanzas for another domain bounce beyond it"));
    o.push_back(int_option(
        "s2s.max_bytes_per_second",
        [](Config & c) -> auto& { return c.s2s_max_bytes_per_second; }, 0, 10000000000,
        "Bytes per second read from one remote domain, all its incoming streams together; 0: no limit"));
    o.push_back(int_option(
        "s2s.max_write_bytes_per_second",
        [](Config & c) -> auto& { return c.s2s_max_write_bytes_per_second; }, 0, 10000000000,
        "Bytes per second written to one remote domain, all its outgoing links together; stanzas "
        "over it wait in the link's queue (s2s.max_queued_stanzas); 0: no limit"));
    o.push_back(bool_option(
        "s2s.require_valid_certificates",
        [](Config & c) -> auto& { return c.s2s_require_valid_certificates; },
        "Outgoing links: refuse a server whose certificate does not validate for its domain "
        "(RFC 6125) instead of going on with dialback; its stanzas bounce"));
    o.push_back(bool_option(
        "s2s.bidi", [](Config & c) -> auto& { return c.s2s_bidi; },
        "Bidirectional server-to-server streams (XEP-0288): offer and request them, so that one "
        "TCP connection carries both directions"));
    // [modules]
    OptionSpec enabled = list_option(
        "modules.enabled", [](Config & c) -> auto& { return c.modules; },
        "Modules to run; per-module options go in [modules.<name>] tables", check_module_name);
    enabled.on_set = [](Config& c) { c.modules_set = true; };
    enabled.default_note = "every built-in module";
    enabled.example = "[\"ping\", \"roster\", \"presence\", \"disco\"]";
    o.push_back(enabled);
    return o;
  }();
  return options;
}

std::string escape_markdown_cell(std::string_view s) {
  std::string out;
  // '|' would end the cell; '<name>' would be swallowed as an HTML tag.
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

std::string type_name(const OptionSpec& spec) {
  switch (spec.type()) {
    case OptionType::kString:
      return "string";
    case OptionType::kBool:
      return "boolean";
    case OptionType::kInteger:
      return "integer (" + std::to_string(spec.min) + ".." + std::to_string(spec.max) + ")";
    case OptionType::kStringList:
      return "list of strings";
  }
  return "";
}

// Options grouped by table, in declaration order.
std::vector<std::pair<std::string_view, std::vector<const OptionSpec*>>> options_by_table() {
  std::vector<std::pair<std::string_view, std::vector<const OptionSpec*>>> groups;
  for (const OptionSpec& spec : all_options()) {
    if (groups.empty() || groups.back().first != spec.table()) groups.push_back({spec.table(), {}});
    groups.back().second.push_back(&spec);
  }
  return groups;
}

}  // namespace

OptionType OptionSpec::type() const {
  switch (field.index()) {
    case 0:
      return OptionType::kString;
    case 1:
      return OptionType::kBool;
    case 2:
    case 3:
      return OptionType::kInteger;
    default:
      return OptionType::kStringList;
  }
}

std::string_view OptionSpec::table() const { return path.substr(0, path.rfind('.')); }
std::string_view OptionSpec::key() const { return path.substr(path.rfind('.') + 1); }

std::span<const OptionSpec> config_options() { return all_options(); }

const OptionSpec* find_option(std::string_view path) {
  for (const OptionSpec& spec : all_options()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool is_option_table(std::string_view path) {
  for (const OptionSpec& spec : all_options()) {
    std::string_view table = spec.table();
    // "listen" for "listen.c2s"; also a parent of a nested table.
    if (table == path || (table.size() > path.size() && table.substr(0, path.size()) == path &&
                          table[path.size()] == '.')) {
      return true;
    }
  }
  return false;
}

std::string toml_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string default_toml(const OptionSpec& spec) {
  Config defaults;
  struct Printer {
    Config& c;
    std::string operator()(StringField f) { return toml_quote(f(c)); }
    std::string operator()(BoolField f) { return f(c) ? "true" : "false"; }
    std::string operator()(IntField f) { return std::to_string(f(c)); }
    std::string operator()(SmallIntField f) { return std::to_string(f(c)); }
    std::string operator()(ListField f) {
      std::string out = "[";
      for (const std::string& item : f(c)) {
        if (out.size() > 1) out += ", ";
        out += toml_quote(item);
      }
      return out + "]";
    }
  };
  return std::visit(Printer{defaults}, spec.field);
}

std::vector<CrossCheckFinding> cross_check(const Config& config,
                                           const std::map<std::string, int, std::less<>>& lines) {
  auto line_of = [&lines](std::string_view path) {
    auto it = lines.find(path);
    return it == lines.end() ? 0 : it->second;
  };
  std::vector<CrossCheckFinding> findings;
  // A certificate without its key (or the reverse) cannot be loaded, and
  // silently falling back to a self-signed pair would hide the mistake.
  if (!config.tls_cert.empty() && config.tls_key.empty()) {
    findings.push_back({line_of("tls.cert"), "tls.key: must be set when tls.cert is set"});
  }
  if (config.tls_cert.empty() && !config.tls_key.empty()) {
    findings.push_back({line_of("tls.key"), "tls.cert: must be set when tls.key is set"});
  }
  // Two listeners on one address would fail at bind time with a less
  // helpful message, after part of the server has started.
  const std::array<std::pair<std::string_view, const std::vector<std::string>*>, 7> listeners{{
      {"listen.c2s", &config.listen.c2s},
      {"listen.c2s_tls", &config.listen.c2s_tls},
      {"listen.s2s", &config.listen.s2s},
      {"listen.http", &config.listen.http},
      {"listen.https", &config.listen.https},
      {"listen.component", &config.listen.component},
      {"listen.s2s_tls", &config.listen.s2s_tls},
  }};
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = i + 1; j < listeners.size(); ++j) {
      for (const std::string& address : *listeners[i].second) {
        const auto& other = *listeners[j].second;
        if (std::find(other.begin(), other.end(), address) == other.end()) continue;
        // Blame the one written last in the file; a default never is.
        auto [blamed, kept] = line_of(listeners[i].first) > line_of(listeners[j].first)
                                  ? std::pair(listeners[i].first, listeners[j].first)
                                  : std::pair(listeners[j].first, listeners[i].first);
        findings.push_back({line_of(blamed), std::string(blamed) + ": '" + address +
                                                 "' is already used by " + std::string(kept)});
      }
    }
  }
  return findings;
}

std::string config_reference_markdown(std::span<const ModuleOptionDocs> modules) {
  std::ostringstream out;
  for (const auto& [table, specs] : options_by_table()) {
    out << "### [" << table << "]\n\n";
    out << "| key | type | default | description |\n";
    out << "|-----|------|---------|-------------|\n";
    for (const OptionSpec* spec : specs) {
      std::string def = spec->default_note.empty() ? "`" + default_toml(*spec) + "`"
                                                   : std::string(spec->default_note);
      out << "| `" << spec->key() << "` | " << type_name(*spec) << " | "
          << escape_markdown_cell(def) << " | " << escape_markdown_cell(spec->doc) << " |\n";
    }
    out << "\n";
  }
  out << "### [modules.&lt;name&gt;]\n\n"
         "Options of one module, e.g. `[modules.muc]`. Each module documents and "
         "validates its own keys.\n";
  for (const ModuleOptionDocs& module : modules) {
    if (module.options.empty()) continue;
    out << "\n### [modules." << module.module << "]\n\n"
        << "| key | type | default | description |\n"
        << "|-----|------|---------|-------------|\n";
    for (const ModuleOptionDoc& opt : module.options) {
      out << "| `" << opt.key << "` | " << opt.type << " | `"
          << escape_markdown_cell(opt.default_toml) << "` | " << escape_markdown_cell(opt.doc)
          << " |\n";
    }
  }
  return out.str();
}

std::string example_config_toml(std::span<const ModuleOptionDocs> modules) {
  std::ostringstream out;
  out << "# tern.toml: the Tern server configuration.\n"
         "#\n"
         "# Every option is listed with its default value, so this file changes\n"
         "# nothing as it is. Tern also runs with no file at all. Check a file with\n"
         "# `tern config check tern.toml`.\n"
         "# (Generated by example_config_toml() in src/core/config_options.cc.)\n";
  for (const auto& [table, specs] : options_by_table()) {
    out << "\n[" << table << "]\n";
    for (const OptionSpec* spec : specs) {
      out << "# " << spec->doc << ".";
      if (spec->type() == OptionType::kInteger) {
        out << " " << spec->min << ".." << spec->max << ".";
      }
      out << "\n";
      if (spec->default_note.empty()) {
        out << spec->key() << " = " << default_toml(*spec) << "\n";
      } else {
        out << "# Default: " << spec->default_note << ".\n";
        out << "# " << spec->key() << " = " << spec->example << "\n";
      }
    }
  }
  out << "\n# Options of one module go in its own table:\n"
         "# [modules.muc]\n"
         "# max_history = 200\n";
  for (const ModuleOptionDocs& module : modules) {
    if (module.options.empty()) continue;
    out << "\n# [modules." << module.module << "]\n";
    for (const ModuleOptionDoc& opt : module.options)
      out << "# " << opt.doc << ".\n# " << opt.key << " = " << opt.default_toml << "\n";
  }
  return out.str();
}

}  // namespace tern::core
