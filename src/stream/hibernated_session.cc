#include "stream/hibernated_session.h"

#include "core/log.h"
#include "stream/client_stream.h"
#include "xmpp/namespaces.h"
#include "xml/serializer.h"

namespace tern::stream {

HibernatedSession::HibernatedSession(C2SContext& ctx, unsigned shard, Parts parts)
    : ResumableSession(ctx, shard),
      timeout_(ctx.router.shard_executor(shard), parts.resume_timeout),
      sm_id_(std::move(parts.sm_id)),
      inbound_(parts.inbound),
      unacked_(std::move(parts.unacked)),
      csi_(std::move(parts.csi)),
      kind_(parts.kind),
      number_(parts.number) {
  set_jid(std::move(parts.jid));
  adopt(std::move(parts.state));
  set_hibernating(true);
}

void HibernatedSession::start() {
  // The pending wait keeps the session alive; ending it cancels the wait.
  timeout_.async_wait([self = std::static_pointer_cast<HibernatedSession>(shared_from_this())](
                          const boost::system::error_code& ec) {
    if (ec || self->ended_ || self->handed_over_) return;
    spdlog::info("{}: not resumed in time", self->log_id());
    self->end();
  });
}

std::string HibernatedSession::log_id() const {
  return fmt::format("{}#{} {}", kind_, number_, jid().to_string());
}

void HibernatedSession::deliver(const xml::Element& stanza) {
  deliver_serialized(std::make_shared<const std::string>(xml::to_string(stanza, ns::kClient)));
}

void HibernatedSession::deliver_serialized(const router::SerializedStanza& stanza) {
  if (handed_over_) return pass_on(stanza);
  // Found just before the session ended: not lost with it.
  if (ended_) return requeue_unacked({*stanza});
  if (ctx_.metrics) bump(ctx_.metrics->shard(shard()).stanzas_out);
  keep(*stanza);
}

void HibernatedSession::keep(std::string bytes) {
  if (csi_.inactive()) {
    if (csi_.hold(bytes)) return;
    for (auto& held : csi_.take_held()) track(std::move(held));
  }
  track(std::move(bytes));
}

void HibernatedSession::track(std::string bytes) {
  if (!ended_ && unacked_.full()) {
    // Asleep with a full queue: the session ends, nothing is dropped.
    spdlog::info("{}: too many stanzas kept while hibernated", log_id());
    end();
  }
  if (ended_) return requeue_unacked({std::move(bytes)});
  unacked_.push(std::move(bytes));
}

void HibernatedSession::close_with_error(xmpp::StreamCondition, std::string_view) { end(); }

void HibernatedSession::end() {
  if (ended_ || handed_over_) return;
  ended_ = true;
  timeout_.cancel();
  leave_live();
  set_hibernating(false);
  ctx_.router.sessions().unbind(*this);
  auto kept = unacked_.take_all();
  // Held back by CSI: presence and chat states, stale once the session is gone.
  csi_.take_held();
  end_session(sm_id_, inbound_, std::move(kept));
}

std::variant<ResumableSession::Handover, ResumableSession::Refusal> HibernatedSession::hand_over(
    ClientStream& successor, std::uint32_t h) {
  if (ended_ || handed_over_) return Refusal{"item-not-found"};
  auto taken = give_session(successor, sm_id_, inbound_, unacked_, csi_, h);
  if (!std::holds_alternative<Handover>(taken)) return taken;
  spdlog::info("{}: resumed by {}", log_id(), successor.log_id());
  sm_id_.clear();
  timeout_.cancel();
  leave_live();
  set_hibernating(false);
  return taken;
}

}  // namespace tern::stream
