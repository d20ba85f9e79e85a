#include "modules/upload/protocol.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "modules/upload/upload.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::modules::upload {
namespace {

xml::Element parse(std::string_view text) {
  auto el = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(el.has_value()) << text;
  return el ? *el : xml::Element();
}

TEST(SlotRequest, ReadsTheXepExample) {
  auto r = parse_slot_request(parse(
      "<request xmlns='urn:xmpp:http:upload:0' filename='très cool.jpg' size='23456' "
      "content-type='image/jpeg'/>"));
  ASSERT_TRUE(std::holds_alternative<SlotRequest>(r));
  const auto& slot = std::get<SlotRequest>(r);
  EXPECT_EQ(slot.filename, "très cool.jpg");
  EXPECT_EQ(slot.size, 23456u);
  EXPECT_EQ(slot.content_type, "image/jpeg");
}

TEST(SlotRequest, ContentTypeIsOptional) {
  auto r = parse_slot_request(parse("<request xmlns='urn:xmpp:http:upload:0' filename='a' size='1'/>"));
  ASSERT_TRUE(std::holds_alternative<SlotRequest>(r));
  EXPECT_EQ(std::get<SlotRequest>(r).content_type, "");
}

xmpp::StanzaCondition refusal(std::string_view attrs) {
  auto r = parse_slot_request(parse("<request xmlns='urn:xmpp:http:upload:0' " + std::string(attrs) + "/>"));
  EXPECT_TRUE(std::holds_alternative<BadRequest>(r)) << attrs;
  return std::holds_alternative<BadRequest>(r) ? std::get<BadRequest>(r).condition
                                               : xmpp::StanzaCondition::kUndefinedCondition;
}

TEST(SlotRequest, RefusesBadSizes) {
  using C = xmpp::StanzaCondition;
  EXPECT_EQ(refusal("filename='a'"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size=''"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size='-1'"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size='+1'"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size='1 '"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size='0'"), C::kBadRequest);
  EXPECT_EQ(refusal("filename='a' size='99999999999999999999999'"), C::kBadRequest);
}

TEST(SlotRequest, RefusesBadNamesAsNotAcceptable) {
  using C = xmpp::StanzaCondition;
  EXPECT_EQ(refusal("filename='../x' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='a/b' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='a\\b' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='..' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='a&#9;b' size='1'"), C::kNotAcceptable);
  EXPECT_EQ(refusal("filename='a' size='1' content-type='text'"), C::kBadRequest);
}

TEST(FileName, Rules) {
  EXPECT_TRUE(is_acceptable_filename("photo.jpg"));
  EXPECT_TRUE(is_acceptable_filename("..hidden"));
  EXPECT_TRUE(is_acceptable_filename("日本語.txt"));
  EXPECT_FALSE(is_acceptable_filename(std::string(256, 'a')));
  EXPECT_FALSE(is_acceptable_filename("a\nb"));
  EXPECT_FALSE(is_acceptable_filename("a\x7f"));
  EXPECT_FALSE(is_acceptable_filename("\xff"));                // not UTF-8
  EXPECT_FALSE(is_acceptable_filename("\xc0\xaf"));            // overlong '/'
  EXPECT_FALSE(is_acceptable_filename("\xe2\x80\xae" "gpj.exe"));  // right-to-left override
  EXPECT_FALSE(is_acceptable_filename("a\xc3"));               // cut sequence
}

TEST(ContentType, Rules) {
  EXPECT_TRUE(is_acceptable_content_type("image/jpeg"));
  EXPECT_TRUE(is_acceptable_content_type("text/plain; charset=utf-8"));
  EXPECT_TRUE(is_acceptable_content_type("application/vnd.oasis.opendocument.text"));
  EXPECT_FALSE(is_acceptable_content_type("image"));
  EXPECT_FALSE(is_acceptable_content_type("/jpeg"));
  EXPECT_FALSE(is_acceptable_content_type("image/"));
  EXPECT_FALSE(is_acceptable_content_type("image/jpeg\r\nX-Evil: 1"));
}

TEST(SlotId, RandomHex) {
  auto a = make_slot_id();
  auto b = make_slot_id();
  EXPECT_TRUE(is_slot_id(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(is_slot_id("../../../../etc/passwd00000000000"));
  EXPECT_FALSE(is_slot_id(std::string(32, 'A')));
  EXPECT_FALSE(is_slot_id(std::string(31, 'a')));
}

TEST(UploadPath, SplitsAndChecks) {
  const std::string id(32, 'a');
  auto p = parse_upload_path(id + "/tr%C3%A8s%20cool.jpg");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, id);
  EXPECT_EQ(p->filename, "très cool.jpg");
  EXPECT_FALSE(parse_upload_path(id));
  EXPECT_FALSE(parse_upload_path(id + "/"));
  EXPECT_FALSE(parse_upload_path(id + "/a/b"));
  EXPECT_FALSE(parse_upload_path(id + "/..%2Fetc"));
  EXPECT_FALSE(parse_upload_path(id + "/%2E%2E"));
  EXPECT_FALSE(parse_upload_path("../" + id + "/a"));
}

TEST(PutToken, BindsIdSizeAndType) {
  const std::string id(32, 'b');
  auto header = put_authorization("secret", id, 10, "image/png");
  EXPECT_EQ(header.rfind("Bearer ", 0), 0u);
  EXPECT_EQ(header.size(), 7u + 64u);
  EXPECT_TRUE(is_authorized("secret", header, id, 10, "image/png"));
  EXPECT_FALSE(is_authorized("other", header, id, 10, "image/png"));
  EXPECT_FALSE(is_authorized("secret", header, id, 11, "image/png"));
  EXPECT_FALSE(is_authorized("secret", header, id, 10, "image/jpeg"));
  EXPECT_FALSE(is_authorized("secret", header, std::string(32, 'c'), 10, "image/png"));
  EXPECT_FALSE(is_authorized("secret", "", id, 10, "image/png"));
  EXPECT_FALSE(is_authorized("secret", header.substr(0, 20), id, 10, "image/png"));
}

TEST(SlotAnswer, HasPutWithHeaderAndGet) {
  auto slot = slot_element("https://h/upload/x/a", "https://h/upload/x/a", "Bearer t");
  EXPECT_EQ(slot.ns(), kUploadNs);
  const auto* put = slot.child("put", kUploadNs);
  ASSERT_TRUE(put);
  EXPECT_EQ(put->attr_or("url"), "https://h/upload/x/a");
  ASSERT_TRUE(put->child("header", kUploadNs));
  EXPECT_EQ(put->child("header", kUploadNs)->attr_or("name"), "Authorization");
  EXPECT_EQ(put->child_text("header", kUploadNs), "Bearer t");
  ASSERT_TRUE(slot.child("get", kUploadNs));
}

TEST(Meta, RoundTrip) {
  FileMeta m{"alice@example.org", "a b\nc.txt", 42, "text/plain", 1700000000};
  // A newline is not an acceptable name: it never gets stored.
  m.filename = "a b%c.txt";
  auto back = parse_meta_text(to_meta_text(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->owner, m.owner);
  EXPECT_EQ(back->filename, m.filename);
  EXPECT_EQ(back->size, 42u);
  EXPECT_EQ(back->content_type, "text/plain");
  EXPECT_EQ(back->created, 1700000000);
  EXPECT_FALSE(parse_meta_text("owner a\nname b\n"));
  EXPECT_FALSE(parse_meta_text("garbage"));
}

TEST(BaseUrl, FromListenersOrOption) {
  core::ListenConfig listen;  // defaults: http [::]:5280, https [::]:5281
  EXPECT_EQ(base_url_of("", listen, "example.org"), "https://example.org:5281/upload");
  listen.https.clear();
  EXPECT_EQ(base_url_of("", listen, "example.org"), "http://example.org:5280/upload");
  listen.http = {"0.0.0.0:80"};
  EXPECT_EQ(base_url_of("", listen, "example.org"), "http://example.org/upload");
  listen.http.clear();
  EXPECT_EQ(base_url_of("", listen, "example.org"), "");
  EXPECT_EQ(base_url_of("https://files.example.org/", listen, "example.org"),
            "https://files.example.org/upload");
}

}  // namespace
}  // namespace tern::modules::upload
