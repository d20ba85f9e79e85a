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
    if (sm_enabled_ && !hibernating_) send(fmt::format("<a xmlns='{}' h='{}'/>", ns::kSm, h));
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
  ctx_.resumable.add(sm_id_, {weak_from_this(), jid().to_string()});
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
  if (ctx_.config.resume_timeout_seconds <= 0) co_return ResumeRefusal{"feature-not-implemented"};
  if (!h) co_return ResumeRefusal{"bad-request"};
  auto entry = ctx_.resumable.find(previd);
  auto old = entry ? entry->session.lock() : nullptr;
  auto full = entry ? xmpp::Jid::parse(entry->full_jid) : std::nullopt;
  if (!old || !full || full->node() != user_ || full->domain() != domain_) {
    // Another account's id is as unknown to this client as an expired one.
    spdlog::info("{}: cannot resume '{:.64}'", log_id(), previd);
    co_return refuse_unknown_session(previd);
  }
  // Deliveries that reach us once the old session is ours wait in
  // resume_backlog_ until we are back on this shard.
  set_jid(*full);
  resuming_ = true;
  passed_on_ = 0;
  std::variant<Handover, ResumeRefusal> taken = ResumeRefusal{"item-not-found"};
  auto visit = ctx_.router.visit_shard_of(old, [this, &taken, h](router::Session& s) {
    taken = static_cast<ClientStream&>(s).hand_over(*this, *h);
  });
  co_await std::move(visit);
  if (std::holds_alternative<Handover>(taken)) co_await wait_for_deliveries_in_flight(old);
  resuming_ = false;
  if (auto* refused = std::get_if<ResumeRefusal>(&taken)) {
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
    sm_id_ = previd;
    end_resumability();
    ctx_.router.sessions().unbind(*this);
    router::SessionEvent ev{*this};
    ctx_.router.hooks().session_ended.run(ev);
    set_presence(false, priority());
    requeue_unacked(std::move(handover.unacked));
    requeue_unacked(std::exchange(resume_backlog_, {}));
    co_return ResumeRefusal{"item-not-found"};
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

ClientStream::ResumeRefusal ClientStream::refuse_unknown_session(const std::string& previd) const {
  // XEP-0198 §5: "If the server recogizes the 'previd' as an earlier
  // session that has timed out the server MAY also include a 'h'
  // attribute": only to the account whose session it was.
  const auto account = xmpp::Jid::from_parts(user_, domain_).bare_string();
  return ResumeRefusal{"item-not-found", ctx_.resumable.handled_when_ended(previd, account)};
}

std::string ClientStream::resume_answer_xml(const ResumeOutcome& outcome) {
  if (const auto* resumed = std::get_if<Resumption>(&outcome)) {
    std::string out = fmt::format("<resumed xmlns='{}' previd='", ns::kSm);
    xml::append_escaped_attr(out, resumed->previd);
    out += fmt::format("' h='{}'/>", resumed->inbound);
    return out;
  }
  const auto& refused = std::get<ResumeRefusal>(outcome);
  std::string out = fmt::format("<failed xmlns='{}'", ns::kSm);
  if (refused.h) out += fmt::format(" h='{}'", *refused.h);
  out += fmt::format("><{} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>{}</failed>", refused.condition,
                     refused.detail);
  return out;
}

void ClientStream::resend_after_resume(std::vector<std::string> unacked) {
  const auto resent = unacked.size();
  for (auto& stanza : unacked) write_tracked(std::move(stanza));
  for (auto& stanza : std::exchange(resume_backlog_, {})) write_tracked(std::move(stanza));
  spdlog::info("{}: resumed, {} stanzas sent again", log_id(), resent);
}

std::variant<ClientStream::Handover, ClientStream::ResumeRefusal> ClientStream::hand_over(
    ClientStream& successor, std::uint32_t h) {
  if (state_ != State::kBound || sm_id_.empty()) return ResumeRefusal{"item-not-found"};  // ended meanwhile
  if (!sm_unacked_.acknowledge(h)) {
    // §4's <handled-count-too-high/>, as a <failed/> rather than a stream
    // error: the session stays resumable by a client that counts right,
    // and our count tells this one which of its stanzas we have.
    return ResumeRefusal{
        "undefined-condition", sm_inbound_.value(),
        fmt::format("<handled-count-too-high xmlns='{}' h='{}' send-count='{}'/>", ns::kSm, h,
                    sm_unacked_.sent())};
  }
  Handover out{sm_inbound_.value(), h, sm_unacked_.take_all(), carry_away()};
  // What CSI held back was never sent: the new stream sends it.
  for (auto& held : csi_.take_held()) out.unacked.push_back(std::move(held));
  // From here stanzas for this address reach the successor.
  successor.set_presence(is_available(), priority());
  ctx_.router.sessions().bind(successor.shared_from_this());
  ctx_.resumable.add(sm_id_, {successor.weak_from_this(), jid().to_string()});
  router::SessionResumed ev{*this, successor};
  ctx_.router.hooks().session_resumed.run(ev);
  // This stream ends without a trace: no unavailable presence, no last
  // activity, nothing of the session (handed_over_).
  spdlog::info("{}: taken over by {}", log_id(), successor.log_id());
  sm_id_.clear();
  sm_enabled_ = false;
  handed_over_ = true;
  if (!hibernating_) {
    // A client that resumes before we noticed the broken connection leaves
    // a live one behind. §5: "the server SHOULD send a 'conflict' stream
    // error and close that stream"; nothing else goes out on it.
    fail(StreamCondition::kConflict, "Replaced by resumed session");
    return out;
  }
  hibernating_ = false;
  set_hibernating(false);
  state_ = State::kClosed;
  deadline_.cancel();
  close_transport();
  return out;
}

void ClientStream::sm_track_outbound(std::string bytes) {
  if (!sm_unacked_.full()) {
    sm_unacked_.push(std::move(bytes));
    if (!hibernating_ && !sm_ack_requested_ && sm_unacked_.size() >= kRequestAckAfter) {
      sm_ack_requested_ = true;
      send(fmt::format("<r xmlns='{}'/>", ns::kSm));
    }
    return;
  }
  if (hibernating_) {
    // Asleep with a full queue: the session ends, nothing is dropped.
    end_hibernation();
    return requeue_unacked({std::move(bytes)});
  }
  fail(StreamCondition::kPolicyViolation, "too many unacknowledged stanzas");
}

void ClientStream::write_tracked(std::string bytes) {
  if (!hibernating_) write_serialized(bytes);
  if (sm_enabled_) sm_track_outbound(std::move(bytes));
}

void ClientStream::hibernate() {
  spdlog::info("{}: connection lost; resumable for {} s", log_id(), resume_timeout_.count());
  hibernating_ = true;
  set_hibernating(true);
  hibernated_at_ = std::chrono::steady_clock::now();
  sm_ack_requested_ = false;
  deadline_.cancel();  // the watchdog now waits for the resume timeout
  close_transport();
  release_connection_state();
}

void ClientStream::end_hibernation() {
  hibernating_ = false;
  set_hibernating(false);
  end_resumability();
  finish();  // unbinds, tells contacts, and requeues what was never acknowledged
}

void ClientStream::end_resumability() {
  if (sm_id_.empty()) return;
  spdlog::info("{}: session over; a late resume hears h={}", log_id(), sm_inbound_.value());
  ctx_.resumable.end(std::exchange(sm_id_, {}), this, jid().bare_string(), sm_inbound_.value());
}

// XEP-0198 §5 and RFC 6121 §8.5.3.2.1: what the client never acknowledged
// is not lost with its session. Messages are routed again as if sent to the
// bare JID (another resource, or offline storage); iq requests get an error;
// presence is dropped, since the contact's next one supersedes it.
void ClientStream::requeue_unacked(std::vector<std::string> stanzas) {
  if (!stanzas.empty()) spdlog::info("{}: {} unacknowledged stanzas routed again", log_id(), stanzas.size());
  for (const auto& text : stanzas) {
    auto stanza = xml::parse_element(text, ns::kClient);
    if (!stanza) continue;
    const auto type = std::string(stanza->attr_or("type"));
    auto from = xmpp::Jid::parse(stanza->attr_or("from"));
    auto to = xmpp::Jid::parse(stanza->attr_or("to"));
    if (stanza->name() == "message" && from && to && type != "error" && type != "groupchat") {
      ctx_.router.route_to_bare(std::move(*stanza), *from, to->bare());
    } else if (stanza->name() == "iq" && (type == "get" || type == "set")) {
      ctx_.router.bounce(*stanza, StanzaError(StanzaCondition::kRecipientUnavailable));
    }
  }
}

}  // namespace tern::stream
