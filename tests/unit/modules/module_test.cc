// The module API itself: serve_iq's payload check and disco advertising,
// tokens that remove what a module registered, and the start order of the
// registry.
#include "modules/module.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "router/router_harness.h"
#include "storage/temp_dir.h"

namespace tern::modules {
namespace {

using router::IqReply;
using router::IqRequest;
using router::IqTarget;
using router::IqType;
using router::fakes::RouterHarness;
using Strings = std::vector<std::string>;

class ModuleApiTest : public ::testing::Test {
 protected:
  RouterHarness h;
  storage::testing::TempDir dir;
  std::unique_ptr<storage::Storage> storage = storage::open_storage("sqlite", dir.file("tern.db"));
  core::BlockingPool blocking{1};
  core::Config config;
  ServerFeatures features;
  std::map<std::string, std::string> options;
  ModuleContext ctx{h.router, *storage, blocking, config, features, options};
};

TEST_F(ModuleApiTest, ServeIqAnswersItsPayloadAndRefusesAnyOtherWithBadRequest) {
  auto token = ctx.serve_iq_sync({IqTarget::kServer, IqType::kGet, "urn:test", "query"},
                                 [](const IqRequest&) { return IqReply::result(); });
  auto alice = h.bind("alice@example.com/a", 0);
  h.route("<iq type='get' id='1' from='alice@example.com/a' to='example.com'>"
          "<query xmlns='urn:test'/></iq>");
  h.route("<iq type='get' id='2' from='alice@example.com/a' to='example.com'>"
          "<other xmlns='urn:test'/></iq>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find("type='result'"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("type='error'"), std::string::npos) << got[1];
  EXPECT_NE(got[1].find("<bad-request"), std::string::npos) << got[1];
}

TEST_F(ModuleApiTest, CoroutineHandlersGetThePayloadCheckToo) {
  auto token = ctx.serve_iq({IqTarget::kAccount, IqType::kSet, "urn:test", "item"},
                            [](const IqRequest&) -> awaitable<IqReply> { co_return IqReply::result(); });
  auto alice = h.bind("alice@example.com/a", 0);
  h.route("<iq type='set' id='1' from='alice@example.com/a'><item xmlns='urn:test'/></iq>");
  h.route("<iq type='set' id='2' from='alice@example.com/a'><items xmlns='urn:test'/></iq>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find("type='result'"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("<bad-request"), std::string::npos) << got[1];
}

TEST_F(ModuleApiTest, PayloadAlternativesAcceptEachNameAndNothingElse) {
  auto token = ctx.serve_iq_sync({IqTarget::kAccount, IqType::kSet, "urn:test", "enable|disable"},
                                 [](const IqRequest&) { return IqReply::result(); });
  auto alice = h.bind("alice@example.com/a", 0);
  for (const char* child : {"enable", "disable", "enabled", "able"})
    h.route(std::string("<iq type='set' id='x' from='alice@example.com/a'><") + child +
            " xmlns='urn:test'/></iq>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NE(got[0].find("type='result'"), std::string::npos) << got[0];
  EXPECT_NE(got[1].find("type='result'"), std::string::npos) << got[1];
  for (std::size_t i = 2; i < got.size(); ++i)
    EXPECT_NE(got[i].find("<bad-request"), std::string::npos) << got[i];
}

TEST_F(ModuleApiTest, ServeIqAdvertisesWhereAsked) {
  auto ok = [](const IqRequest&) { return IqReply::result(); };
  std::vector<core::HookToken> tokens;
  tokens.push_back(ctx.serve_iq_sync({IqTarget::kServer, IqType::kGet, "urn:a", "q", Advertise::kOnServer}, ok));
  tokens.push_back(ctx.serve_iq_sync({IqTarget::kAccount, IqType::kGet, "urn:b", "q", Advertise::kOnAccount}, ok));
  tokens.push_back(ctx.serve_iq_sync({IqTarget::kAccount, IqType::kSet, "urn:c", "q"}, ok));
  EXPECT_EQ(features.disco_features, Strings{"urn:a"});
  EXPECT_EQ(features.account_features, Strings{"urn:b"});
}

TEST_F(ModuleApiTest, DroppedTokenRemovesTheHandler) {
  auto token = ctx.serve_iq_sync({IqTarget::kServer, IqType::kGet, "urn:test", "query"},
                                 [](const IqRequest&) { return IqReply::result(); });
  token.reset();
  auto alice = h.bind("alice@example.com/a", 0);
  h.route("<iq type='get' id='1' from='alice@example.com/a' to='example.com'>"
          "<query xmlns='urn:test'/></iq>");
  auto got = alice->delivered();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("<service-unavailable"), std::string::npos) << got[0];
}

TEST(ModuleRegistry, StartsRosterBeforePresenceAndDiscoLast) {
  const auto& modules = builtin_modules();
  auto pos = [&](std::string_view name) {
    auto it = std::find_if(modules.begin(), modules.end(),
                           [&](const ModuleInfo& m) { return name == m.name; });
    EXPECT_NE(it, modules.end()) << name << " is not registered";
    return it - modules.begin();
  };
  EXPECT_LT(pos("roster"), pos("presence"));
  EXPECT_EQ(pos("disco"), static_cast<long>(modules.size()) - 1);
  for (const char* name : {"ping", "offline", "version", "time", "last", "vcard", "private",
                           "blocking", "register", "adhoc"})
    pos(name);
}

}  // namespace
}  // namespace tern::modules
