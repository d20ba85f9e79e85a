// pep: --users online sessions publish to one PEP node of their own
// ("urn:tern:bench") at --rate publishes/s in total; every session's
// presence carries entity capabilities (XEP-0115) with "urn:tern:bench+notify"
// and answers the server's disco#info query for them, so the server
// notifies each publisher's contacts (and the publisher's own session). Every
// event notification a session receives from another account is a
// delivery: the figure to set beside the presence scenario's.
//
// The rosters are the caller's business, as for presence (each user needs
// --contacts mutually subscribed contacts, e.g. bench/roster_provision.py).
#include <openssl/evp.h>

#include "tern-bench/fanout.h"

namespace tern::bench {
namespace {

constexpr const char* kNode = "urn:tern:bench";
constexpr const char* kCapsNode = "https://tern.example/bench";
constexpr const char* kFeatures[] = {"http://jabber.org/protocol/caps",
                                     "http://jabber.org/protocol/disco#info",
                                     "urn:tern:bench+notify"};  // sorted

std::string caps_ver() {
  std::string s = "client/bot//tern-bench<";
  for (const char* f : kFeatures) s += std::string(f) + "<";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Disco#info queries are answered by the connection (Options::disco_features).
class PepHandler : public SessionHandler {
 public:
  void on_stanza(Worker& w, Connection& c, const xml::Element& el) override {
    if (el.name() != "message" || !el.child("event", "http://jabber.org/protocol/pubsub#event")) {
      if (el.attr_or("type") == "error") w.stats.errors.add();
      else w.stats.received_other.add();
      return;
    }
    std::string_view from = el.attr_or("from");
    std::string_view own = c.jid();
    if (from == own.substr(0, own.find('/'))) {
      w.stats.received_other.add();  // our own publish, to our own session
      return;
    }
    w.stats.received.add();
  }
};

}  // namespace

std::vector<std::string> pep_features() { return {std::begin(kFeatures), std::end(kFeatures)}; }

std::string pep_initial_presence() {
  return std::string("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='") +
         kCapsNode + "' ver='" + caps_ver() + "'/></presence>";
}

int run_pep(const Env& env) {
  PepHandler handler;
  auto publish = [](Connection& c, std::uint64_t, std::uint64_t sent) {
    c.send(std::string("<iq type='set' id='pub") + std::to_string(sent) +
           "'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='" + kNode +
           "'><item id='current'><tune xmlns='http://jabber.org/protocol/tune'><title>" +
           std::to_string(sent) + "</title></tune></item></publish></pubsub></iq>");
  };
  return run_fanout(env, {"pep", handler, publish, "publishes", "publishes",
                          "notifications received"});
}

}  // namespace tern::bench
