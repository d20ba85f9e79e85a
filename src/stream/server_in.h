// An accepted server-to-server stream (RFC 6120, XEP-0220, XEP-0178):
// STARTTLS, then the peer authenticates domain pairs — SASL EXTERNAL when
// its certificate validates for the stream's 'from' domain, or dialback,
// for as many pairs as it likes on the one stream (piggybacking). It also
// answers <db:verify/> for keys we issued. Stanzas go to the router only
// for authenticated pairs; anything else ends the stream.
#pragma once

#include <set>
#include <string>
#include <utility>

#include "stream/dialback.h"
#include "stream/s2s.h"
#include "stream/server_stream.h"

namespace tern::stream {

class ServerIn final : public ServerStream {
 public:
  ServerIn(S2S& s2s, unsigned shard, tcp::socket socket, bool direct_tls);
  void start();
  std::string describe() const override;
  // XEP-0288, on this stream's shard: writes our stanza from `local` to
  // `remote` if the peer asked for bidi and authenticated that pair here
  // and the stream is still open; false otherwise (the caller uses a link).
  bool send_bidi(const std::string& local, const std::string& remote, std::string_view stanza);

 private:
  awaitable<void> run();
  awaitable<void> watchdog();
  awaitable<void> on_event(xml::StreamEvent& event) override;
  awaitable<void> after_read(std::size_t bytes) override;
  void on_header(const xml::Element& header, const std::string& content_ns);
  void send_features();
  awaitable<void> on_element(xml::Element& el);
  awaitable<void> on_starttls();
  void on_sasl(const xml::Element& el);
  void on_dialback_result(const DialbackMessage& m);
  void on_dialback_verify(const DialbackMessage& m);
  void on_stanza(xml::Element el);
  bool peer_certificate_valid_for(const std::string& domain) const;
  // A pair is authenticated: remember it, and offer it as a bidi route.
  void authenticated(const std::pair<std::string, std::string>& pair);
  void update_description();

  std::string stream_id_;
  std::string local_;   // the header's 'to'
  std::string remote_;  // the header's 'from'
  bool version_ = false;
  bool sasl_done_ = false;
  const char* method_ = "";
  // Authenticated (local domain, remote domain) pairs.
  std::set<std::pair<std::string, std::string>> pairs_;
  std::set<std::pair<std::string, std::string>> verifying_;
  bool ended_ = false;
  bool bidi_ = false;  // the peer sent <bidi xmlns='urn:xmpp:bidi'/>
  bool direct_tls_;
  asio::steady_timer timer_;
};

}  // namespace tern::stream
