"""The everyday services with a real client (slixmpp) and, where the library
hides the wire, the RawClient: service discovery (XEP-0030), software version
(XEP-0092), entity time (XEP-0202), vcard-temp (XEP-0054) and private XML
storage (XEP-0049)."""

import asyncio
import datetime
import platform
import re

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, q, stanza_error, unique_user, xml

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ElementBase, ET

PASSWORD = "services secret"

NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_VERSION = "jabber:iq:version"
NS_TIME = "urn:xmpp:time"
NS_VCARD = "vcard-temp"
NS_PRIVATE = "jabber:iq:private"

# What the modules of this file and ping advertise on the server.
OWN_FEATURES = {NS_INFO, NS_ITEMS, "urn:xmpp:ping", NS_VERSION, NS_TIME, NS_VCARD}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

class ExodusPrefs(ElementBase):
    """The XEP-0049 example fragment, as a slixmpp stanza plugin."""
    name = "exodus"
    namespace = "exodus:prefs"
    plugin_attrib = "exodus"
    interfaces = {"defaultnick"}
    sub_interfaces = interfaces


async def client(server, jid, resource="svc"):
    c = await slix_login(jid + "/" + resource, PASSWORD, server.c2s_port)
    for plugin in ("xep_0030", "xep_0092", "xep_0202", "xep_0054", "xep_0049"):
        c.register_plugin(plugin)
    c["xep_0049"].register(ExodusPrefs)
    return c


def raw_login(server, jid, resource="raw"):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource)
    return c


def features_of(iq):
    """The disco#info <feature var/> values of a raw reply, in wire order."""
    query = iq.find(q(NS_INFO, "query"))
    assert query is not None, xml(iq)
    return [f.get("var") for f in query.findall(q(NS_INFO, "feature"))]


def identities_of(iq):
    query = iq.find(q(NS_INFO, "query"))
    return [(i.get("category"), i.get("type"), i.get("name"))
            for i in query.findall(q(NS_INFO, "identity"))]


def assert_error(iq, type_, condition):
    assert iq.get("type") == "error", xml(iq)
    assert stanza_error(iq) == (type_, ["{urn:ietf:params:xml:ns:xmpp-stanzas}%s" % condition]), xml(iq)


@pytest.fixture(scope="module")
def users(tern_server):
    return [tern_server.add_user(unique_user(p), PASSWORD) for p in ("alice", "bob", "carol")]


# --------------------------------------------------------------------------
# XEP-0030 service discovery
# --------------------------------------------------------------------------

def test_server_disco_info_with_slixmpp(tern_server, users):
    alice = users[0]

    async def scenario():
        c = await client(tern_server, alice)
        try:
            iq = await c["xep_0030"].get_info(jid=tern_server.domain, timeout=5)
            info = iq["disco_info"]
            assert iq["from"] == tern_server.domain
            assert info["identities"] == {("server", "im", None, "Tern")}
            feats = set(info["features"])
            assert OWN_FEATURES <= feats, feats
            # XEP-0049 defines no feature, but poezio turns server-side
            # bookmarks off unless jabber:iq:private is listed here.
            assert NS_PRIVATE in feats, feats
            items = await c["xep_0030"].get_items(jid=tern_server.domain, timeout=5)
            # The services on subdomains: the MUC service.
            assert {str(i[0]) for i in items["disco_items"]["items"]} == {
                "conference." + tern_server.domain}
        finally:
            await c.close()

    run(scenario())


def test_server_disco_info_on_the_wire_is_sorted_and_unique(tern_server, users):
    c = raw_login(tern_server, users[0])
    try:
        iq = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=tern_server.domain)
        assert iq.get("type") == "result" and iq.get("from") == tern_server.domain, xml(iq)
        assert identities_of(iq) == [("server", "im", "Tern")]
        feats = features_of(iq)
        assert feats == sorted(set(feats)), feats
        assert OWN_FEATURES <= set(feats)
        # Identities come before features (the schema's order).
        query = iq.find(q(NS_INFO, "query"))
        assert [ch.tag for ch in query][0] == q(NS_INFO, "identity")
    finally:
        c.close()


def test_disco_features_list_exactly_the_enabled_modules(tern_factory):
    server = tern_factory({"modules": {"enabled": ["ping", "disco", "version"]},
                           "modules.version": {"show_os": False}})
    alice = server.add_user(unique_user("alice"), PASSWORD)
    c = raw_login(server, alice)
    try:
        iq = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=server.domain)
        # The private module is not enabled: jabber:iq:private is not listed.
        assert features_of(iq) == sorted([NS_INFO, NS_ITEMS, "urn:xmpp:ping", NS_VERSION])
        # modules.version.show_os = false: name and version, no <os/>.
        v = c.iq("get", "<query xmlns='%s'/>" % NS_VERSION, to=server.domain)
        query = v.find(q(NS_VERSION, "query"))
        assert [ch.tag for ch in query] == [q(NS_VERSION, "name"), q(NS_VERSION, "version")], xml(v)
        # A module that is not enabled does not answer.
        t = c.iq("get", "<time xmlns='%s'/>" % NS_TIME, to=server.domain)
        assert_error(t, "cancel", "service-unavailable")
    finally:
        c.close()


def test_disco_alone_lists_only_disco(tern_factory):
    server = tern_factory({"modules": {"enabled": ["disco"]}})
    alice = server.add_user(unique_user("alice"), PASSWORD)
    c = raw_login(server, alice)
    try:
        iq = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=server.domain)
        assert features_of(iq) == [NS_INFO, NS_ITEMS]
        v = c.iq("get", "<query xmlns='%s'/>" % NS_VERSION, to=server.domain)
        assert_error(v, "cancel", "service-unavailable")
    finally:
        c.close()


def test_private_storage_advertised_in_server_disco_info_when_its_module_runs(tern_factory):
    server = tern_factory({"modules": {"enabled": ["disco", "private"]}})
    alice = server.add_user(unique_user("alice"), PASSWORD)
    c = raw_login(server, alice)
    try:
        iq = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=server.domain)
        assert iq.get("type") == "result" and iq.get("from") == server.domain, xml(iq)
        assert features_of(iq) == sorted([NS_INFO, NS_ITEMS, NS_PRIVATE]), xml(iq)
    finally:
        c.close()


def test_disco_unknown_node_is_item_not_found(tern_server, users):
    c = raw_login(tern_server, users[0])
    try:
        for ns in (NS_INFO, NS_ITEMS):
            iq = c.iq("get", "<query xmlns='%s' node='no-such-node'/>" % ns, to=tern_server.domain)
            assert_error(iq, "cancel", "item-not-found")
        # To one's own account too.
        iq = c.iq("get", "<query xmlns='%s' node='no-such-node'/>" % NS_INFO, to=users[0])
        assert_error(iq, "cancel", "item-not-found")
    finally:
        c.close()


def test_account_disco_info_for_oneself(tern_server, users):
    alice = users[0]

    async def scenario():
        c = await client(tern_server, alice)
        try:
            iq = await c["xep_0030"].get_info(jid=alice, timeout=5)
            assert iq["from"] == alice
            info = iq["disco_info"]
            # account/registered, and pubsub/pep while the pep module runs
            # (XEP-0163 §9).
            assert info["identities"] == {("account", "registered", None, None),
                                          ("pubsub", "pep", None, None)}
            assert {NS_INFO, NS_ITEMS} <= set(info["features"])
        finally:
            await c.close()

    run(scenario())
    # Without 'to', the server answers for the sender's account (RFC 6120 §10.3.3).
    c = raw_login(tern_server, alice)
    try:
        iq = c.iq("get", "<query xmlns='%s'/>" % NS_INFO)
        assert iq.get("type") == "result", xml(iq)
        assert identities_of(iq) == [("account", "registered", None), ("pubsub", "pep", None)]
    finally:
        c.close()


def test_account_disco_hidden_from_strangers_and_for_missing_accounts(tern_server, users):
    alice, bob, _ = users
    missing = "nobody_%s@%s" % (unique_user(), tern_server.domain)
    c = raw_login(tern_server, bob)
    try:
        for target in (alice, missing):
            # XEP-0030 §8: service-unavailable for info, empty items, the
            # same whether the account exists or not.
            info = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=target)
            assert_error(info, "cancel", "service-unavailable")
            assert info.get("from") == target
            items = c.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to=target)
            assert items.get("type") == "result", xml(items)
            query = items.find(q(NS_ITEMS, "query"))
            assert query is not None and len(query) == 0, xml(items)
    finally:
        c.close()


def test_account_disco_items_lists_own_available_resources(tern_server, users):
    carol = users[2]
    one = raw_login(tern_server, carol, resource="one")
    two = raw_login(tern_server, carol, resource="two")
    try:
        one.send("<presence/>")
        two.send("<presence/>")
        one.ping()  # the presences have been handled once the pings come back
        two.ping()
        iq = one.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to=carol)
        assert iq.get("type") == "result", xml(iq)
        jids = [i.get("jid") for i in iq.find(q(NS_ITEMS, "query"))]
        assert jids == [carol + "/one", carol + "/two"]
    finally:
        one.close()
        two.close()


# --------------------------------------------------------------------------
# XEP-0092 software version, XEP-0202 entity time
# --------------------------------------------------------------------------

def test_software_version(tern_server, users):
    async def scenario():
        c = await client(tern_server, users[0])
        try:
            iq = await c["xep_0092"].get_version(tern_server.domain, timeout=5)
            v = iq["software_version"]
            assert iq["from"] == tern_server.domain
            assert v["name"] == "Tern"
            assert re.fullmatch(r"\d+\.\d+\.\d+", v["version"]), v["version"]
            assert v["os"] == platform.system()
        finally:
            await c.close()

    run(scenario())


def test_entity_time(tern_server, users):
    async def scenario():
        c = await client(tern_server, users[0])
        try:
            before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            iq = await c["xep_0202"].get_entity_time(tern_server.domain, timeout=5)
            after = datetime.datetime.now(datetime.timezone.utc)
            # slixmpp 1.8's t["utc"] appends a second 'Z' to the XEP's own
            # format and fails to parse it: read the element text instead.
            text = iq["entity_time"].xml.findtext(q(NS_TIME, "utc"))
            utc = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
            assert before - datetime.timedelta(seconds=1) <= utc <= after, (before, utc, after)
        finally:
            await c.close()

    run(scenario())
    c = raw_login(tern_server, users[0])
    try:
        iq = c.iq("get", "<time xmlns='%s'/>" % NS_TIME, to=tern_server.domain)
        el = iq.find(q(NS_TIME, "time"))
        assert el is not None, xml(iq)
        assert re.fullmatch(r"[+-]\d\d:\d\d", el.findtext(q(NS_TIME, "tzo"))), xml(iq)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", el.findtext(q(NS_TIME, "utc"))), xml(iq)
    finally:
        c.close()


# --------------------------------------------------------------------------
# XEP-0054 vcard-temp
# --------------------------------------------------------------------------

def test_vcard_publish_and_read_by_self_and_others(tern_server):
    alice = tern_server.add_user(unique_user("valice"), PASSWORD)
    bob = tern_server.add_user(unique_user("vbob"), PASSWORD)

    async def scenario():
        a = await client(tern_server, alice)
        b = await client(tern_server, bob)
        try:
            # No vCard yet: one's own is empty, another's an error (§3.3).
            mine = await a["xep_0054"].get_vcard(alice, timeout=5)
            assert mine["vcard_temp"].xml.tag == q(NS_VCARD, "vCard")
            assert len(mine["vcard_temp"].xml) == 0
            with pytest.raises(IqError) as err:
                await b["xep_0054"].get_vcard(alice, timeout=5)
            assert err.value.iq["error"]["condition"] == "service-unavailable"

            card = a["xep_0054"].make_vcard()
            card["FN"] = "Alice Example"
            card["NICKNAME"] = "alice"
            await a["xep_0054"].publish_vcard(card, timeout=5)

            mine = await a["xep_0054"].get_vcard(alice, timeout=5)
            assert mine["vcard_temp"]["FN"] == "Alice Example"
            theirs = await b["xep_0054"].get_vcard(alice, timeout=5)
            assert theirs["from"] == alice
            assert theirs["vcard_temp"]["FN"] == "Alice Example"
            assert theirs["vcard_temp"]["NICKNAME"] == ["alice"]  # a list in slixmpp
        finally:
            await a.close()
            await b.close()

    run(scenario())


def test_vcard_errors_and_removal(tern_server):
    alice = tern_server.add_user(unique_user("valice"), PASSWORD)
    bob = tern_server.add_user(unique_user("vbob"), PASSWORD)
    missing = "nobody_%s@%s" % (unique_user(), tern_server.domain)
    a = raw_login(tern_server, alice)
    b = raw_login(tern_server, bob)
    try:
        # Set without 'to' stores; get without 'to' returns it.
        res = a.iq("set", "<vCard xmlns='vcard-temp'><FN>A &amp; B</FN></vCard>")
        assert res.get("type") == "result" and len(res) == 0, xml(res)
        got = a.iq("get", "<vCard xmlns='vcard-temp'/>")
        assert got.find(q(NS_VCARD, "vCard")).findtext(q(NS_VCARD, "FN")) == "A & B", xml(got)

        # §3.2: setting another user's vCard is forbidden (type auth).
        res = b.iq("set", "<vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard>", to=alice)
        assert_error(res, "auth", "forbidden")
        got = b.iq("get", "<vCard xmlns='vcard-temp'/>", to=alice)
        assert got.find(q(NS_VCARD, "vCard")).findtext(q(NS_VCARD, "FN")) == "A & B", xml(got)

        # §3.3: no such user.
        res = b.iq("get", "<vCard xmlns='vcard-temp'/>", to=missing)
        assert_error(res, "cancel", "service-unavailable")

        # Over modules.vcard.max_bytes (64 KiB by default).
        big = "x" * (70 * 1024)
        res = a.iq("set", "<vCard xmlns='vcard-temp'><DESC>%s</DESC></vCard>" % big)
        assert_error(res, "modify", "not-acceptable")

        # An empty vCard removes the stored one.
        res = a.iq("set", "<vCard xmlns='vcard-temp'/>")
        assert res.get("type") == "result", xml(res)
        got = a.iq("get", "<vCard xmlns='vcard-temp'/>")
        assert len(got.find(q(NS_VCARD, "vCard"))) == 0, xml(got)
        res = b.iq("get", "<vCard xmlns='vcard-temp'/>", to=alice)
        assert_error(res, "cancel", "service-unavailable")
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------
# XEP-0049 private XML storage
# --------------------------------------------------------------------------

def test_private_store_and_retrieve_with_slixmpp(tern_server):
    alice = tern_server.add_user(unique_user("palice"), PASSWORD)

    async def scenario():
        c = await client(tern_server, alice)
        try:
            prefs = ExodusPrefs()
            prefs["defaultnick"] = "Hamlet"
            res = await c["xep_0049"].store(prefs, timeout=5)
            assert res["type"] == "result"
            got = await c["xep_0049"].retrieve("exodus", timeout=5)
            assert got["private"]["exodus"]["defaultnick"] == "Hamlet"
        finally:
            await c.close()

        # The data outlives the session.
        c = await client(tern_server, alice, resource="again")
        try:
            got = await c["xep_0049"].retrieve("exodus", timeout=5)
            assert got["private"]["exodus"]["defaultnick"] == "Hamlet"
        finally:
            await c.close()

    run(scenario())


def test_private_wire_rules(tern_server):
    alice = tern_server.add_user(unique_user("palice"), PASSWORD)
    bob = tern_server.add_user(unique_user("pbob"), PASSWORD)
    a = raw_login(tern_server, alice)
    b = raw_login(tern_server, bob)

    def query(c, type_, inner, to=None):
        return c.iq(type_, "<query xmlns='jabber:iq:private'>%s</query>" % inner, to=to)

    try:
        # A fragment never stored comes back as asked (empty).
        res = query(a, "get", "<prefs xmlns='urn:example:prefs'/>")
        assert res.get("type") == "result", xml(res)
        frag = res.find(q(NS_PRIVATE, "query")).find(q("urn:example:prefs", "prefs"))
        assert frag is not None and len(frag) == 0 and not (frag.text or "").strip(), xml(res)

        # A set with two fragments stores each; to one's own bare JID works too.
        res = query(a, "set", "<a xmlns='urn:example:a'><x>1</x></a><b xmlns='urn:example:b'><y>2</y></b>",
                    to=alice)
        assert res.get("type") == "result", xml(res)
        res = query(a, "get", "<a xmlns='urn:example:a'/>")
        assert res.find(q(NS_PRIVATE, "query")).find(q("urn:example:a", "a")).findtext(
            q("urn:example:a", "x")) == "1", xml(res)
        res = query(a, "get", "<b xmlns='urn:example:b'/>", to=alice)
        assert res.find(q(NS_PRIVATE, "query")).find(q("urn:example:b", "b")).findtext(
            q("urn:example:b", "y")) == "2", xml(res)

        # Someone else's storage: forbidden, for get and set.
        assert_error(query(b, "get", "<a xmlns='urn:example:a'/>", to=alice), "auth", "forbidden")
        assert_error(query(b, "set", "<a xmlns='urn:example:a'><x>2</x></a>", to=alice), "auth", "forbidden")
        res = query(a, "get", "<a xmlns='urn:example:a'/>")
        assert res.find(q(NS_PRIVATE, "query")).find(q("urn:example:a", "a")).findtext(
            q("urn:example:a", "x")) == "1", xml(res)

        # No child: bad-request. No namespace of its own, or a reserved one: not-acceptable.
        assert_error(query(a, "get", ""), "modify", "bad-request")
        assert_error(query(a, "set", ""), "modify", "bad-request")
        assert_error(query(a, "set", "<prefs><x/></prefs>"), "modify", "not-acceptable")
        assert_error(query(a, "set", "<vCard xmlns='vcard-temp'><FN>H</FN></vCard>"), "modify", "not-acceptable")
        assert_error(query(a, "get", "<query xmlns='jabber:iq:roster'/>"), "modify", "not-acceptable")

        # An empty fragment clears what was stored.
        assert query(a, "set", "<a xmlns='urn:example:a'/>").get("type") == "result"
        res = query(a, "get", "<a xmlns='urn:example:a'/>")
        assert len(res.find(q(NS_PRIVATE, "query")).find(q("urn:example:a", "a"))) == 0, xml(res)
    finally:
        a.close()
        b.close()
