"""XEP-0163 personal eventing (pubsub on every account, XEP-0060): publish
with generated and given item ids and auto-created nodes, publish-options
preconditions, items retrieval (max_items, ids, RSM), retract with notify,
purge, delete, node configuration, access models and their refusals,
+notify filtering through entity capabilities (XEP-0115, the server asks
disco#info once per caps hash and checks it), the last item on coming
online, disco of the account, persistence over a restart, and slixmpp's
xep_0060 plugin. Most tests drive the wire with RawClient so that they can
assert the XML the XEPs require."""

import base64
import hashlib
import sqlite3

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, q, stanza_error, unique_user, xml

PASSWORD = "pep secret"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_OWNER = NS_PUBSUB + "#owner"
NS_EVENT = NS_PUBSUB + "#event"
NS_ERRORS = NS_PUBSUB + "#errors"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_DATA = "jabber:x:data"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DELAY = "urn:xmpp:delay"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
TUNE = "http://jabber.org/protocol/tune"
CAPS_NODE = "https://tern.example/test"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def new_user(server, prefix="p"):
    jid = "%s@localhost" % unique_user(prefix)
    server.add_user(jid, PASSWORD)
    return jid


def login(server, jid, resource="pep"):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource)
    return c


def befriend(server, a, b):
    """Mutual presence subscription, written straight into the store: these
    tests are about PEP, not about how subscriptions come to be."""
    db = sqlite3.connect(str(server.data_dir / "tern.db"), timeout=10)
    try:
        for owner, contact in ((a, b), (b, a)):
            user, domain = owner.split("@")
            db.execute("INSERT INTO roster (owner_user, owner_domain, jid, subscription)"
                       " VALUES (?, ?, ?, 'both')", (user, domain, contact))
        db.commit()
    finally:
        db.close()


def caps_features(notify_nodes):
    return sorted([NS_INFO, NS_CAPS] + ["%s+notify" % n for n in notify_nodes])


def caps_ver(features):
    s = "client/pc//tern-test<" + "".join(f + "<" for f in sorted(features))
    return base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def send_caps_presence(client, notify_nodes):
    features = caps_features(notify_nodes)
    client.caps_features = features
    client.send("<presence><c xmlns='%s' hash='sha-1' node='%s' ver='%s'/></presence>"
                % (NS_CAPS, CAPS_NODE, caps_ver(features)))


def is_caps_query(el):
    query = el.find(q(NS_INFO, "query"))
    return (el.tag == q(NS_CLIENT, "iq") and el.get("type") == "get" and query is not None
            and query.get("node", "").startswith(CAPS_NODE + "#"))


def answer_caps_query(client, el):
    query = el.find(q(NS_INFO, "query"))
    feats = "".join("<feature var='%s'/>" % f for f in client.caps_features)
    client.send("<iq type='result' id='%s' to='%s'><query xmlns='%s' node='%s'>"
                "<identity category='client' type='pc' name='tern-test'/>%s</query></iq>"
                % (el.get("id"), el.get("from"), NS_INFO, query.get("node"), feats))


def answer_caps_if_asked(client, timeout=3.0):
    """The server asks a resource with an unknown caps hash once; answers it
    if it comes. Returns whatever else arrived meanwhile."""
    others = []
    for el in client.sync():
        if is_caps_query(el):
            answer_caps_query(client, el)
        else:
            others.append(el)
    return others + client.sync()


_iq_ids = __import__("itertools").count(1)


def stash(client):
    """What arrived while waiting for an iq reply (events may come first)."""
    if not hasattr(client, "pep_stash"):
        client.pep_stash = []
    return client.pep_stash


def iq(client, type_, payload, to=None, timeout=5.0):
    """client.iq, keeping the other traffic in stash(client)."""
    iq_id = "pep%d" % next(_iq_ids)
    to_attr = " to='%s'" % to if to else ""
    client.send("<iq type='%s' id='%s'%s>%s</iq>" % (type_, iq_id, to_attr, payload))
    while True:
        el = client.next_element(timeout)
        if el.tag == q(NS_CLIENT, "iq") and el.get("id") == iq_id and el.get("type") in ("result", "error"):
            return el
        if is_caps_query(el) and hasattr(client, "caps_features"):
            answer_caps_query(client, el)
            continue
        stash(client).append(el)


def received(client):
    """Everything received so far (stash and a sync round trip)."""
    out = stash(client)[:]
    del stash(client)[:]
    return out + client.sync()


def pubsub_iq(client, type_, inner, ns=NS_PUBSUB, to=None):
    return iq(client, type_, "<pubsub xmlns='%s'>%s</pubsub>" % (ns, inner), to=to)


def publish(client, node, payload, item_id=None, options=None, to=None):
    id_attr = " id='%s'" % item_id if item_id else ""
    opts = ""
    if options:
        fields = "".join("<field var='%s'><value>%s</value></field>" % kv for kv in options.items())
        opts = ("<publish-options><x xmlns='%s' type='submit'><field var='FORM_TYPE' type='hidden'>"
                "<value>%s#publish-options</value></field>%s</x></publish-options>"
                % (NS_DATA, NS_PUBSUB, fields))
    return pubsub_iq(client, "set", "<publish node='%s'><item%s>%s</item></publish>%s"
                     % (node, id_attr, payload, opts), to=to)


def tune(title):
    return "<tune xmlns='%s'><title>%s</title></tune>" % (TUNE, title)


def item_ids(reply):
    items = reply.find("%s/%s" % (q(NS_PUBSUB, "pubsub"), q(NS_PUBSUB, "items")))
    assert items is not None, xml(reply)
    return [i.get("id") for i in items.findall(q(NS_PUBSUB, "item"))]


def get_items(client, owner, node, extra="", attrs=""):
    return iq(client, "get", "<pubsub xmlns='%s'><items node='%s'%s/>%s</pubsub>"
                     % (NS_PUBSUB, node, attrs, extra), to=owner)


def error_tags(el):
    err = el.find(q(NS_CLIENT, "error"))
    assert err is not None, "no <error/> in %s" % xml(el)
    return err.get("type"), {c.tag for c in err}


def events(elements, node=None):
    out = []
    for el in elements:
        if el.tag != q(NS_CLIENT, "message"):
            continue
        ev = el.find(q(NS_EVENT, "event"))
        if ev is None:
            continue
        items = ev.find(q(NS_EVENT, "items"))
        if node is None or (items is not None and items.get("node") == node):
            out.append(el)
    return out


def wait_event(client, node, timeout=5.0):
    for i, el in enumerate(stash(client)):
        if events([el], node):
            del stash(client)[i]
            return el
    return client.wait_for(lambda el: bool(events([el], node)), timeout, "event for %s" % node)


# --------------------------------------------------------------------------
# publish, items, retract, purge, delete, configure
# --------------------------------------------------------------------------

def test_publish_autocreates_the_node_and_items_return_it(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    res = publish(a, TUNE, tune("first"), item_id="t1")
    assert res.get("type") == "result", xml(res)
    pub = res.find("%s/%s" % (q(NS_PUBSUB, "pubsub"), q(NS_PUBSUB, "publish")))
    assert pub.get("node") == TUNE
    assert pub.find(q(NS_PUBSUB, "item")).get("id") == "t1"
    # Without an id the server makes one and says which (§7.1.2).
    res = publish(a, TUNE, tune("second"))
    gen = res.find(".//%s" % q(NS_PUBSUB, "item")).get("id")
    assert gen
    # The default node keeps one item (max_items 1).
    reply = get_items(a, alice, TUNE)
    assert reply.get("type") == "result", xml(reply)
    assert item_ids(reply) == [gen]
    assert reply.find(".//{%s}title" % TUNE).text == "second"
    # No 'to' addresses one's own account too.
    assert item_ids(get_items(a, None, TUNE)) == [gen]


def test_items_max_items_ids_and_rsm(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    node = "urn:example:list"
    for i in range(1, 6):
        res = publish(a, node, "<n xmlns='urn:example'>%d</n>" % i, item_id="i%d" % i,
                      options={"pubsub#max_items": "max"})
        assert res.get("type") == "result", xml(res)
    assert item_ids(get_items(a, alice, node)) == ["i5", "i4", "i3", "i2", "i1"]
    assert item_ids(get_items(a, alice, node, attrs=" max_items='2'")) == ["i5", "i4"]
    by_id = iq(a, "get", "<pubsub xmlns='%s'><items node='%s'><item id='i2'/><item id='nope'/>"
                 "</items></pubsub>" % (NS_PUBSUB, node))
    assert item_ids(by_id) == ["i2"]
    page = get_items(a, alice, node, extra="<set xmlns='%s'><max>2</max></set>" % NS_RSM)
    assert item_ids(page) == ["i5", "i4"]
    rsm = page.find(".//%s" % q(NS_RSM, "set"))
    assert rsm.findtext(q(NS_RSM, "count")) == "5"
    assert rsm.findtext(q(NS_RSM, "last")) == "i4"
    page2 = get_items(a, alice, node,
                      extra="<set xmlns='%s'><max>2</max><after>i4</after></set>" % NS_RSM)
    assert item_ids(page2) == ["i3", "i2"]


def test_retract_notifies_purge_and_delete(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    send_caps_presence(a, [TUNE])
    answer_caps_if_asked(a)
    node = TUNE
    assert publish(a, node, tune("x"), item_id="r1").get("type") == "result"
    wait_event(a, node)
    res = pubsub_iq(a, "set", "<retract node='%s' notify='true'><item id='r1'/></retract>" % node)
    assert res.get("type") == "result", xml(res)
    ev = wait_event(a, node)
    assert ev.find(".//%s" % q(NS_EVENT, "retract")).get("id") == "r1"
    assert item_ids(get_items(a, alice, node)) == []
    res = pubsub_iq(a, "set", "<retract node='%s'><item id='r1'/></retract>" % node)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "item-not-found")]
    assert publish(a, node, tune("y"), item_id="r2").get("type") == "result"
    assert pubsub_iq(a, "set", "<purge node='%s'/>" % node, ns=NS_OWNER).get("type") == "result"
    assert item_ids(get_items(a, alice, node)) == []
    assert pubsub_iq(a, "set", "<delete node='%s'/>" % node, ns=NS_OWNER).get("type") == "result"
    res = get_items(a, alice, node)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "item-not-found")]
    res = pubsub_iq(a, "set", "<delete node='%s'/>" % node, ns=NS_OWNER)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "item-not-found")]


def test_configure_form_and_default(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    node = "urn:example:conf"
    assert publish(a, node, "<x xmlns='urn:example'/>").get("type") == "result"
    res = pubsub_iq(a, "get", "<configure node='%s'/>" % node, ns=NS_OWNER)
    assert res.get("type") == "result", xml(res)
    form = res.find(".//%s" % q(NS_DATA, "x"))
    fields = {f.get("var"): [v.text for v in f.findall(q(NS_DATA, "value"))]
              for f in form.findall(q(NS_DATA, "field"))}
    assert fields["FORM_TYPE"] == [NS_PUBSUB + "#node_config"]
    assert fields["pubsub#access_model"] == ["presence"]
    assert fields["pubsub#max_items"] == ["1"]
    res = pubsub_iq(a, "set", "<configure node='%s'><x xmlns='%s' type='submit'>"
                    "<field var='FORM_TYPE' type='hidden'><value>%s#node_config</value></field>"
                    "<field var='pubsub#max_items'><value>3</value></field>"
                    "<field var='pubsub#access_model'><value>open</value></field>"
                    "</x></configure>" % (node, NS_DATA, NS_PUBSUB), ns=NS_OWNER)
    assert res.get("type") == "result", xml(res)
    for i in range(4):
        publish(a, node, "<x xmlns='urn:example'/>", item_id="c%d" % i)
    assert item_ids(get_items(a, alice, node)) == ["c3", "c2", "c1"]
    res = pubsub_iq(a, "set", "<configure node='%s'><x xmlns='%s' type='submit'>"
                    "<field var='pubsub#access_model'><value>bogus</value></field>"
                    "</x></configure>" % (node, NS_DATA), ns=NS_OWNER)
    assert stanza_error(res)[1] == [q(NS_STANZAS, "not-acceptable")]
    res = pubsub_iq(a, "get", "<default/>", ns=NS_OWNER)
    assert res.find(".//%s" % q(NS_DATA, "x")) is not None, xml(res)


def test_publish_options_create_the_node_and_are_preconditions(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    node = "urn:xmpp:bookmarks:1"
    opts = {"pubsub#persist_items": "true", "pubsub#max_items": "max",
            "pubsub#send_last_published_item": "never", "pubsub#access_model": "whitelist"}
    res = publish(a, node, "<conference xmlns='%s' name='Room'/>" % node,
                  item_id="room@conference.localhost", options=opts)
    assert res.get("type") == "result", xml(res)
    # The same options again: met.
    res = publish(a, node, "<conference xmlns='%s' name='Other'/>" % node,
                  item_id="other@conference.localhost", options=opts)
    assert res.get("type") == "result", xml(res)
    assert len(item_ids(get_items(a, alice, node))) == 2
    # Different options: conflict + precondition-not-met (XEP-0060 §7.1.5).
    res = publish(a, node, "<conference xmlns='%s'/>" % node, item_id="x@y",
                  options={"pubsub#access_model": "open"})
    assert res.get("type") == "error", xml(res)
    typ, tags = error_tags(res)
    assert typ == "cancel"
    assert q(NS_STANZAS, "conflict") in tags
    assert q(NS_ERRORS, "precondition-not-met") in tags
    assert len(item_ids(get_items(a, alice, node))) == 2


def test_access_models_refuse_with_the_xep_errors(tern_server):
    alice, bob, eve = new_user(tern_server), new_user(tern_server), new_user(tern_server)
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    e = login(tern_server, eve)
    assert publish(a, TUNE, tune("for friends")).get("type") == "result"
    # presence: a contact with a subscription reads, a stranger does not.
    assert len(item_ids(get_items(b, alice, TUNE))) == 1
    res = get_items(e, alice, TUNE)
    typ, tags = error_tags(res)
    assert typ == "auth"
    assert q(NS_STANZAS, "not-authorized") in tags
    assert q(NS_ERRORS, "presence-subscription-required") in tags
    # whitelist: even a contact is refused until made a member.
    secret = "urn:example:secret"
    assert publish(a, secret, "<s xmlns='urn:example'/>",
                   options={"pubsub#access_model": "whitelist"}).get("type") == "result"
    res = get_items(b, alice, secret)
    typ, tags = error_tags(res)
    assert typ == "cancel"
    assert q(NS_STANZAS, "not-allowed") in tags and q(NS_ERRORS, "closed-node") in tags
    res = pubsub_iq(a, "set", "<affiliations node='%s'><affiliation jid='%s' affiliation='member'/>"
                    "</affiliations>" % (secret, bob), ns=NS_OWNER)
    assert res.get("type") == "result", xml(res)
    assert len(item_ids(get_items(b, alice, secret))) == 1
    # open: anyone.
    pub = "urn:example:public"
    assert publish(a, pub, "<p xmlns='urn:example'/>",
                   options={"pubsub#access_model": "open"}).get("type") == "result"
    assert len(item_ids(get_items(e, alice, pub))) == 1
    # Only the owner publishes, configures, deletes.
    res = publish(b, TUNE, tune("not mine"), to=alice)
    assert error_tags(res)[1] >= {q(NS_STANZAS, "forbidden")}
    res = pubsub_iq(b, "set", "<delete node='%s'/>" % TUNE, ns=NS_OWNER, to=alice)
    assert error_tags(res)[1] >= {q(NS_STANZAS, "forbidden")}


def test_payload_limit_and_malformed_requests(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    big = "<big xmlns='urn:example'>%s</big>" % ("x" * 140000)
    res = publish(a, "urn:example:big", big)
    typ, tags = error_tags(res)
    assert q(NS_STANZAS, "not-acceptable") in tags and q(NS_ERRORS, "payload-too-big") in tags
    res = pubsub_iq(a, "set", "<publish/>")
    assert q(NS_ERRORS, "nodeid-required") in error_tags(res)[1]
    res = pubsub_iq(a, "set", "<frobnicate node='x'/>")
    assert q(NS_STANZAS, "feature-not-implemented") in error_tags(res)[1]


# --------------------------------------------------------------------------
# notifications: +notify filtering, last item on coming online
# --------------------------------------------------------------------------

def test_contact_with_notify_gets_the_event_and_one_without_gets_nothing(tern_server):
    alice, bob, carol = (new_user(tern_server) for _ in range(3))
    befriend(tern_server, alice, bob)
    befriend(tern_server, alice, carol)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    c = login(tern_server, carol)
    send_caps_presence(b, [TUNE])
    send_caps_presence(c, ["urn:example:other"])
    send_caps_presence(a, [])
    for client in (a, b, c):
        answer_caps_if_asked(client)
    res = publish(a, TUNE, tune("Song"), item_id="s1")
    assert res.get("type") == "result", xml(res)
    ev = wait_event(b, TUNE)
    assert ev.get("from") == alice
    assert ev.get("type") == "headline"
    item = ev.find(".//%s" % q(NS_EVENT, "item"))
    assert item.get("id") == "s1"
    assert item.find(q(TUNE, "tune")).findtext(q(TUNE, "title")) == "Song"
    # carol's caps lack tune+notify, and alice's own resource did not ask.
    assert events(received(c), TUNE) == []
    assert events(received(a), TUNE) == []


def test_last_item_reaches_a_contact_coming_online_and_own_new_resource(tern_server):
    alice, bob = new_user(tern_server), new_user(tern_server)
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    a.send("<presence/>")
    assert publish(a, TUNE, tune("Earlier"), item_id="e1").get("type") == "result"
    b = login(tern_server, bob)
    send_caps_presence(b, [TUNE])

    def is_caps_query_or_event(el):
        return is_caps_query(el) or bool(events([el], TUNE))

    el = b.wait_for(is_caps_query_or_event, 5.0, "caps query or event")
    if is_caps_query(el):
        answer_caps_query(b, el)
        el = wait_event(b, TUNE)
    assert el.find(".//%s" % q(NS_EVENT, "item")).get("id") == "e1"
    assert el.find(q(NS_DELAY, "delay")) is not None
    # A second resource of the owner, same caps (known now): no query.
    a2 = login(tern_server, alice, resource="second")
    send_caps_presence(a2, [TUNE])
    ev = wait_event(a2, TUNE)
    assert ev.find(".//%s" % q(NS_EVENT, "item")).get("id") == "e1"


def test_caps_with_a_wrong_hash_are_not_trusted(tern_server):
    alice, bob = new_user(tern_server), new_user(tern_server)
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    # Claims a ver that does not match what its disco#info says.
    b.caps_features = caps_features([TUNE])
    b.send("<presence><c xmlns='%s' hash='sha-1' node='%s' ver='%s'/></presence>"
           % (NS_CAPS, CAPS_NODE, "bm90IHRoZSByaWdodCBoYXNoIQ=="))
    answer_caps_if_asked(b)
    assert publish(a, TUNE, tune("x")).get("type") == "result"
    assert events(received(b), TUNE) == []


# --------------------------------------------------------------------------
# disco, persistence, slixmpp
# --------------------------------------------------------------------------

def test_account_disco_says_pep_and_lists_nodes(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    info = iq(a, "get", "<query xmlns='%s'/>" % NS_INFO, to=alice)
    ids = {(i.get("category"), i.get("type")) for i in info.iter(q(NS_INFO, "identity"))}
    assert ("pubsub", "pep") in ids and ("account", "registered") in ids
    feats = {f.get("var") for f in info.iter(q(NS_INFO, "feature"))}
    assert NS_PUBSUB + "#publish-options" in feats
    assert NS_PUBSUB + "#publish" in feats
    assert publish(a, TUNE, tune("x")).get("type") == "result"
    items = iq(a, "get", "<query xmlns='%s'/>" % NS_ITEMS, to=alice)
    nodes = {(i.get("jid"), i.get("node")) for i in items.iter(q(NS_ITEMS, "item"))}
    assert (alice, TUNE) in nodes


def test_nodes_and_items_survive_a_restart(tern_factory):
    server = tern_factory()
    alice = new_user(server)
    a = login(server, alice)
    assert publish(a, "urn:example:keep", "<k xmlns='urn:example'>v</k>", item_id="k1",
                   options={"pubsub#access_model": "open"}).get("type") == "result"
    a.close()
    server.stop()
    server.start()
    a = login(server, alice)
    reply = get_items(a, alice, "urn:example:keep")
    assert item_ids(reply) == ["k1"]
    res = pubsub_iq(a, "get", "<configure node='urn:example:keep'/>", ns=NS_OWNER)
    assert "open" in xml(res)


def test_slixmpp_xep_0060_publish_and_get(tern_server):
    alice = new_user(tern_server)

    async def scenario():
        client = await slix_login(alice, PASSWORD, tern_server.c2s_port)
        try:
            client.register_plugin("xep_0060")
            from slixmpp.xmlstream import ET as SET
            payload = SET.fromstring("<entry xmlns='urn:example:slix'>hello</entry>")
            await client["xep_0060"].publish(None, "urn:example:slix", id="s1", payload=payload)
            result = await client["xep_0060"].get_items(None, "urn:example:slix")
            ids = [i["id"] for i in result["pubsub"]["items"]]
            assert ids == ["s1"]
        finally:
            client.drop()

    run(scenario())
