#include "cli/config_docs.h"

#include "core/config.h"
#include "modules/module.h"

namespace tern::cli {

std::string config_reference() {
  return core::config_reference_markdown(modules::builtin_option_docs());
}

std::string config_example() { return core::example_config_toml(modules::builtin_option_docs()); }

}  // namespace tern::cli
