// What a client asks for in one SASL2 <authenticate/> (XEP-0388), with the
// Bind 2 (XEP-0386), FAST (XEP-0484) and stream resumption (XEP-0198)
// parts inline: parsed once, free of I/O, so the stream code reads fields
// and the parser can be fuzzed alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sasl/mechanism.h"
#include "xml/element.h"

namespace tern::stream {

// XEP-0386: the client's inline resource binding.
struct Bind2Request {
  std::string tag;             // resourceprep'd; empty: no tag given
  bool enable_sm = false;      // <enable xmlns='urn:xmpp:sm:3'/>
  bool sm_resume = false;      // that <enable/> asked for resumption
  std::uint32_t sm_max = 0;    // its 'max' (0: none)
  bool inactive = false;       // <inactive xmlns='urn:xmpp:csi:0'/>
  xml::Element element;        // the whole <bind/>, for modules (carbons)
};

// XEP-0484: token parts of the request.
struct FastRequest {
  std::string request_token;   // <request-token mechanism=…/>; empty: none asked
  bool uses_token = false;     // <fast/>: the mechanism's secret is a token
  bool invalidate = false;     // <fast invalidate='true'/>
};

// XEP-0198 §"Inline Stream Resumption": <resume/> beside <bind/>. A bad
// one does not fail authentication: it is answered with <failed/> inside
// <success/>, so the fields keep what was sent.
struct SmResumeRequest {
  std::string previd;              // empty when absent
  std::optional<std::uint32_t> h;  // nullopt: absent or not an unsignedInt
};

struct Sasl2Authenticate {
  std::string mechanism;
  // Decoded; nullopt when the client sent no <initial-response/>.
  std::optional<std::string> initial_response;
  std::string user_agent_id;   // <user-agent id=…>; empty: none
  std::optional<Bind2Request> bind;
  FastRequest fast;
  std::optional<SmResumeRequest> resume;
};

// nullopt (with the SASL condition to answer) when the request is malformed.
struct Sasl2Parse {
  std::optional<Sasl2Authenticate> request;
  sasl::Failure failure = sasl::Failure::kMalformedRequest;
};
Sasl2Parse parse_sasl2_authenticate(const xml::Element& authenticate);

// SASL2 carries data as base64 in element text; an empty element (or a
// lone '=') is empty data. nullopt when malformed.
std::optional<std::string> decode_sasl2_data(const std::string& text);

}  // namespace tern::stream
