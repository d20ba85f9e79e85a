// TLS 1.3 session tickets (RFC 8446 §4.6.1) on client-facing listeners: a
// client that reconnects (a phone back in coverage, a reconnect storm after
// an outage) skips the certificate, its signature and its verification.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>

namespace tern::transport {

// Issues one stateless ticket per TLS 1.3 handshake and accepts them for
// `lifetime`; TLS 1.2 connections get none (see session_tickets.cc).
void enable_tls13_session_tickets(SSL_CTX* ctx, std::chrono::seconds lifetime);

// Whether every NewSessionTicket written on `ssl` is counted by
// tickets_sent: true on a context set up here (OpenSSL's own tickets are not).
bool counts_tickets(SSL* ssl);
// NewSessionTicket messages written on `ssl` so far: each went out as one
// record under the server's application traffic secret, so the record layer
// that takes over starts its sequence number there.
std::uint64_t tickets_sent(SSL* ssl);

}  // namespace tern::transport
