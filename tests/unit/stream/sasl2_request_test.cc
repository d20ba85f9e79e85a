#include "stream/sasl2_request.h"

#include <gtest/gtest.h>

#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::stream {
namespace {

Sasl2Parse parse(const std::string& text) {
  auto el = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(el) << text;
  return parse_sasl2_authenticate(*el);
}

TEST(Sasl2Request, FullRequest) {
  auto p = parse(
      "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'>"
      "<initial-response>AHUAcA==</initial-response>"
      "<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>x</software></user-agent>"
      "<bind xmlns='urn:xmpp:bind:0'><tag>Phone</tag><enable xmlns='urn:xmpp:sm:3' resume='true' max='60'/>"
      "<inactive xmlns='urn:xmpp:csi:0'/><enable xmlns='urn:xmpp:carbons:2'/></bind>"
      "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"
      "<fast xmlns='urn:xmpp:fast:0' invalidate='1'/></authenticate>");
  ASSERT_TRUE(p.request);
  const auto& r = *p.request;
  EXPECT_EQ(r.mechanism, "PLAIN");
  EXPECT_EQ(*r.initial_response, std::string("\0u\0p", 4));
  EXPECT_EQ(r.user_agent_id, "d4565fa7-4d72-4749-b3d3-740edbf87770");
  ASSERT_TRUE(r.bind);
  EXPECT_EQ(r.bind->tag, "Phone");
  EXPECT_TRUE(r.bind->enable_sm);
  EXPECT_TRUE(r.bind->sm_resume);
  EXPECT_EQ(r.bind->sm_max, 60u);
  EXPECT_TRUE(r.bind->inactive);
  EXPECT_TRUE(r.bind->element.child("enable", "urn:xmpp:carbons:2"));
  EXPECT_EQ(r.fast.request_token, "HT-SHA-256-NONE");
  EXPECT_TRUE(r.fast.uses_token);
  EXPECT_TRUE(r.fast.invalidate);
}

TEST(Sasl2Request, MinimalRequest) {
  auto p = parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'/>");
  ASSERT_TRUE(p.request);
  EXPECT_FALSE(p.request->initial_response);
  EXPECT_FALSE(p.request->bind);
  EXPECT_TRUE(p.request->user_agent_id.empty());
}

TEST(Sasl2Request, EmptyInitialResponseIsEmptyData) {
  auto p = parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'><initial-response/></authenticate>");
  ASSERT_TRUE(p.request);
  ASSERT_TRUE(p.request->initial_response);
  EXPECT_TRUE(p.request->initial_response->empty());
}

TEST(Sasl2Request, Malformed) {
  EXPECT_FALSE(parse("<authenticate xmlns='urn:xmpp:sasl:2'/>").request);  // no mechanism
  auto bad64 = parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'>"
                     "<initial-response>!!!</initial-response></authenticate>");
  EXPECT_FALSE(bad64.request);
  EXPECT_EQ(bad64.failure, sasl::Failure::kIncorrectEncoding);
  EXPECT_FALSE(parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'><user-agent id='" +
                     std::string(200, 'a') + "'/></authenticate>").request);
  EXPECT_FALSE(parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'>"
                     "<request-token xmlns='urn:xmpp:fast:0'/></authenticate>").request);
}

TEST(Sasl2Request, InlineResumeBesideBind) {
  auto p = parse(
      "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'>"
      "<resume xmlns='urn:xmpp:sm:3' previd='0f1e2d3c' h='4294967295'/>"
      "<bind xmlns='urn:xmpp:bind:0'><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>"
      "</authenticate>");
  ASSERT_TRUE(p.request);
  ASSERT_TRUE(p.request->resume);
  EXPECT_EQ(p.request->resume->previd, "0f1e2d3c");
  EXPECT_EQ(p.request->resume->h, 4294967295u);
  ASSERT_TRUE(p.request->bind);
  EXPECT_TRUE(p.request->bind->enable_sm);
}

TEST(Sasl2Request, NoResumeWithoutTheElementInItsNamespace) {
  EXPECT_FALSE(parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'/>").request->resume);
  EXPECT_FALSE(parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'>"
                     "<resume xmlns='urn:xmpp:sm:2' previd='a' h='0'/></authenticate>")
                   .request->resume);
}

// A bad <resume/> is answered inside <success/> (<failed><bad-request/>), so
// it must not fail authentication: the request parses, with no count.
TEST(Sasl2Request, BadResumeCountIsKeptAsMissingNotRefused) {
  for (const char* h : {"", "-1", "4294967296", "1x", " 1", "0x10"}) {
    auto p = parse(std::string("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'>"
                               "<resume xmlns='urn:xmpp:sm:3' previd='a' h='") + h + "'/></authenticate>");
    ASSERT_TRUE(p.request) << h;
    ASSERT_TRUE(p.request->resume) << h;
    EXPECT_FALSE(p.request->resume->h) << h;
  }
  auto p = parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'>"
                 "<resume xmlns='urn:xmpp:sm:3'/></authenticate>");
  ASSERT_TRUE(p.request && p.request->resume);
  EXPECT_TRUE(p.request->resume->previd.empty());
  EXPECT_FALSE(p.request->resume->h);
}

TEST(Sasl2Request, BadEnableMaxMeansNoMax) {
  auto p = parse("<authenticate xmlns='urn:xmpp:sasl:2' mechanism='X'><bind xmlns='urn:xmpp:bind:0'>"
                 "<enable xmlns='urn:xmpp:sm:3' max='soon'/></bind></authenticate>");
  ASSERT_TRUE(p.request && p.request->bind);
  EXPECT_EQ(p.request->bind->sm_max, 0u);
}

}  // namespace
}  // namespace tern::stream
