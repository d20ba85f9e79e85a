#include "cli/user_command.h"

#include <filesystem>
#include <iostream>

#include "server/control.h"
#include "storage/storage.h"
#include "xmpp/jid.h"

namespace tern::cli {
namespace {

// The account named by `jid`, on a domain this server serves; nullopt after
// printing why not.
std::optional<storage::AccountKey> account_of(const core::Config& config, const std::string& jid) {
  auto parsed = xmpp::Jid::parse(jid);
  if (!parsed || !parsed->has_node() || parsed->has_resource()) {
    std::cerr << "tern: '" << jid << "' is not a bare JID like alice@example.com\n";
    return std::nullopt;
  }
  if (std::find(config.domains.begin(), config.domains.end(), parsed->domain()) ==
      config.domains.end()) {
    std::cerr << "tern: this server does not serve '" << parsed->domain() << "'\n";
    return std::nullopt;
  }
  return storage::AccountKey{parsed->node(), parsed->domain()};
}

std::unique_ptr<storage::Storage> open(const core::Config& config) {
  std::filesystem::create_directories(config.data_dir);
  return storage::open_storage(config.storage_backend, config.sqlite_path());
}

}  // namespace

int user_add(const core::Config& config, const std::string& jid, const std::string& password) {
  auto who = account_of(config, jid);
  if (!who) return 2;
  if (password.empty()) {
    std::cerr << "tern: the password must not be empty\n";
    return 2;
  }
  if (!open(config)->accounts().create(*who, password)) {
    std::cerr << "tern: " << jid << " already exists\n";
    return 1;
  }
  std::cout << "added " << who->user << "@" << who->domain << "\n";
  return 0;
}

int user_del(const core::Config& config, const std::string& jid) {
  auto who = account_of(config, jid);
  if (!who) return 2;
  const std::string bare = who->user + "@" + who->domain;
  // A running server deletes it itself: its contacts are told (RFC 6121
  // §2.5.2) and its open sessions end now.
  if (auto reply = server::control_request(server::control_socket_path(config.data_dir),
                                           "user-del " + bare)) {
    if (*reply == "deleted") {
      std::cout << "deleted " << bare << "\n";
      return 0;
    }
    std::cerr << "tern: " << (*reply == "no such user" ? "no such user " + jid : "server: " + *reply)
              << "\n";
    return 1;
  }
  if (!open(config)->accounts().remove(*who)) {
    std::cerr << "tern: no such user " << jid << "\n";
    return 1;
  }
  std::cout << "deleted " << bare << "\n";
  return 0;
}

int user_passwd(const core::Config& config, const std::string& jid, const std::string& password) {
  auto who = account_of(config, jid);
  if (!who) return 2;
  if (password.empty()) {
    std::cerr << "tern: the password must not be empty\n";
    return 2;
  }
  if (!open(config)->accounts().set_password(*who, password)) {
    std::cerr << "tern: no such user " << jid << "\n";
    return 1;
  }
  std::cout << "changed the password of " << who->user << "@" << who->domain << "\n";
  return 0;
}

int status(const core::Config& config) {
  auto reply = server::control_request(server::control_socket_path(config.data_dir), "status");
  if (!reply) {
    std::cout << "not running (no server on " << server::control_socket_path(config.data_dir) << ")\n";
    return 3;
  }
  std::cout << *reply << "\n";
  return 0;
}

int user_list(const core::Config& config, const std::string& domain) {
  for (const auto& a : open(config)->accounts().list(domain))
    std::cout << a.user << "@" << a.domain << "\n";
  return 0;
}

}  // namespace tern::cli
