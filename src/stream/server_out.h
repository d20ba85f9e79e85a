// An outgoing server-to-server link (RFC 6120 §4-§6, XEP-0220, XEP-0178)
// for one (local domain, remote domain) pair: resolve, connect, STARTTLS,
// then SASL EXTERNAL if the peer offers it (it does when our certificate
// validates) or else dialback; then the queued stanzas go out. The same
// stream carries our db:verify requests to the remote (authoritative)
// server. Owned by one shard; the S2S registry posts to it from the others.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "stream/s2s.h"
#include "stream/server_stream.h"

namespace tern::stream {

class ServerOut final : public ServerStream {
 public:
  ServerOut(S2S& s2s, unsigned shard, asio::any_io_executor executor, std::string local,
            std::string remote);

  void start();
  // A serialised jabber:server stanza: written when the link is up, queued
  // before (bounded), bounced when it cannot be sent.
  void send(std::string stanza);
  // Sends <db:verify/> (as soon as the stream can carry it); `done` runs
  // here with the answer, or with an error if the link fails first.
  void verify(std::string id, std::string key, VerifyDone done);
  void close_with_error(xmpp::StreamCondition condition, std::string_view text = {}) override;
  std::string describe() const override;
  const std::string& local() const { return local_; }
  const std::string& remote() const { return remote_; }

 private:
  enum class Phase {
    kResolving, kConnecting, kAwaitHeader, kAwaitFeatures, kAwaitProceed, kAwaitSasl,
    kAwaitDialback, kReady, kDone
  };
  awaitable<void> run();
  awaitable<bool> connect();
  awaitable<void> watchdog();
  awaitable<void> on_event(xml::StreamEvent& event) override;
  awaitable<void> on_element(const xml::Element& el);
  void on_features(const xml::Element& features);
  void on_dialback(const xml::Element& el);
  // XEP-0288: a stanza the peer sends us on this (bidi) stream.
  void on_stanza(xml::Element el);
  void start_dialback();
  void become_ready(const char* method);
  void send_verifies();
  // The link is over: bounce what waits (with `condition` unless it went
  // out), answer pending verifications, leave the registry, close.
  void give_up(xmpp::StanzaCondition condition, std::string_view why);
  // RFC 6125: does the receiving server's certificate name remote_? Logs
  // once when it does not; false when the link must stop there
  // (s2s.require_valid_certificates).
  bool accept_peer_certificate();
  // s2s.max_write_bytes_per_second: writes the queue as the remote
  // domain's bucket allows, while the link is up.
  awaitable<void> pace();
  void bounce(const std::string& stanza, xmpp::StanzaCondition condition, std::string_view why);
  void update_description();

  std::string local_, remote_;
  std::string stream_id_;  // the receiving server's, for the dialback key
  Phase phase_ = Phase::kResolving;
  const char* method_ = "";
  bool sasl_tried_ = false;
  bool sasl_done_ = false;
  bool can_verify_ = false;
  bool timed_out_ = false;
  bool cert_checked_ = false;
  bool bidi_ = false;  // we asked for XEP-0288 bidi on this stream
  // Why the receiving server's certificate did not validate; empty when it
  // did (or before the check).
  std::string cert_problem_;
  std::deque<std::string> queue_;
  struct PendingVerify {
    std::string id, key;
    VerifyDone done;
    bool sent = false;
  };
  std::vector<PendingVerify> verifies_;
  std::chrono::steady_clock::time_point started_, last_sent_;
  asio::steady_timer timer_;
  asio::steady_timer pace_timer_;  // pace(): the bucket's wait, or idle until send()
  std::string peer_;  // "host ip:port" once connected
};

}  // namespace tern::stream
