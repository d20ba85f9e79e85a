// One element from text (what modules stored with xml::to_string), parsed
// as a top-level child of a stream whose default namespace is `default_ns`:
// the one it was serialized with, so that it comes back exactly as it was.
#pragma once

#include <optional>
#include <string_view>

#include "xml/element.h"

namespace tern::xml {

// nullopt unless `text` is exactly one well-formed element.
std::optional<Element> parse_element(std::string_view text, std::string_view default_ns);

}  // namespace tern::xml
