"""XEP-0198 §5 stream resumption over raw c2s: a client whose connection
breaks resumes its session on a new one and gets every stanza it had not
acknowledged, once and in order; a session not resumed in time, or whose
server stops, leaves its messages in offline storage; nobody resumes
another account's session."""

import signal
import threading
import time

from conftest import NS_CLIENT, NS_STREAM, NS_STREAMS, free_port, q, unique_user, xml
from web_clients import WsClient

PW = "pw-resume"
NS_SM = "urn:xmpp:sm:3"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def account(server, prefix):
    name = unique_user(prefix)
    server.add_user("%s@localhost" % name, PW)
    return name


def login(server, name, sm_resume=False, presence=True):
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource="r")
    if sm_resume:
        c.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
        enabled = c.expect(q(NS_SM, "enabled"))
        assert enabled.get("resume") == "true"
        assert len(enabled.get("id", "")) >= 32, "resumption id too short to be unguessable"
        assert int(enabled.get("max")) > 0
        c.sm_id = enabled.get("id")
    if presence:
        c.send("<presence/>")
    return c


def authenticate(server, name):
    """A new connection up to SASL success and the stream restart: where a
    client either binds a resource or resumes a session."""
    c = server.raw(timeout=10.0)
    _, feats = c.start()
    if feats.find(q("urn:ietf:params:xml:ns:xmpp-tls", "starttls")) is not None:
        c.starttls()
    res = c.auth_scram(name, PW, "SHA-256")
    assert res.tag == q("urn:ietf:params:xml:ns:xmpp-sasl", "success")
    _, feats = c.restart()
    assert feats.find(q(NS_SM, "sm")) is not None
    return c


def bodies(elements):
    return [el.findtext(q(NS_CLIENT, "body")) for el in elements
            if el.tag == q(NS_CLIENT, "message")]


def wait_log(server, text, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log():
            return
        time.sleep(0.05)
    raise AssertionError("server never logged %r" % text)


def test_resume_after_a_broken_connection_resends_exactly_the_unacked(tern_server):
    alice, bob = account(tern_server, "rsa"), account(tern_server, "rsb")
    a = login(tern_server, alice, sm_resume=True, presence=False)
    b = login(tern_server, bob)
    to_a = "%s@localhost/r" % alice
    for i in (1, 2, 3):
        b.message(to_a, "m%d" % i)
    for i in (1, 2, 3):
        a.wait_message("m%d" % i)
    a.send("<a xmlns='%s' h='1'/>" % NS_SM)  # m1 acknowledged, m2 and m3 not
    a.send("<message to='%s@localhost/r' type='chat'><body>from-a</body></message>" % bob)
    b.wait_message("from-a")
    a.sock.close()  # no closing tag: the connection broke
    wait_log(tern_server, "connection lost; resumable")
    b.message(to_a, "m4")
    b.message(to_a, "m5")
    b.sync()  # routed by now

    a2 = authenticate(tern_server, alice)
    a2.send("<resume xmlns='%s' previd='%s' h='1'/>" % (NS_SM, a.sm_id))
    resumed = a2.expect(q(NS_SM, "resumed"))
    assert resumed.get("previd") == a.sm_id
    assert resumed.get("h") == "1", "the server handled one stanza from a"
    got = a2.wait_message("m2")
    assert got.get("to") == to_a
    rest = bodies(a2.sync())
    assert rest == ["m3", "m4", "m5"], rest

    # The session goes on under the same address, with counting from where it was.
    b.message(to_a, "m6")
    a2.wait_message("m6")
    a2.send("<r xmlns='%s'/>" % NS_SM)
    assert a2.expect(q(NS_SM, "a")).get("h") == "2"  # from-a, and the ping of sync()
    a2.close()
    b.close()


def test_resumes_under_a_flood_of_messages_lose_and_repeat_nothing(tern_factory):
    """A client cut off and resumed again and again while a contact floods
    it: every message arrives once and in order, across six streams. Some
    cuts are noticed by the server first (a hibernated session is taken
    over), others not (a live one is). On two shards, a message looked up
    on the sender's shard just before the session changed hands reaches the
    old stream after it: it must go on to the new one, not be dropped."""
    server = tern_factory({"server": {"shards": 2}, "limits": {
        "sm_queue_max": 100000, "stanza_rate": 1000000, "stanza_burst": 1000000}})
    alice, bob = account(server, "rfa"), account(server, "rfb")
    a = login(server, alice, sm_resume=True, presence=False)
    b = login(server, bob)
    to_a = "%s@localhost/r" % alice
    stop = threading.Event()
    sent = 0

    def flood():
        nonlocal sent
        # ~20 a millisecond while a is cut and resumed, and bounded: on a
        # slow machine (ASan, a busy CI) the cuts take longer, and an
        # unbounded flood would only test how fast the client reads.
        while not stop.is_set() and sent < 20000:
            for _ in range(20):
                b.message(to_a, "f%d" % sent)
                sent += 1
            time.sleep(0.001)

    sender = threading.Thread(target=flood)
    sender.start()
    received, h = [], 0

    def take(conn):
        """Handles what arrived: counts stanzas, answers <r/> with that count."""
        nonlocal h
        while conn.elements:
            el = conn.elements.popleft()
            if el.tag == q(NS_SM, "r"):
                conn.send("<a xmlns='%s' h='%d'/>" % (NS_SM, h))
            elif el.tag in (q(NS_CLIENT, "message"), q(NS_CLIENT, "iq"), q(NS_CLIENT, "presence")):
                h += 1
                if el.tag == q(NS_CLIENT, "message"):
                    received.append(el.findtext(q(NS_CLIENT, "body")))

    conn = a
    for cut in range(5):
        conn.poll(0.02 + 0.02 * cut)
        take(conn)
        conn.sock.close()
        if cut % 2 == 0:  # let the server notice: it hibernates the session
            wait_log_count(server, "connection lost; resumable", cut // 2 + 1)
        conn = authenticate(server, alice)
        conn.send("<resume xmlns='%s' previd='%s' h='%d'/>" % (NS_SM, a.sm_id, h))
        conn.expect(q(NS_SM, "resumed"))
    stop.set()
    sender.join()
    total = sent
    b.sync(timeout=60)  # everything b sent is routed
    conn.poll(0.2)
    take(conn)
    for el in conn.sync(timeout=60):
        conn.elements.append(el)
    take(conn)
    missing = sorted(set("f%d" % i for i in range(total)) - set(received))
    assert not missing, "lost: %s" % missing[:10]
    assert len(received) == total, "delivered more than once: %d of %d" % (len(received), total)
    assert received == ["f%d" % i for i in range(total)], "out of order"
    # All handled: nothing for the server to route again when the stream closes.
    conn.send("<a xmlns='%s' h='%d'/>" % (NS_SM, h))
    conn.sync()
    conn.close()
    b.close()


def wait_log_count(server, text, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log().count(text) >= count:
            return
        time.sleep(0.02)
    raise AssertionError("server logged %r fewer than %d times" % (text, count))


def test_resume_of_a_live_session_closes_the_old_stream_with_conflict(tern_server):
    """XEP-0198 §5: "If the former stream is resumed and the server still has
    the stream for the previously-identified session open at this time, the
    server SHOULD send a 'conflict' stream error and close that stream." The
    old stream gets that and its closing tag, nothing else: its unacked
    stanza goes to the new stream, and so does everything after."""
    alice, bob = account(tern_server, "rla"), account(tern_server, "rlb")
    a = login(tern_server, alice, sm_resume=True, presence=False)
    b = login(tern_server, bob)
    to_a = "%s@localhost/r" % alice
    b.message(to_a, "unacked")
    a.wait_message("unacked")
    assert a.sync() == []  # the old stream is quiet from here

    a2 = authenticate(tern_server, alice)
    a2.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, a.sm_id))
    assert a2.expect(q(NS_SM, "resumed")).get("h") == "1"  # the sync ping
    assert a2.wait_message("unacked").get("to") == to_a
    b.message(to_a, "after-takeover")
    a2.wait_message("after-takeover")

    err = a.next_element()
    if err.tag != q(NS_STREAM, "error"):
        a.fail("expected <stream:error/> first on the old stream, got %s" % xml(err))
    assert [c.tag for c in err] == [q(NS_STREAMS, "conflict"), q(NS_STREAMS, "text")], xml(err)
    assert err.findtext(q(NS_STREAMS, "text")) == "Replaced by resumed session"
    assert a.maybe_element(timeout=1.0) is None and a.stream_ended, "more after the error: " + a.dump()
    a.send("</stream:stream>")
    assert a.wait_closed(), "old connection still open after both closing tags"
    assert bodies(a2.sync()) == []  # each stanza once, on the new stream only
    a2.close()
    b.close()


def test_resume_of_a_live_session_closes_the_old_stream_without_our_closing_tag(tern_server):
    """A client that never answers our closing tag on the old stream is hung
    up on after the grace period; the session stays the new stream's."""
    alice, bob = account(tern_server, "rma"), account(tern_server, "rmb")
    a = login(tern_server, alice, sm_resume=True, presence=False)
    b = login(tern_server, bob)
    a2 = authenticate(tern_server, alice)
    a2.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, a.sm_id))
    a2.expect(q(NS_SM, "resumed"))
    assert a.wait_closed(timeout=5.0), "old connection not hung up"
    assert a.stream_ended, "old stream closed without a closing tag: " + a.dump()
    b.message("%s@localhost/r" % alice, "still-here")
    a2.wait_message("still-here")
    a2.send("<r xmlns='%s'/>" % NS_SM)
    assert a2.expect(q(NS_SM, "a")).get("h") == "0"
    a2.close()
    b.close()


def test_nobody_resumes_another_accounts_session_or_an_unknown_one(tern_server):
    alice, mallory = account(tern_server, "rva"), account(tern_server, "rvm")
    a = login(tern_server, alice, sm_resume=True)
    m = authenticate(tern_server, mallory)
    m.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, a.sm_id))
    failed = m.expect(q(NS_SM, "failed"))
    assert failed.find(q(NS_STANZAS, "item-not-found")) is not None
    m.send("<resume xmlns='%s' previd='no-such-id' h='0'/>" % NS_SM)
    failed = m.expect(q(NS_SM, "failed"))
    assert failed.find(q(NS_STANZAS, "item-not-found")) is not None
    # After a failed resume the client binds as usual.
    assert m.bound_jid("r2").startswith("%s@localhost/" % mallory)
    a.ping()
    a.close()
    m.close()


def test_not_resumed_in_time_the_messages_are_in_offline_storage(tern_factory):
    server = tern_factory({"limits": {"resume_timeout_seconds": 1}})
    alice, bob = account(server, "rta"), account(server, "rtb")
    a = login(server, alice, sm_resume=True)
    b = login(server, bob)
    b.message("%s@localhost/r" % alice, "while-away")
    a.wait_message("while-away")
    a.sock.close()
    wait_log(server, "not resumed in time")
    a2 = authenticate(server, alice)
    a2.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, a.sm_id))
    failed = a2.expect(q(NS_SM, "failed"))
    assert failed.find(q(NS_STANZAS, "item-not-found")) is not None
    a2.bound_jid("r")
    a2.send("<presence/>")
    got = a2.wait_message("while-away")
    assert got.find(q("urn:xmpp:delay", "delay")) is not None, "not from offline storage"
    assert "while-away" not in bodies(a2.sync()), "delivered twice"
    a2.close()
    b.close()


def send_counted(client, to, count):
    """Sends `count` messages and waits for the server's count of them."""
    for i in range(count):
        client.message(to, "c%d" % i)
    client.send("<r xmlns='%s'/>" % NS_SM)
    assert client.expect(q(NS_SM, "a")).get("h") == str(count)


def expect_item_not_found(client, previd, h):
    """A <resume/> of `previd` gets <failed h?><item-not-found/></failed>,
    exactly, with `h` (a string) or without it (None)."""
    client.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, previd))
    failed = client.expect(q(NS_SM, "failed"))
    assert [c.tag for c in failed] == [q(NS_STANZAS, "item-not-found")], xml(failed)
    assert failed.get("h") == h, xml(failed)
    assert sorted(failed.keys()) == (["h"] if h is not None else []), xml(failed)


def session_that_timed_out(tern_factory, prefix, count):
    """A server with a 1 s resume timeout, two accounts, and the first one's
    resumable session that handled `count` messages to the second, lost its
    connection and timed out. Returns the server, both names and the old
    client (with its .sm_id)."""
    server = tern_factory({"limits": {"resume_timeout_seconds": 1}})
    name, peer = account(server, prefix + "a"), account(server, prefix + "b")
    old = login(server, name, sm_resume=True, presence=False)
    send_counted(old, "%s@localhost" % peer, count)
    old.sock.close()
    wait_log(server, "%s@localhost/r: not resumed in time" % name)
    wait_log(server, "%s@localhost/r: session over; a late resume hears h=%d" % (name, count))
    return server, name, peer, old


def test_a_resume_after_the_timeout_hears_how_many_stanzas_were_handled(tern_factory):
    """XEP-0198 §5: "If the server recogizes the 'previd' as an earlier
    session that has timed out the server MAY also include a 'h' attribute
    indicating the number of stanzas received before the timeout." The
    client then resends only what the server never had."""
    server, alice, _, a = session_that_timed_out(tern_factory, "rh", 3)
    a2 = authenticate(server, alice)
    expect_item_not_found(a2, a.sm_id, "3")
    # Asked again (the answer may be lost with a connection): the same count.
    expect_item_not_found(a2, a.sm_id, "3")
    assert a2.bound_jid("r") == "%s@localhost/r" % alice
    a2.close()


def test_another_account_presenting_an_ended_sessions_id_hears_no_count(tern_factory):
    server, alice, mallory, a = session_that_timed_out(tern_factory, "rn", 2)
    m = authenticate(server, mallory)
    expect_item_not_found(m, a.sm_id, None)
    m.close()
    # The count is still alice's to hear.
    a2 = authenticate(server, alice)
    expect_item_not_found(a2, a.sm_id, "2")
    a2.close()


def test_a_session_ended_by_a_new_bind_or_a_clean_close_tells_its_count(tern_server):
    """Not only a timeout: any end of a resumable session leaves its count."""
    alice, bob = account(tern_server, "rca"), account(tern_server, "rcb")
    a = login(tern_server, alice, sm_resume=True, presence=False)
    send_counted(a, "%s@localhost" % bob, 2)
    replacing = tern_server.raw(timeout=10.0)
    replacing.login(alice, PW, resource="r")  # the same resource: conflict
    a.expect_stream_error("conflict")
    wait_log(tern_server, "%s@localhost/r: session over; a late resume hears h=2" % alice)

    c = login(tern_server, alice, sm_resume=True, presence=False)  # replaces `replacing`
    send_counted(c, "%s@localhost" % bob, 4)
    c.close()  # </stream:stream>: a clean end
    wait_log(tern_server, "%s@localhost/r: session over; a late resume hears h=4" % alice)

    r = authenticate(tern_server, alice)
    expect_item_not_found(r, a.sm_id, "2")
    expect_item_not_found(r, c.sm_id, "4")
    r.close()
    replacing.close()


def test_sigterm_moves_a_hibernated_sessions_messages_to_offline_storage(tern_factory):
    server = tern_factory()
    alice, bob = account(server, "rsa"), account(server, "rsb")
    a = login(server, alice, sm_resume=True)
    b = login(server, bob)
    b.message("%s@localhost/r" % alice, "before-stop")
    a.wait_message("before-stop")
    a.sock.close()
    wait_log(server, "connection lost; resumable")
    b.close()
    assert server.stop() == 0
    server.start()
    a2 = server.raw(timeout=10.0)
    a2.login(alice, PW, resource="r", presence=True)
    got = a2.wait_message("before-stop")
    assert got.find(q("urn:xmpp:delay", "delay")) is not None
    a2.close()


def test_a_websocket_session_resumes_on_a_tcp_connection(tern_factory):
    port = free_port()
    server = tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]}})
    alice, bob = account(server, "rwa"), account(server, "rwb")
    ws = WsClient(port)
    ws.login(alice, PW, resource="r")
    ws.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
    enabled = ws.wait_for(lambda el: el.tag == q(NS_SM, "enabled"))
    b = login(server, bob)
    b.message("%s@localhost/r" % alice, "over-ws")
    ws.wait_for(lambda el: el.findtext(q(NS_CLIENT, "body")) == "over-ws")
    ws.sock.close()
    wait_log(server, "connection lost; resumable")
    b.message("%s@localhost/r" % alice, "while-away")
    b.sync()

    a2 = authenticate(server, alice)
    a2.send("<resume xmlns='%s' previd='%s' h='0'/>" % (NS_SM, enabled.get("id")))
    a2.expect(q(NS_SM, "resumed"))
    a2.wait_message("over-ws")
    assert bodies(a2.sync()) == ["while-away"]
    a2.close()
    b.close()


def test_every_message_the_server_acknowledged_survives_kill_9(tern_factory):
    """XEP-0198 §4: `h` counts stanzas the server has handled. A message to
    an account with no session is handled once it is in offline storage,
    so after the <a/> a kill -9 loses none of the messages it counts."""
    server = tern_factory()
    alice, bob = account(server, "k9a"), account(server, "k9b")
    a = login(server, alice, sm_resume=True)
    count = 300  # one account's offline queue: a write per message, in order
    a.send("".join("<message to='%s@localhost' type='chat' id='k%d'><body>k%d</body></message>"
                   % (bob, i, i) for i in range(count)))
    a.send("<r xmlns='%s'/>" % NS_SM)
    h = int(a.expect(q(NS_SM, "a"), timeout=30).get("h"))
    server.stop(signal.SIGKILL)
    assert h == count + 1, "the presence and every message were handled before the answer"

    server.start()
    b = login(server, bob)
    got = bodies(b.sync())
    while len(got) < count:
        more = bodies(b.sync())
        if not more:
            break
        got += more
    assert got == ["k%d" % i for i in range(count)]
    b.close()
