// XEP-0004 data forms: what the commands send and what they accept back.
#include "modules/adhoc/data_form.h"

#include <gtest/gtest.h>

#include "router/router_harness.h"
#include "xml/serializer.h"

namespace tern::modules::adhoc {
namespace {

xml::Element x_of(std::string_view iq) {
  auto stanza = router::fakes::parse_stanza(iq);
  return *stanza.children().front()->child("x", kDataFormsNs);
}

TEST(AdhocDataForm, BuildsFieldsInOrderWithTypesRequiredValuesOptions) {
  DataForm form;
  form.title = "Adding a User";
  form.instructions = "Fill out this form.";
  form.add("FORM_TYPE", "hidden").values.push_back("http://jabber.org/protocol/admin");
  form.add("accountjid", "jid-single", "The JID").required = true;
  auto& max = form.add("max_items", "list-single");
  max.options.push_back({"25", "25"});
  max.options.push_back({"None", "none"});
  EXPECT_EQ(xml::to_string(to_element(form), "jabber:client"),
            "<x xmlns='jabber:x:data' type='form'><title>Adding a User</title>"
            "<instructions>Fill out this form.</instructions>"
            "<field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/admin</value></field>"
            "<field type='jid-single' var='accountjid' label='The JID'><required/></field>"
            "<field type='list-single' var='max_items'><option label='25'><value>25</value></option>"
            "<option label='None'><value>none</value></option></field></x>");
}

TEST(AdhocDataForm, ParsesASubmission) {
  auto form = parse_form(x_of(
      "<iq type='set' id='1'><command xmlns='http://jabber.org/protocol/commands' node='n'>"
      "<x xmlns='jabber:x:data' type='submit'>"
      "<field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/admin</value></field>"
      "<field var='accountjids'><value>a@example.com</value><value>b@example.com</value></field>"
      "<field var='password'><value>s3cret</value></field>"
      "<field var='empty'/>"
      "</x></command></iq>"));
  ASSERT_TRUE(form);
  EXPECT_EQ(form->type, "submit");
  EXPECT_EQ(form->form_type(), "http://jabber.org/protocol/admin");
  EXPECT_EQ(form->values("accountjids"), (std::vector<std::string>{"a@example.com", "b@example.com"}));
  EXPECT_EQ(form->value("password"), "s3cret");
  ASSERT_NE(form->field("empty"), nullptr);
  EXPECT_EQ(form->value("empty"), "");
  EXPECT_EQ(form->field("missing"), nullptr);
  EXPECT_TRUE(form->values("missing").empty());
}

TEST(AdhocDataForm, RoundTrips) {
  DataForm form;
  form.type = "result";
  form.add("FORM_TYPE", "hidden").values.push_back("urn:x");
  auto& f = form.add("onlineuserjids", "jid-multi", "Online");
  f.values = {"a@example.com", "b@example.com"};
  auto back = parse_form(to_element(form));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "result");
  ASSERT_EQ(back->fields.size(), 2u);
  EXPECT_EQ(back->fields[1].var, "onlineuserjids");
  EXPECT_EQ(back->fields[1].type, "jid-multi");
  EXPECT_EQ(back->fields[1].label, "Online");
  EXPECT_EQ(back->fields[1].values, f.values);
}

TEST(AdhocDataForm, RefusesWhatXep0004Forbids) {
  // Unknown form type.
  EXPECT_FALSE(parse_form(x_of(
      "<iq type='set' id='1'><c xmlns='urn:c'><x xmlns='jabber:x:data' type='bogus'/></c></iq>")));
  // No type at all.
  EXPECT_FALSE(parse_form(x_of("<iq type='set' id='1'><c xmlns='urn:c'><x xmlns='jabber:x:data'/></c></iq>")));
  // A field without var (only 'fixed' may lack one).
  EXPECT_FALSE(parse_form(x_of(
      "<iq type='set' id='1'><c xmlns='urn:c'><x xmlns='jabber:x:data' type='submit'>"
      "<field><value>v</value></field></x></c></iq>")));
  EXPECT_TRUE(parse_form(x_of(
      "<iq type='set' id='1'><c xmlns='urn:c'><x xmlns='jabber:x:data' type='form'>"
      "<field type='fixed'><value>Section 1</value></field></x></c></iq>")));
  // Two values in a single-valued field.
  EXPECT_FALSE(parse_form(x_of(
      "<iq type='set' id='1'><c xmlns='urn:c'><x xmlns='jabber:x:data' type='submit'>"
      "<field var='a' type='text-single'><value>1</value><value>2</value></field></x></c></iq>")));
  // Another element altogether.
  EXPECT_FALSE(parse_form(xml::Element("x", "jabber:x:oob")));
}

}  // namespace
}  // namespace tern::modules::adhoc
