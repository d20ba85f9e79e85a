// A client session that XEP-0198 can move from one object to another: a
// live ClientStream, then (its connection broken) a HibernatedSession, then
// the stream that resumes it. What moving needs is here, shared by both
// kinds of holder: giving the address to the next object, passing on a
// delivery that still found the old one, and ending the session for good.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "router/session.h"
#include "stream/c2s_context.h"
#include "stream/csi_buffer.h"
#include "stream/sm_queue.h"

namespace tern::stream {

class ClientStream;

class ResumableSession : public router::Session {
 public:
  // A <resume/> that cannot be honoured: what its <failed/> says.
  struct Refusal {
    std::string condition;                          // an RFC 6120 stanza error condition
    std::optional<std::uint32_t> h = std::nullopt;  // the old session's count, for its account only
    std::string detail = {};                        // further children (<handled-count-too-high/>)
  };
  // What a resuming stream takes from the object that held the session.
  struct Handover {
    std::uint32_t inbound;             // stanzas the session handled
    std::uint32_t acked;               // the client's h
    std::vector<std::string> unacked;  // to re-send, oldest first
    CarriedState state;
  };

  // On this object's shard: gives `successor` the session (its address now
  // reaches the successor), or says why not: it ended meanwhile, or `h`
  // acknowledges stanzas never sent.
  virtual std::variant<Handover, Refusal> hand_over(ClientStream& successor, std::uint32_t h) = 0;
  virtual std::string log_id() const = 0;  // "c2s#12 alice@example.com/phone"

 protected:
  // Shutdown reaches every session through LiveStreams, from its shard.
  ResumableSession(C2SContext& ctx, unsigned shard) : Session(shard), ctx_(ctx) { ctx_.live.add(shard, this); }
  ~ResumableSession() override {
    if (in_live_) ctx_.live.remove(shard(), this);
  }
  // The session's end, on its own shard: its last reference may be dropped
  // on another (a stream that resumed it), where the shard's set of live
  // sessions must not be touched.
  void leave_live() {
    if (std::exchange(in_live_, false)) ctx_.live.remove(shard(), this);
  }

  // The common part of hand_over: checks `h` against what was sent, takes
  // what the client never acknowledged and what CSI held back (never sent:
  // the successor sends it), and gives `fresh` the address, the resumption
  // id and the module state.
  std::variant<Handover, Refusal> give_session(router::Session& fresh, const std::string& sm_id,
                                               std::uint32_t inbound, UnackedQueue<std::string>& unacked,
                                               CsiBuffer& csi, std::uint32_t h);
  // The address, presence and resumption id go to `fresh`; modules that
  // keep sessions by pointer hear of it (session_moved).
  void move_address_to(router::Session& fresh, const std::string& sm_id);
  // A delivery that found this object after the session left it: it goes
  // to whichever object holds the address now (ahead of newer deliveries
  // there, see ClientStream::accept_passed_on), or is routed again as an
  // unacknowledged stanza would be.
  void pass_on(const router::SerializedStanza& stanza);
  // The session ends for good (it was unbound already): contacts hear it is
  // gone, its id resumes nothing any more and what it had handled is
  // remembered for a late <resume/>, and what the client never
  // acknowledged is routed again.
  void end_session(std::string& sm_id, std::uint32_t handled, std::vector<std::string> unacked);
  // The session's id resumes nothing any more; what it had handled is
  // remembered for a late <resume/>.
  void end_resumability(std::string& sm_id, std::uint32_t handled);
  // XEP-0198 §5 and RFC 6121 §8.5.3.2.1: what the client never
  // acknowledged is not lost with its session (see the .cc).
  void requeue_unacked(std::vector<std::string> stanzas);

  C2SContext& ctx_;
  // Taken over: the session lives in another object now, and what still
  // reaches this one is passed on.
  bool handed_over_ = false;

 private:
  bool in_live_ = true;
};

}  // namespace tern::stream
