// The `tern` command.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "portable/export.h"
#include "portable/import.h"
#include "cli/config_docs.h"
#include "cli/user_command.h"
#include "core/config.h"
#include "core/log.h"
#include "server/server.h"

namespace {

// --config FILE, else ./tern.toml when present, else the built-in defaults.
std::optional<tern::core::Config> load(const std::string& path) {
  std::string file = path;
  if (file.empty() && std::filesystem::exists("tern.toml")) file = "tern.toml";
  auto result = tern::core::load_config(file);
  for (const auto& d : result.errors) std::cerr << d.to_string() << "\n";
  if (!result.errors.empty()) return std::nullopt;
  return std::move(result.config);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tern, an XMPP server"};
  app.require_subcommand(1);
  std::string config_path;
  auto add_config = [&](CLI::App* cmd) {
    return cmd->add_option("-c,--config", config_path, "configuration file (TOML)");
  };

  auto* serve = app.add_subcommand("serve", "run the server in the foreground");
  add_config(serve);

  auto* user = app.add_subcommand("user", "manage accounts");
  user->require_subcommand(1);
  std::string jid, password, domain;
  auto* add = user->add_subcommand("add", "create an account");
  add->add_option("jid", jid)->required();
  add->add_option("password", password)->required();
  add_config(add);
  auto* del = user->add_subcommand("del", "delete an account and its data");
  del->add_option("jid", jid)->required();
  add_config(del);
  auto* passwd = user->add_subcommand("passwd", "set an account's password");
  passwd->add_option("jid", jid)->required();
  passwd->add_option("password", password)->required();
  add_config(passwd);
  auto* list = user->add_subcommand("list", "list accounts");
  list->add_option("domain", domain);
  add_config(list);

  std::string portable_file;
  auto* import = app.add_subcommand("import", "import accounts from a XEP-0227 file");
  import->add_option("file", portable_file)->required();
  add_config(import);
  auto* export_ = app.add_subcommand("export", "export every account to a XEP-0227 file");
  export_->add_option("file", portable_file)->required();
  add_config(export_);

  auto* status = app.add_subcommand("status", "ask a running server how it is");
  add_config(status);

  auto* config = app.add_subcommand("config", "check or describe the configuration");
  config->require_subcommand(1);
  auto* check = config->add_subcommand("check", "report unknown keys and bad values");
  // `tern config check tern.toml` reads naturally (and is what `tern config
  // example` suggests); --config FILE works as for every other command.
  auto* check_config = add_config(check);
  check->add_option("file", config_path, "configuration file (TOML), as --config FILE")
      ->excludes(check_config);
  auto* reference = config->add_subcommand("reference", "print every option as Markdown");
  auto* example = config->add_subcommand("example", "print a commented tern.toml");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*reference) {
      std::cout << tern::cli::config_reference();
      return 0;
    }
    if (*example) {
      std::cout << tern::cli::config_example();
      return 0;
    }
    auto cfg = load(config_path);
    if (*check) {
      if (!cfg) return 1;
      std::cout << "configuration OK\n";
      return 0;
    }
    if (!cfg) return 1;
    if (*serve) {
      tern::core::init_logging(cfg->log_level);
      return tern::server::serve(*cfg);
    }
    if (*add) return tern::cli::user_add(*cfg, jid, password);
    if (*del) return tern::cli::user_del(*cfg, jid);
    if (*passwd) return tern::cli::user_passwd(*cfg, jid, password);
    if (*list) return tern::cli::user_list(*cfg, domain);
    if (*status) return tern::cli::status(*cfg);
    if (*import) return tern::portable::run_import(*cfg, portable_file);
    if (*export_) return tern::portable::run_export(*cfg, portable_file);
  } catch (const std::exception& e) {
    std::cerr << "tern: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
