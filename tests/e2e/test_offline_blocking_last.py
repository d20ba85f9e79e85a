"""Offline messages (XEP-0160, RFC 6121 §8.5.2.1.1) with XEP-0203 delay,
the blocking command (XEP-0191) and last activity (XEP-0012).

Library flows use slixmpp; where the exact error stanza matters (bounces,
application conditions), the RawClient shows it unfiltered.
"""

import asyncio
import datetime
import re
import sqlite3
import time

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, NS_STANZAS, q, stanza_error, unique_user, xml

PASSWORD = "offline-blocking-last"
NS_DELAY = "urn:xmpp:delay"
NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
NS_LAST = "jabber:iq:last"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def new_user(server, prefix):
    return server.add_user(unique_user(prefix), PASSWORD)


def raw_login(server, jid, resource="raw", presence=True):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource, presence=presence)
    return c


def settle(client, seconds=0.4):
    """Lets the server finish stored work (storage runs beside the stream)."""
    client.poll(seconds)


def messages_with_body(client, seconds=1.0):
    client.poll(seconds)
    got = [el for el in client.elements
           if el.tag == q(NS_CLIENT, "message") and el.findtext(q(NS_CLIENT, "body"))]
    return got


def error_conditions(el):
    """(type, all child tags of <error/>), application conditions included."""
    err = el.find(q(NS_CLIENT, "error"))
    assert err is not None, "no <error/> in %s" % xml(el)
    return err.get("type"), [c.tag for c in err]


def add_roster_item(server, owner, contact, subscription):
    """Writes a roster row straight into the store: this test is about who may
    see last activity, not about how subscriptions come to be."""
    user, domain = owner.split("@")
    db = sqlite3.connect(str(server.data_dir / "tern.db"), timeout=10)
    try:
        db.execute("INSERT INTO roster (owner_user, owner_domain, jid, subscription)"
                   " VALUES (?, ?, ?, ?)", (user, domain, contact, subscription))
        db.commit()
    finally:
        db.close()


# --------------------------------------------------------------------------
# Offline messages
# --------------------------------------------------------------------------

def test_offline_messages_delivered_at_login_with_delay_oldest_first(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    bodies = ["first", "second", "third", "fourth"]

    async def scenario():
        b = await slix_login(bob + "/desk", PASSWORD, tern_server.c2s_port)
        errors = []
        b.add_event_handler("message_error", errors.append)
        try:
            for i, body in enumerate(bodies):
                # chat, normal and untyped messages are all stored
                mtype = ["chat", "normal", None, "chat"][i]
                b.send_message(mto=alice, mbody=body, mtype=mtype)
            await asyncio.sleep(0.7)
            assert errors == [], "stored messages must not bounce"
            before = datetime.datetime.now(datetime.timezone.utc)
            a = await slix_login(alice + "/phone", PASSWORD, tern_server.c2s_port)
            try:
                got = [await a.next_message(timeout=5) for _ in bodies]
                assert [m["body"] for m in got] == bodies, "oldest first"
                for m in got:
                    assert m["from"] == bob + "/desk"
                    delay = m.xml.find(q(NS_DELAY, "delay"))
                    assert delay is not None, "no XEP-0203 <delay/> on %s" % m
                    assert delay.get("from") == tern_server.domain
                    stamp = delay.get("stamp")
                    assert STAMP.match(stamp), "stamp %r is not XEP-0082 UTC" % stamp
                    when = datetime.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(
                        tzinfo=datetime.timezone.utc)
                    assert before - datetime.timedelta(seconds=30) <= when <= before + \
                        datetime.timedelta(seconds=2)
                with pytest.raises(asyncio.TimeoutError):
                    await a.next_message(timeout=0.5)
            finally:
                await a.close()
            # Delivered once: the next login gets nothing.
            a2 = await slix_login(alice + "/again", PASSWORD, tern_server.c2s_port)
            try:
                with pytest.raises(asyncio.TimeoutError):
                    await a2.next_message(timeout=1.0)
            finally:
                await a2.close()
        finally:
            await b.close()

    run(scenario())


def test_offline_not_delivered_to_negative_priority_then_to_next(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    b = raw_login(tern_server, bob)
    try:
        b.message(alice, "kept for later")
        settle(b)
        a = raw_login(tern_server, alice, resource="lurker", presence=False)
        a.send("<presence><priority>-1</priority></presence>")
        assert messages_with_body(a, 0.7) == [], "negative priority never gets stored messages"
        a2 = raw_login(tern_server, alice, resource="main")
        m = a2.wait_message("kept for later")
        assert m.find(q(NS_DELAY, "delay")) is not None
        a.close()
        a2.close()
    finally:
        b.close()


def test_offline_quota_full_bounces_service_unavailable(tern_factory):
    server = tern_factory({"modules.offline": {"max_messages": 2}})
    alice = new_user(server, "alice")
    bob = new_user(server, "bob")
    b = raw_login(server, bob)
    try:
        for body in ("one", "two", "three"):
            b.message(alice, body)
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce of the third message")
        assert err.findtext(q(NS_CLIENT, "body")) == "three"
        assert err.get("from") == alice
        etype, conds = stanza_error(err)
        assert etype == "cancel"
        assert conds == [q(NS_STANZAS, "service-unavailable")]
        assert err.find(q(NS_DELAY, "delay")) is None
        a = raw_login(server, alice)
        got = [m.findtext(q(NS_CLIENT, "body")) for m in messages_with_body(a)]
        assert got == ["one", "two"]
        a.close()
    finally:
        b.close()


def test_offline_headline_and_no_store_are_not_stored(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    b = raw_login(tern_server, bob)
    try:
        b.send("<message to='%s' type='headline'><body>news</body></message>" % alice)
        b.send("<message to='%s' type='chat'><body>secret</body>"
               "<no-store xmlns='urn:xmpp:hints'/></message>" % alice)
        b.send("<message to='%s' type='chat'><composing "
               "xmlns='http://jabber.org/protocol/chatstates'/></message>" % alice)
        b.message(alice, "stored")
        # The no-store message is not kept, so the sender learns it was not delivered.
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce of the no-store message")
        assert err.findtext(q(NS_CLIENT, "body")) == "secret"
        assert stanza_error(err)[1] == [q(NS_STANZAS, "service-unavailable")]
        settle(b)
        others = [el for el in b.elements if el.get("type") == "error"]
        assert others == [], "headline and chat states bounce nothing: %s" % [xml(e) for e in others]
        a = raw_login(tern_server, alice)
        msgs = a.elements
        a.poll(1.0)
        got = [el for el in msgs if el.tag == q(NS_CLIENT, "message")]
        assert [m.findtext(q(NS_CLIENT, "body")) for m in got] == ["stored"]
        a.close()
    finally:
        b.close()


def test_message_to_missing_account_bounces_service_unavailable(tern_server):
    bob = new_user(tern_server, "bob")
    b = raw_login(tern_server, bob)
    try:
        ghost = "%s@%s" % (unique_user("ghost"), tern_server.domain)
        b.message(ghost, "anyone?")
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce")
        assert err.get("from") == ghost
        assert stanza_error(err) == ("cancel", [q(NS_STANZAS, "service-unavailable")])
    finally:
        b.close()


# --------------------------------------------------------------------------
# Blocking command
# --------------------------------------------------------------------------

def test_blocklist_get_block_unblock_and_pushes(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    carol = new_user(tern_server, "carol")

    async def scenario():
        a1 = await slix_login(alice + "/one", PASSWORD, tern_server.c2s_port)
        a2 = await slix_login(alice + "/two", PASSWORD, tern_server.c2s_port)
        a3 = await slix_login(alice + "/uninterested", PASSWORD, tern_server.c2s_port)
        pushes1, pushes2, pushes3 = asyncio.Queue(), asyncio.Queue(), asyncio.Queue()
        for c, pq in ((a1, pushes1), (a2, pushes2), (a3, pushes3)):
            c.register_plugin("xep_0191")
            c.add_event_handler("blocked", pq.put_nowait)
            c.add_event_handler("unblocked", pq.put_nowait)

        def items(iq, kind):
            el = iq.xml.find(q(NS_BLOCKING, kind))
            assert el is not None, "no <%s/> in %s" % (kind, iq)
            return sorted(i.get("jid") for i in el.findall(q(NS_BLOCKING, "item")))

        async def get(c):
            res = await c["xep_0191"].get_blocked(timeout=5)
            return items(res, "blocklist")

        try:
            assert await get(a1) == []
            assert await get(a2) == []
            await a1["xep_0191"].block([bob, "evil.example"], timeout=5)
            for pq in (pushes1, pushes2):
                push = await asyncio.wait_for(pq.get(), 5)
                assert push["type"] == "set"
                assert push["to"].bare == alice
                assert items(push, "block") == sorted([bob, "evil.example"])
            assert pushes3.empty(), "a resource that never asked for the list gets no push"
            assert await get(a2) == sorted([bob, "evil.example"])

            await a2["xep_0191"].block(carol, timeout=5)
            assert items(await asyncio.wait_for(pushes1.get(), 5), "block") == [carol]
            assert items(await asyncio.wait_for(pushes2.get(), 5), "block") == [carol]

            await a1["xep_0191"].unblock(bob, timeout=5)
            for pq in (pushes1, pushes2):
                assert items(await asyncio.wait_for(pq.get(), 5), "unblock") == [bob]
            assert await get(a1) == sorted([carol, "evil.example"])

            await a2["xep_0191"].unblock([], timeout=5)  # unblock all
            for pq in (pushes1, pushes2):
                assert items(await asyncio.wait_for(pq.get(), 5), "unblock") == []
            assert await get(a1) == []
            await asyncio.sleep(0.3)
            assert pushes3.empty()
        finally:
            for c in (a1, a2, a3):
                await c.close()

    run(scenario())


def test_block_with_no_items_or_bad_jid_is_rejected(tern_server):
    alice = new_user(tern_server, "alice")
    a = raw_login(tern_server, alice)
    try:
        res = a.iq("set", "<block xmlns='%s'/>" % NS_BLOCKING)
        assert res.get("type") == "error"
        assert stanza_error(res)[1] == [q(NS_STANZAS, "bad-request")]
        res = a.iq("set", "<block xmlns='%s'><item jid='a@b@c'/></block>" % NS_BLOCKING)
        assert stanza_error(res)[1] == [q(NS_STANZAS, "jid-malformed")]
        res = a.iq("get", "<blocklist xmlns='%s'/>" % NS_BLOCKING)
        assert res.get("type") == "result"
        assert res.find(q(NS_BLOCKING, "blocklist")) is not None
        assert list(res.find(q(NS_BLOCKING, "blocklist"))) == []
    finally:
        a.close()


def test_blocking_enforced_both_ways_for_message_presence_iq(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    a = raw_login(tern_server, alice, resource="home")
    b = raw_login(tern_server, bob, resource="pub")
    try:
        res = a.iq("set", "<block xmlns='%s'><item jid='%s'/></block>" % (NS_BLOCKING, bob))
        assert res.get("type") == "result", xml(res)
        settle(b, 0.2)
        a.elements.clear()
        b.elements.clear()

        # Inbound message from the blocked contact: bounced service-unavailable.
        b.message(alice, "let me in")
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce from a blocked recipient")
        assert err.findtext(q(NS_CLIENT, "body")) == "let me in"
        assert stanza_error(err) == ("cancel", [q(NS_STANZAS, "service-unavailable")])
        # Inbound iq get to the user's full JID: service-unavailable too.
        res = b.iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=alice + "/home")
        assert res.get("type") == "error"
        assert stanza_error(res)[1] == [q(NS_STANZAS, "service-unavailable")]
        # Inbound presence: dropped without an error.
        b.send("<presence to='%s/home'><status>hello?</status></presence>" % alice)
        b.elements.clear()
        a.poll(0.7)
        leaked = [xml(el) for el in a.elements if el.tag in (
            q(NS_CLIENT, "message"), q(NS_CLIENT, "presence"))
            or (el.tag == q(NS_CLIENT, "iq") and el.get("type") == "get")]
        assert leaked == [], "stanzas from a blocked JID reached the user: %s" % leaked
        b.poll(0.2)
        assert [xml(el) for el in b.elements] == [], "blocked presence must not answer"

        # Outbound message from the user: not-acceptable with <blocked/>.
        a.message(bob, "you there?")
        err = a.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "not-acceptable")
        etype, tags = error_conditions(err)
        assert etype == "cancel"
        assert q(NS_STANZAS, "not-acceptable") in tags
        assert q(NS_BLOCKING_ERRORS, "blocked") in tags
        assert err.get("from") == bob
        res = a.iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=bob + "/pub")
        etype, tags = error_conditions(res)
        assert q(NS_STANZAS, "not-acceptable") in tags and q(NS_BLOCKING_ERRORS, "blocked") in tags
        assert messages_with_body(b, 0.5) == [], "the blocked contact got the message"

        # Unblocked: messages and presence flow again.
        res = a.iq("set", "<unblock xmlns='%s'><item jid='%s'/></unblock>" % (NS_BLOCKING, bob))
        assert res.get("type") == "result"
        b.message(alice, "finally")
        a.wait_message("finally")
        b.send("<presence to='%s/home'><status>back</status></presence>" % alice)
        p = a.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence"), 5, "directed presence")
        assert p.get("from") == bob + "/pub"
    finally:
        a.close()
        b.close()


def test_blocked_sender_to_offline_user_is_bounced_not_stored(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    a = raw_login(tern_server, alice)
    res = a.iq("set", "<block xmlns='%s'><item jid='%s'/></block>" % (NS_BLOCKING, bob))
    assert res.get("type") == "result"
    a.close()
    time.sleep(0.3)  # alice's cached list goes with her last session
    b = raw_login(tern_server, bob)
    try:
        b.message(alice, "while you sleep")
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce")
        assert stanza_error(err)[1] == [q(NS_STANZAS, "service-unavailable")]
        a = raw_login(tern_server, alice)
        assert messages_with_body(a, 0.7) == []
        a.close()
    finally:
        b.close()


# --------------------------------------------------------------------------
# Last activity
# --------------------------------------------------------------------------

def last_query(client, to):
    res = client.iq("get", "<query xmlns='%s'/>" % NS_LAST, to=to)
    return res, res.find(q(NS_LAST, "query"))


def test_last_activity_of_server_is_uptime(tern_server):
    alice = new_user(tern_server, "alice")

    async def scenario():
        a = await slix_login(alice + "/up", PASSWORD, tern_server.c2s_port)
        try:
            a.register_plugin("xep_0012")
            res = await a["xep_0012"].get_last_activity(tern_server.domain, timeout=5)
            seconds = res["last_activity"]["seconds"]
            assert res["type"] == "result"
            uptime = time.monotonic() - tern_server.started_at
            assert 0 <= int(seconds) <= uptime + 2
        finally:
            await a.close()

    run(scenario())


def test_last_activity_of_users(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    carol = new_user(tern_server, "carol")
    add_roster_item(tern_server, alice, bob, "from")    # bob may see alice's presence
    add_roster_item(tern_server, alice, carol, "to")    # carol may not
    b = raw_login(tern_server, bob)
    c = raw_login(tern_server, carol)
    try:
        # Never logged in: nothing to tell.
        res, _ = last_query(b, alice)
        assert stanza_error(res)[1] == [q(NS_STANZAS, "service-unavailable")]

        a = raw_login(tern_server, alice, resource="laptop")
        res, query = last_query(b, alice)
        assert res.get("type") == "result", xml(res)
        assert res.get("from") == alice
        assert query.get("seconds") == "0" and not (query.text or "")

        # A non-contact (and a 'to'-only one) is refused.
        res, _ = last_query(c, alice)
        assert res.get("type") == "error"
        assert stanza_error(res) == ("auth", [q(NS_STANZAS, "forbidden")])

        a.send("<presence type='unavailable'><status>Heading Home</status></presence>")
        a.close()
        time.sleep(1.5)
        res, query = last_query(b, alice)
        assert res.get("type") == "result", xml(res)
        assert 1 <= int(query.get("seconds")) <= 30
        assert query.text == "Heading Home"

        # The user may always ask about themselves.
        a = raw_login(tern_server, alice, resource="again", presence=False)
        res, query = last_query(a, alice)
        assert res.get("type") == "result" and int(query.get("seconds")) >= 1
        a.close()

        res, _ = last_query(c, alice)
        assert stanza_error(res)[1] == [q(NS_STANZAS, "forbidden")]
        ghost = "%s@%s" % (unique_user("ghost"), tern_server.domain)
        res, _ = last_query(b, ghost)
        assert stanza_error(res)[1] == [q(NS_STANZAS, "service-unavailable")]
    finally:
        b.close()
        c.close()


def test_block_sends_unavailable_to_subscriber_and_unblock_current_presence(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    add_roster_item(tern_server, alice, bob, "from")   # bob sees alice's presence
    b = raw_login(tern_server, bob, resource="watch")
    a = raw_login(tern_server, alice, resource="home", presence=False)
    try:
        a.send("<presence><status>around</status></presence>")
        settle(a, 0.5)
        b.poll(0.5)
        b.elements.clear()
        res = a.iq("set", "<block xmlns='%s'><item jid='%s'/></block>" % (NS_BLOCKING, bob))
        assert res.get("type") == "result"
        p = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence")
                       and el.get("from") == alice + "/home", 5, "unavailable from alice")
        assert p.get("type") == "unavailable"
        res = a.iq("set", "<unblock xmlns='%s'/>" % NS_BLOCKING)
        assert res.get("type") == "result"
        p = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence")
                       and el.get("from") == alice + "/home", 5, "alice's presence again")
        assert p.get("type") is None
        assert p.findtext(q(NS_CLIENT, "status")) == "around"
    finally:
        a.close()
        b.close()
