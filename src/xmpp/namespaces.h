#pragma once

namespace tern::ns {
inline constexpr const char* kClient = "jabber:client";
inline constexpr const char* kServer = "jabber:server";
inline constexpr const char* kComponent = "jabber:component:accept";
inline constexpr const char* kStreams = "http://etherx.jabber.org/streams";
inline constexpr const char* kStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr const char* kStanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr const char* kTls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr const char* kSasl = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr const char* kBind = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr const char* kSession = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr const char* kSm = "urn:xmpp:sm:3";  // XEP-0198 stream management
inline constexpr const char* kCsi = "urn:xmpp:csi:0";  // XEP-0352 client state indication
inline constexpr const char* kSasl2 = "urn:xmpp:sasl:2";  // XEP-0388 extensible SASL profile
inline constexpr const char* kBind2 = "urn:xmpp:bind:0";  // XEP-0386 Bind 2
inline constexpr const char* kFast = "urn:xmpp:fast:0";   // XEP-0484 FAST tokens
inline constexpr const char* kXml = "http://www.w3.org/XML/1998/namespace";
inline constexpr const char* kSaslChannelBinding = "urn:xmpp:sasl-cb:0";
}  // namespace tern::ns
