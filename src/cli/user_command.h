// `tern user add|del|passwd|list`: account administration straight on the
// store, safe while the server runs (SQLite WAL; the server reads
// credentials at each login).
#pragma once

#include <string>

#include "core/config.h"

namespace tern::cli {

int user_add(const core::Config& config, const std::string& jid, const std::string& password);
int user_del(const core::Config& config, const std::string& jid);
int user_passwd(const core::Config& config, const std::string& jid, const std::string& password);
int user_list(const core::Config& config, const std::string& domain);
// `tern status`: asks a running server over the control socket; 3 when none runs.
int status(const core::Config& config);

}  // namespace tern::cli
