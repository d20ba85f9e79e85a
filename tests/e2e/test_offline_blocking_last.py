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


def routed(client):
    """A ping round trip: what the client sent before is routed (a message to
    an offline account is in its offline queue, which runs in order, so a
    later login's flush finds it). Returns what arrived meanwhile."""
    return client.sync()


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

def offline_rows(server, owner):
    user, domain = owner.split("@")
    db = sqlite3.connect(str(server.data_dir / "tern.db"), timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM offline WHERE owner_user = ? AND owner_domain = ?",
                          (user, domain)).fetchone()[0]
    finally:
        db.close()


def wait_until(predicate, what, timeout=10.0):
    """Polls a condition that no stanza reports (rows deleted in storage)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def parse_stamp(stamp):
    return datetime.datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)


def test_offline_messages_delivered_at_login_with_delay_oldest_first(tern_factory):
    """The <delay/> stamp is when the server stored the message, in UTC with
    'Z' (XEP-0203, XEP-0082), even on a server whose local zone is not UTC;
    a stamp taken at delivery, or in local time, would be at least two
    seconds (or five and a half hours) off."""
    server = tern_factory(env={"TZ": "Asia/Kolkata"})
    alice = new_user(server, "alice")
    bob = new_user(server, "bob")
    bodies = ["first", "second", "third", "fourth"]
    utc_now = lambda: datetime.datetime.now(datetime.timezone.utc)  # noqa: E731
    b = raw_login(server, bob, resource="desk")
    try:
        sent_at = utc_now().replace(microsecond=0)
        for i, body in enumerate(bodies):
            # chat, normal and untyped messages are all stored
            mtype = ["chat", "normal", None, "chat"][i]
            b.send("<message to='%s'%s><body>%s</body></message>"
                   % (alice, " type='%s'" % mtype if mtype else "", body))
        # Routed once the sender's ping is answered; the offline queue of an
        # account runs in order, so the store comes before any login's flush.
        bounced = [xml(el) for el in b.sync() if el.get("type") == "error"]
        assert bounced == [], "stored messages must not bounce"
        stored_by = utc_now()
        # The gap the stamp must show (a requirement of the test, not a wait
        # for the server): at least two seconds between storing and login.
        time.sleep(max(0.0, (stored_by + datetime.timedelta(seconds=2.2) - utc_now())
                       .total_seconds()))
        login_at = utc_now()
        a = raw_login(server, alice, resource="phone")
        got = [a.wait_message() for _ in bodies]
        assert [m.findtext(q(NS_CLIENT, "body")) for m in got] == bodies, "oldest first"
        for m in got:
            assert m.get("from") == bob + "/desk", xml(m)
            delay = m.find(q(NS_DELAY, "delay"))
            assert delay is not None, "no XEP-0203 <delay/> on %s" % xml(m)
            assert delay.get("from") == server.domain, xml(m)
            stamp = delay.get("stamp")
            assert STAMP.match(stamp), "stamp %r is not XEP-0082 UTC" % stamp
            when = parse_stamp(stamp)
            assert sent_at <= when <= stored_by, \
                "stamp %s is not the time of storing (%s..%s)" % (stamp, sent_at, stored_by)
            assert when < login_at - datetime.timedelta(seconds=2), (stamp, login_at)
        assert a.bodies_until_sync() == [], "each stored message is delivered once"
        # Delivered once: the rows are gone, so the next login gets nothing.
        wait_until(lambda: offline_rows(server, alice) == 0, "the delivered rows to be deleted")
        a.close()
        a2 = raw_login(server, alice, resource="again")
        assert a2.bodies_until_sync() == []
        a2.close()
    finally:
        b.close()


def test_offline_not_delivered_to_negative_priority_then_to_next(tern_server):
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    b = raw_login(tern_server, bob)
    try:
        b.message(alice, "kept for later")
        routed(b)
        a = raw_login(tern_server, alice, resource="lurker", presence=False)
        a.send("<presence><priority>-1</priority></presence>")
        assert a.bodies_until_sync() == [], "negative priority never gets stored messages"
        a2 = raw_login(tern_server, alice, resource="main")
        m = a2.wait_message("kept for later")
        assert m.find(q(NS_DELAY, "delay")) is not None
        assert a2.bodies_until_sync() == []
        # The flush that reached 'main' is done: 'lurker' got nothing of it.
        assert a.bodies_until_sync() == [], "negative priority never gets stored messages"
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
        for body in ("one", "two", "three", "four", "five"):
            b.message(alice, body)
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce of the third message")
        assert err.findtext(q(NS_CLIENT, "body")) == "three"
        assert err.get("from") == alice
        etype, conds = stanza_error(err)
        assert etype == "cancel"
        assert conds == [q(NS_STANZAS, "service-unavailable")]
        assert err.find(q(NS_DELAY, "delay")) is None
        for body in ("four", "five"):
            bounced = b.wait_for(lambda el: el.get("type") == "error", 5, "bounce of " + body)
            assert bounced.findtext(q(NS_CLIENT, "body")) == body
        # Three bounces, one log line: a flood of them does not flood the log.
        assert server.log().count("has 2 stored messages; bouncing") == 1, server.log()
        a = raw_login(server, alice)
        got = [a.wait_message().findtext(q(NS_CLIENT, "body")) for _ in range(2)]
        assert got == ["one", "two"]
        assert a.bodies_until_sync() == [], "only the two within the quota were stored"
        wait_until(lambda: offline_rows(server, alice) == 0, "the delivered rows to be deleted")
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
        others = [xml(el) for el in routed(b) if el.get("type") == "error"]
        assert others == [], "headline and chat states bounce nothing: %s" % others
        a = raw_login(tern_server, alice)
        first = a.wait_for(lambda el: el.tag == q(NS_CLIENT, "message"), what="a stored message")
        assert first.findtext(q(NS_CLIENT, "body")) == "stored", xml(first)
        assert a.bodies_until_sync() == [], "only 'stored' was stored"
        wait_until(lambda: offline_rows(tern_server, alice) == 0, "the delivered row to be deleted")
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
            c.register_plugin("xep_0199")
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
            await a3["xep_0199"].ping(tern_server.domain, timeout=5)
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
            await a3["xep_0199"].ping(tern_server.domain, timeout=5)
            assert pushes3.empty()
            for pq in (pushes1, pushes2):
                assert pq.empty(), "one push per change"
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
        a.sync()
        b.sync()

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
        answered = [xml(el) for el in b.sync()]
        leaked = [xml(el) for el in a.sync() if el.tag in (
            q(NS_CLIENT, "message"), q(NS_CLIENT, "presence"))
            or (el.tag == q(NS_CLIENT, "iq") and el.get("type") == "get")]
        assert leaked == [], "stanzas from a blocked JID reached the user: %s" % leaked
        answered += [xml(el) for el in b.sync()]
        assert answered == [], "blocked presence must not answer"

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
        a.sync()
        assert b.bodies_until_sync() == [], "the blocked contact got the message"

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
    # alice's cached list goes with her last session: end it and wait for the
    # server to close the stream, so the list must come from storage.
    a.send("</stream:stream>")
    deadline = time.monotonic() + 5
    while not a.stream_ended and not a.eof and time.monotonic() < deadline:
        a.poll(0.05)
    assert a.stream_ended or a.eof, "the server did not answer alice's closing tag"
    a.close()
    b = raw_login(tern_server, bob)
    try:
        b.message(alice, "while you sleep")
        err = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                         and el.get("type") == "error", 5, "bounce")
        assert stanza_error(err)[1] == [q(NS_STANZAS, "service-unavailable")]
        assert offline_rows(tern_server, alice) == 0, "a bounced message is not stored"
        a = raw_login(tern_server, alice)
        assert a.bodies_until_sync() == []
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

    # A server up for two seconds must not say 0 (nor less than it has been
    # ready): make sure it has been up that long (a duration, not a wait).
    time.sleep(max(0.0, tern_server.ready_at + 2.1 - time.monotonic()))
    lower = int(time.monotonic() - tern_server.ready_at)

    async def scenario():
        a = await slix_login(alice + "/up", PASSWORD, tern_server.c2s_port)
        try:
            a.register_plugin("xep_0012")
            res = await a["xep_0012"].get_last_activity(tern_server.domain, timeout=5)
            seconds = int(res["last_activity"]["seconds"])
            assert res["type"] == "result"
            uptime = time.monotonic() - tern_server.started_at
            assert lower <= seconds <= uptime + 1, (lower, seconds, uptime)
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
        a.sync()  # her initial presence is processed: she is online
        res, query = last_query(b, alice)
        assert res.get("type") == "result", xml(res)
        assert res.get("from") == alice
        assert query.get("seconds") == "0" and not (query.text or "")

        # A non-contact (and a 'to'-only one) is refused.
        res, _ = last_query(c, alice)
        assert res.get("type") == "error"
        assert stanza_error(res) == ("auth", [q(NS_STANZAS, "forbidden")])

        a.send("<presence type='unavailable'><status>Heading Home</status></presence>")
        a.sync()  # the unavailable presence is processed
        left_at = time.monotonic()
        a.close()
        # The logout is stored beside the stream: ask until it is there (until
        # then the answer is "online", seconds 0 and no status).
        deadline = time.monotonic() + 10
        while True:
            res, query = last_query(b, alice)
            if query is not None and query.text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert res.get("type") == "result", xml(res)
        assert query.text == "Heading Home"
        # Seconds since then: let at least one pass (a duration the test
        # needs, not a wait for the server).
        time.sleep(max(0.0, left_at + 1.1 - time.monotonic()))
        res, query = last_query(b, alice)
        assert res.get("type") == "result", xml(res)
        assert 1 <= int(query.get("seconds")) <= 30, xml(res)
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
        b.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence") and el.get("from") == alice + "/home"
                   and el.findtext(q(NS_CLIENT, "status")) == "around", what="alice's presence")
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


def unavailable_from(elements, full_jid):
    return [el for el in elements if el.tag == q(NS_CLIENT, "presence")
            and el.get("from") == full_jid and el.get("type") == "unavailable"]


def test_block_sends_unavailable_to_directed_presence_targets_once(tern_server):
    """XEP-0191 §3.3 with RFC 6121 §4.6: a JID that had directed presence
    from the user's sessions (two, maybe on two shards) sees each go
    offline when blocked; a blocked subscriber that also had directed
    presence hears it once."""
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")      # directed presence only
    carol = new_user(tern_server, "carol")  # subscriber, and directed presence too
    dave = new_user(tern_server, "dave")    # directed presence, not blocked
    add_roster_item(tern_server, alice, carol, "from")
    watchers = {who: raw_login(tern_server, who, resource="watch") for who in (bob, carol, dave)}
    home = raw_login(tern_server, alice, resource="home", presence=False)
    work = raw_login(tern_server, alice, resource="work", presence=False)
    try:
        for s in (home, work):
            s.send("<presence/>")
            for target in (bob, carol, dave):
                s.send("<presence to='%s'/>" % target)
            routed(s)
        for who, w in watchers.items():
            for resource in ("home", "work"):
                w.wait_for(lambda el: el.tag == q(NS_CLIENT, "presence")
                           and el.get("from") == "%s/%s" % (alice, resource)
                           and el.get("type") is None, what="available from alice/" + resource)
            routed(w)
        res = home.iq("set", "<block xmlns='%s'><item jid='%s'/><item jid='%s'/></block>"
                      % (NS_BLOCKING, bob, carol))
        assert res.get("type") == "result", xml(res)
        for who in (bob, carol):
            seen = routed(watchers[who])
            for resource in ("home", "work"):
                got = unavailable_from(seen, "%s/%s" % (alice, resource))
                assert len(got) == 1, "%s got %d unavailable from alice/%s: %s" % (
                    who, len(got), resource, [xml(e) for e in seen])
        assert unavailable_from(routed(watchers[dave]), alice + "/home") == []
        # dave's directed presence was left alone: he hears the session end.
        home.close()
        watchers[dave].wait_for(lambda el: el.get("from") == alice + "/home"
                                and el.get("type") == "unavailable", what="alice/home leaving")
        work.close()
    finally:
        for w in watchers.values():
            w.close()
