// The XEP-0133 service-administration commands Tern offers to its admins.
// Each is two stages: a form, then its submission, which does the work.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.h"
#include "core/blocking_pool.h"
#include "modules/adhoc/data_form.h"
#include "modules/module.h"
#include "storage/storage.h"
#include "xmpp/errors.h"

namespace tern::modules::adhoc {

inline constexpr const char* kAdminNs = "http://jabber.org/protocol/admin";

// What the commands act on; all of it outlives the module.
struct AdminServices {
  Host host;
  storage::Storage& storage;
  core::BlockingPool& blocking;
};

// How a submission ended: an iq error (the command session stays open, so
// the admin can correct the form), or completion with a note (XEP-0050
// §4.6: a command that completes but fails carries a note of type 'error')
// and maybe a result form.
struct CommandOutcome {
  std::optional<xmpp::StanzaError> error;
  std::string note_type = "info";
  std::string note;
  std::optional<DataForm> result;

  static CommandOutcome fail(xmpp::StanzaError e) { return {std::move(e), {}, {}, {}}; }
  static CommandOutcome done(std::string note_type, std::string note) {
    return {std::nullopt, std::move(note_type), std::move(note), {}};
  }
};

struct AdminCommand {
  const char* node;        // http://jabber.org/protocol/admin#…
  const char* short_name;  // sessionid prefix, e.g. "add-user"
  const char* name;        // human label (disco#items 'name')
  DataForm (*form)();      // first stage
  awaitable<CommandOutcome> (*submit)(const AdminServices& services,
                                      const router::IqRequest& request, const DataForm& form);
};

// In the order they are listed to an admin.
const std::vector<AdminCommand>& admin_commands();
const AdminCommand* find_admin_command(std::string_view node);

}  // namespace tern::modules::adhoc
