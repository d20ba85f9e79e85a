#include <gtest/gtest.h>

#include "modules/mam/query.h"
#include "xml/parse_element.h"
#include "xmpp/namespaces.h"

namespace tern::modules::mam {
namespace {

using xmpp::StanzaCondition;

std::variant<ArchiveRequest, xmpp::StanzaError> parse(std::string_view text) {
  auto e = xml::parse_element(text, ns::kClient);
  EXPECT_TRUE(e) << text;
  return parse_query(*e);
}

ArchiveRequest ok(std::string_view text) {
  auto r = parse(text);
  if (auto* err = std::get_if<xmpp::StanzaError>(&r)) {
    ADD_FAILURE() << "error " << condition_name(err->condition) << " (" << err->text << ") for " << text;
    return {};
  }
  return std::get<ArchiveRequest>(r);
}

StanzaCondition fails(std::string_view text) {
  auto r = parse(text);
  auto* err = std::get_if<xmpp::StanzaError>(&r);
  EXPECT_TRUE(err) << "no error for " << text;
  return err ? err->condition : StanzaCondition::kUndefinedCondition;
}

std::string form(std::string_view fields) {
  return "<query xmlns='urn:xmpp:mam:2' queryid='q1'><x xmlns='jabber:x:data' type='submit'>"
         "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>" +
         std::string(fields) + "</x></query>";
}

std::string rsm(std::string_view set, std::string_view extra = "") {
  return "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>" +
         std::string(set) + "</set>" + std::string(extra) + "</query>";
}

const std::int64_t kId = 123456789012345;

TEST(MamQuery, EmptyQueryIsTheWholeArchiveForwards) {
  auto r = ok("<query xmlns='urn:xmpp:mam:2'/>");
  EXPECT_TRUE(r.queryid.empty());
  EXPECT_FALSE(r.with || r.start || r.end || r.max);
  EXPECT_FALSE(r.from_end);
  auto q = to_storage_query(r, 50);
  EXPECT_EQ(q.after, 0);
  EXPECT_EQ(q.before, INT64_MAX);
  EXPECT_EQ(q.limit, 50u);
  EXPECT_FALSE(q.from_end);
}

TEST(MamQuery, FormFields) {
  auto r = ok(form("<field var='with'><value>Juliet@Capulet.lit/Balcony</value></field>"
                   "<field var='start'><value>2019-06-07T00:00:00Z</value></field>"
                   "<field var='end'><value>2030-07-07T13:23:54.5+02:00</value></field>"
                   "<field var='after-id'><value>" + encode_id(kId) + "</value></field>"
                   "<field var='before-id'><value>" + encode_id(kId + 9) + "</value></field>"
                   "<field var='ids'><value>" + encode_id(kId + 1) + "</value><value>" +
                   encode_id(kId + 2) + "</value></field>"));
  EXPECT_EQ(r.queryid, "q1");
  ASSERT_TRUE(r.with);
  EXPECT_EQ(r.with->to_string(), "juliet@capulet.lit/Balcony");
  EXPECT_EQ(r.start, parse_datetime("2019-06-07T00:00:00Z"));
  EXPECT_EQ(r.end, parse_datetime("2030-07-07T11:23:54.5Z"));
  // kId (2020-01-01T08:22Z) lies between the dates: the id bounds are the narrower.
  EXPECT_EQ(r.after_id, kId);
  EXPECT_EQ(r.before_id, kId + 9);
  EXPECT_EQ(r.ids, (std::vector<std::int64_t>{kId + 1, kId + 2}));
  EXPECT_EQ(r.named_ids(), (std::vector<std::int64_t>{kId, kId + 1, kId + 2, kId + 9}));
  auto q = to_storage_query(r, 10);
  EXPECT_EQ(q.with, "juliet@capulet.lit");
  EXPECT_EQ(q.with_resource, "Balcony");
  EXPECT_EQ(q.after, kId);
  EXPECT_EQ(q.before, kId + 9);
}

TEST(MamQuery, DatesBecomeInclusiveIdBounds) {
  auto r = ok(form("<field var='start'><value>2026-01-01T00:00:00Z</value></field>"
                   "<field var='end'><value>2026-01-02T00:00:00Z</value></field>"));
  auto q = to_storage_query(r, 10);
  const auto start = first_id_at(*parse_datetime("2026-01-01T00:00:00Z"));
  const auto end = first_id_at(*parse_datetime("2026-01-02T00:00:00Z"));
  EXPECT_EQ(q.after, start - 1);                 // an id made at 'start' is in
  EXPECT_EQ(q.before, end + (1 << kIdCounterBits));  // every id made at 'end' is in
}

TEST(MamQuery, NarrowestBoundsWin) {
  auto r = ok("<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>"
              "<field var='after-id'><value>" + encode_id(kId) + "</value></field>"
              "<field var='before-id'><value>" + encode_id(kId + 100) + "</value></field></x>"
              "<set xmlns='http://jabber.org/protocol/rsm'><after>" + encode_id(kId + 5) +
              "</after><before>" + encode_id(kId + 200) + "</before></set></query>");
  auto q = to_storage_query(r, 10);
  EXPECT_EQ(q.after, kId + 5);
  EXPECT_EQ(q.before, kId + 100);
  EXPECT_TRUE(q.from_end);
}

TEST(MamQuery, Rsm) {
  auto r = ok(rsm("<max>10</max><after>" + encode_id(kId) + "</after>", "<flip-page/>"));
  EXPECT_EQ(r.max, 10u);
  EXPECT_EQ(r.rsm_after, kId);
  EXPECT_FALSE(r.from_end);
  EXPECT_TRUE(r.flip_page);

  auto last = ok(rsm("<max>0</max><before/>"));
  EXPECT_EQ(last.max, 0u);
  EXPECT_TRUE(last.from_end);
  EXPECT_FALSE(last.rsm_before);

  auto back = ok(rsm("<before>" + encode_id(kId) + "</before>"));
  EXPECT_TRUE(back.from_end);
  EXPECT_EQ(back.rsm_before, kId);
}

TEST(MamQuery, BadInputIsBadRequest) {
  EXPECT_EQ(fails(rsm("<max>-1</max>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(rsm("<max>ten</max>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(rsm("<max></max>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(rsm("<max>99999999999999999999999</max>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(form("<field var='start'><value>yesterday</value></field>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(form("<field var='end'><value>2010-02-30T00:00:00Z</value></field>")),
            StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(form("<field var='with'><value>@@</value></field>")), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails(form("<field var='with'><value>a@b</value><value>c@d</value></field>")),
            StanzaCondition::kBadRequest);
  EXPECT_EQ(fails("<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>"
                  "<field var='FORM_TYPE'><value>urn:xmpp:mam:1</value></field></x></query>"),
            StanzaCondition::kBadRequest);
  EXPECT_EQ(fails("<query xmlns='urn:xmpp:mam:2'><bogus/></query>"), StanzaCondition::kBadRequest);
  EXPECT_EQ(fails("<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='cancel'/></query>"),
            StanzaCondition::kBadRequest);
}

TEST(MamQuery, UnknownFieldIsFeatureNotImplemented) {
  EXPECT_EQ(fails(form("<field var='{urn:example}free-text'><value>x</value></field>")),
            StanzaCondition::kFeatureNotImplemented);
  EXPECT_EQ(fails(form("<field var='include-groupchat'><value>true</value></field>")),
            StanzaCondition::kFeatureNotImplemented);
}

TEST(MamQuery, IdsWeCannotHaveIssuedAreNotFound) {
  EXPECT_EQ(fails(rsm("<after>28482-98726-73623</after>")), StanzaCondition::kItemNotFound);
  EXPECT_EQ(fails(rsm("<before>nope</before>")), StanzaCondition::kItemNotFound);
  EXPECT_EQ(fails(form("<field var='after-id'><value>x</value></field>")), StanzaCondition::kItemNotFound);
  EXPECT_EQ(fails(form("<field var='ids'><value>x</value></field>")), StanzaCondition::kItemNotFound);
}

TEST(MamQuery, EmptyFieldsAreAbsent) {
  auto r = ok(form("<field var='with'/><field var='start'><value/></field>"));
  EXPECT_FALSE(r.with);
  EXPECT_FALSE(r.start);
}

TEST(Xep0082DateTime, Profiles) {
  auto base = parse_datetime("1969-07-21T02:56:15Z");
  ASSERT_TRUE(base);
  EXPECT_EQ(base->time_since_epoch(), std::chrono::seconds(-14159025));
  EXPECT_EQ(parse_datetime("1969-07-20T21:56:15-05:00"), base);
  EXPECT_EQ(parse_datetime("1969-07-21T02:56:15.000Z"), base);
  EXPECT_EQ(parse_datetime("2024-02-29T00:00:00Z")->time_since_epoch(), std::chrono::seconds(1709164800));
  EXPECT_EQ(*parse_datetime("2024-02-29T00:00:00.25Z") - *parse_datetime("2024-02-29T00:00:00Z"),
            std::chrono::milliseconds(250));
  for (std::string_view bad : {"", "1969-07-21", "1969-07-21T02:56:15", "1969-07-21 02:56:15Z",
                               "1969-13-21T02:56:15Z", "2023-02-29T00:00:00Z", "1969-07-21T24:00:00Z",
                               "1969-07-21T02:56:15.Z", "1969-07-21T02:56:15+0500",
                               "1969-07-21T02:56:15Zjunk", "+1969-07-21T02:56:15Z"})
    EXPECT_FALSE(parse_datetime(bad)) << bad;
  // Far dates do not overflow the clock.
  EXPECT_TRUE(parse_datetime("9999-12-31T23:59:59Z"));
  EXPECT_TRUE(parse_datetime("0000-01-01T00:00:00Z"));
}

TEST(MamQuery, FormOffersTheFields) {
  auto q = query_form();
  const auto* x = q.child("x", kDataFormsNs);
  ASSERT_TRUE(x);
  std::vector<std::string> vars;
  for (const auto* f : x->children()) vars.emplace_back(f->attr_or("var"));
  EXPECT_EQ(vars, (std::vector<std::string>{"FORM_TYPE", "with", "start", "end", "before-id",
                                            "after-id", "ids"}));
}

}  // namespace
}  // namespace tern::modules::mam
