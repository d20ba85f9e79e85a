// A stream-managed session whose connection broke (XEP-0198 §5), waiting
// for a <resume/> or its timeout. It takes the stream's place in the
// session table, so the stream (transport, parser, outbox, SASL and rate
// state: most of a session's memory) is freed at once; what stays is what
// the session is (address, presence, module state) and what the client has
// not acknowledged.
//
// Stanzas for it are kept, as unacknowledged ones, to be sent after a
// resume. What CSI holds back stays held. The session ends at the resume
// timeout, when its queue is full, or when asked to (conflict, account
// deleted, shutdown): contacts hear it is gone and what was kept is routed
// again (ResumableSession::requeue_unacked), so messages go to another
// resource or offline storage. On kill -9 they are lost, as they would be
// from a live stream's queue (sm_queue.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/asio.h"
#include "stream/resumable_session.h"

namespace tern::stream {

class HibernatedSession final : public ResumableSession {
 public:
  // What a stream leaves behind when its connection breaks.
  struct Parts {
    xmpp::Jid jid;
    std::string sm_id;
    std::chrono::seconds resume_timeout;
    std::uint32_t inbound;  // stanzas the stream handled
    UnackedQueue<std::string> unacked;
    CsiBuffer csi;
    CarriedState state;
    const char* kind;      // for log lines: the stream's "c2s#12 …"
    std::uint64_t number;
  };

  // On `shard`, the stream's, which then moves the address here.
  HibernatedSession(C2SContext& ctx, unsigned shard, Parts parts);
  // Once the address is here: the resume timeout starts.
  void start();

  void deliver(const xml::Element& stanza) override;
  void deliver_serialized(const router::SerializedStanza& stanza) override;
  // Nobody to tell: the session just ends (conflict, shutdown, …).
  void close_with_error(xmpp::StreamCondition condition, std::string_view text = {}) override;
  std::variant<Handover, Refusal> hand_over(ClientStream& successor, std::uint32_t h) override;
  std::string log_id() const override;

 private:
  // A stanza for the client: held by CSI, or kept until a resume.
  void keep(std::string bytes);
  // Kept as sent and not acknowledged; past the queue's bound the session ends.
  void track(std::string bytes);
  void end();

  asio::steady_timer timeout_;
  std::string sm_id_;
  std::uint32_t inbound_;
  UnackedQueue<std::string> unacked_;
  CsiBuffer csi_;
  const char* kind_;
  std::uint64_t number_;
  bool ended_ = false;
};

}  // namespace tern::stream
