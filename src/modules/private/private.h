// XEP-0049 private XML storage: an account keeps XML fragments on the
// server, each under its own namespace, readable and writable by the
// account alone. `tern export` and `tern import` carry them (portable.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/module.h"
#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules {

std::unique_ptr<Module> start_private(ModuleContext& ctx);

namespace private_storage {

inline constexpr std::string_view kNs = "jabber:iq:private";
// What every DocumentStore key of a fragment starts with.
inline constexpr std::string_view kDocumentPrefix = "private:";

// The DocumentStore key of a fragment: "private:{ns}name".
std::string document_key(const xml::Element& fragment);
// Namespaces XEP-0049 §2.3 reserves: jabber:*, http://jabber.org/*, vcard-temp.
bool is_reserved(std::string_view ns);

// Why a fragment may not be stored (not-acceptable: it has no namespace of
// its own, or a reserved one), or nothing.
std::optional<xmpp::StanzaError> check_fragment(const xml::Element& fragment);

// The fragments a query names, or why it is refused. A get names exactly
// one; a set one or more. Each must have a namespace of its own that is not
// reserved; `max_bytes` bounds each fragment of a set, serialized.
struct CheckedQuery {
  std::vector<const xml::Element*> fragments;
  std::optional<xmpp::StanzaError> error;
};
CheckedQuery check_query(const xml::Element& query, bool is_get, std::size_t max_bytes);

}  // namespace private_storage
}  // namespace tern::modules
