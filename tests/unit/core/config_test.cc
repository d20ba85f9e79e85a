#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tern::core {
namespace {

// Every diagnostic as "file:line: message", in report order.
std::vector<std::string> messages(const ConfigResult& result) {
  std::vector<std::string> out;
  for (const Diagnostic& d : result.errors) out.push_back(d.to_string());
  return out;
}

ConfigResult parse(std::string_view text) { return parse_config(text, "t.toml"); }

// One error expected: returns its "file:line: message".
std::string only_error(std::string_view text) {
  ConfigResult result = parse(text);
  if (result.errors.size() != 1) {
    ADD_FAILURE() << "expected one error for:\n" << text << "\ngot " << result.errors.size();
    for (const auto& m : messages(result)) ADD_FAILURE() << m;
    return "";
  }
  return result.errors[0].to_string();
}

Config defaults_from(const std::string& file) {
  Config config;
  config.file = file;
  return config;
}

// A file in the test's temp dir, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view contents) {
    path_ = (std::filesystem::temp_directory_path() /
             ("tern_config_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml"))
                .string();
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigTest, NoFileGivesDefaults) {
  ConfigResult result = load_config("");
  EXPECT_TRUE(result.errors.empty());
  const Config& c = result.config;
  EXPECT_EQ(c, Config{});
  EXPECT_EQ(c.domains, std::vector<std::string>{"localhost"});
  EXPECT_EQ(c.data_dir, "tern-data");
  EXPECT_EQ(c.shards, 0);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.admins.empty());
  EXPECT_EQ(c.listen.c2s, std::vector<std::string>{"[::]:5222"});
  EXPECT_EQ(c.listen.c2s_tls, std::vector<std::string>{"[::]:5223"});
  EXPECT_EQ(c.listen.s2s, std::vector<std::string>{"[::]:5269"});
  EXPECT_EQ(c.listen.http, std::vector<std::string>{"[::]:5280"});
  EXPECT_EQ(c.listen.https, std::vector<std::string>{"[::]:5281"});
  EXPECT_EQ(c.listen.component, std::vector<std::string>{"127.0.0.1:5347"});
  EXPECT_EQ(c.tls_cert, "");
  EXPECT_EQ(c.tls_key, "");
  EXPECT_TRUE(c.require_starttls);
  EXPECT_EQ(c.storage_backend, "sqlite");
  EXPECT_EQ(c.storage_url, "");
  EXPECT_EQ(c.sqlite_path(), "tern-data/tern.db");
  EXPECT_EQ(c.max_stanza_bytes, 262144);
  EXPECT_EQ(c.max_xml_depth, 64);
  EXPECT_EQ(c.handshake_timeout_seconds, 60);
  EXPECT_TRUE(c.modules.empty());
  EXPECT_FALSE(c.modules_set);
  EXPECT_TRUE(c.module_options.empty());
  EXPECT_EQ(c.file, "");
}

TEST(ConfigTest, EmptyAndCommentOnlyTextGiveDefaults) {
  for (std::string_view text : {"", "\n\n", "# nothing here\n", "[server]\n[listen]\n"}) {
    ConfigResult result = parse(text);
    EXPECT_TRUE(result.errors.empty()) << text;
    EXPECT_EQ(result.config, defaults_from("t.toml")) << text;
  }
}

TEST(ConfigTest, MissingFileIsAnError) {
  ConfigResult result = load_config("/nonexistent/dir/tern.toml");
  EXPECT_EQ(messages(result),
            std::vector<std::string>{
                "/nonexistent/dir/tern.toml: cannot open /nonexistent/dir/tern.toml: "
                "No such file or directory"});
}

TEST(ConfigTest, DirectoryIsAnError) {
  std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_EQ(messages(load_config(dir)),
            std::vector<std::string>{dir + ": cannot open " + dir + ": is a directory"});
}

TEST(ConfigTest, LoadsAFileAndNamesItInDiagnostics) {
  TempFile file("[server]\ndomains = [\"example.org\"]\n\n[limits]\nmax_xml_depth = 2\n");
  ConfigResult result = load_config(file.path());
  EXPECT_EQ(result.config.domains, std::vector<std::string>{"example.org"});
  EXPECT_EQ(result.config.file, file.path());
  EXPECT_EQ(messages(result),
            std::vector<std::string>{file.path() +
                                     ":5: limits.max_xml_depth: must be between 8 and 1024"});
}

TEST(ConfigTest, EveryOptionCanBeSet) {
  ConfigResult result = parse(R"(
[server]
domains = ["Example.ORG", "chat.example.org"]
data_dir = "/var/lib/tern"
shards = 4
log_level = "debug"
admins = ["admin@example.org", "root@chat.example.org"]

[listen]
c2s = ["0.0.0.0:5222", "[::1]:15222"]
c2s_tls = ["localhost:5223"]
s2s = []
http = ["127.0.0.1:8080"]
https = ["[2001:db8::1]:8443"]
component = ["127.0.0.1:15347"]

[tls]
cert = "/etc/tern/cert.pem"
key = "/etc/tern/key.pem"
require_starttls = false

[storage]
backend = "sqlite"
url = "/srv/tern.sqlite"

[limits]
max_stanza_bytes = 65536
max_xml_depth = 32
max_attributes = 100
max_resources_per_account = 5
sasl_max_attempts = 7
stanza_rate = 50
stanza_burst = 500
connections_per_ip_per_minute = 60
connections_per_ip_burst = 20
connections_exempt_loopback = false
connections_exempt_networks = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]
idle_timeout_seconds = 300
handshake_timeout_seconds = 20

[modules]
enabled = ["ping", "roster"]
)");
  EXPECT_EQ(messages(result), std::vector<std::string>{});
  const Config& c = result.config;
  EXPECT_EQ(c.domains, (std::vector<std::string>{"example.org", "chat.example.org"}));
  EXPECT_EQ(c.data_dir, "/var/lib/tern");
  EXPECT_EQ(c.shards, 4);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.admins, (std::vector<std::string>{"admin@example.org", "root@chat.example.org"}));
  EXPECT_EQ(c.listen.c2s, (std::vector<std::string>{"0.0.0.0:5222", "[::1]:15222"}));
  EXPECT_EQ(c.listen.c2s_tls, std::vector<std::string>{"localhost:5223"});
  EXPECT_EQ(c.listen.s2s, std::vector<std::string>{});
  EXPECT_EQ(c.listen.http, std::vector<std::string>{"127.0.0.1:8080"});
  EXPECT_EQ(c.listen.https, std::vector<std::string>{"[2001:db8::1]:8443"});
  EXPECT_EQ(c.listen.component, std::vector<std::string>{"127.0.0.1:15347"});
  EXPECT_EQ(c.tls_cert, "/etc/tern/cert.pem");
  EXPECT_EQ(c.tls_key, "/etc/tern/key.pem");
  EXPECT_FALSE(c.require_starttls);
  EXPECT_EQ(c.storage_backend, "sqlite");
  EXPECT_EQ(c.storage_url, "/srv/tern.sqlite");
  EXPECT_EQ(c.sqlite_path(), "/srv/tern.sqlite");
  EXPECT_EQ(c.max_stanza_bytes, 65536);
  EXPECT_EQ(c.max_xml_depth, 32);
  EXPECT_EQ(c.max_attributes, 100);
  EXPECT_EQ(c.max_resources_per_account, 5);
  EXPECT_EQ(c.sasl_max_attempts, 7);
  EXPECT_EQ(c.stanza_rate, 50);
  EXPECT_EQ(c.stanza_burst, 500);
  EXPECT_EQ(c.connections_per_ip_per_minute, 60);
  EXPECT_EQ(c.connections_per_ip_burst, 20);
  EXPECT_FALSE(c.connections_exempt_loopback);
  EXPECT_EQ(c.connections_exempt_networks,
            (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"}));
  EXPECT_EQ(c.idle_timeout_seconds, 300);
  EXPECT_EQ(c.handshake_timeout_seconds, 20);
  EXPECT_EQ(c.modules, (std::vector<std::string>{"ping", "roster"}));
  EXPECT_TRUE(c.modules_set);
}

TEST(ConfigTest, ExemptNetworksMustBeNetworksWithTheirLine) {
  EXPECT_EQ(only_error("[limits]\nconnections_exempt_networks = [\"10.0.0.0/8\", \"10.1.2.3/8\"]\n"),
            "t.toml:2: limits.connections_exempt_networks: '10.1.2.3/8' is not a network: "
            "address has bits set past the prefix length");
  EXPECT_EQ(only_error("[limits]\n\nconnections_exempt_networks = [\"10.0.0.0/33\"]\n"),
            "t.toml:3: limits.connections_exempt_networks: '10.0.0.0/33' is not a network: "
            "prefix length must be 0..32");
  EXPECT_EQ(only_error("[limits]\nconnections_exempt_networks = [\"2001:db8::/129\"]\n"),
            "t.toml:2: limits.connections_exempt_networks: '2001:db8::/129' is not a network: "
            "prefix length must be 0..128");
  EXPECT_EQ(only_error("[limits]\nconnections_exempt_networks = [\"office\"]\n"),
            "t.toml:2: limits.connections_exempt_networks: 'office' is not a network: "
            "not an IPv4 or IPv6 address");
  EXPECT_EQ(only_error("[limits]\nconnections_per_ip_burst = 0\n").substr(0, 42),
            "t.toml:2: limits.connections_per_ip_burst:");
}

TEST(ConfigTest, DottedKeysAndInlineTablesWorkLikeSections) {
  ConfigResult result = parse(
      "server.data_dir = \"d\"\n"
      "listen = { c2s = [\"127.0.0.1:1\"] }\n");
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.config.data_dir, "d");
  EXPECT_EQ(result.config.listen.c2s, std::vector<std::string>{"127.0.0.1:1"});
}

TEST(ConfigTest, UnknownKeyReportsItsPathAndLine) {
  EXPECT_EQ(only_error("[listen]\nc2s = [\"[::]:5222\"]\nc2ss = [\"[::]:5222\"]\n"),
            "t.toml:3: unknown key 'listen.c2ss'");
  EXPECT_EQ(only_error("\n\nfoo = 1\n"), "t.toml:3: unknown key 'foo'");
  EXPECT_EQ(only_error("[modules]\nenable = [\"ping\"]\n"),
            "t.toml:2: unknown key 'modules.enable'");
}

TEST(ConfigTest, UnknownTablesAreReportedOnce) {
  // The keys inside an unknown table are not reported one by one.
  EXPECT_EQ(only_error("[serverr]\ndomains = [\"a\"]\ndata_dir = \"x\"\n"),
            "t.toml:1: unknown table 'serverr'");
  EXPECT_EQ(only_error("[listen]\nc2s = []\n\n[listen.extra]\nport = 1\n"),
            "t.toml:4: unknown table 'listen.extra'");
  EXPECT_EQ(only_error("[limits.deep.deeper]\nx = 1\n"), "t.toml:1: unknown table 'limits.deep'");
}

TEST(ConfigTest, WrongTypes) {
  struct Case {
    std::string_view text;
    std::string error;
  };
  const Case cases[] = {
      {"[listen]\nc2s = \"[::]:5222\"\n", "t.toml:2: listen.c2s: expected a list of strings"},
      {"[listen]\nc2s = [\n  \"[::]:5222\",\n  5222,\n]\n",
       "t.toml:4: listen.c2s: expected a list of strings"},
      {"[listen.c2s]\nx = 1\n", "t.toml:1: listen.c2s: expected a list of strings"},
      {"[server]\ndata_dir = 5\n", "t.toml:2: server.data_dir: expected a string"},
      {"[server]\nshards = \"4\"\n", "t.toml:2: server.shards: expected an integer"},
      {"[limits]\nstanza_rate = 2.5\n", "t.toml:2: limits.stanza_rate: expected an integer"},
      {"[tls]\nrequire_starttls = \"yes\"\n",
       "t.toml:2: tls.require_starttls: expected true or false"},
      {"server = 5\n", "t.toml:1: server: expected a table"},
      {"modules = [\"ping\"]\n", "t.toml:1: modules: expected a table"},
  };
  for (const Case& c : cases) EXPECT_EQ(only_error(c.text), c.error) << c.text;
}

TEST(ConfigTest, IntegerBounds) {
  EXPECT_EQ(only_error("[limits]\nmax_stanza_bytes = 1023\n"),
            "t.toml:2: limits.max_stanza_bytes: must be between 1024 and 16777216");
  EXPECT_EQ(only_error("[limits]\nmax_stanza_bytes = 16777217\n"),
            "t.toml:2: limits.max_stanza_bytes: must be between 1024 and 16777216");
  // toml11 saturates integers that overflow 64 bits; still out of bounds.
  EXPECT_EQ(only_error("[limits]\nmax_stanza_bytes = 99999999999999999999\n"),
            "t.toml:2: limits.max_stanza_bytes: must be between 1024 and 16777216");
  EXPECT_EQ(only_error("[server]\nshards = -1\n"),
            "t.toml:2: server.shards: must be between 0 and 1024");

  ConfigResult low = parse("[limits]\nmax_stanza_bytes = 1024\n");
  EXPECT_TRUE(low.errors.empty());
  EXPECT_EQ(low.config.max_stanza_bytes, 1024);
  ConfigResult high = parse("[limits]\nmax_stanza_bytes = 0x1000000\n");
  EXPECT_TRUE(high.errors.empty());
  EXPECT_EQ(high.config.max_stanza_bytes, 16777216);
}

TEST(ConfigTest, BadValueKeepsTheDefault) {
  ConfigResult result = parse("[limits]\nmax_xml_depth = 1\n[listen]\nc2s = [\"nope\"]\n");
  EXPECT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.config.max_xml_depth, 64);
  EXPECT_EQ(result.config.listen.c2s, std::vector<std::string>{"[::]:5222"});
}

TEST(ConfigTest, Domains) {
  ConfigResult result =
      parse("[server]\ndomains = [\"EXAMPLE.org\", \"[::1]\", \"xn--bcher-kva.example\"]\n");
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.config.domains,
            (std::vector<std::string>{"example.org", "[::1]", "xn--bcher-kva.example"}));

  EXPECT_EQ(only_error("[server]\ndomains = []\n"),
            "t.toml:2: server.domains: at least one domain is required");
  EXPECT_EQ(only_error("[server]\ndomains = [\"a.org\", \"A.org\"]\n"),
            "t.toml:2: server.domains: 'a.org' is listed twice");
  for (std::string_view bad : {"user@example.org", "example.org/res", "exa mple.org", "",
                               ".example.org", "example..org", "example.org:5222", "[nope]"}) {
    EXPECT_EQ(only_error("[server]\ndomains = [\"" + std::string(bad) + "\"]\n"),
              "t.toml:2: server.domains: '" + std::string(bad) + "' is not a valid domain");
  }
}

TEST(ConfigTest, LogLevelBackendAndAdmins) {
  EXPECT_EQ(only_error("[server]\nlog_level = \"verbose\"\n"),
            "t.toml:2: server.log_level: 'verbose' is not one of trace, debug, info, warn, error");
  EXPECT_EQ(only_error("[storage]\nbackend = \"postgres\"\n"),
            "t.toml:2: storage.backend: backend 'postgres' is not supported yet");
  for (std::string_view bad : {"example.org", "admin@example.org/phone", "@example.org",
                               "a@b@example.org", "ad min@example.org", "admin@"}) {
    EXPECT_EQ(
        only_error("[server]\nadmins = [\"" + std::string(bad) + "\"]\n"),
        "t.toml:2: server.admins: '" + std::string(bad) + "' is not a bare JID (user@domain)");
  }
  for (std::string_view level : {"trace", "debug", "info", "warn", "error"}) {
    ConfigResult ok = parse("[server]\nlog_level = \"" + std::string(level) + "\"\n");
    EXPECT_TRUE(ok.errors.empty()) << level;
    EXPECT_EQ(ok.config.log_level, level);
  }
}

TEST(ConfigTest, TlsCertAndKeyGoTogether) {
  EXPECT_EQ(only_error("[tls]\n\ncert = \"c.pem\"\n"),
            "t.toml:3: tls.key: must be set when tls.cert is set");
  EXPECT_EQ(only_error("[tls]\nkey = \"k.pem\"\n"),
            "t.toml:2: tls.cert: must be set when tls.key is set");
}

TEST(ConfigTest, TwoListenersOnOneAddress) {
  EXPECT_EQ(only_error("[listen]\nc2s = [\"[::]:5269\"]\n"),
            "t.toml:2: listen.c2s: '[::]:5269' is already used by listen.s2s");
  EXPECT_EQ(only_error("[listen]\nhttp = [\"127.0.0.1:1\"]\n\n\ns2s = [\"127.0.0.1:1\"]\n"),
            "t.toml:5: listen.s2s: '127.0.0.1:1' is already used by listen.http");
  EXPECT_EQ(only_error("[listen]\nhttp = [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n"),
            "t.toml:2: listen.http: '127.0.0.1:80' is listed twice");
}

TEST(ConfigTest, EmptyListDisablesAListener) {
  ConfigResult result = parse("[listen]\nc2s = []\ncomponent = []\n");
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.config.listen.c2s, std::vector<std::string>{});
  EXPECT_EQ(result.config.listen.component, std::vector<std::string>{});
  EXPECT_EQ(result.config.listen.s2s, std::vector<std::string>{"[::]:5269"});
}

TEST(ListenAddressTest, Valid) {
  struct Case {
    std::string_view text;
    std::string host;
    std::uint16_t port;
  };
  const Case cases[] = {
      {"[::]:5222", "::", 5222},
      {"127.0.0.1:5347", "127.0.0.1", 5347},
      {"0.0.0.0:5222", "0.0.0.0", 5222},
      {"localhost:5222", "localhost", 5222},
      {"[::1]:1", "::1", 1},
      {"[2001:db8::7]:65535", "2001:db8::7", 65535},
      {"[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", 80},
      {"xmpp-1.example.org:5269", "xmpp-1.example.org", 5269},
      {"example.org.:5269", "example.org.", 5269},
  };
  for (const Case& c : cases) {
    std::string why;
    std::optional<ListenEndpoint> endpoint = parse_listen_address(c.text, &why);
    ASSERT_TRUE(endpoint.has_value()) << c.text << ": " << why;
    EXPECT_EQ(endpoint->host, c.host) << c.text;
    EXPECT_EQ(endpoint->port, c.port) << c.text;
  }
}

TEST(ListenAddressTest, Invalid) {
  struct Case {
    std::string_view text;
    std::string_view why;
  };
  const Case cases[] = {
      {"localhost", "expected \"address:port\""},
      {"", "expected \"address:port\""},
      {":5222", "missing address before the port"},
      {"127.0.0.1:0", "port must be between 1 and 65535"},
      {"127.0.0.1:65536", "port must be between 1 and 65535"},
      {"127.0.0.1:", "port must be between 1 and 65535"},
      {"127.0.0.1:+522", "port must be between 1 and 65535"},
      {"127.0.0.1: 5222", "port must be between 1 and 65535"},
      {"127.0.0.1:xmpp", "port must be between 1 and 65535"},
      {"127.0.0.1:052220", "port must be between 1 and 65535"},
      {"::1:5222", "IPv6 addresses must be in brackets, as in \"[::1]:5222\""},
      {"[::1:5222", "unterminated '[' in IPv6 address"},
      {"[::1]5222:", "port must be between 1 and 65535"},
      {"[::g]:5222", "not a valid IPv6 address"},
      {"[127.0.0.1]:5222", "not a valid IPv6 address"},
      {"256.0.0.1:5222", "not a valid IPv4 address"},
      {"1.2.3:5222", "not a valid IPv4 address"},
      {"-bad.example:5222", "not a valid host name"},
      {"under_score:5222", "not a valid host name"},
      {"two words:5222", "not a valid host name"},
      {"a..b:5222", "not a valid host name"},
  };
  for (const Case& c : cases) {
    std::string why;
    EXPECT_FALSE(parse_listen_address(c.text, &why).has_value()) << c.text;
    EXPECT_EQ(why, c.why) << c.text;
  }
}

TEST(ListenAddressTest, EveryBadEntryIsReportedOnItsLine) {
  ConfigResult result = parse(
      "[listen]\n"
      "c2s = [\n"
      "  \"[::]:5222\",\n"
      "  \"127.0.0.1:0\",\n"
      "  \"::1:5222\",\n"
      "]\n");
  EXPECT_EQ(messages(result),
            (std::vector<std::string>{
                "t.toml:4: listen.c2s: invalid address '127.0.0.1:0': port must be between 1 "
                "and 65535",
                "t.toml:5: listen.c2s: invalid address '::1:5222': IPv6 addresses must be in "
                "brackets, as in \"[::1]:5222\"",
            }));
}

TEST(ConfigTest, AllErrorsAreCollectedInLineOrder) {
  ConfigResult result = parse(R"([server]
domains = ["ok.example", "bad@example"]
log_level = "loud"
shards = 5000

[listen]
c2ss = ["[::]:5222"]
s2s = "[::]:5269"

[limits]
max_stanza_bytes = 10
stanza_rate = true

[storage]
backend = "mysql"

[extra]
x = 1
)");
  EXPECT_EQ(messages(result),
            (std::vector<std::string>{
                "t.toml:2: server.domains: 'bad@example' is not a valid domain",
                "t.toml:3: server.log_level: 'loud' is not one of trace, debug, info, warn, error",
                "t.toml:4: server.shards: must be between 0 and 1024",
                "t.toml:7: unknown key 'listen.c2ss'",
                "t.toml:8: listen.s2s: expected a list of strings",
                "t.toml:11: limits.max_stanza_bytes: must be between 1024 and 16777216",
                "t.toml:12: limits.stanza_rate: expected an integer",
                "t.toml:15: storage.backend: backend 'mysql' is not supported yet",
                "t.toml:17: unknown table 'extra'",
            }));
}

TEST(ConfigTest, SyntaxErrorsReportTheRightLine) {
  struct Case {
    std::string_view text;
    int line;
  };
  const Case cases[] = {
      {"[server]\ndata_dir = \"x\"\nshards = \n", 3},
      {"[server]\n\n\ndata_dir = \"unterminated\n", 4},
      {"[server]\nshards = 1\nshards = 2\n", 3},
      {"[listen]\nc2s = [\"a:1\",\n  \"b:2\"\n  \"c:3\"\n]\n", 4},
      {"[server]\n[limits]\n[server]\n", 3},
      {"# comment\n\n[[server]\n", 3},
      {"[tls]\nrequire_starttls = tru\n", 2},
      {"[tls]\ncert = \"a\" key = \"b\"\n", 2},
      {"a = 1\n\n\n\n\n\n\n\n\nb = = 2\n", 10},
  };
  for (const Case& c : cases) {
    ConfigResult result = parse(c.text);
    ASSERT_EQ(result.errors.size(), 1u) << c.text;
    EXPECT_EQ(result.errors[0].line, c.line) << c.text << "\n" << result.errors[0].message;
    EXPECT_EQ(result.errors[0].message.rfind("syntax error", 0), 0u) << result.errors[0].message;
  }
  EXPECT_EQ(only_error("[server]\nshards = \n"),
            "t.toml:2: syntax error: missing value after key-value separator '=' (expected value, "
            "but got nothing)");
  EXPECT_EQ(only_error("[tls]\nrequire_starttls = tru\n"),
            "t.toml:2: syntax error: the next token is not a boolean");
}

TEST(ConfigTest, ModulesEnabled) {
  ConfigResult none = parse("[modules]\nenabled = []\n");
  EXPECT_TRUE(none.errors.empty());
  EXPECT_TRUE(none.config.modules_set);
  EXPECT_TRUE(none.config.modules.empty());

  EXPECT_EQ(only_error("[modules]\nenabled = [\"ping\", \"Ping!\"]\n"),
            "t.toml:2: modules.enabled: 'Ping!' is not a module name (lowercase letters, digits, "
            "'_')");
  EXPECT_EQ(only_error("[modules]\nenabled = [\"ping\", \"ping\"]\n"),
            "t.toml:2: modules.enabled: 'ping' is listed twice");
  EXPECT_FALSE(parse("[modules]\nenabled = [\"ping\", \"ping\"]\n").config.modules_set);
}

TEST(ConfigTest, ModuleTablesAreStoredRaw) {
  ConfigResult result = parse(R"([modules]
enabled = ["muc", "ping"]

[modules.muc]
max_rooms = 1000
service = "conference.localhost"
persistent = true
admins = ["a@localhost", "b@localhost"]
anything_goes = 1.5
when = 1979-05-27T07:32:00Z
limits = { a = 1, b = "x" }

[modules.muc.defaults]
public = false

[modules.ping]
)");
  EXPECT_EQ(messages(result), std::vector<std::string>{});
  const auto& options = result.config.module_options;
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options.at("muc"), (std::map<std::string, std::string>{
                                   {"max_rooms", "1000"},
                                   {"service", "\"conference.localhost\""},
                                   {"persistent", "true"},
                                   {"admins", "[\"a@localhost\", \"b@localhost\"]"},
                                   {"anything_goes", "1.5"},
                                   {"when", "1979-05-27T07:32:00Z"},
                                   {"limits.a", "1"},
                                   {"limits.b", "\"x\""},
                                   {"defaults.public", "false"},
                               }));
  EXPECT_TRUE(options.at("ping").empty());
  const auto& lines = result.config.module_option_lines.at("muc");
  EXPECT_EQ(lines.at("max_rooms"), 5);
  EXPECT_EQ(lines.at("when"), 10);
  EXPECT_EQ(lines.at("defaults.public"), 14);
}

TEST(ConfigTest, ModuleTableErrors) {
  EXPECT_EQ(only_error("[modules]\nping = true\n"), "t.toml:2: unknown key 'modules.ping'");
  EXPECT_EQ(only_error("[modules.Bad-Name]\nx = 1\n"),
            "t.toml:1: modules.Bad-Name: 'Bad-Name' is not a module name (lowercase letters, "
            "digits, '_')");
}

TEST(ConfigTest, ComponentsHaveADomainAndASecret) {
  ConfigResult result = parse(R"([components."echo.localhost"]
secret = "s3cret"

[components."irc.example.org"]
secret = "another"
)");
  EXPECT_EQ(messages(result), std::vector<std::string>{});
  EXPECT_EQ(result.config.component_secrets,
            (std::map<std::string, std::string>{{"echo.localhost", "s3cret"},
                                                {"irc.example.org", "another"}}));
}

TEST(ConfigTest, ComponentErrors) {
  EXPECT_EQ(only_error("[components.\"echo.localhost\"]\n"),
            "t.toml:1: components.\"echo.localhost\".secret: a non-empty string is required");
  EXPECT_EQ(only_error("[components.\"echo.localhost\"]\nsecret = \"\"\n"),
            "t.toml:1: components.\"echo.localhost\".secret: a non-empty string is required");
  EXPECT_EQ(only_error("[components.\"echo.localhost\"]\nsecret = \"x\"\nname = \"y\"\n"),
            "t.toml:3: unknown key 'components.\"echo.localhost\".name'");
  EXPECT_EQ(only_error("[components.\"a@b\"]\nsecret = \"x\"\n"),
            "t.toml:1: components.\"a@b\": not a domain name");
  EXPECT_EQ(only_error("components = 1\n"), "t.toml:1: components: expected a table");
}

TEST(ConfigTest, DiagnosticToString) {
  EXPECT_EQ((Diagnostic{"tern.toml", 12, "unknown key 'listen.c2ss'"}.to_string()),
            "tern.toml:12: unknown key 'listen.c2ss'");
  EXPECT_EQ((Diagnostic{"tern.toml", 0, "cannot open tern.toml"}.to_string()),
            "tern.toml: cannot open tern.toml");
  EXPECT_EQ((Diagnostic{"", 3, "oops"}.to_string()), "3: oops");
}

// What a module hands the writers (the real ones come from src/modules,
// which the core does not know; tests/unit/cli checks those).
const std::vector<ModuleOptionDocs> kSampleModules = {
    {"alpha", {{"max_things", "integer (1..10)", "5", "The most things | bars"},
               {"name", "string", "\"a<b>\"", "A name"}}},
    {"empty", {}},
    {"omega", {{"on", "boolean", "true", "Whether it is on"}}},
};

TEST(ConfigTest, ExampleConfigLoadsAsTheDefaults) {
  ConfigResult result = parse_config(example_config_toml(kSampleModules), "tern.example.toml");
  EXPECT_EQ(messages(result), std::vector<std::string>{});
  EXPECT_EQ(result.config, defaults_from("tern.example.toml"));
}

TEST(ConfigTest, ExampleConfigListsModuleOptionsCommentedOut) {
  std::string text = example_config_toml(kSampleModules);
  EXPECT_NE(text.find("\n# [modules.alpha]\n# The most things | bars.\n# max_things = 5\n"
                      "# A name.\n# name = \"a<b>\"\n\n# [modules.omega]\n"
                      "# Whether it is on.\n# on = true\n"),
            std::string::npos)
      << text;
  // A module without options gets no table.
  EXPECT_EQ(text.find("[modules.empty]"), std::string::npos);
}

TEST(ConfigTest, ReferenceMarkdownListsEveryOptionByTable) {
  std::string md = config_reference_markdown(kSampleModules);
  EXPECT_NE(md.find("### [server]\n\n| key | type | default | description |\n"
                    "|-----|------|---------|-------------|\n"
                    "| `domains` | list of strings | `[\"localhost\"]` | XMPP domains hosted by "
                    "this server; the first one is the default |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `max_stanza_bytes` | integer (1024..16777216) | `262144` | Largest stanza "
                    "accepted, in bytes; larger ones close the stream |\n"),
            std::string::npos);
  EXPECT_NE(md.find("| `component` | list of strings | `[\"127.0.0.1:5347\"]` |"),
            std::string::npos);
  EXPECT_NE(md.find("| `require_starttls` | boolean | `true` |"), std::string::npos);
  EXPECT_NE(md.find("| `enabled` | list of strings | every built-in module | Modules to run; "
                    "per-module options go in [modules.&lt;name&gt;] tables |\n"),
            std::string::npos);
  // Tables come in declaration order, then the modules in the order given.
  EXPECT_EQ(md.find("### [server]\n"), 0u);
  std::size_t last = 0;
  for (std::string_view table : {"[listen]", "[tls]", "[http]", "[storage]", "[limits]", "[modules]",
                                 "[modules.&lt;name&gt;]", "[modules.alpha]", "[modules.omega]"}) {
    std::size_t at = md.find("### " + std::string(table) + "\n");
    ASSERT_NE(at, std::string::npos) << table;
    EXPECT_GT(at, last) << table;
    last = at;
  }
  EXPECT_NE(md.find("### [modules.alpha]\n\n| key | type | default | description |\n"
                    "|-----|------|---------|-------------|\n"
                    "| `max_things` | integer (1..10) | `5` | The most things \\| bars |\n"
                    "| `name` | string | `\"a&lt;b&gt;\"` | A name |\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("[modules.empty]"), std::string::npos);
  // Every key of the example file has a row.
  std::istringstream example(example_config_toml(kSampleModules));
  int keys = 0;
  for (std::string line; std::getline(example, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    std::string key = line.substr(0, line.find(' '));
    EXPECT_NE(md.find("| `" + key + "` |"), std::string::npos) << key;
    ++keys;
  }
  // The loop saw the file's keys (not a count to bump with every option).
  EXPECT_GT(keys, 40);
}

}  // namespace
}  // namespace tern::core
