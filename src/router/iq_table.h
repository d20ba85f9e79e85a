// Who answers an iq get/set addressed to the server or to an account. A
// handler returns its reply (a result payload or a stanza error); the router
// sends it, so handlers never touch a stream.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/asio.h"
#include "core/hook.h"
#include "xml/element.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"

namespace tern::router {

// To the server's domain (to='example.com'), or to an account (a local bare
// JID, or no 'to' at all: RFC 6120 §10.3.3 — the server answers for the
// sender's own account).
// kUnauthenticated: an iq on a stream that has not authenticated yet (e.g.
// in-band registration, XEP-0077); the stream answers it itself.
enum class IqTarget { kServer, kAccount, kUnauthenticated };
enum class IqType { kGet, kSet };

struct IqRequest {
  xml::Element stanza;  // the whole <iq/>, from stamped by the stream
  xmpp::Jid from;       // full JID of the sender
  xmpp::Jid to;         // the addressed entity (domain or bare JID)
  IqType type = IqType::kGet;
  std::string remote_ip;  // the client's address; set for kUnauthenticated only
  bool confidential = false;  // TLS (or a trusted proxy); set for kUnauthenticated only
  const xml::Element& payload() const { return *stanza.children().front(); }
};

struct IqReply {
  std::optional<xml::Element> payload;  // child of the result, if any
  std::optional<xmpp::StanzaError> error;

  static IqReply result() { return {}; }
  static IqReply result(xml::Element payload) { return {std::move(payload), std::nullopt}; }
  static IqReply fail(xmpp::StanzaError err) { return {std::nullopt, std::move(err)}; }
  // Lets handlers write `return StanzaError{...};` or `return element;`.
  IqReply() = default;
  IqReply(std::optional<xml::Element> p, std::optional<xmpp::StanzaError> e)
      : payload(std::move(p)), error(std::move(e)) {}
  IqReply(xmpp::StanzaError e) : error(std::move(e)) {}
  IqReply(xml::Element p) : payload(std::move(p)) {}
};

using IqHandler = std::function<awaitable<IqReply>(const IqRequest&)>;
using SyncIqHandler = std::function<IqReply(const IqRequest&)>;

class IqTable {
 public:
  // One handler per (target, type, payload namespace); a second add for the
  // same key replaces the first until its token is dropped.
  [[nodiscard]] core::HookToken add(IqTarget target, IqType type, std::string ns, IqHandler h);
  [[nodiscard]] core::HookToken add_sync(IqTarget target, IqType type, std::string ns,
                                         SyncIqHandler h);
  const IqHandler* find(IqTarget target, IqType type, const std::string& ns) const;

 private:
  using Key = std::tuple<IqTarget, IqType, std::string>;
  struct Entry {
    unsigned long id;
    IqHandler handler;
  };
  // The newest registration of a key answers; dropping it uncovers the one before.
  std::map<Key, std::vector<Entry>> handlers_;
  unsigned long next_id_ = 0;
};

}  // namespace tern::router
