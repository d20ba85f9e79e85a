// XEP-0054 vcard-temp: each account stores one vCard, which everyone may
// read and only the account may change.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "modules/module.h"
#include "xml/element.h"
#include "xmpp/errors.h"

namespace tern::modules {

std::unique_ptr<Module> start_vcard(ModuleContext& ctx);

namespace vcard {

inline constexpr std::string_view kNs = "vcard-temp";
inline constexpr std::string_view kDocumentKey = "vcard";  // in DocumentStore

// Why a vCard set is refused (its payload and its size serialized), or
// nothing when it may be stored.
std::optional<xmpp::StanzaError> check_set(const xml::Element& payload, std::size_t size,
                                           std::size_t max_bytes);

}  // namespace vcard
}  // namespace tern::modules
