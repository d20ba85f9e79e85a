// TLS for every listener: the server context (TLS 1.2+, small idle
// footprint), the self-signed pair made on first start, and the channel
// binding data SCRAM-PLUS needs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "transport/tls13_records.h"

namespace tern::transport {

struct CertPaths {
  std::string cert;
  std::string key;
};

// Uses cert/key when given; otherwise makes (once) and reuses a self-signed
// EC P-256 certificate for `domains` in data_dir. Throws std::runtime_error.
CertPaths ensure_certificate(const std::string& cert, const std::string& key,
                             const std::string& data_dir,
                             const std::vector<std::string>& domains);

// A server context; `alpn` is the protocol to accept on direct TLS
// ("xmpp-client"), empty for STARTTLS listeners.
std::unique_ptr<boost::asio::ssl::context> make_server_context(const CertPaths& paths);

// Server-to-server contexts: both ask the peer for its certificate and
// accept the handshake whatever it shows; whether the certificate is trusted
// (system CA store plus `ca_file`) decides SASL EXTERNAL, not the handshake,
// since dialback can still authenticate a peer with a self-signed one.
std::unique_ptr<boost::asio::ssl::context> make_s2s_server_context(const CertPaths& paths,
                                                                   const std::string& ca_file);
std::unique_ptr<boost::asio::ssl::context> make_s2s_client_context(const CertPaths& paths,
                                                                   const std::string& ca_file);
// RFC 6125 §6: does `cert` name `domain` (DNS-ID in subjectAltName, with
// wildcards in the left-most label; the CN only when there is no DNS-ID)?
bool certificate_names(X509* cert, const std::string& domain);

// After a finished TLS 1.3 handshake on a context from make_server_context,
// the record layer that can replace `ssl` (see tls13_records.h); nullptr to
// keep OpenSSL for this connection: TLS 1.2, or anything the record layer
// could not take over (records buffered, a KeyUpdate queued, post-handshake
// authentication, early data).
std::unique_ptr<Tls13Records> take_tls13_records(SSL* ssl);

// What SCRAM-PLUS may bind to, read once after the handshake (the SSL object
// may be gone by the time SASL runs).
struct ChannelBindings {
  std::optional<std::string> exporter, unique, server_end_point;
};
ChannelBindings channel_bindings(SSL* ssl);

// RFC 9266 tls-exporter (TLS 1.3, or 1.2 with extended master secret).
std::optional<std::string> tls_exporter(SSL* ssl);
// RFC 5929 tls-unique: the first Finished message of the handshake, as
// OpenSSL and CPython compute it. RFC 9266 retires it for TLS 1.3 because a
// resumed handshake can repeat it, so a resumed handshake has none. Accepted,
// not advertised: some clients (slixmpp 1.8) know no other binding.
std::optional<std::string> tls_unique(SSL* ssl);
// RFC 5929 tls-server-end-point: hash of our certificate.
std::optional<std::string> tls_server_end_point(SSL* ssl);

}  // namespace tern::transport
