// `tern config reference` and `tern config example`: the core's writers fed
// with the options the built-in modules declare (the core never names a
// module; the cli links both).
#pragma once

#include <string>

namespace tern::cli {

// The Markdown reference; the README holds it between the config-reference
// markers.
std::string config_reference();
// A commented tern.toml with every default; tern.example.toml holds it.
std::string config_example();

}  // namespace tern::cli
