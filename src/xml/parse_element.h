// One element from text (what modules stored with xml::to_string), parsed
// as a top-level child of a jabber:client stream so that it comes back
// exactly as it was serialized.
#pragma once

#include <optional>
#include <string_view>

#include "xml/element.h"

namespace tern::xml {

// nullopt unless `text` is exactly one well-formed element.
std::optional<Element> parse_element(std::string_view text);

}  // namespace tern::xml
