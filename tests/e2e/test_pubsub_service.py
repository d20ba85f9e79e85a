"""XEP-0060 publish-subscribe service at pubsub.<domain>: listed in the
server's disco#items, create (instant and with a configuration), publish
with notifications to subscribers, subscribe and unsubscribe (with the last
item after the result), retract, purge, delete, affiliations management,
access-model refusals (whitelist) and what only owners may do. Raw stanzas
assert the XML the XEP requires; slixmpp's xep_0060 plugin drives a
subscription as a client library does."""

import asyncio

from clients import run, slix_login
from conftest import NS_CLIENT, q, stanza_error, xml
from test_pep import (NS_DATA, NS_ERRORS, NS_EVENT, NS_INFO, NS_ITEMS, NS_OWNER, NS_PUBSUB,
                      NS_STANZAS, PASSWORD, error_tags, events, iq, item_ids, login, new_user,
                      publish, pubsub_iq, received, wait_event)

SERVICE = "pubsub.localhost"


def create(client, node, options=None):
    conf = "<configure/>"
    if options:
        fields = "".join("<field var='%s'><value>%s</value></field>" % kv for kv in options.items())
        conf = ("<configure><x xmlns='%s' type='submit'><field var='FORM_TYPE' type='hidden'>"
                "<value>%s#node_config</value></field>%s</x></configure>" % (NS_DATA, NS_PUBSUB, fields))
    return pubsub_iq(client, "set", "<create node='%s'/>%s" % (node, conf), to=SERVICE)


def subscribe(client, node):
    return pubsub_iq(client, "set", "<subscribe node='%s' jid='%s'/>" % (node, client.jid), to=SERVICE)


def items(client, node):
    return pubsub_iq(client, "get", "<items node='%s'/>" % node, to=SERVICE)


def test_service_is_discoverable(tern_server):
    a = login(tern_server, new_user(tern_server))
    res = iq(a, "get", "<query xmlns='%s'/>" % NS_ITEMS, to="localhost")
    assert SERVICE in {i.get("jid") for i in res.iter(q(NS_ITEMS, "item"))}, xml(res)
    info = iq(a, "get", "<query xmlns='%s'/>" % NS_INFO, to=SERVICE)
    ids = {(i.get("category"), i.get("type")) for i in info.iter(q(NS_INFO, "identity"))}
    assert ("pubsub", "service") in ids
    feats = {f.get("var") for f in info.iter(q(NS_INFO, "feature"))}
    assert NS_PUBSUB + "#create-nodes" in feats and NS_PUBSUB + "#subscribe" in feats


def test_create_publish_notify_subscribers_retract_purge_delete(tern_server):
    owner, sub = new_user(tern_server), new_user(tern_server)
    o = login(tern_server, owner)
    s = login(tern_server, sub)
    node = "news-%s" % owner.split("@")[0]
    assert create(o, node).get("type") == "result"
    res = create(o, node)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "conflict")]
    res = subscribe(s, node)
    assert res.get("type") == "result", xml(res)
    sub_el = res.find(".//%s" % q(NS_PUBSUB, "subscription"))
    assert sub_el.get("subscription") == "subscribed" and sub_el.get("node") == node
    res = publish(o, node, "<entry xmlns='urn:example'>one</entry>", item_id="e1", to=SERVICE)
    assert res.get("type") == "result", xml(res)
    ev = wait_event(s, node)
    assert ev.get("from") == SERVICE
    assert ev.find(".//%s" % q(NS_EVENT, "item")).get("id") == "e1"
    assert ev.find(".//{urn:example}entry").text == "one"
    # A subscriber may not publish (publish_model publishers).
    res = publish(s, node, "<entry xmlns='urn:example'/>", to=SERVICE)
    assert q(NS_STANZAS, "forbidden") in error_tags(res)[1]
    assert item_ids(items(s, node)) == ["e1"]
    res = pubsub_iq(o, "set", "<retract node='%s' notify='true'><item id='e1'/></retract>" % node, to=SERVICE)
    assert res.get("type") == "result", xml(res)
    ev = wait_event(s, node)
    assert ev.find(".//%s" % q(NS_EVENT, "retract")).get("id") == "e1"
    publish(o, node, "<entry xmlns='urn:example'>two</entry>", item_id="e2", to=SERVICE)
    wait_event(s, node)
    assert pubsub_iq(o, "set", "<purge node='%s'/>" % node, ns=NS_OWNER, to=SERVICE).get("type") == "result"
    purged = s.wait_for(lambda el: el.find(".//%s" % q(NS_EVENT, "purge")) is not None, 5.0, "purge event")
    assert purged.find(".//%s" % q(NS_EVENT, "purge")).get("node") == node
    # Only the owner deletes; the subscriber hears of it.
    res = pubsub_iq(s, "set", "<delete node='%s'/>" % node, ns=NS_OWNER, to=SERVICE)
    assert q(NS_STANZAS, "forbidden") in error_tags(res)[1]
    assert pubsub_iq(o, "set", "<delete node='%s'/>" % node, ns=NS_OWNER, to=SERVICE).get("type") == "result"
    deleted = s.wait_for(lambda el: el.find(".//%s" % q(NS_EVENT, "delete")) is not None, 5.0, "delete event")
    assert deleted.find(".//%s" % q(NS_EVENT, "delete")).get("node") == node
    assert stanza_error(items(s, node))[1] == [q(NS_STANZAS, "item-not-found")]


def test_unsubscribed_get_nothing_and_last_item_follows_subscribe(tern_server):
    owner, sub = new_user(tern_server), new_user(tern_server)
    o = login(tern_server, owner)
    s = login(tern_server, sub)
    node = "last-%s" % owner.split("@")[0]
    assert create(o, node).get("type") == "result"
    publish(o, node, "<entry xmlns='urn:example'>before</entry>", item_id="b1", to=SERVICE)
    assert subscribe(s, node).get("type") == "result"
    ev = wait_event(s, node)
    assert ev.find(".//%s" % q(NS_EVENT, "item")).get("id") == "b1"
    res = pubsub_iq(s, "get", "<subscriptions/>", to=SERVICE)
    subs = [(e.get("node"), e.get("subscription")) for e in res.iter(q(NS_PUBSUB, "subscription"))]
    assert (node, "subscribed") in subs
    res = pubsub_iq(s, "set", "<unsubscribe node='%s' jid='%s'/>" % (node, s.jid), to=SERVICE)
    assert res.get("type") == "result", xml(res)
    res = pubsub_iq(s, "set", "<unsubscribe node='%s' jid='%s'/>" % (node, s.jid), to=SERVICE)
    assert q(NS_ERRORS, "not-subscribed") in error_tags(res)[1]
    publish(o, node, "<entry xmlns='urn:example'>after</entry>", to=SERVICE)
    assert events(received(s), node) == []
    # Someone else's JID cannot be subscribed.
    res = pubsub_iq(s, "set", "<subscribe node='%s' jid='%s'/>" % (node, o.jid), to=SERVICE)
    assert q(NS_ERRORS, "invalid-jid") in error_tags(res)[1]


def test_whitelist_and_affiliations(tern_server):
    owner, member, stranger = new_user(tern_server), new_user(tern_server), new_user(tern_server)
    o = login(tern_server, owner)
    m = login(tern_server, member)
    x = login(tern_server, stranger)
    node = "closed-%s" % owner.split("@")[0]
    assert create(o, node, {"pubsub#access_model": "whitelist"}).get("type") == "result"
    publish(o, node, "<entry xmlns='urn:example'/>", item_id="w1", to=SERVICE)
    for client in (m, x):
        res = subscribe(client, node)
        typ, tags = error_tags(res)
        assert q(NS_STANZAS, "not-allowed") in tags and q(NS_ERRORS, "closed-node") in tags
    res = pubsub_iq(o, "set", "<affiliations node='%s'><affiliation jid='%s' affiliation='member'/>"
                    "<affiliation jid='%s' affiliation='outcast'/></affiliations>" % (node, member, stranger),
                    ns=NS_OWNER, to=SERVICE)
    assert res.get("type") == "result", xml(res)
    assert item_ids(items(m, node)) == ["w1"]
    assert q(NS_STANZAS, "forbidden") in error_tags(items(x, node))[1]
    res = pubsub_iq(o, "get", "<affiliations node='%s'/>" % node, ns=NS_OWNER, to=SERVICE)
    affs = {(a.get("jid"), a.get("affiliation")) for a in res.iter(q(NS_OWNER, "affiliation"))}
    assert {(owner, "owner"), (member, "member"), (stranger, "outcast")} <= affs
    # Non-owners neither configure nor manage.
    res = pubsub_iq(m, "get", "<configure node='%s'/>" % node, ns=NS_OWNER, to=SERVICE)
    assert q(NS_STANZAS, "forbidden") in error_tags(res)[1]
    res = pubsub_iq(m, "get", "<affiliations node='%s'/>" % node, ns=NS_OWNER, to=SERVICE)
    assert q(NS_STANZAS, "forbidden") in error_tags(res)[1]
    # A publisher may publish.
    pubsub_iq(o, "set", "<affiliations node='%s'><affiliation jid='%s' affiliation='publisher'/>"
              "</affiliations>" % (node, member), ns=NS_OWNER, to=SERVICE)
    assert publish(m, node, "<entry xmlns='urn:example'/>", to=SERVICE).get("type") == "result"


def test_instant_node_and_configure(tern_server):
    o = login(tern_server, new_user(tern_server))
    res = pubsub_iq(o, "set", "<create/>", to=SERVICE)
    assert res.get("type") == "result", xml(res)
    node = res.find(".//%s" % q(NS_PUBSUB, "create")).get("node")
    assert node
    res = pubsub_iq(o, "set", "<configure node='%s'><x xmlns='%s' type='submit'>"
                    "<field var='pubsub#max_items'><value>2</value></field>"
                    "<field var='pubsub#title'><value>Instant</value></field></x></configure>"
                    % (node, NS_DATA), ns=NS_OWNER, to=SERVICE)
    assert res.get("type") == "result", xml(res)
    for i in range(3):
        publish(o, node, "<e xmlns='urn:example'/>", item_id="i%d" % i, to=SERVICE)
    assert item_ids(items(o, node)) == ["i2", "i1"]
    res = pubsub_iq(o, "set", "<configure node='%s'><x xmlns='%s' type='submit'>"
                    "<field var='pubsub#access_model'><value>presence</value></field></x></configure>"
                    % (node, NS_DATA), ns=NS_OWNER, to=SERVICE)
    assert q(NS_STANZAS, "not-acceptable") in error_tags(res)[1]
    res = iq(o, "get", "<query xmlns='%s'/>" % NS_ITEMS, to=SERVICE)
    assert (node, "Instant") in {(i.get("node"), i.get("name")) for i in res.iter(q(NS_ITEMS, "item"))}


def test_slixmpp_subscribes_and_gets_the_event(tern_server):
    owner, sub = new_user(tern_server), new_user(tern_server)
    o = login(tern_server, owner)
    node = "slix-%s" % owner.split("@")[0]
    assert create(o, node).get("type") == "result"

    async def scenario():
        client = await slix_login(sub, PASSWORD, tern_server.c2s_port)
        try:
            client.register_plugin("xep_0060")
            got = asyncio.get_event_loop().create_future()
            client.add_event_handler("pubsub_publish",
                                     lambda msg: got.done() or got.set_result(msg))
            await client["xep_0060"].subscribe(SERVICE, node)
            publish(o, node, "<entry xmlns='urn:example'>slix</entry>", item_id="s1", to=SERVICE)
            msg = await asyncio.wait_for(got, 5)
            assert msg["pubsub_event"]["items"]["item"]["id"] == "s1"
        finally:
            client.drop()

    run(scenario())


# --------------------------------------------------------------------------
# subscription options (§6.3)
# --------------------------------------------------------------------------

SUB_OPTIONS = NS_PUBSUB + "#subscribe_options"


def options_form(fields, form_type=SUB_OPTIONS):
    inner = "".join("<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % v for v in
                                                                  (vals if isinstance(vals, list) else [vals])))
                    for var, vals in fields.items())
    return ("<x xmlns='%s' type='submit'><field var='FORM_TYPE' type='hidden'><value>%s</value></field>%s</x>"
            % (NS_DATA, form_type, inner))


def get_options(client, node, jid=None):
    jid_attr = "" if jid == "" else " jid='%s'" % (jid or client.jid)
    return pubsub_iq(client, "get", "<options node='%s'%s/>" % (node, jid_attr), to=SERVICE)


def set_options(client, node, fields, jid=None):
    return pubsub_iq(client, "set", "<options node='%s' jid='%s'>%s</options>"
                     % (node, jid or client.jid, options_form(fields)), to=SERVICE)


def form_values(el):
    x = el.find(".//%s" % q(NS_DATA, "x"))
    assert x is not None, xml(el)
    return x.get("type"), {f.get("var"): [v.text or "" for v in f.findall(q(NS_DATA, "value"))]
                           for f in x.findall(q(NS_DATA, "field"))}


def app_errors(el):
    return {c.tag for c in el.find(q(NS_CLIENT, "error")) if c.tag.startswith("{%s}" % NS_ERRORS)}


def owned_node(tern_server, prefix):
    owner = new_user(tern_server)
    o = login(tern_server, owner)
    node = "%s-%s" % (prefix, owner.split("@")[0])
    assert create(o, node).get("type") == "result"
    return o, node


def event_count(client, node):
    return len(events(received(client), node))


def test_subscription_options_are_advertised_and_answered_with_the_form(tern_server):
    o, node = owned_node(tern_server, "opts")
    info = iq(o, "get", "<query xmlns='%s'/>" % NS_INFO, to=SERVICE)
    assert NS_PUBSUB + "#subscription-options" in {f.get("var") for f in info.iter(q(NS_INFO, "feature"))}
    s = login(tern_server, new_user(tern_server))
    assert subscribe(s, node).get("type") == "result"
    res = get_options(s, node)
    assert res.get("type") == "result", xml(res)
    opts = res.find("%s/%s" % (q(NS_PUBSUB, "pubsub"), q(NS_PUBSUB, "options")))
    assert opts.get("node") == node and opts.get("jid") == s.jid
    ftype, fields = form_values(res)
    assert ftype == "form"
    assert fields["FORM_TYPE"] == [SUB_OPTIONS]
    assert fields["pubsub#deliver"] == ["1"]
    assert fields["pubsub#digest"] == ["0"]
    assert fields["pubsub#include_body"] == ["0"]
    assert fields["pubsub#show-values"] == []


def test_deliver_false_stops_notifications_until_switched_back_on(tern_server):
    o, node = owned_node(tern_server, "deliver")
    s = login(tern_server, new_user(tern_server))
    assert subscribe(s, node).get("type") == "result"
    res = set_options(s, node, {"pubsub#deliver": "false"})
    assert res.get("type") == "result", xml(res)
    assert form_values(get_options(s, node))[1]["pubsub#deliver"] == ["0"]
    assert publish(o, node, "<entry xmlns='urn:example'>quiet</entry>", to=SERVICE).get("type") == "result"
    assert event_count(s, node) == 0
    assert set_options(s, node, {"pubsub#deliver": "1"}).get("type") == "result"
    publish(o, node, "<entry xmlns='urn:example'>loud</entry>", item_id="loud", to=SERVICE)
    ev = wait_event(s, node)
    assert ev.find(".//%s" % q(NS_EVENT, "item")).get("id") == "loud"


def test_subscribe_with_options_in_one_request_and_include_body(tern_server):
    o, node = owned_node(tern_server, "body")
    s = login(tern_server, new_user(tern_server))
    res = pubsub_iq(s, "set", "<subscribe node='%s' jid='%s'/><options>%s</options>"
                    % (node, s.jid, options_form({"pubsub#include_body": "1"})), to=SERVICE)
    assert res.get("type") == "result", xml(res)
    sub = res.find(".//%s" % q(NS_PUBSUB, "subscription"))
    assert sub.get("subscription") == "subscribed"
    ftype, fields = form_values(res.find(".//%s" % q(NS_PUBSUB, "options")))
    assert ftype == "result"
    assert fields["pubsub#include_body"] == ["1"] and fields["pubsub#deliver"] == ["1"]
    publish(o, node, "<entry xmlns='urn:example'>with body</entry>", item_id="b1", to=SERVICE)
    ev = wait_event(s, node)
    assert ev.find(".//%s" % q(NS_EVENT, "item")).get("id") == "b1"
    assert ev.findtext(q(NS_CLIENT, "body")), xml(ev)
    # Without the option, no body.
    s2 = login(tern_server, new_user(tern_server))
    assert subscribe(s2, node).get("type") == "result"
    publish(o, node, "<entry xmlns='urn:example'/>", item_id="b2", to=SERVICE)
    assert wait_event(s2, node).find(q(NS_CLIENT, "body")) is None


def test_show_values_hold_notifications_back_while_the_presence_does_not_match(tern_server):
    o, node = owned_node(tern_server, "show")
    s = login(tern_server, new_user(tern_server))
    s.send("<presence><show>dnd</show></presence>")
    assert subscribe(s, node).get("type") == "result"
    assert set_options(s, node, {"pubsub#show-values": ["chat", "online"]}).get("type") == "result"
    assert form_values(get_options(s, node))[1]["pubsub#show-values"] == ["chat", "online"]
    publish(o, node, "<entry xmlns='urn:example'/>", item_id="busy", to=SERVICE)
    assert event_count(s, node) == 0
    s.send("<presence/>")
    s.sync()
    publish(o, node, "<entry xmlns='urn:example'/>", item_id="free", to=SERVICE)
    assert wait_event(s, node).find(".//%s" % q(NS_EVENT, "item")).get("id") == "free"


def test_subscription_options_errors(tern_server):
    o, node = owned_node(tern_server, "errs")
    s = login(tern_server, new_user(tern_server))
    # Not subscribed (yet).
    res = get_options(s, node)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "unexpected-request")], xml(res)
    assert app_errors(res) == {q(NS_ERRORS, "not-subscribed")}
    assert subscribe(s, node).get("type") == "result"
    # No JID.
    res = get_options(s, node, jid="")
    assert stanza_error(res)[1] == [q(NS_STANZAS, "bad-request")], xml(res)
    assert app_errors(res) == {q(NS_ERRORS, "jid-required")}
    # Someone else's subscription.
    res = get_options(s, node, jid=o.jid)
    assert stanza_error(res) == ("auth", [q(NS_STANZAS, "forbidden")]), xml(res)
    # A JID that is none.
    res = get_options(s, node, jid="@@bad@@")
    assert stanza_error(res)[1] == [q(NS_STANZAS, "bad-request")], xml(res)
    assert app_errors(res) == {q(NS_ERRORS, "invalid-jid")}
    # Options this service cannot honour: digests, unknown show values, non-booleans.
    for fields in ({"pubsub#digest": "1"}, {"pubsub#show-values": "sleeping"}, {"pubsub#deliver": "maybe"}):
        res = set_options(s, node, fields)
        assert stanza_error(res)[1] == [q(NS_STANZAS, "bad-request")], xml(res)
        assert app_errors(res) == {q(NS_ERRORS, "invalid-options")}
    assert form_values(get_options(s, node))[1]["pubsub#deliver"] == ["1"]  # unchanged
    # No such node.
    res = get_options(s, node + "-missing")
    assert stanza_error(res)[1] == [q(NS_STANZAS, "item-not-found")], xml(res)
    # <options/> beside <subscribe/> must not name a node or jid (§6.3.7).
    res = pubsub_iq(s, "set", "<subscribe node='%s' jid='%s'/><options node='%s'>%s</options>"
                    % (node, s.jid, node, options_form({})), to=SERVICE)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "bad-request")], xml(res)


def test_subscription_options_survive_a_restart(tern_factory):
    server = tern_factory()
    owner, sub = new_user(server), new_user(server)
    o = login(server, owner)
    s = login(server, sub, resource="keep")
    node = "restart-%s" % owner.split("@")[0]
    assert create(o, node).get("type") == "result"
    assert subscribe(s, node).get("type") == "result"
    assert set_options(s, node, {"pubsub#deliver": "0", "pubsub#show-values": ["away"]}).get("type") == "result"
    o.close()
    s.close()
    server.stop()
    server.start()
    o = login(server, owner)
    s = login(server, sub, resource="keep")
    fields = form_values(get_options(s, node))[1]
    assert fields["pubsub#deliver"] == ["0"] and fields["pubsub#show-values"] == ["away"]
    publish(o, node, "<entry xmlns='urn:example'/>", to=SERVICE)
    assert event_count(s, node) == 0
