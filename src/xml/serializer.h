// Element tree → XML text, escaped correctly for XMPP streams.
#pragma once

#include <string>
#include <string_view>

#include "xml/element.h"

namespace tern::xml {

// Escapes &, <, > and (in attributes) ' and ". Characters not allowed in XML
// 1.0 never reach here: the parser refuses them and builders take UTF-8 text.
void append_escaped_text(std::string& out, std::string_view text);
void append_escaped_attr(std::string& out, std::string_view value);

// Appends `el` to `out`. `default_ns` is the namespace in scope at the point
// of insertion (for a stanza on a c2s stream: "jabber:client"); an xmlns is
// written only where the element's namespace differs from its parent's. The
// streams namespace is written with the "stream:" prefix (declared on the
// stream header). A top-level stanza in jabber:client or jabber:server takes
// the stream's default namespace, so routed stanzas need no rewriting.
void serialize(std::string& out, const Element& el, std::string_view default_ns);
std::string to_string(const Element& el, std::string_view default_ns);

}  // namespace tern::xml
