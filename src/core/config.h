// The server configuration (tern.toml). Every option is declared once, with
// its type, default, bounds and a line of documentation (see config.cc); the
// loader reports unknown keys and bad values with their line numbers, and
// the README's config reference is generated from the same declarations
// (`tern config reference`).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tern::core {

struct ListenConfig {
  // "address:port" strings; "[::]:5222", "127.0.0.1:5347". Empty: disabled.
  std::vector<std::string> c2s{"[::]:5222"};
  std::vector<std::string> c2s_tls{"[::]:5223"};
  std::vector<std::string> s2s{"[::]:5269"};
  std::vector<std::string> http{"[::]:5280"};
  std::vector<std::string> https{"[::]:5281"};
  std::vector<std::string> component{"127.0.0.1:5347"};
  // Server-to-server with direct TLS (XEP-0368); off unless listed.
  std::vector<std::string> s2s_tls;

  bool operator==(const ListenConfig&) const = default;
};

// One parsed listen address: "[::]:5222" → {"::", 5222}. IPv6 hosts are
// returned without their brackets, ready for the resolver.
struct ListenEndpoint {
  std::string host;
  std::uint16_t port = 0;
};

// Splits and validates an "address:port" listen entry (IPv4, [IPv6] or a
// host name; port 1..65535). On failure returns nullopt and, if `why` is
// given, stores the reason ("port must be between 1 and 65535").
std::optional<ListenEndpoint> parse_listen_address(std::string_view text,
                                                   std::string* why = nullptr);

struct Config {
  // [server]
  std::vector<std::string> domains{"localhost"};
  std::string data_dir = "tern-data";
  int shards = 0;                   // 0: one per core
  std::string log_level = "info";   // trace|debug|info|warn|error
  std::vector<std::string> admins;  // bare JIDs with admin rights
  // SIGTERM to exit: time allowed for queued storage writes to finish.
  std::int64_t shutdown_timeout_seconds = 30;
  // [listen]
  ListenConfig listen;
  // [tls]
  std::string tls_cert;  // PEM path; empty: self-signed pair in data_dir
  std::string tls_key;
  bool require_starttls = true;  // c2s must upgrade before SASL
  // TLS 1.3 session tickets for clients: how long one lets a client resume
  // (and how often the ticket key rotates); 0: none.
  std::int64_t tls_session_ticket_seconds = 7200;
  // [http]
  std::vector<std::string> http_allowed_origins;  // besides the page's own; "*": any
  std::vector<std::string> http_trusted_addresses{"127.0.0.1", "::1"};
  std::vector<std::string> http_metrics_addresses{"127.0.0.1", "::1"};
  std::string http_web_root;  // empty: the page built with Tern
  std::int64_t http_max_body_bytes = 1048576;
  std::int64_t http_requests_per_connection = 1000;
  // [storage]
  std::string storage_backend = "sqlite";
  std::string storage_url;  // sqlite: file path (default data_dir/tern.db)
  // [limits]
  std::int64_t max_stanza_bytes = 262144;
  std::int64_t max_xml_depth = 64;
  std::int64_t max_attributes = 64;
  std::int64_t max_resources_per_account = 16;
  std::int64_t sasl_max_attempts = 3;  // failures before the stream is closed
  std::int64_t stanza_rate = 200;      // stanzas/s per session (token bucket)
  std::int64_t stanza_burst = 1000;
  // New connections per address (IPv6: per /64) are a token bucket: `burst`
  // at once, refilled at `per_minute`. Loopback and the exempt networks
  // (CIDR strings) are not limited.
  std::int64_t connections_per_ip_per_minute = 600;
  std::int64_t connections_per_ip_burst = 600;
  bool connections_exempt_loopback = true;
  std::vector<std::string> connections_exempt_networks;
  std::int64_t idle_timeout_seconds = 600;      // no traffic at all → connection-timeout
  std::int64_t handshake_timeout_seconds = 60;  // stream not authenticated by then → closed
  std::int64_t sm_queue_max = 1000;  // XEP-0198: unacknowledged stanzas kept per session
  std::int64_t resume_timeout_seconds = 300;    // XEP-0198: a lost stream waits this long; 0: no resumption
  // [components."<domain>"] secret = "…": external components (XEP-0114)
  // that may connect on listen.component, by domain.
  std::map<std::string, std::string> component_secrets;
  // [s2s]
  // Static routes, "domain=host:port", tried instead of DNS for that domain.
  std::vector<std::string> s2s_hosts;
  bool s2s_require_tls = true;       // both directions: STARTTLS before anything else
  bool s2s_dialback = true;          // XEP-0220 when SASL EXTERNAL is not possible
  std::string s2s_dialback_secret;   // empty: random per process
  std::string s2s_ca_file;           // extra CAs for peer certificates (PEM)
  std::int64_t s2s_connect_timeout_seconds = 30;  // resolve+connect+authenticate
  std::int64_t s2s_idle_timeout_seconds = 600;    // outgoing link with nothing sent
  std::int64_t s2s_max_queued_stanzas = 1000;     // per remote domain while connecting
  std::int64_t s2s_max_links = 1000;              // outgoing links at once
  std::int64_t s2s_max_bytes_per_second = 10485760;  // read from one remote domain; 0: no limit
  std::int64_t s2s_max_write_bytes_per_second = 0;   // written to one remote domain; 0: no limit
  bool s2s_require_valid_certificates = false;       // outgoing: refuse peers whose certificate fails
  bool s2s_bidi = true;                              // XEP-0288 both ways
  // [modules]
  std::vector<std::string> modules;  // enabled module names; default: all built in
  bool modules_set = false;          // whether the file listed them
  // Raw per-module tables ([modules.<name>]) as flattened "key" → TOML text,
  // validated by each module against its declared options. Sub-tables become
  // dotted keys ("defaults.public"); values are inline TOML ("\"x\"", "42",
  // "[\"a\", \"b\"]"). An empty [modules.<name>] still gets an (empty) entry.
  std::map<std::string, std::map<std::string, std::string>> module_options;
  // Line of each module_options entry in `file`, so that a module can report
  // "tern.toml:42: modules.muc.max_rooms: ..." like the loader does.
  std::map<std::string, std::map<std::string, int>> module_option_lines;
  // The file these values came from ("" when running on defaults).
  std::string file;

  // Effective paths.
  std::string sqlite_path() const;  // storage_url or data_dir/tern.db

  bool operator==(const Config&) const = default;
};

struct Diagnostic {
  std::string file;
  int line = 0;  // 0 when unknown
  std::string message;
  std::string to_string() const;  // "tern.toml:12: unknown key 'listen.c2ss'"
};

struct ConfigResult {
  Config config;
  std::vector<Diagnostic> errors;  // empty: valid
};

// Loads `path`. An empty path means "no file": the defaults. A missing file
// given explicitly is an error.
ConfigResult load_config(const std::string& path);
// Parses `text` as the contents of a config file named `file` (the name is
// only used in diagnostics).
ConfigResult parse_config(std::string_view text, const std::string& file);
// One option of a module's [modules.<name>] table, as the reference and the
// example file show it. Modules declare their options (modules/options.h);
// the caller (the cli, which links them) hands their docs to the writers
// below, so that the core never names a module.
struct ModuleOptionDoc {
  std::string key;
  std::string type;          // "integer (1..100000)", "boolean", "string"
  std::string default_toml;  // "256", "true", "\"conference.{domain}\""
  std::string doc;           // one line, without a final period
};
struct ModuleOptionDocs {
  std::string module;  // "muc"
  std::vector<ModuleOptionDoc> options;
};

// Markdown table of every option (for the README), then one table per
// module of `modules`, in the order given.
std::string config_reference_markdown(std::span<const ModuleOptionDocs> modules);
// A complete tern.toml listing every option with its default and its
// documentation, the modules' options commented out; tern.example.toml at
// the repository root is this text for the built-in modules.
std::string example_config_toml(std::span<const ModuleOptionDocs> modules);
// TOML basic string literal for `s`, quoted and escaped.
std::string toml_quote(std::string_view s);

}  // namespace tern::core
