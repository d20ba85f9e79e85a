// XEP-0049 private XML storage.
//
// Only the account itself, addressing its own bare JID or nothing, may get
// or set; anyone else gets forbidden (§2.3 prefers it to
// service-unavailable). A query without a child is bad-request (§2.3 "Bad
// Format"); a child without a namespace of its own or in a reserved one is
// not-acceptable. A get of a fragment never stored returns it as sent
// (empty). A set stores every child, each under "private:{ns}name"; an
// empty child removes what was stored under its name.
#include "modules/private/private.h"
#include "xml/parse_element.h"

#include <variant>

#include "modules/options.h"
#include "xml/serializer.h"
#include "xml/stream_parser.h"
#include "xmpp/namespaces.h"

namespace tern::modules {
namespace private_storage {

using xmpp::StanzaCondition;
using xmpp::StanzaError;

std::string document_key(const xml::Element& fragment) {
  return std::string(kDocumentPrefix) + "{" + fragment.ns() + "}" + fragment.name();
}

bool is_reserved(std::string_view ns) {
  return ns.starts_with("jabber:") || ns.starts_with("http://jabber.org/") || ns == "vcard-temp";
}

std::optional<StanzaError> check_fragment(const xml::Element& fragment) {
  // A child that declares no namespace inherits jabber:iq:private.
  if (fragment.ns().empty() || fragment.ns() == kNs)
    return StanzaError(StanzaCondition::kNotAcceptable, "the element needs a namespace of its own");
  if (is_reserved(fragment.ns()))
    return StanzaError(StanzaCondition::kNotAcceptable, "reserved namespace " + fragment.ns());
  return std::nullopt;
}

CheckedQuery check_query(const xml::Element& query, bool is_get, std::size_t max_bytes) {
  CheckedQuery out;
  if (query.name() != "query") {
    out.error = StanzaError(StanzaCondition::kBadRequest, "expected <query xmlns='jabber:iq:private'/>");
    return out;
  }
  out.fragments = query.children();
  if (out.fragments.empty()) {
    out.error = StanzaError(StanzaCondition::kBadRequest, "the query names no element");
    return out;
  }
  if (is_get && out.fragments.size() > 1) {
    out.error = StanzaError(StanzaCondition::kBadRequest, "a get names one element");
    return out;
  }
  for (const xml::Element* f : out.fragments) {
    if (auto refused = check_fragment(*f)) {
      out.error = std::move(refused);
      return out;
    }
    if (!is_get && xml::to_string(*f, "").size() > max_bytes) {
      out.error = StanzaError(StanzaCondition::kNotAcceptable,
                              "element larger than " + std::to_string(max_bytes) + " bytes");
      return out;
    }
  }
  return out;
}


}  // namespace private_storage

namespace {

using router::IqReply;
using router::IqRequest;
using xmpp::StanzaCondition;
using xmpp::StanzaError;

struct PrivateOptions {
  std::size_t max_bytes = 64 * 1024;
};
constexpr OptionField<PrivateOptions> kPrivateOptions[] = {
    option("max_bytes", &PrivateOptions::max_bytes, 1024, 1 << 20,
           "Largest XML fragment one private storage set may store, serialized, in bytes"),
};

struct PrivateState {
  storage::Storage& storage;
  core::BlockingPool& blocking;
  std::size_t max_bytes;
};
using State = std::shared_ptr<const PrivateState>;


awaitable<IqReply> private_get(State st, const IqRequest& req) {
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kForbidden, "not your private storage"));
  auto checked = private_storage::check_query(req.payload(), true, st->max_bytes);
  if (checked.error) co_return IqReply::fail(std::move(*checked.error));
  const xml::Element& wanted = *checked.fragments.front();
  const std::string key = private_storage::document_key(wanted);
  const storage::AccountKey owner{req.to.node(), req.to.domain()};
  auto stored = co_await st->blocking.run([&] { return st->storage.documents().get(owner, key); });
  xml::Element query("query", std::string(private_storage::kNs));
  if (stored) {
    auto element = xml::parse_element(*stored, ns::kClient);
    // Only this module writes these keys, from parsed XML: a broken store.
    if (!element) throw std::runtime_error("stored " + key + " does not parse");
    query.add_child(std::move(*element));
  } else {
    query.add_child(wanted);
  }
  co_return IqReply::result(std::move(query));
}

awaitable<IqReply> private_set(State st, const IqRequest& req) {
  if (req.from.bare() != req.to)
    co_return IqReply::fail(StanzaError(StanzaCondition::kForbidden, "not your private storage"));
  auto checked = private_storage::check_query(req.payload(), false, st->max_bytes);
  if (checked.error) co_return IqReply::fail(std::move(*checked.error));
  const storage::AccountKey owner{req.to.node(), req.to.domain()};
  const auto& fragments = checked.fragments;
  co_await st->blocking.run([&] {
    auto& documents = st->storage.documents();
    for (const xml::Element* f : fragments) {
      if (xml::is_blank(*f)) {
        documents.remove(owner, private_storage::document_key(*f));
      } else {
        documents.put(owner, private_storage::document_key(*f), xml::to_string(*f, ""));
      }
    }
  });
  co_return IqReply::result();
}

}  // namespace

std::unique_ptr<Module> start_private(ModuleContext& ctx) {
  const auto opts = read_options("private", ctx.options, kPrivateOptions);
  auto st = std::make_shared<PrivateState>(PrivateState{ctx.storage, ctx.blocking, opts.max_bytes});

  auto m = std::make_unique<Module>();
  using router::IqTarget;
  using router::IqType;
  // XEP-0049 defines no disco feature, but clients look for its namespace in
  // the server's disco#info before they use it (poezio turns server-side
  // bookmarks off without it), and Prosody and ejabberd advertise it. No
  // payload name checked here: check_query answers a wrong one, after the
  // ownership check.
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kGet, private_storage::kNs, "query",
                                    Advertise::kOnServer},
                                   [st](const IqRequest& req) { return private_get(st, req); }));
  m->tokens.push_back(ctx.serve_iq({IqTarget::kAccount, IqType::kSet, private_storage::kNs, "query"},
                                   [st](const IqRequest& req) { return private_set(st, req); }));
  return m;
}

TERN_MODULE("private", "XEP-0049 private XML storage", &start_private, 50, kPrivateOptions);

}  // namespace tern::modules
