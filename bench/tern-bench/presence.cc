// presence: --users online sessions change their presence (alternately
// "away" and available) at --rate changes/s in total; every presence stanza
// a session receives from another account is a delivery.
//
// The rosters are the caller's business: each user needs --contacts
// contacts with a mutual subscription, provisioned before the run. Without
// rosters the server delivers nothing and the figure is 0.
#include "tern-bench/fanout.h"

namespace tern::bench {
namespace {

class PresenceHandler : public SessionHandler {
 public:
  void on_stanza(Worker& w, Connection& c, const xml::Element& el) override {
    if (el.name() != "presence") {
      w.stats.received_other.add();
      return;
    }
    if (el.attr_or("type") == "error") {
      w.stats.errors.add();
      return;
    }
    // Our own presence comes back to us (RFC 6121 §4.2.2): not a delivery.
    std::string_view from = el.attr_or("from");
    std::string_view own = c.jid();
    auto bare = [](std::string_view j) { return j.substr(0, j.find('/')); };
    if (bare(from) == bare(own)) {
      w.stats.received_other.add();
      return;
    }
    w.stats.received.add();
  }
};

}  // namespace

int run_presence(const Env& env) {
  PresenceHandler handler;
  // Each session alternates between away and available.
  auto change = [](Connection& c, std::uint64_t round, std::uint64_t) {
    c.send(round % 2 == 0 ? "<presence><show>away</show></presence>" : "<presence/>");
  };
  return run_fanout(env, {"presence", handler, change, "changes", "presence changes",
                          "presences received"});
}

}  // namespace tern::bench
