#include "xml/parse_element.h"

#include <string>

#include "xml/serializer.h"
#include "xml/stream_parser.h"

namespace tern::xml {

std::optional<Element> parse_element(std::string_view text, std::string_view default_ns) {
  ParserLimits limits;
  limits.max_stanza_bytes = text.size() + 1024;
  StreamParser parser(limits);
  std::string bytes = "<stream:stream xmlns='";
  append_escaped_attr(bytes, default_ns);
  bytes += "' xmlns:stream='http://etherx.jabber.org/streams'>";
  bytes += text;
  parser.feed(bytes);
  auto open = parser.next();
  if (!open || !std::holds_alternative<StreamOpen>(*open)) return std::nullopt;
  auto ev = parser.next();
  if (!ev || !std::holds_alternative<StreamStanza>(*ev)) return std::nullopt;
  if (parser.next()) return std::nullopt;  // more than one element, or a failure after it
  return std::move(std::get<StreamStanza>(*ev).element);
}

}  // namespace tern::xml
