// Modules as the server runs them, below the stream layer: a real router on
// shard threads (RouterHarness), a SQLite store in a temp directory, and the
// modules a test names, started through their TERN_MODULE entry with a
// ModuleContext. Tests then speak to the modules only through what they
// registered: iq handlers (iq()), hooks (route(), end_session()), and look at
// what the fake sessions received.
//
//   ModuleHarness h;
//   h.start({"roster"});
//   auto alice = h.login("alice");
//   auto reply = h.iq(alice, "get", "<query xmlns='jabber:iq:roster'/>");
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "modules/module.h"
#include "router/router_harness.h"
#include "storage/temp_dir.h"
#include "xml/serializer.h"

namespace tern::modules::testing {

using router::fakes::FakeSession;
using router::fakes::kDomain;
using router::fakes::parse_stanza;
using Session = std::shared_ptr<FakeSession>;

class ModuleHarness {
 public:
  explicit ModuleHarness(unsigned shard_count = 1) : h(shard_count) {
    config.domains = {std::string(kDomain)};
  }
  ~ModuleHarness() {
    // Let what the modules set off finish, then drop their registrations
    // while the router they registered with still stands.
    h.settle();
    modules.clear();
  }

  // Starts the built-in modules called `names`, in the order given (the
  // server's order is by rank: name roster before presence, as it does).
  // `options`: [modules.<name>] tables, by module name.
  void start(std::initializer_list<std::string_view> names,
             std::map<std::string, std::map<std::string, std::string>> options = {}) {
    for (auto name : names) {
      const auto& all = builtin_modules();
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const ModuleInfo& m) { return name == m.name; });
      ASSERT_NE(it, all.end()) << name << " is not a built-in module";
      options_[std::string(name)] = options[std::string(name)];
      config.module_options[std::string(name)] = options_[std::string(name)];
    }
    for (auto name : names) {
      const auto& all = builtin_modules();
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const ModuleInfo& m) { return name == m.name; });
      ModuleContext ctx{h.router, *storage, blocking, config, features, options_[std::string(name)]};
      modules.push_back(it->start(ctx));
    }
  }

  // Creates the account `user`@example.com in the store.
  void add_account(const std::string& user) {
    ASSERT_TRUE(storage->accounts().create({user, std::string(kDomain)}, "secret")) << user;
  }
  // Creates the account (if needed) and binds a session for it, available
  // when `available` (no presence is routed: the session is simply marked).
  Session login(const std::string& user, const std::string& resource = "r", bool available = false,
                int priority = 0, unsigned shard = 0) {
    if (!storage->accounts().exists({user, std::string(kDomain)})) add_account(user);
    return h.bind(user + "@" + std::string(kDomain) + "/" + resource, priority, available, shard);
  }
  // What the stream does when a session goes: unbind, then session_ended.
  void end_session(const Session& s) {
    h.run_on(s->shard(), [&] {
      h.router.sessions().unbind(*s);
      router::SessionEvent ev{*s};
      h.router.hooks().session_ended.run(ev);
    });
  }

  // Routes a stanza (with 'from' stamped, as a stream does) on shard 0.
  void route(std::string_view text, unsigned shard = 0) { h.route(text, shard); }

  // Sends <iq type=`type`> with `payload` from `s` (to `to`, or the sender's
  // own account when empty) and returns the reply, waiting for it.
  xml::Element iq(const Session& s, std::string_view type, std::string_view payload,
                  std::string_view to = {}) {
    const std::string id = "h" + std::to_string(++ids_);
    std::string text = "<iq type='" + std::string(type) + "' id='" + id + "' from='" +
                       s->jid().to_string() + "'";
    if (!to.empty()) text += " to='" + std::string(to) + "'";
    text += ">" + std::string(payload) + "</iq>";
    route(text, s->shard());
    auto reply = wait_for(s, [&](const xml::Element& e) {
      return e.name() == "iq" && e.attr_or("id") == id;
    });
    if (!reply) {
      ADD_FAILURE() << "no reply to " << text;
      return xml::Element("iq", "jabber:client");
    }
    return *reply;
  }

  // Everything `s` received so far, parsed.
  static std::vector<xml::Element> received(const Session& s) {
    std::vector<xml::Element> out;
    for (const auto& text : s->delivered()) out.push_back(parse_stanza(text));
    return out;
  }
  // The stanzas `s` received that `match`, waiting up to `timeout` for at
  // least `count` of them (storage work runs off the shards, so settle()
  // alone does not see it through).
  std::vector<xml::Element> wait_for_all(const Session& s,
                                         const std::function<bool(const xml::Element&)>& match,
                                         std::size_t count = 1,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::vector<xml::Element> found;
      for (auto& e : received(s))
        if (match(e)) found.push_back(std::move(e));
      if (found.size() >= count || std::chrono::steady_clock::now() >= deadline) return found;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      h.settle();
    }
  }
  std::optional<xml::Element> wait_for(const Session& s,
                                       const std::function<bool(const xml::Element&)>& match) {
    auto found = wait_for_all(s, match);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }
  // Lets in-flight storage work end, then says whether `s` got anything
  // matching (for "nothing arrives" checks).
  bool got_any(const Session& s, const std::function<bool(const xml::Element&)>& match,
               std::chrono::milliseconds grace = std::chrono::milliseconds(200)) {
    return !wait_for_all(s, match, 1, grace).empty();
  }

  // The condition of an error reply ("" for a result).
  static std::string error_of(const xml::Element& stanza) {
    const auto* err = stanza.child("error");
    if (!err) return "";
    for (const auto* c : err->children())
      if (c->name() != "text") return c->name();
    return "?";
  }

  storage::testing::TempDir dir;
  std::unique_ptr<storage::Storage> storage = storage::open_storage("sqlite", dir.file("tern.db"));
  core::BlockingPool blocking{2};
  router::fakes::RouterHarness h;
  core::Config config;
  ServerFeatures features;
  // Last: stopped first.
  std::vector<std::unique_ptr<Module>> modules;

 private:
  std::map<std::string, std::map<std::string, std::string>> options_;
  int ids_ = 0;
};

}  // namespace tern::modules::testing
