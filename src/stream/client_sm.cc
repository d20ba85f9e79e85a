// XEP-0198 stream management on a client stream: <enable/>, the <r/>/<a/>
// counters, hibernation when the connection breaks, and <resume/>, which
// moves a session (its address, IM and module state, unacknowledged
// stanzas) to the new stream, whichever shard each lives on.
#include <charconv>
#include <variant>

#include "core/hex.h"
#include "core/log.h"
#include "sasl/mechanism.h"
#include "stream/client_stream.h"
#include "stream/hibernated_session.h"
#include "xmpp/namespaces.h"
#include "xml/parse_element.h"
#include "xml/serializer.h"

namespace tern::stream {

using xmpp::StanzaCondition;
using xmpp::StanzaError;
using xmpp::StreamCondition;

namespace {

// Ask for an <a/> once this many stanzas wait for one, so that a client
// that only answers requests keeps the queue short.
constexpr std::size_t kRequestAckAfter = 5;

std::string failed(std::string_view condition) {
  return fmt::format("<failed xmlns='{}'><{} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
                     ns::kSm, condition);
}

std::optional<std::uint32_t> parse_h(std::string_view text) {
  std::uint32_t h = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), h);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return h;
}

// 128 random bits: whoever knows the id and the account's password can take
// the session over, so it must not be guessable from the stream id.
std::string make_resume_id() {
  return core::to_hex(sasl::random_bytes(16));
}

}  // namespace

void ClientStream::on_stream_management(const xml::Element& el) {
  if (el.name() == "enable") return sm_enable(el);
  if (el.name() == "r" && sm_enabled_) {
    request_ack();
  } else if (el.name() == "a" && sm_enabled_) {
    auto h = parse_h(el.attr_or("h"));
    if (!h || !sm_unacked_.acknowledge(*h)) {
      // XEP-0198 §4: an h acknowledging more than was sent.
      return fail(StreamCondition::kUndefinedCondition, "h acknowledges unsent stanzas");
    }
    sm_ack_requested_ = false;
  } else {
    fail(StreamCondition::kUnsupportedStanzaType);
  }
}

void ClientStream::request_ack() {
  auto note = [weak = weak_from_this(), h = sm_inbound_.value()] {
    auto self = weak.lock();
    if (!self) return;
    auto& stream = static_cast<ClientStream&>(*self);
    stream.ack_requests_.push_back(h);
    stream.answer_settled_ack_requests();
  };
  // Stanzas of this account that wait in the router's queue (behind its
  // storage work) are not routed yet, so they have taken no ticket: the
  // request queues behind them.
  ctx_.router.serial().run_in_order(jid().bare_string(), std::move(note));
}

std::shared_ptr<void> ClientStream::hold_handled() {
  if (!tickets_on_.load(std::memory_order_acquire)) return nullptr;
  open_tickets_.fetch_add(1, std::memory_order_relaxed);
  // Dropped wherever the work ends (a blocking-pool thread): settled here.
  return std::shared_ptr<void>(&open_tickets_, [weak = weak_from_this(), executor = executor_](void*) {
    asio::post(executor, [weak] {
      if (auto self = weak.lock()) static_cast<ClientStream&>(*self).settle_ticket();
    });
  });
}

void ClientStream::settle_ticket() {
  open_tickets_.fetch_sub(1, std::memory_order_relaxed);
  answer_settled_ack_requests();
}

void ClientStream::answer_settled_ack_requests() {
  if (open_tickets_.load(std::memory_order_relaxed) != 0) return;
  for (auto h : std::exchange(ack_requests_, {})) {
    // A stream that broke meanwhile answers nothing; the resumed one says
    // its count in <resumed h=…/>.
    if (sm_enabled_) send(fmt::format("<a xmlns='{}' h='{}'/>", ns::kSm, h));
  }
}

void ClientStream::sm_enable(const xml::Element& el) {
  if (state_ != State::kBound || sm_enabled_) return send(failed("unexpected-request"));
  const auto wants_resume = el.attr_or("resume");
  auto max = parse_h(el.attr_or("max"));
  send(start_stream_management(wants_resume == "true" || wants_resume == "1", max.value_or(0)));
}

std::string ClientStream::start_stream_management(bool wants_resume, std::uint32_t max) {
  sm_enabled_ = true;
  tickets_on_.store(true, std::memory_order_release);
  if (ctx_.config.resume_timeout_seconds <= 0 || !wants_resume) {
    return fmt::format("<enabled xmlns='{}'/>", ns::kSm);
  }
  // The client may ask for a shorter wait than ours (§5, 'max').
  std::int64_t seconds = ctx_.config.resume_timeout_seconds;
  if (max > 0) seconds = std::min<std::int64_t>(seconds, max);
  resume_timeout_ = std::chrono::seconds(seconds);
  sm_id_ = make_resume_id();
  ctx_.resumable.add(sm_id_, shared_from_this());
  return fmt::format("<enabled xmlns='{}' id='{}' resume='true' max='{}'/>", ns::kSm, sm_id_, seconds);
}

awaitable<void> ClientStream::sm_resume(const xml::Element& el) {
  // §5: after authentication, instead of binding a resource.
  if (state_ != State::kAuthenticated) co_return send(failed("unexpected-request"));
  auto outcome = co_await take_over_session(std::string(el.attr_or("previd")), parse_h(el.attr_or("h")));
  if (state_ != State::kAuthenticated && state_ != State::kBound) co_return;  // closed meanwhile
  send(resume_answer_xml(outcome));
  if (auto* resumed = std::get_if<Resumption>(&outcome)) resend_after_resume(std::move(resumed->unacked));
}

awaitable<ClientStream::ResumeOutcome> ClientStream::take_over_session(const std::string& previd,
                                                                      std::optional<std::uint32_t> h) {
  // §5: a server that does not resume says so with <feature-not-implemented/>.
  if (ctx_.config.resume_timeout_seconds <= 0) co_return Refusal{"feature-not-implemented"};
  if (!h) co_return Refusal{"bad-request"};
  // A stream or a hibernated session: either can hand the session over.
  auto old = std::static_pointer_cast<ResumableSession>(ctx_.resumable.find(previd));
  if (!old || old->jid().node() != user_ || old->jid().domain() != domain_) {
    // Another account's id is as unknown to this client as an expired one.
    spdlog::info("{}: cannot resume '{:.64}'", log_id(), previd);
    co_return refuse_unknown_session(previd);
  }
  // Deliveries that reach us once the old session is ours wait in
  // resume_backlog_ until we are back on this shard.
  set_jid(old->jid());
  resuming_ = true;
  passed_on_ = 0;
  std::variant<Handover, Refusal> taken = Refusal{"item-not-found"};
  auto visit = ctx_.router.visit_shard_of(old, [this, &taken, h](router::Session& s) {
    taken = static_cast<ResumableSession&>(s).hand_over(*this, *h);
  });
  co_await std::move(visit);
  if (std::holds_alternative<Handover>(taken)) co_await wait_for_deliveries_in_flight(old);
  resuming_ = false;
  if (auto* refused = std::get_if<Refusal>(&taken)) {
    spdlog::info("{}: cannot resume '{}': {}", log_id(), previd, refused->condition);
    set_jid({});
    // It ended while we were on our way: as if it had before.
    if (refused->condition == "item-not-found") co_return refuse_unknown_session(previd);
    co_return std::move(*refused);
  }
  auto& handover = std::get<Handover>(taken);
  adopt(std::move(handover.state));
  sm_enabled_ = true;
  tickets_on_.store(true, std::memory_order_release);
  sm_inbound_.set(handover.inbound);
  sm_unacked_.set_sent(handover.acked);
  if (state_ != State::kAuthenticated) {
    // This stream was closed while we were away (shutdown): the session we
    // took ends here, as any other would.
    ctx_.router.sessions().unbind(*this);
    sm_id_ = previd;
    end_session(sm_id_, handover.inbound, std::move(handover.unacked));
    requeue_unacked(std::exchange(resume_backlog_, {}));
    co_return Refusal{"item-not-found"};
  }
  state_ = State::kBound;
  sm_id_ = previd;
  resume_timeout_ = std::chrono::seconds(ctx_.config.resume_timeout_seconds);
  deadline_.cancel();  // the watchdog now counts the idle timeout
  co_return Resumption{previd, handover.inbound, std::move(handover.unacked)};
}

// A delivery is looked up and posted within one handler on its sender's
// shard. Once every shard has run a handler after the hand-over, those
// that found the old stream have all been posted to its shard; once that
// shard has run them too, it has passed each on here (accept_passed_on),
// ahead of what found this stream directly.
awaitable<void> ClientStream::wait_for_deliveries_in_flight(router::SessionPtr old) {
  for (unsigned shard = 0; shard < ctx_.router.shard_count(); ++shard)
    co_await asio::post(ctx_.router.shard_executor(shard), use_awaitable);
  co_await ctx_.router.visit_shard_of(std::move(old), [](router::Session&) {});
}

ClientStream::Refusal ClientStream::refuse_unknown_session(const std::string& previd) const {
  // XEP-0198 §5: "If the server recogizes the 'previd' as an earlier
  // session that has timed out the server MAY also include a 'h'
  // attribute": only to the account whose session it was.
  const auto account = xmpp::Jid::from_parts(user_, domain_).bare_string();
  return Refusal{"item-not-found", ctx_.resumable.handled_when_ended(previd, account)};
}

std::string ClientStream::resume_answer_xml(const ResumeOutcome& outcome) {
  if (const auto* resumed = std::get_if<Resumption>(&outcome)) {
    std::string out = fmt::format("<resumed xmlns='{}' previd='", ns::kSm);
    xml::append_escaped_attr(out, resumed->previd);
    out += fmt::format("' h='{}'/>", resumed->inbound);
    return out;
  }
  const auto& refused = std::get<Refusal>(outcome);
  std::string out = fmt::format("<failed xmlns='{}'", ns::kSm);
  if (refused.h) out += fmt::format(" h='{}'", *refused.h);
  out += fmt::format("><{} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>{}</failed>", refused.condition,
                     refused.detail);
  return out;
}

void ClientStream::resend_after_resume(std::vector<std::string> unacked) {
  const auto resent = unacked.size();
  for (auto& stanza : unacked) write_tracked(std::move(stanza));
  write_backlog();
  spdlog::info("{}: resumed, {} stanzas sent again", log_id(), resent);
}

std::variant<ClientStream::Handover, ClientStream::Refusal> ClientStream::hand_over(ClientStream& successor,
                                                                                 std::uint32_t h) {
  if (state_ != State::kBound || sm_id_.empty()) return Refusal{"item-not-found"};  // ended meanwhile
  auto taken = give_session(successor, sm_id_, sm_inbound_.value(), sm_unacked_, csi_, h);
  if (!std::holds_alternative<Handover>(taken)) return taken;
  // This stream ends without a trace: no unavailable presence, no last
  // activity, nothing of the session (handed_over_).
  spdlog::info("{}: taken over by {}", log_id(), successor.log_id());
  sm_id_.clear();
  sm_enabled_ = false;
  // The client resumed before we noticed the broken connection, which
  // leaves a live one behind. §5: "the server SHOULD send a 'conflict'
  // stream error and close that stream"; nothing else goes out on it.
  fail(StreamCondition::kConflict, "Replaced by resumed session");
  return taken;
}

void ClientStream::sm_track_outbound(std::string bytes) {
  if (!sm_unacked_.full()) {
    sm_unacked_.push(std::move(bytes));
    if (!sm_ack_requested_ && sm_unacked_.size() >= kRequestAckAfter) {
      sm_ack_requested_ = true;
      send(fmt::format("<r xmlns='{}'/>", ns::kSm));
    }
    return;
  }
  fail(StreamCondition::kPolicyViolation, "too many unacknowledged stanzas");
}

void ClientStream::write_tracked(std::string bytes) {
  write_serialized(bytes);
  if (sm_enabled_) sm_track_outbound(std::move(bytes));
}

void ClientStream::hibernate() {
  spdlog::info("{}: connection lost; resumable for {} s", log_id(), resume_timeout_.count());
  auto asleep = std::make_shared<HibernatedSession>(
      ctx_, shard(),
      HibernatedSession::Parts{jid(), sm_id_, resume_timeout_, sm_inbound_.value(), std::move(sm_unacked_),
                               std::move(csi_), carry_away(), kind_, number_});
  move_address_to(*asleep, sm_id_);
  asleep->start();
  // This stream ends without a trace (handed_over_) and is freed once its
  // last handler has run; what still reaches it is passed on.
  sm_id_.clear();
  sm_enabled_ = false;
  state_ = State::kClosed;
  deadline_.cancel();
  close_transport();
}

}  // namespace tern::stream
