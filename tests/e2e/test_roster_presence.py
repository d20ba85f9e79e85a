"""RFC 6121 rosters (§2), subscriptions (§3, Appendix A) and presence (§4),
end to end: slixmpp for the flows a client goes through, RawClient where the
exact stanza matters (versioning, errors, stream features).

Each test makes its own users, so the tests share one server.
"""

import asyncio
import datetime
import xml.etree.ElementTree as ET

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, TernServer, q, stanza_error, unique_user

NS_ROSTER = "jabber:iq:roster"
PW = "secret"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

_open_clients = []  # the slixmpp clients of the running test, for no_presence


@pytest.fixture(autouse=True)
def _forget_clients():
    _open_clients.clear()
    yield
    _open_clients.clear()


async def login(server, user, resource="r", roster=True, presence=True, status=None):
    """A slixmpp client that decides subscriptions itself (no auto-authorize),
    records roster pushes and presence, and has asked for its roster (an
    'interested resource', RFC 6121 §2.1.6) before its initial presence."""
    jid = "%s@%s/%s" % (user, server.domain, resource)
    c = await slix_login(jid, PW, server.c2s_port, presence=False)
    c.roster.auto_authorize = None  # None: leave requests to the test (False denies)
    c.roster.auto_subscribe = False
    # Everything received, in order; the helpers take matching entries out,
    # so stanzas that arrive in another order than awaited are not lost.
    c.pushes = []
    c.presences = []
    c.arrived = asyncio.Event()

    def on_roster(iq):
        if iq["type"] == "set":
            c.pushes.append(iq)
            c.arrived.set()

    def on_presence(p):
        c.presences.append(p)
        c.arrived.set()

    c.add_event_handler("roster_update", on_roster)
    _open_clients.append(c)
    c.add_event_handler("presence", on_presence)
    if roster:
        await c.get_roster()
    if presence:
        c.send_presence(pstatus=status)
        await sync(c)
    return c


async def sync(c):
    """A ping round trip: what the client sent before is handled by then."""
    await c["xep_0199"].send_ping(c.boundjid.domain, timeout=5)


def push_item(iq):
    items = iq.xml.findall("%s/%s" % (q(NS_ROSTER, "query"), q(NS_ROSTER, "item")))
    assert len(items) == 1, "a push carries exactly one item: %s" % iq
    assert iq["from"].full in ("", iq["to"].bare), "push from %s" % iq["from"]
    return items[0].attrib


async def take(c, box, pred, what, timeout=5.0):
    """The first entry of c.<box> matching pred, removed; waits for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        entries = getattr(c, box)
        for i, entry in enumerate(entries):
            if pred(entry):
                return entries.pop(i)
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError("%s got no %s" % (c.boundjid, what))
        c.arrived.clear()
        try:
            await asyncio.wait_for(c.arrived.wait(), left)
        except asyncio.TimeoutError:
            pass


async def next_push(c, jid, timeout=5.0):
    """The oldest roster push about `jid` not taken yet: the item's attributes."""
    iq = await take(c, "pushes", lambda iq: push_item(iq).get("jid") == jid,
                    "roster push about %s" % jid, timeout)
    return push_item(iq)


def presence_matches(p, from_, ptype):
    src = p["from"].full if "/" in from_ else p["from"].bare
    return src == from_ and p["type"] == ptype


async def next_presence(c, from_, ptype="available", timeout=5.0):
    """The oldest presence from `from_` (full or bare JID) of that type."""
    return await take(c, "presences", lambda p: presence_matches(p, from_, ptype),
                      "%s presence from %s" % (ptype, from_), timeout)


async def no_presence(c, from_bare, ptype):
    """Asserts c got no such presence. The server is synchronised with first
    (ping round trips of every other client the test holds, then c's), so
    whatever it would send is already there."""
    for other in list(_open_clients):
        if other is not c and other.transport is not None:
            await sync(other)
    await sync(c)
    for p in c.presences:
        assert not (p["from"].bare == from_bare and p["type"] == ptype), \
            "%s got an unexpected %s from %s" % (c.boundjid, ptype, from_bare)


async def roster_of(c):
    """The whole roster, asked without 'ver' (slixmpp would send its own)."""
    iq = c.Iq()
    iq["type"] = "get"
    iq.enable("roster")
    iq = await iq.send()
    return {jid: dict(item) for jid, item in iq["roster"]["items"].items()}


def bare(c):
    return c.boundjid.bare


async def befriend(a, b):
    """The four steps, both ways, waiting for the final pushes."""
    a.send_presence(pto=bare(b), ptype="subscribe")
    await next_presence(b, bare(a), "subscribe")
    b.send_presence(pto=bare(a), ptype="subscribed")
    await next_push(a, bare(b))
    b.send_presence(pto=bare(a), ptype="subscribe")
    await next_presence(a, bare(b), "subscribe")
    a.send_presence(pto=bare(b), ptype="subscribed")
    while (await next_push(b, bare(a)))["subscription"] != "both":
        pass
    while (await next_push(a, bare(b)))["subscription"] != "both":
        pass


def users(server, n):
    names = [unique_user(p) for p in ("alice", "bob", "carol")[:n]]
    for name in names:
        server.add_user(name, PW)
    return names


async def close_all(*clients):
    for c in clients:
        await c.close()


# --------------------------------------------------------------------------
# subscriptions (RFC 6121 §3)
# --------------------------------------------------------------------------

def test_four_step_subscription_ends_with_both_on_both_rosters(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name)
        a, b = bare(alice), bare(bob)

        # 1. alice asks (§3.1.2): her push shows none + ask='subscribe'.
        alice.send_presence(pto=b, ptype="subscribe")
        push = await next_push(alice, b)
        assert push["subscription"] == "none" and push.get("ask") == "subscribe", push
        req = await next_presence(bob, a, "subscribe")
        assert req["from"].full == a, "stamped with the bare JID: %s" % req["from"]

        # 2. bob approves (§3.1.5): from for bob, to for alice, then presence.
        bob.send_presence(pto=a, ptype="subscribed")
        push = await next_push(bob, a)
        assert push["subscription"] == "from" and "ask" not in push, push
        await next_presence(alice, b, "subscribed")
        push = await next_push(alice, b)
        assert push["subscription"] == "to" and "ask" not in push, push
        await next_presence(alice, bob.boundjid.full, "available")

        # 3. bob asks back: from + pending out.
        bob.send_presence(pto=a, ptype="subscribe")
        push = await next_push(bob, a)
        assert push["subscription"] == "from" and push.get("ask") == "subscribe", push
        await next_presence(alice, b, "subscribe")

        # 4. alice approves: both, on both sides.
        alice.send_presence(pto=b, ptype="subscribed")
        push = await next_push(alice, b)
        assert push["subscription"] == "both" and "ask" not in push, push
        await next_presence(bob, a, "subscribed")
        push = await next_push(bob, a)
        assert push["subscription"] == "both" and "ask" not in push, push
        await next_presence(bob, alice.boundjid.full, "available")

        ra, rb = await roster_of(alice), await roster_of(bob)
        assert ra[b]["subscription"] == "both" and not ra[b]["ask"], ra
        assert rb[a]["subscription"] == "both" and not rb[a]["ask"], rb
        await close_all(alice, bob)

    run(scenario())


def test_subscription_request_to_offline_user_is_delivered_at_login(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        b = "%s@%s" % (bob_name, tern_server.domain)
        alice.send_presence(pto=b, ptype="subscribe", pstatus="it's alice")
        push = await next_push(alice, b)
        assert push.get("ask") == "subscribe", push
        await sync(alice)  # the request is stored for bob before he logs in

        bob = await login(tern_server, bob_name)
        req = await next_presence(bob, bare(alice), "subscribe")
        assert req["status"] == "it's alice", "the stored request is the original stanza"
        # A request alone does not put alice on bob's roster (§3.1.3).
        assert bare(alice) not in await roster_of(bob)
        bob.send_presence(pto=bare(alice), ptype="subscribed")
        assert (await next_push(alice, b))["subscription"] == "to"
        await close_all(alice, bob)

        # Answered: not delivered again at the next login.
        bob = await login(tern_server, bob_name)
        await no_presence(bob, bare(alice), "subscribe")
        await close_all(bob)

    run(scenario())


def test_subscribe_to_unknown_account_is_answered_unsubscribed(tern_server):
    (alice_name,) = users(tern_server, 1)

    async def scenario():
        alice = await login(tern_server, alice_name)
        ghost = "%s@%s" % (unique_user("ghost"), tern_server.domain)
        alice.send_presence(pto=ghost, ptype="subscribe")
        assert (await next_push(alice, ghost)).get("ask") == "subscribe"
        await next_presence(alice, ghost, "unsubscribed")
        push = await next_push(alice, ghost)
        assert push["subscription"] == "none" and "ask" not in push, push
        await close_all(alice)

    run(scenario())


def test_pre_approval(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name)
        assert "preapproval" in bob.features, "stream feature urn:xmpp:features:pre-approval"
        a, b = bare(alice), bare(bob)
        # §3.4: subscribed with no request pending pre-approves.
        bob.send_presence(pto=a, ptype="subscribed")
        push = await next_push(bob, a)
        assert push["subscription"] == "none" and push.get("approved") == "true", push
        await no_presence(alice, b, "subscribed")

        # alice's request is approved by the server; bob never sees it.
        alice.send_presence(pto=b, ptype="subscribe")
        await next_presence(alice, b, "subscribed")
        push = await next_push(alice, b)
        while push["subscription"] != "to":
            push = await next_push(alice, b)
        push = await next_push(bob, a)
        assert push["subscription"] == "from" and "approved" not in push, push
        await no_presence(bob, a, "subscribe")
        await close_all(alice, bob)

    run(scenario())


def test_unsubscribe_and_cancel(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name)
        a, b = bare(alice), bare(bob)
        await befriend(alice, bob)
        # §3.3: alice unsubscribes from bob: alice 'from', bob 'to', and alice
        # sees bob go unavailable.
        alice.send_presence(pto=b, ptype="unsubscribe")
        assert (await next_push(alice, b))["subscription"] == "from"
        await next_presence(bob, a, "unsubscribe")
        assert (await next_push(bob, a))["subscription"] == "to"
        await next_presence(alice, bob.boundjid.full, "unavailable")
        # §3.2: bob cancels alice's subscription... he has 'to' only now;
        # alice cancels bob's: none on both sides.
        alice.send_presence(pto=b, ptype="unsubscribed")
        assert (await next_push(alice, b))["subscription"] == "none"
        await next_presence(bob, a, "unsubscribed")
        assert (await next_push(bob, a))["subscription"] == "none"
        await next_presence(bob, alice.boundjid.full, "unavailable")
        await close_all(alice, bob)

    run(scenario())


# --------------------------------------------------------------------------
# presence (RFC 6121 §4)
# --------------------------------------------------------------------------

def test_probes_are_answered_at_login_and_unavailable_on_disconnect(tern_server):
    alice_name, bob_name, carol_name = users(tern_server, 3)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name, status="at work")
        carol = await login(tern_server, carol_name)
        await befriend(alice, bob)
        await close_all(alice)
        await next_presence(bob, "%s@%s/r" % (alice_name, tern_server.domain), "unavailable")

        # §4.2 / §4.3: alice logs in; bob's server answers her probe with
        # bob's last presence, status included.
        alice = await login(tern_server, alice_name, resource="second")
        p = await next_presence(alice, bob.boundjid.full, "available")
        assert p["status"] == "at work"
        # bob gets alice's initial presence; carol (no subscription) does not.
        await next_presence(bob, alice.boundjid.full, "available")
        await no_presence(carol, bare(alice), "available")

        # Subsequent presence goes to subscribers (§4.4).
        alice.send_presence(pshow="away", pstatus="lunch")
        p = await next_presence(bob, alice.boundjid.full, "away")
        assert p["status"] == "lunch"

        # §4.6/§4.5: the TCP connection drops; bob sees alice unavailable.
        gone = alice.boundjid.full
        alice.drop()
        await next_presence(bob, gone, "unavailable", timeout=10)
        await no_presence(carol, bare(alice), "unavailable")
        await close_all(bob, carol)

    run(scenario())


def test_presence_reaches_own_other_resources(tern_server):
    (alice_name,) = users(tern_server, 1)

    async def scenario():
        one = await login(tern_server, alice_name, resource="one", status="first")
        two = await login(tern_server, alice_name, resource="two", status="second")
        p = await next_presence(one, two.boundjid.full, "available")
        assert p["status"] == "second"
        p = await next_presence(two, one.boundjid.full, "available")
        assert p["status"] == "first"
        await close_all(two)
        await next_presence(one, "%s@%s/two" % (alice_name, tern_server.domain), "unavailable")
        await close_all(one)

    run(scenario())


def test_presence_changes_follow_subscriptions_changed_while_online(tern_server):
    """The server keeps who gets an online account's presence in memory;
    every way a subscription changes while the account stays online must
    reach the next broadcast: a contact that unsubscribed, one the account
    removed from its roster and one whose subscription it cancelled get no
    more presence, and one approved since gets it."""
    alice_name, bob_name, carol_name = users(tern_server, 3)
    dave_name, erin_name = unique_user("dave"), unique_user("erin")
    for name in (dave_name, erin_name):
        tern_server.add_user(name, PW)

    alice_full = "%s@%s/r" % (alice_name, tern_server.domain)

    def status_from_in(presences, status):
        return [p for p in presences
                if p["from"].full == alice_full and p["type"] == "available" and p["status"] == status]

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name)
        carol = await login(tern_server, carol_name)
        erin = await login(tern_server, erin_name)
        a = bare(alice)
        for contact in (bob, carol, erin):
            await befriend(alice, contact)
        alice.send_presence(pstatus="one")
        for contact in (bob, carol, erin):
            await take(contact, "presences", lambda p: bool(status_from_in([p], "one")),
                       "alice's presence 'one'")

        # bob unsubscribes (an inbound change to alice's roster) …
        bob.send_presence(pto=a, ptype="unsubscribe")
        assert (await next_push(alice, bare(bob)))["subscription"] == "to"
        # … alice removes carol with a roster set …
        iq = alice.Iq()
        iq["type"] = "set"
        iq["roster"]["items"] = {bare(carol): {"subscription": "remove"}}
        await iq.send()
        assert (await next_push(alice, bare(carol)))["subscription"] == "remove"
        # … and cancels erin's subscription (an outbound change).
        alice.send_presence(pto=bare(erin), ptype="unsubscribed")
        assert (await next_push(alice, bare(erin)))["subscription"] == "to"
        # dave subscribes and alice approves.
        dave = await login(tern_server, dave_name)
        dave.send_presence(pto=a, ptype="subscribe")
        await next_presence(alice, bare(dave), "subscribe")
        alice.send_presence(pto=bare(dave), ptype="subscribed")
        assert (await next_push(alice, bare(dave)))["subscription"] == "from"
        await next_presence(dave, alice.boundjid.full)  # §3.1.5: her current presence

        alice.send_presence(pstatus="two")
        await take(dave, "presences", lambda p: bool(status_from_in([p], "two")),
                   "alice's presence 'two'")
        for other in (alice, bob, carol, erin):
            await sync(other)
        for contact in (bob, carol, erin):
            assert not status_from_in(contact.presences, "two"), \
                "%s still gets alice's presence" % contact.boundjid.bare
        await close_all(alice, bob, carol, dave, erin)

    run(scenario())


def test_directed_presence_to_non_contact_and_unavailable_at_session_end(tern_server):
    alice_name, carol_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        carol = await login(tern_server, carol_name)
        # §4.6: directed presence to someone not subscribed.
        alice.send_presence(pto=bare(carol), pstatus="psst")
        p = await next_presence(carol, alice.boundjid.full, "available")
        assert p["status"] == "psst"
        gone = alice.boundjid.full
        alice.drop()
        await next_presence(carol, gone, "unavailable", timeout=10)
        await close_all(carol)

    run(scenario())


def test_directed_unavailable_forgets_the_target(tern_server):
    alice_name, carol_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        carol = await login(tern_server, carol_name)
        alice.send_presence(pto=bare(carol))
        await next_presence(carol, alice.boundjid.full, "available")
        alice.send_presence(pto=bare(carol), ptype="unavailable")
        await next_presence(carol, alice.boundjid.full, "unavailable")
        await close_all(alice)
        await no_presence(carol, bare(alice), "unavailable")
        await close_all(carol)

    run(scenario())


# --------------------------------------------------------------------------
# roster (RFC 6121 §2), raw: exact stanzas
# --------------------------------------------------------------------------

def roster_iq(client, type_, inner="", ver=None, to=None):
    ver_attr = "" if ver is None else " ver='%s'" % ver
    return client.iq(type_, "<query xmlns='%s'%s>%s</query>" % (NS_ROSTER, ver_attr, inner), to=to)


def raw_login(server, user, resource="raw"):
    c = server.raw()
    c.login(user, PW, resource=resource)
    return c


def is_push(el):
    return (el.tag == q(NS_CLIENT, "iq") and el.get("type") == "set"
            and el.find(q(NS_ROSTER, "query")) is not None)


def test_roster_push_reaches_interested_resources_only(tern_server):
    """RFC 6121 §2.1.6: a roster push goes to every interested resource (one
    that asked for the roster), the one that made the change included, and
    to no other. The absence is proven by a ping round trip after the push."""
    (alice_name,) = users(tern_server, 1)
    one = raw_login(tern_server, alice_name, "one")
    two = raw_login(tern_server, alice_name, "two")
    three = raw_login(tern_server, alice_name, "three")  # never asks for the roster
    try:
        for c in (one, two):
            assert roster_iq(c, "get").get("type") == "result", c.dump()
        one.send("<iq type='set' id='add1'><query xmlns='%s'>"
                 "<item jid='nurse@example.com'/></query></iq>" % NS_ROSTER)
        got = [one.next_element(), one.next_element()]
        results = [el for el in got if el.get("id") == "add1"]
        assert [el.get("type") for el in results] == ["result"], one.dump()
        pushes = {"one": [el for el in got if el.get("id") != "add1"][0],
                  "two": two.wait_for(is_push, what="roster push")}
        for name, c in (("one", one), ("two", two)):
            push = pushes[name]
            assert is_push(push), c.dump()
            assert push.get("to") == c.jid, c.dump()
            assert push.get("from") in (None, c.jid.split("/")[0]), c.dump()
            item = push.find(q(NS_ROSTER, "query")).find(q(NS_ROSTER, "item"))
            assert item.get("jid") == "nurse@example.com", c.dump()
        for c in (one, two):
            extra = [ET.tostring(el, encoding="unicode") for el in c.sync() if is_push(el)]
            assert extra == [], "one push per change: %s" % extra
        leaked = [ET.tostring(el, encoding="unicode") for el in three.sync() if is_push(el)]
        assert leaked == [], "a resource that never asked for the roster got a push: %s" % leaked
    finally:
        for c in (one, two, three):
            c.close()


def test_stream_features_and_roster_versioning(tern_server):
    (alice_name,) = users(tern_server, 1)
    c = raw_login(tern_server, alice_name)
    try:
        feats = c.post_auth_features
        assert feats.find(q("urn:xmpp:features:rosterver", "ver")) is not None, c.dump()
        assert feats.find(q("urn:xmpp:features:pre-approval", "sub")) is not None, c.dump()

        res = roster_iq(c, "get", ver="")
        assert res.get("type") == "result", c.dump()
        query = res.find(q(NS_ROSTER, "query"))
        ver = query.get("ver")
        assert ver, "a client that sent ver gets one back (XEP-0237)"
        assert list(query) == []

        # Same version: an empty result, nothing else (§2.6.3).
        res = roster_iq(c, "get", ver=ver)
        assert res.get("type") == "result" and len(res) == 0, c.dump()

        # A change: the push (before or after the result) has the new version.
        c.send("<iq type='set' id='v1'><query xmlns='%s'><item jid='nurse@example.com' name='Nurse'>"
               "<group>Servants</group></item></query></iq>" % NS_ROSTER)
        got = [c.next_element(), c.next_element()]
        res = [el for el in got if el.get("id") == "v1"]
        push = [el for el in got if is_push(el)]
        assert len(res) == 1 and res[0].get("type") == "result" and len(push) == 1, c.dump()
        pq = push[0].find(q(NS_ROSTER, "query"))
        new_ver = pq.get("ver")
        assert new_ver and new_ver != ver
        item = pq.find(q(NS_ROSTER, "item"))
        assert item.get("jid") == "nurse@example.com" and item.get("subscription") == "none"
        assert item.get("name") == "Nurse"
        assert item.findtext(q(NS_ROSTER, "group")) == "Servants"

        # The old version gets the whole roster and the current version.
        res = roster_iq(c, "get", ver=ver)
        query = res.find(q(NS_ROSTER, "query"))
        assert query is not None and query.get("ver") == new_ver, c.dump()
        assert [i.get("jid") for i in query] == ["nurse@example.com"]
        assert len(roster_iq(c, "get", ver=new_ver)) == 0
    finally:
        c.close()


def test_roster_set_errors(tern_server):
    alice_name, bob_name = users(tern_server, 2)
    c = raw_login(tern_server, alice_name)
    try:
        def error(inner, to=None, type_="set"):
            res = roster_iq(c, type_, inner, to=to)
            assert res.get("type") == "error", c.dump()
            return stanza_error(res)[1]

        cond = lambda name: [q("urn:ietf:params:xml:ns:xmpp-stanzas", name)]
        bob = "%s@%s" % (bob_name, tern_server.domain)
        # §2.3.3
        assert error("<item jid='a@example.com'/><item jid='b@example.com'/>") == cond("bad-request")
        assert error("<item jid='a@example.com'><group>G</group><group>G</group></item>") == cond("bad-request")
        assert error("<item jid='a@example.com'><group></group></item>") == cond("not-acceptable")
        assert error("<item jid='a@example.com' name='%s'/>" % ("x" * 1024)) == cond("not-acceptable")
        assert error("<item jid='a@@example.com'/>") == cond("jid-malformed")
        # §2.1.5: someone else's roster.
        assert error("", to=bob, type_="get") == cond("forbidden")
        assert error("<item jid='a@example.com'/>", to=bob) == cond("forbidden")
        # §2.5.3: removing what is not there.
        assert error("<item jid='nobody@example.com' subscription='remove'/>") == cond("item-not-found")
        # Adding oneself is fine.
        me = "%s@%s" % (alice_name, tern_server.domain)
        assert roster_iq(c, "set", "<item jid='%s'/>" % me).get("type") == "result"
    finally:
        c.close()


def test_roster_remove_cancels_both_subscriptions(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name)
        a, b = bare(alice), bare(bob)
        await befriend(alice, bob)
        # A plain roster set (slixmpp's del_roster_item unsubscribes first).
        iq = alice.Iq()
        iq["type"] = "set"
        iq["roster"]["items"] = {b: {"subscription": "remove"}}
        await iq.send()
        push = await next_push(alice, b)
        assert push["subscription"] == "remove", push
        # §2.5.2: unsubscribe and unsubscribed, from alice's bare JID.
        await next_presence(bob, a, "unsubscribe")
        await next_presence(bob, a, "unsubscribed")
        await next_presence(bob, alice.boundjid.full, "unavailable")
        while (await next_push(bob, a))["subscription"] != "none":
            pass
        assert b not in await roster_of(alice)
        assert (await roster_of(bob))[a]["subscription"] == "none"
        await close_all(alice, bob)

    run(scenario())


def test_roster_max_items(tern_factory):
    server = tern_factory({"modules.roster": {"max_items": 2}})
    server.add_user("max", PW)
    c = raw_login(server, "max")
    try:
        for n in (1, 2):
            assert roster_iq(c, "set", "<item jid='c%d@example.com'/>" % n).get("type") == "result"
        # Changing an existing item is still fine.
        assert roster_iq(c, "set", "<item jid='c1@example.com' name='One'/>").get("type") == "result"
        res = roster_iq(c, "set", "<item jid='c3@example.com'/>")
        assert res.get("type") == "error", c.dump()
        assert stanza_error(res)[1] == [q("urn:ietf:params:xml:ns:xmpp-stanzas", "policy-violation")]
        # A subscription request may not add a third item either.
        c.send("<presence to='c4@example.com' type='subscribe'/>")
        err = c.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence"), what="presence error")
        assert err.get("type") == "error" and err.get("from") == "c4@example.com", c.dump()
        assert stanza_error(err)[1] == [q("urn:ietf:params:xml:ns:xmpp-stanzas", "policy-violation")]
        items = roster_iq(c, "get").find(q(NS_ROSTER, "query"))
        assert sorted(i.get("jid") for i in items) == ["c1@example.com", "c2@example.com"]
    finally:
        c.close()


# --------------------------------------------------------------------------
# the last unavailable presence answers probes (§4.3.2)
# --------------------------------------------------------------------------

NS_DELAY = "urn:xmpp:delay"


def test_probe_to_offline_contact_gets_its_last_unavailable_presence_with_delay(tern_server):
    alice_name, bob_name = users(tern_server, 2)

    async def scenario():
        alice = await login(tern_server, alice_name)
        bob = await login(tern_server, bob_name, resource="phone")
        await befriend(alice, bob)
        bob.send_presence(ptype="unavailable", pstatus="gone fishing")
        await next_presence(alice, bob.boundjid.full, "unavailable")
        await close_all(alice, bob)

        # alice comes back; bob is offline: her probe is answered with what
        # bob said last, stamped with when he said it.
        before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        alice = await login(tern_server, alice_name, resource="again")
        p = await next_presence(alice, "%s@%s/phone" % (bob_name, tern_server.domain), "unavailable")
        assert p["status"] == "gone fishing"
        delay = p.xml.find(q(NS_DELAY, "delay"))
        assert delay is not None, "no XEP-0203 delay on %s" % p
        assert delay.get("from") == tern_server.domain
        stamp = datetime.datetime.strptime(delay.get("stamp"), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
        assert stamp <= before, "stamp %s is not when bob left (before %s)" % (stamp, before)

        await close_all(alice)

    run(scenario())


# --------------------------------------------------------------------------
# deleting an account tells its contacts (§2.5.2 for every item)
# --------------------------------------------------------------------------

ADMIN = "boss"


@pytest.fixture(scope="module")
def deletion_server(tmp_path_factory):
    server = TernServer(tmp_path_factory.mktemp("tern-deletion"), {
        "server": {"admins": ["%s@localhost" % ADMIN]},
        "modules.register": {"enabled": True, "per_ip_per_hour": 1000},
    })
    server.start()
    server.add_user(ADMIN, PW)
    yield server
    server.stop_and_check()


def delete_in_band(server, victim):
    async def cancel():
        iq = victim.Iq()
        iq["type"] = "set"
        iq.append(ET.fromstring("<query xmlns='jabber:iq:register'><remove/></query>"))
        await iq.send(timeout=5)
    return cancel()


def delete_by_admin(server, name):
    from test_register_admin import field_xml, run_admin_command
    admin = server.raw()
    admin.login(ADMIN, PW, resource="admin")
    done = run_admin_command(admin, "delete-user", [field_xml("accountjids", "%s@localhost" % name)])
    admin.close()
    assert done.get("status") == "completed", ET.tostring(done)


@pytest.mark.parametrize("how", ["in-band", "admin", "cli"])
def test_deleted_account_unsubscribes_its_contacts(deletion_server, how):
    server = deletion_server
    alice_name, bob_name, carol_name = users(server, 3)

    async def scenario():
        alice = await login(server, alice_name)
        bob = await login(server, bob_name)
        carol = await login(server, carol_name)
        await befriend(alice, bob)
        # carol asked for alice's presence; alice never answered.
        carol.send_presence(pto=bare(alice), ptype="subscribe")
        await next_presence(alice, bare(carol), "subscribe")
        gone = alice.boundjid.full
        loop = asyncio.get_running_loop()
        if how == "in-band":
            await delete_in_band(server, alice)
        elif how == "admin":
            await loop.run_in_executor(None, delete_by_admin, server, alice_name)
        else:
            res = await loop.run_in_executor(None, server.del_user, "%s@localhost" % alice_name)
            assert "deleted" in res.stdout

        # bob saw alice online: she goes offline, then both subscriptions go.
        await next_presence(bob, gone, "unavailable")
        await next_presence(bob, bare(alice), "unsubscribe")
        await next_presence(bob, bare(alice), "unsubscribed")
        while (await next_push(bob, bare(alice)))["subscription"] != "none":
            pass
        assert (await roster_of(bob))[bare(alice)]["subscription"] == "none"
        # carol's pending request is declined; she never saw alice online.
        await next_presence(carol, bare(alice), "unsubscribed")
        await no_presence(carol, bare(alice), "unavailable")
        await close_all(bob, carol)
        alice.drop()

    run(scenario())
