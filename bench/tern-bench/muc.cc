// muc: --rooms rooms of --occupants occupants each (XEP-0045). Session i is
// occupant i % O of room i / O, with the nick "o<i>". The first occupant of
// each room creates it (join presence, self-presence with status 110 and
// 201) and unlocks it as an instant room (an empty muc#owner submit form:
// Tern, Prosody and ejabberd all lock new rooms until configured); then the
// others join and wait for their self-presence (110). Once the join
// presences have settled, the occupants send groupchat messages at --rate
// messages/s in total (round robin over all occupants), the body starting
// with the send time in ns as in chat; every groupchat message with a body
// an occupant receives is a delivery (the sender's own copy included, as the
// room reflects it: a message should make O deliveries).
#include <atomic>
#include <charconv>

#include "tern-bench/pacer.h"
#include "tern-bench/scenarios.h"
#include "xml/serializer.h"

namespace tern::bench {
namespace {

constexpr std::string_view kMuc = "http://jabber.org/protocol/muc";
constexpr std::string_view kMucUser = "http://jabber.org/protocol/muc#user";
constexpr const char* kCreateId = "tb-create";

struct MucPeer {
  Connection* conn = nullptr;
  std::string room;         // room@service
  std::string join;         // the join presence
  std::string message;      // "<message type='groupchat' to='room'><body>"
  std::int64_t occupant = 0;  // 0: the room's creator
  bool joined = false;      // self-presence (110) seen; written on the worker
};

struct MucPlan {
  std::vector<MucPeer> peers;                // by session index
  std::vector<std::vector<MucPeer*>> mine;   // per worker: joined occupants
  std::atomic<std::uint64_t> joined{0}, join_errors{0}, rooms_ready{0}, create_errors{0};
  bool measuring = false;  // read on the workers after an on_each barrier
};

bool has_status(const xml::Element& x, std::string_view code) {
  for (const auto* s : x.children())
    if (s->name() == "status" && s->attr_or("code") == code) return true;
  return false;
}

class MucHandler : public SessionHandler {
 public:
  explicit MucHandler(MucPlan& plan) : plan_(plan) {}

  void on_stanza(Worker& w, Connection& c, const xml::Element& el) override {
    MucPeer& me = plan_.peers[c.tag()];
    if (el.name() == "presence") return on_presence(w, me, el);
    if (el.name() == "iq" && el.attr_or("id") == kCreateId) {
      if (el.attr_or("type") == "result") {
        plan_.rooms_ready.fetch_add(1);
      } else {
        plan_.create_errors.fetch_add(1);
        w.stats.errors.add();
      }
      return;
    }
    if (el.name() != "message") return w.stats.received_other.add();
    if (el.attr_or("type") == "error") return w.stats.errors.add();
    const xml::Element* body = el.child("body");
    if (el.attr_or("type") != "groupchat" || !body) return w.stats.received_other.add();
    std::string text = body->text();
    std::uint64_t sent_at = 0;
    std::from_chars(text.data(), text.data() + text.size(), sent_at);
    std::uint64_t now = now_ns();
    w.stats.received.add();
    if (sent_at && sent_at <= now) w.stats.message_latency.record(now - sent_at);
  }

 private:
  void on_presence(Worker& w, MucPeer& me, const xml::Element& el) {
    std::string_view from = el.attr_or("from");
    bool from_room = from.substr(0, from.find('/')) == me.room;
    if (from_room && el.attr_or("type") == "error" && !me.joined) {
      me.joined = true;  // settled, as a failure
      plan_.join_errors.fetch_add(1);
      w.stats.errors.add();
      if (me.occupant == 0) plan_.create_errors.fetch_add(1);
      return;
    }
    const xml::Element* x = el.child("x", kMucUser);
    if (!from_room || !x || !has_status(*x, "110") || me.joined) return w.stats.received_other.add();
    me.joined = true;
    plan_.joined.fetch_add(1);
    if (me.occupant != 0) return;
    if (!has_status(*x, "201")) {  // the room was there already
      plan_.rooms_ready.fetch_add(1);
      return;
    }
    // An instant room (XEP-0045 §10.1.2): the owner accepts the defaults.
    std::string iq = "<iq type='set' id='";
    iq += kCreateId;
    iq += "' to='";
    xml::append_escaped_attr(iq, me.room);
    iq += "'><query xmlns='http://jabber.org/protocol/muc#owner'>"
          "<x xmlns='jabber:x:data' type='submit'/></query></iq>";
    me.conn->send(iq);
  }

  MucPlan& plan_;
};

std::string room_name(const Options& o, std::int64_t room) {
  return "tb" + std::to_string(o.rooms) + "x" + std::to_string(o.occupants) + "-" +
         std::to_string(room) + "@" + (o.muc_domain.empty() ? "conference." + o.domain : o.muc_domain);
}

// Waits until done() or `seconds` pass (or the hard deadline).
bool wait_for(Runner& runner, double seconds, const std::function<bool()>& done) {
  return runner.sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(seconds)),
                            done) &&
         done();
}

}  // namespace

int run_muc(const Env& env) {
  const Options& o = env.opt;
  MucPlan plan;
  MucHandler handler(plan);
  Runner runner(env);
  auto threads = static_cast<std::int64_t>(runner.workers().size());
  std::int64_t n = o.rooms * o.occupants;
  double rate = o.rate > 0 ? o.rate : 10;
  plan.peers.resize(static_cast<std::size_t>(n));
  plan.mine.resize(static_cast<std::size_t>(threads));
  for (std::int64_t i = 0; i < n; ++i) {
    MucPeer& p = plan.peers[static_cast<std::size_t>(i)];
    p.occupant = i % o.occupants;
    p.room = room_name(o, i / o.occupants);
    p.join = "<presence to='";
    xml::append_escaped_attr(p.join, p.room + "/o" + std::to_string(i));
    p.join += "'><x xmlns='";
    p.join += kMuc;
    p.join += "'><history maxstanzas='0'/></x></presence>";
    p.message = "<message type='groupchat' to='";
    xml::append_escaped_attr(p.message, p.room);
    p.message += "'><body>";
  }

  double cpu0 = process_cpu_seconds();
  auto t0 = Clock::now();
  runner.start();
  runner.open_sessions(n, handler);
  bool complete = runner.wait_online(n);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (std::int64_t i = 0; i < n; ++i) plan.peers[static_cast<std::size_t>(i)].conn = &runner.session(i);

  // The creators first; the others once every room is unlocked.
  auto t_join = Clock::now();
  auto join_where = [&](bool creators) {
    runner.on_each([&](Worker& w) {
      for (std::int64_t i = w.id; i < n; i += threads) {
        MucPeer& p = plan.peers[static_cast<std::size_t>(i)];
        if ((p.occupant == 0) == creators && p.conn->is_open()) p.conn->send(p.join);
      }
    });
  };
  join_where(true);
  bool rooms_ok = wait_for(runner, o.login_timeout, [&] {
    return plan.rooms_ready.load() + plan.create_errors.load() >= static_cast<std::uint64_t>(o.rooms);
  });
  runner.progress("%llu/%lld rooms created and unlocked", (unsigned long long)plan.rooms_ready.load(),
                  (long long)o.rooms);
  join_where(false);
  bool joins_ok = wait_for(runner, o.login_timeout, [&] {
    return plan.joined.load() + plan.join_errors.load() >= static_cast<std::uint64_t>(n);
  });
  double join_seconds = std::chrono::duration<double>(Clock::now() - t_join).count();
  runner.progress("%llu/%lld joined in %.2f s, %llu join errors", (unsigned long long)plan.joined.load(),
                  (long long)n, join_seconds, (unsigned long long)plan.join_errors.load());
  complete = complete && rooms_ok && joins_ok;

  // The join presences (about O x O per room) settle before measuring: a
  // slow server is still sending them long after the last self-presence,
  // and measuring then would charge them to the messages. Wait until none
  // has arrived for a second (at most 120 s).
  std::uint64_t seen = runner.live_totals().received_other;
  auto quiet_since = Clock::now();
  auto t_settle = Clock::now();
  runner.sleep_until(Clock::now() + std::chrono::seconds(120), [&] {
    std::uint64_t now_seen = runner.live_totals().received_other;
    if (now_seen != seen) {
      seen = now_seen;
      quiet_since = Clock::now();
    }
    return Clock::now() - quiet_since >= std::chrono::seconds(1);
  });
  double settle_seconds = std::chrono::duration<double>(Clock::now() - t_settle).count();
  std::int64_t senders = 0;
  runner.on_each([&](Worker& w) {
    for (std::int64_t i = w.id; i < n; i += threads) {
      MucPeer& p = plan.peers[static_cast<std::size_t>(i)];
      if (p.joined && p.conn->is_open()) plan.mine[static_cast<std::size_t>(w.id)].push_back(&p);
    }
  });
  for (const auto& m : plan.mine) senders += static_cast<std::int64_t>(m.size());
  std::uint64_t joined_ok = plan.joined.load();

  Totals before = runner.live_totals();
  double cpu_start = process_cpu_seconds();
  double server_cpu_start = read_cpu_seconds(o.server_pid);
  auto start = Clock::now();
  runner.on_each([&](Worker& w) {
    w.sending = true;
    auto& list = plan.mine[static_cast<std::size_t>(w.id)];
    if (list.empty() || senders == 0) return;
    spawn(w, pace(w, rate * double(list.size()) / double(senders), 0, [&w, &list](std::uint64_t k) {
      MucPeer& p = *list[k % list.size()];
      if (!p.conn->is_open()) return;
      thread_local std::string buf;
      buf.assign(p.message);
      buf += std::to_string(now_ns());
      buf += "</body></message>";
      p.conn->send(buf);
      w.stats.sent.add();
    }));
  });
  auto end = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.duration));
  auto last = Clock::now();
  if (complete)
    complete = runner.sleep_until(end, [&] {
      if (Clock::now() - last >= std::chrono::seconds(1)) {
        last = Clock::now();
        Totals t = runner.live_totals();
        runner.progress("sent %llu, delivered %llu", (unsigned long long)(t.sent - before.sent),
                        (unsigned long long)(t.received - before.received));
      }
      return false;
    });
  runner.on_each([](Worker& w) { w.sending = false; });
  double window = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_window = process_cpu_seconds() - cpu_start;
  double server_cpu_window = read_cpu_seconds(o.server_pid) - server_cpu_start;
  Totals at_end = runner.live_totals();
  std::uint64_t sent = at_end.sent - before.sent;
  std::uint64_t in_window = at_end.received - before.received;
  // Drain: what was sent should reach every occupant.
  std::uint64_t expected = sent * static_cast<std::uint64_t>(o.occupants);
  runner.sleep_until(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(o.drain_seconds)),
                     [&] { return runner.live_totals().received - before.received >= expected; });
  runner.stop();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  Totals t = runner.totals();
  std::uint64_t delivered = t.received - before.received;

  Report r("muc");
  r.add_int("rooms", o.rooms, "rooms");
  r.add_int("occupants", o.occupants, "occupants per room");
  r.add_int("online", static_cast<std::int64_t>(t.online), "sessions online");
  r.add_int("rooms_ready", static_cast<std::int64_t>(plan.rooms_ready.load()), "rooms created and unlocked");
  r.add_int("joined", static_cast<std::int64_t>(joined_ok), "occupants joined (110)");
  r.add_int("join_errors", static_cast<std::int64_t>(plan.join_errors.load()), "join errors");
  r.add("connect_seconds", connect_seconds, "time to connect all", "s");
  r.add("join_seconds", join_seconds, "time to create the rooms and join all", "s");
  r.add("settle_seconds", settle_seconds, "wait for the join presences to stop", "s");
  r.add("offered_rate", rate, "messages offered", "msg/s");
  r.add("duration_seconds", window, "measured", "s");
  r.add_int("sent", static_cast<std::int64_t>(sent), "messages sent");
  r.add("sent_per_second", window > 0 ? double(sent) / window : 0, "messages sent", "msg/s");
  r.add_int("deliveries", static_cast<std::int64_t>(in_window), "deliveries in the window");
  r.add("deliveries_per_second", window > 0 ? double(in_window) / window : 0, "deliveries", "/s");
  r.add_int("expected_deliveries", static_cast<std::int64_t>(expected), "expected (sent x occupants)");
  r.add_int("delivered_after_drain", static_cast<std::int64_t>(delivered), "delivered after the drain");
  r.add_int("errors", static_cast<std::int64_t>(t.errors), "error replies");
  r.add_latency("latency", t.message_latency, "latency");
  r.add("cpu_window_seconds", cpu_window, "generator CPU in window", "s");
  if (o.server_pid > 0) {
    r.add("server_cpu_window_seconds", server_cpu_window, "server CPU in window", "s");
    r.add("server_cpu_us_per_delivery", in_window ? server_cpu_window * 1e6 / double(in_window) : 0,
          "server CPU per delivery", "us");
  }
  r.add_int("failed", static_cast<std::int64_t>(t.failed), "sessions failed");
  r.add_int("dropped", static_cast<std::int64_t>(t.dropped), "sessions dropped");
  add_common_rows(r, runner, t, process_cpu_seconds() - cpu0, wall);
  r.print();
  return complete && t.failed == 0 && plan.join_errors.load() == 0 && delivered >= expected ? 0 : 1;
}

}  // namespace tern::bench
