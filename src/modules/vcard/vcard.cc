// XEP-0054 vcard-temp.
//
// get to oneself (no 'to', or one's own bare JID): the stored vCard, or an
// empty <vCard/> when there is none (§3.1 allows either; clients handle the
// empty one best). get to another account: its vCard, or
// service-unavailable when it has none or does not exist (§3.3), the same
// answer for both so accounts cannot be probed. set: only to oneself, else
// forbidden (§3.2); an empty vCard removes the stored one.
#include "modules/vcard/vcard.h"
#include "xml/parse_element.h"

#include <variant>

#include "modules/options.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace vcard {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::optional<StanzaError> check_set(const xml::Element& payload, std::size_t size,
                                     std::size_t max_bytes) {
  if (payload.name() != "vCard" || payload.ns() != kNs)
    return StanzaError(StanzaCondition::kBadRequest, "expected <vCard xmlns='vcard-temp'/>");
  if (size > max_bytes)
    return StanzaError(StanzaCondition::kNotAcceptable,
                       "vCard larger than " + std::to_string(max_bytes) + " bytes");
  return std::nullopt;
}



}  // namespace vcard

namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct VcardOptions {
  std::size_t max_bytes = 64 * 1024;
};
constexpr OptionField<VcardOptions> kVcardOptions[] = {
    option("max_bytes", &VcardOptions::max_bytes, 1024, 1 << 20,
           "Largest vCard an account may store, serialized, in bytes (avatars included)"),
};

struct VcardState {
  storage::Storage& storage;
  core::BlockingPool& blocking;
  std::size_t max_bytes;
};
using State = std::shared_ptr<const VcardState>;

awaitable<IqReply> vcard_get(State st, const IqRequest& req) {
  const bool self = req.from.bare() == req.to;
  const storage::AccountKey owner{req.to.node(), req.to.domain()};
  auto stored = co_await st->blocking.run([&] {
    return st->storage.documents().get(owner, std::string(vcard::kDocumentKey));
  });
  if (!stored) {
    if (!self) co_return IqReply::fail(StanzaError(StanzaCondition::kServiceUnavailable));
    xml::Element empty("vCard", std::string(vcard::kNs));
    co_return IqReply::result(std::move(empty));
  }
  auto element = xml::parse_element(*stored, ns::kClient);
  // Only this module writes the key, from parsed XML: a broken store.
  if (!element) throw std::runtime_error("stored vCard of " + req.to.to_string() + " does not parse");
  co_return IqReply::result(std::move(*element));
}

awaitable<IqReply> vcard_set(State st, const IqRequest& req) {
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kForbidden, "not your vCard"));
  const std::string text = xml::to_string(req.payload(), "");
  auto refused = vcard::check_set(req.payload(), text.size(), st->max_bytes);
  if (refused) co_return IqReply::fail(std::move(*refused));
  const bool empty = xml::is_blank(req.payload());
  const storage::AccountKey owner{req.to.node(), req.to.domain()};
  co_await st->blocking.run([&] {
    const std::string key(vcard::kDocumentKey);
    if (empty) {
      st->storage.documents().remove(owner, key);
    } else {
      st->storage.documents().put(owner, key, text);
    }
  });
  co_return IqReply::result();
}

}  // namespace

std::unique_ptr<Module> start_vcard(ModuleContext& ctx) {
  const auto opts = read_options("vcard", ctx.options, kVcardOptions);
  auto st = std::make_shared<VcardState>(VcardState{ctx.storage, ctx.blocking, opts.max_bytes});

  auto m = std::make_unique<Module>();
  using router::IqTarget;
  using router::IqType;
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kGet, vcard::kNs, "vCard",
                                     Advertise::kOnServer},
                                    [st](const IqRequest& req) { return vcard_get(st, req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kSet, vcard::kNs, "vCard"},
                                    [st](const IqRequest& req) { return vcard_set(st, req); }));
  return m;
}

TERN_MODULE("vcard", "XEP-0054 vcard-temp", &start_vcard, 50, kVcardOptions);

}  // namespace tern::modules
