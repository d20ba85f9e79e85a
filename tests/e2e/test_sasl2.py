"""XEP-0388 (SASL2), XEP-0386 (Bind 2) and XEP-0484 (FAST) over raw c2s:
authentication without a stream restart, SCRAM's server signature in
<additional-data/>, failures with the RFC 6120 condition, a resource bound
inline with stream management, carbons and CSI enabled in the same request,
a token that logs a client in again in one round trip, and XEP-0198
resumption inline in <authenticate/> (with a password or a token; refused
for another account's session or a bogus one, falling back to Bind 2)."""

import base64
import datetime
import hashlib
import hmac
import time
import uuid

import pytest

from conftest import (NS_BIND, NS_BIND2, NS_CLIENT, NS_FAST, NS_SASL, NS_SASL2, NS_SM, NS_STANZAS,
                      NS_STREAM, q, tls_exporter, unique_user, xml)

PW = "pw-sasl2"
NS_CSI = "urn:xmpp:csi:0"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_MAM = "urn:xmpp:mam:2"


def account(server, prefix):
    name = unique_user(prefix)
    server.add_user("%s@localhost" % name, PW)
    return name


def bind2(tag=None, extra=""):
    return "<bind xmlns='%s'>%s%s</bind>" % (
        NS_BIND2, "<tag>%s</tag>" % tag if tag else "", extra)


def expect_success(client, el):
    if el.tag != q(NS_SASL2, "success"):
        client.fail("expected SASL2 success, got %s" % xml(el))
    return el


def identity(success):
    return success.findtext(q(NS_SASL2, "authorization-identifier"))


def sasl2_condition(client, el):
    if el.tag != q(NS_SASL2, "failure"):
        client.fail("expected SASL2 failure, got %s" % xml(el))
    return [c.tag for c in el if c.tag.startswith("{%s}" % NS_SASL)]


def test_features_offer_sasl2_beside_sasl1_with_bind2_inline(tern_server):
    c = tern_server.raw()
    feats = c.secure_start()
    auth = feats.find(q(NS_SASL2, "authentication"))
    assert auth is not None, xml(feats)
    # The same mechanisms by the same policy as SASL1's.
    assert [m.text for m in auth.findall(q(NS_SASL2, "mechanism"))] == c.mechanisms(feats)
    inline_bind = auth.find("%s/%s/%s" % (q(NS_SASL2, "inline"), q(NS_BIND2, "bind"),
                                          q(NS_BIND2, "inline")))
    assert inline_bind is not None, xml(auth)
    assert {f.get("var") for f in inline_bind.findall(q(NS_BIND2, "feature"))} >= {
        NS_SM, NS_CSI, NS_CARBONS}
    # XEP-0198 "Inline Stream Resumption": <sm/> directly in SASL2's <inline/>.
    assert auth.find("%s/%s" % (q(NS_SASL2, "inline"), q(NS_SM, "sm"))) is not None, xml(auth)
    c.close()


def test_plain_without_bind_then_the_usual_bind_on_the_same_stream(tern_server):
    name = account(tern_server, "s2p")
    c = tern_server.raw()
    c.secure_start()
    ok = expect_success(c, c.sasl2_plain(name, PW))
    assert identity(ok) == "%s@localhost" % name
    assert ok.find(q(NS_BIND2, "bound")) is None
    # No restart: the features of the authenticated stream follow at once.
    feats = c.features()
    assert feats.find(q(NS_BIND, "bind")) is not None, xml(feats)
    assert c.bound_jid("r") == "%s@localhost/r" % name
    assert c.ping().get("type") == "result"
    c.close()


def test_scram_sha256_success_carries_the_server_signature(tern_server):
    name = account(tern_server, "s2s")
    c = tern_server.raw()
    c.secure_start()
    ok = expect_success(c, c.sasl2_scram(name, PW, "SHA-256"))  # checks additional-data
    assert identity(ok) == "%s@localhost" % name
    c.features()
    c.close()


def test_scram_plus_binds_to_the_tls_channel(tern_server):
    name = account(tern_server, "s2x")
    c = tern_server.raw()
    feats = c.secure_start()
    assert "SCRAM-SHA-256-PLUS" in c.mechanisms(feats)
    ok = expect_success(c, c.sasl2_scram(name, PW, "SHA-256", cb_type="tls-exporter"))
    assert identity(ok) == "%s@localhost" % name
    c.close()


def test_wrong_password_fails_with_not_authorized_then_a_retry_succeeds(tern_server):
    name = account(tern_server, "s2w")
    c = tern_server.raw()
    c.secure_start()
    assert sasl2_condition(c, c.sasl2_scram(name, "wrong", "SHA-256")) == [
        q(NS_SASL, "not-authorized")]
    assert sasl2_condition(c, c.sasl2_plain(name, "wrong")) == [q(NS_SASL, "not-authorized")]
    expect_success(c, c.sasl2_plain(name, PW))
    c.close()


def test_unknown_mechanism_and_abort(tern_server):
    c = tern_server.raw()
    c.secure_start()
    c.authenticate2("X-NOPE", b"x")
    assert sasl2_condition(c, c.next_element()) == [q(NS_SASL, "invalid-mechanism")]
    c.authenticate2("SCRAM-SHA-256")  # no initial response: an empty challenge
    ch = c.expect(q(NS_SASL2, "challenge"))
    assert not (ch.text or "").strip()
    c.send("<abort xmlns='%s'/>" % NS_SASL2)
    assert sasl2_condition(c, c.next_element()) == [q(NS_SASL, "aborted")]
    c.close()


def test_bind2_enables_sm_carbons_and_csi_inline(tern_server):
    name = account(tern_server, "s2b")
    other = account(tern_server, "s2o")
    phone = tern_server.raw()
    phone.secure_start()
    ok = expect_success(phone, phone.sasl2_scram(
        name, PW, inline=bind2("Phone", "<enable xmlns='%s' resume='true'/>"
                               "<enable xmlns='%s'/><inactive xmlns='%s'/>"
                               % (NS_SM, NS_CARBONS, NS_CSI)),
        user_agent_id=str(uuid.uuid4())))
    full = identity(ok)
    assert full.startswith("%s@localhost/Phone/" % name), xml(ok)
    bound = ok.find(q(NS_BIND2, "bound"))
    assert bound is not None, xml(ok)
    enabled = bound.find(q(NS_SM, "enabled"))
    assert enabled is not None and enabled.get("resume") == "true" and enabled.get("id"), xml(ok)
    assert bound.find(q(NS_MAM, "metadata")) is not None, xml(ok)
    feats = phone.features()
    assert feats.find(q(NS_BIND, "bind")) is None, xml(feats)

    desk = tern_server.raw()
    desk.login(name, PW, resource="desk")
    friend = tern_server.raw()
    friend_jid = friend.login(other, PW, resource="f")
    # CSI: a presence for the inactive phone is held back...
    friend.send("<presence to='%s'><show>away</show></presence>" % full)
    friend.sync()
    assert phone.maybe_element(0.3) is None
    # ...a message from the other resource is important: its carbon comes at once.
    desk.message(friend_jid, "from-desk")
    carbon = phone.wait_for(lambda el: el.tag == q(NS_CLIENT, "message"), what="carbon")
    sent = carbon.find(q(NS_CARBONS, "sent"))
    assert sent is not None, xml(carbon)
    assert "from-desk" in xml(sent)
    # The held presence went out before the carbon; SM counts both.
    phone.send("<r xmlns='%s'/>" % NS_SM)
    a = phone.wait_for(lambda el: el.tag == q(NS_SM, "a"), what="<a/>")
    assert a.get("h") == "0"
    phone.send("<a xmlns='%s' h='2'/>" % NS_SM)
    assert phone.ping().get("type") == "result"
    for x in (phone, desk, friend):
        x.close()


def test_same_user_agent_gets_the_same_resource_and_replaces_its_old_session(tern_server):
    name = account(tern_server, "s2r")
    ua = str(uuid.uuid4())
    first = tern_server.raw()
    first.secure_start()
    jid1 = identity(expect_success(first, first.sasl2_plain(name, PW, bind2("App"), ua)))
    first.features()
    assert first.ping().get("type") == "result"
    second = tern_server.raw()
    second.secure_start()
    jid2 = identity(expect_success(second, second.sasl2_plain(name, PW, bind2("App"), ua)))
    assert jid1 == jid2 and jid1.startswith("%s@localhost/App/" % name)
    assert ua not in jid1
    first.expect_stream_error("conflict")
    # Another installation of the same app gets a resource of its own.
    third = tern_server.raw()
    third.secure_start()
    jid3 = identity(expect_success(third, third.sasl2_plain(name, PW, bind2("App"),
                                                             str(uuid.uuid4()))))
    assert jid3 != jid1 and jid3.startswith("%s@localhost/App/" % name)
    second.features()
    assert second.ping().get("type") == "result"
    for x in (second, third):
        x.close()


# -- FAST (XEP-0484) ----------------------------------------------------------

def ht_initial(user, token, cb=b""):
    return user.encode() + b"\0" + hmac.new(token.encode(), b"Initiator" + cb, hashlib.sha256).digest()


def ht_responder(token, cb=b""):
    return hmac.new(token.encode(), b"Responder" + cb, hashlib.sha256).digest()


def get_token(client, success):
    tok = success.find(q(NS_FAST, "token"))
    if tok is None:
        client.fail("no FAST token in %s" % xml(success))
    expiry = datetime.datetime.strptime(tok.get("expiry"), "%Y-%m-%dT%H:%M:%SZ")
    left = expiry - datetime.datetime.utcnow()
    assert datetime.timedelta(days=13) < left <= datetime.timedelta(days=14, minutes=1), tok.get("expiry")
    assert len(tok.get("token") or "") >= 32
    return tok.get("token")


def password_login_with_token(server, name, ua, mech="HT-SHA-256-NONE"):
    c = server.raw()
    c.secure_start()
    ok = expect_success(c, c.sasl2_scram(
        name, PW, inline="<request-token xmlns='%s' mechanism='%s'/>" % (NS_FAST, mech),
        user_agent_id=ua))
    token = get_token(c, ok)
    c.features()
    c.close()
    return token


def fast_authenticate(client, name, token, ua, mech="HT-SHA-256-NONE", cb=b"", inline="",
                      fast_attrs="", pipelined=""):
    """Sends one FAST <authenticate/> (and whatever is pipelined behind it)
    in a single write."""
    body = "<initial-response>%s</initial-response>" % base64.b64encode(
        ht_initial(name, token, cb)).decode()
    body += "<user-agent id='%s'/>" % ua
    body += inline + "<fast xmlns='%s'%s/>" % (NS_FAST, fast_attrs)
    client.send("<authenticate xmlns='%s' mechanism='%s'>%s</authenticate>%s"
                % (NS_SASL2, mech, body, pipelined))


def test_features_offer_fast_with_and_without_channel_binding(tern_server):
    c = tern_server.raw()
    feats = c.secure_start()
    fast = feats.find("%s/%s/%s" % (q(NS_SASL2, "authentication"), q(NS_SASL2, "inline"),
                                    q(NS_FAST, "fast")))
    assert fast is not None, xml(feats)
    mechs = [m.text for m in fast.findall(q(NS_FAST, "mechanism"))]
    assert "HT-SHA-256-NONE" in mechs and "HT-SHA-256-EXPR" in mechs, mechs
    assert fast.get("tls-0rtt") is None
    c.close()


def test_fast_login_takes_one_round_trip_and_enables_sm_inline(tern_server):
    name = account(tern_server, "s2f")
    ua = str(uuid.uuid4())
    token = password_login_with_token(tern_server, name, ua)

    c = tern_server.raw()
    c.secure_start()
    writes_before = sum(1 for d, _ in c.transcript if d == ">>")
    # One write: authenticate + bind + SM, and a ping pipelined behind it.
    fast_authenticate(
        c, name, token, ua,
        inline=bind2("Phone", "<enable xmlns='%s' resume='true'/>" % NS_SM),
        pipelined="<iq type='get' id='after-auth' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    ok = expect_success(c, c.next_element())
    assert base64.b64decode(ok.findtext(q(NS_SASL2, "additional-data"))) == ht_responder(token)
    assert identity(ok).startswith("%s@localhost/Phone/" % name)
    enabled = ok.find("%s/%s" % (q(NS_BIND2, "bound"), q(NS_SM, "enabled")))
    assert enabled is not None and enabled.get("resume") == "true", xml(ok)
    assert ok.find(q(NS_FAST, "token")) is None  # a fresh token is not rotated
    c.features()
    pong = c.wait_for(lambda el: el.get("id") == "after-auth", what="ping reply")
    assert pong.get("type") == "result"
    # Everything above came back for the one write after the stream header.
    assert sum(1 for d, _ in c.transcript if d == ">>") == writes_before + 1
    c.close()


def test_fast_with_channel_binding(tern_server):
    name = account(tern_server, "s2e")
    ua = str(uuid.uuid4())
    token = password_login_with_token(tern_server, name, ua, "HT-SHA-256-EXPR")
    c = tern_server.raw()
    c.secure_start()
    cb = tls_exporter(c.sock)
    fast_authenticate(c, name, token, ua, mech="HT-SHA-256-EXPR", cb=cb)
    ok = expect_success(c, c.next_element())
    assert base64.b64decode(ok.findtext(q(NS_SASL2, "additional-data"))) == ht_responder(token, cb)
    c.close()
    # The token is bound to its mechanism: not usable without the binding.
    d = tern_server.raw()
    d.secure_start()
    fast_authenticate(d, name, token, ua)
    assert sasl2_condition(d, d.next_element()) == [q(NS_SASL, "not-authorized")]
    d.close()


def test_wrong_token_other_client_and_password_change_fail(tern_server):
    name = account(tern_server, "s2i")
    ua = str(uuid.uuid4())
    token = password_login_with_token(tern_server, name, ua)
    for bad_token, bad_ua in ((token[::-1], ua), (token, str(uuid.uuid4()))):
        c = tern_server.raw()
        c.secure_start()
        fast_authenticate(c, name, bad_token, bad_ua)
        assert sasl2_condition(c, c.next_element()) == [q(NS_SASL, "not-authorized")]
        c.close()
    tern_server.passwd("%s@localhost" % name, "changed-" + PW)
    c = tern_server.raw()
    c.secure_start()
    fast_authenticate(c, name, token, ua)
    assert sasl2_condition(c, c.next_element()) == [q(NS_SASL, "not-authorized")]
    c.close()


def test_rotation_and_invalidation(tern_server):
    name = account(tern_server, "s2t")
    ua = str(uuid.uuid4())
    first = password_login_with_token(tern_server, name, ua)

    def fast(token, **kw):
        c = tern_server.raw()
        c.secure_start()
        fast_authenticate(c, name, token, ua, **kw)
        el = c.next_element()
        c.close()
        return c, el

    # Asking for a new token with the current one: both work until the new
    # one is used...
    c, ok = fast(first, inline="<request-token xmlns='%s' mechanism='HT-SHA-256-NONE'/>" % NS_FAST)
    second = get_token(c, expect_success(c, ok))
    assert second != first
    c, ok = fast(first)
    expect_success(c, ok)
    c, ok = fast(second)
    expect_success(c, ok)
    # ...which invalidates the older one.
    c, el = fast(first)
    assert sasl2_condition(c, el) == [q(NS_SASL, "not-authorized")]
    # invalidate='true': accepted once, then gone, and no new token.
    c, ok = fast(second, fast_attrs=" invalidate='true'")
    assert expect_success(c, ok).find(q(NS_FAST, "token")) is None
    c, el = fast(second)
    assert sasl2_condition(c, el) == [q(NS_SASL, "not-authorized")]


# -- XEP-0198 resumption inline (XEP-0198 "SASL2 And BIND2 Interaction") -------

def resume_el(previd, h):
    return "<resume xmlns='%s' previd='%s' h='%s'/>" % (NS_SM, previd, h)


def sm_bind(tag="Phone"):
    """What Conversations and Monal send beside <resume/>: a Bind 2 request
    enabling resumable stream management, for when resumption fails."""
    return bind2(tag, "<enable xmlns='%s' resume='true'/>" % NS_SM)


def phone_login(server, name, ua, inline=""):
    """A SASL2 + Bind 2 login with resumable stream management; returns the
    client (with .jid and .sm_id) and its <success/>."""
    c = server.raw(timeout=10.0)
    c.secure_start()
    ok = expect_success(c, c.sasl2_scram(name, PW, inline=sm_bind() + inline, user_agent_id=ua))
    enabled = ok.find("%s/%s" % (q(NS_BIND2, "bound"), q(NS_SM, "enabled")))
    assert enabled is not None and enabled.get("resume") == "true", xml(ok)
    assert len(enabled.get("id") or "") >= 32, xml(ok)
    c.jid, c.sm_id = identity(ok), enabled.get("id")
    c.features()
    return c, ok


def peer_login(server, prefix):
    name = account(server, prefix)
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource="r", presence=True)
    return c


def wait_log(server, needle):
    deadline = time.monotonic() + 10
    while needle not in server.log():
        assert time.monotonic() < deadline, "server never logged %r" % needle
        time.sleep(0.05)


def break_connection(server, client):
    """Cuts the TCP connection without a closing tag, and waits until the
    server has put the session to sleep."""
    client.sock.close()
    wait_log(server, "%s: connection lost; resumable" % client.jid)


def failed_then_bound(ok, h):
    """A refused inline resumption: <failed h?><item-not-found/></failed>
    in <success/>, before the <bound/> of the request's Bind 2, which
    enabled resumable stream management; returns that <enabled/>."""
    failed = sm_answer(ok, "failed")
    assert [ch.tag for ch in failed] == [q(NS_STANZAS, "item-not-found")], xml(ok)
    assert failed.get("h") == h, xml(ok)
    assert ok.find(q(NS_SM, "resumed")) is None
    bound = ok.find(q(NS_BIND2, "bound"))
    assert bound is not None, xml(ok)
    # As in XEP-0198's example: <failed/> first, then what the bind did.
    children = list(ok)
    assert children.index(failed) < children.index(bound)
    enabled = bound.find(q(NS_SM, "enabled"))
    assert enabled is not None and enabled.get("resume") == "true" and enabled.get("id"), xml(ok)
    return enabled


def sm_answer(success, name):
    """The one <resumed/> or <failed/> directly in <success/>."""
    found = success.findall(q(NS_SM, name))
    assert len(found) == 1, xml(success)
    return found[0]


def chat_bodies(elements):
    return [el.findtext(q(NS_CLIENT, "body")) for el in elements
            if el.tag == q(NS_CLIENT, "message") and el.findtext(q(NS_CLIENT, "body"))]


@pytest.mark.parametrize("auth", ["scram", "fast"])
def test_resume_inline_resends_exactly_what_was_missed(tern_factory, auth):
    # Two shards: the kernel spreads connections over them, so about half
    # the runs take the session over from the other shard.
    tern_server = tern_factory({"server": {"shards": 2}})
    name = account(tern_server, "s2m")
    ua = str(uuid.uuid4())
    request_token = "<request-token xmlns='%s' mechanism='HT-SHA-256-NONE'/>" % NS_FAST
    phone, ok = phone_login(tern_server, name, ua, request_token if auth == "fast" else "")
    token = get_token(phone, ok) if auth == "fast" else None
    friend = peer_login(tern_server, "s2n")
    for body in ("m1", "m2", "m3"):
        friend.message(phone.jid, body)
    for body in ("m1", "m2", "m3"):
        phone.wait_message(body)
    phone.send("<a xmlns='%s' h='1'/>" % NS_SM)  # m1 acknowledged, m2 and m3 not
    phone.message(friend.jid, "from-phone")
    friend.wait_message("from-phone")
    break_connection(tern_server, phone)
    friend.message(phone.jid, "m4")
    friend.message(phone.jid, "m5")
    friend.sync()  # routed to the sleeping session by now

    # One write: authenticate + resume (+ the bind a client sends in case
    # resumption fails) + a ping pipelined behind it.
    again = tern_server.raw(timeout=10.0)
    again.secure_start()
    writes_before = sum(1 for d, _ in again.transcript if d == ">>")
    inline = resume_el(phone.sm_id, 1) + sm_bind()
    ping = "<iq type='get' id='after-resume' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
    if auth == "fast":
        fast_authenticate(again, name, token, ua, inline=inline, pipelined=ping)
        ok = expect_success(again, again.next_element())
        assert base64.b64decode(ok.findtext(q(NS_SASL2, "additional-data"))) == ht_responder(token)
    else:
        ok = expect_success(again, again.sasl2_scram(name, PW, inline=inline, user_agent_id=ua))
        again.send(ping)
    resumed = sm_answer(ok, "resumed")
    assert resumed.get("previd") == phone.sm_id, xml(ok)
    assert resumed.get("h") == "1", "the server handled one stanza from the phone: %s" % xml(ok)
    # The resumed session keeps its address; <bind/> was ignored (XEP-0198).
    assert identity(ok) == phone.jid
    assert ok.find(q(NS_BIND2, "bound")) is None, xml(ok)
    assert ok.find(q(NS_SM, "failed")) is None, xml(ok)
    before = []
    while True:
        el = again.next_element()
        if el.get("id") == "after-resume":
            assert el.get("type") == "result", xml(el)
            break
        before.append(el)
    # No stream features after a resumption (XEP-0198 "Inline Stream
    # Resumption"): the stream goes on as the old one.
    assert [xml(el) for el in before if el.tag == q(NS_STREAM, "features")] == []
    got = [el for el in before if el.tag == q(NS_CLIENT, "message")]
    assert chat_bodies(got) == ["m2", "m3", "m4", "m5"], [xml(el) for el in before]
    assert all(el.get("to") == phone.jid for el in got)
    if auth == "fast":
        # The one round trip: everything came back for the one write.
        assert sum(1 for d, _ in again.transcript if d == ">>") == writes_before + 1

    # Exactly once: nothing else comes, and the session counts on.
    assert chat_bodies(again.sync()) == []
    friend.message(phone.jid, "m6")
    again.wait_message("m6")
    assert chat_bodies(again.sync()) == []
    again.send("<r xmlns='%s'/>" % NS_SM)
    # from-phone, then the pipelined ping and the two of sync().
    assert again.wait_for(lambda el: el.tag == q(NS_SM, "a"), what="<a/>").get("h") == "4"
    again.close()
    friend.close()


def test_bogus_previd_with_bind_fails_inline_then_binds(tern_server):
    name = account(tern_server, "s2g")
    c = tern_server.raw(timeout=10.0)
    c.secure_start()
    ok = expect_success(c, c.sasl2_scram(name, PW, inline=resume_el("no-such-session", 3) + sm_bind(),
                                         user_agent_id=str(uuid.uuid4())))
    failed_then_bound(ok, None)  # no session known: no count to tell
    assert identity(ok).startswith("%s@localhost/Phone/" % name)
    feats = c.features()  # bound: the features of a bound stream, no <bind/>
    assert feats.find(q(NS_BIND, "bind")) is None, xml(feats)
    assert c.ping().get("type") == "result"
    c.close()


def test_inline_resume_of_an_expired_session_tells_its_count_then_binds(tern_factory):
    """XEP-0198 "Inline Stream Resumption", failed: the <failed/> of §5 (with
    the count of a session that timed out, for its own account) in
    <success/>, then the request's Bind 2 binds a new session."""
    server = tern_factory({"limits": {"resume_timeout_seconds": 1}})
    name = account(server, "s2x")
    phone, _ = phone_login(server, name, str(uuid.uuid4()))
    friend = peer_login(server, "s2y")
    for body in ("one", "two", "three"):
        phone.message(friend.jid, body)
    phone.send("<r xmlns='%s'/>" % NS_SM)
    assert phone.expect(q(NS_SM, "a")).get("h") == "3"
    break_connection(server, phone)
    wait_log(server, "%s: session over; a late resume hears h=3" % phone.jid)

    again = server.raw(timeout=10.0)
    again.secure_start()
    ok = expect_success(again, again.sasl2_scram(name, PW, inline=resume_el(phone.sm_id, 0) + sm_bind(),
                                                 user_agent_id=str(uuid.uuid4())))
    assert failed_then_bound(ok, "3").get("id") != phone.sm_id
    again.features()
    assert again.ping().get("type") == "result"
    again.close()
    friend.close()


def test_another_accounts_previd_is_refused_and_its_session_untouched(tern_server):
    alice = account(tern_server, "s2v")
    phone, _ = phone_login(tern_server, alice, str(uuid.uuid4()))
    friend = peer_login(tern_server, "s2u")
    friend.message(phone.jid, "before")
    phone.wait_message("before")
    break_connection(tern_server, phone)

    mallory = account(tern_server, "s2z")
    m = tern_server.raw(timeout=10.0)
    m.secure_start()
    ok = expect_success(m, m.sasl2_plain(mallory, PW, resume_el(phone.sm_id, 0)))
    failed = sm_answer(ok, "failed")
    assert [ch.tag for ch in failed] == [q(NS_STANZAS, "item-not-found")], xml(ok)
    assert failed.get("h") is None, "another account's count leaked: %s" % xml(ok)
    # Authenticated, not bound (no <bind/> in the request): mallory binds
    # the usual way, as herself.
    assert identity(ok) == "%s@localhost" % mallory
    assert m.features().find(q(NS_BIND, "bind")) is not None
    assert m.bound_jid("r").startswith("%s@localhost/" % mallory)
    assert chat_bodies(m.sync()) == []

    # Alice's session still sleeps and is hers to resume, with everything.
    friend.message(phone.jid, "while-away")
    friend.sync()
    a = tern_server.raw(timeout=10.0)
    a.secure_start()
    ok = expect_success(a, a.sasl2_plain(alice, PW, resume_el(phone.sm_id, 1)))
    assert sm_answer(ok, "resumed").get("h") == "0"
    assert chat_bodies(a.sync()) == ["while-away"]
    for x in (a, m, friend):
        x.close()


def test_bad_counts_are_refused_with_the_xep_conditions(tern_server):
    name = account(tern_server, "s2h")
    phone, _ = phone_login(tern_server, name, str(uuid.uuid4()))
    friend = peer_login(tern_server, "s2k")
    friend.message(phone.jid, "one")
    phone.wait_message("one")
    phone.message(friend.jid, "hello")
    friend.wait_message("hello")
    break_connection(tern_server, phone)

    def attempt(h):
        c = tern_server.raw(timeout=10.0)
        c.secure_start()
        ok = expect_success(c, c.sasl2_plain(name, PW, resume_el(phone.sm_id, h)))
        return c, ok

    c, ok = attempt("x")  # not a number
    failed = sm_answer(ok, "failed")
    assert [ch.tag for ch in failed] == [q(NS_STANZAS, "bad-request")], xml(ok)
    c.close()
    c, ok = attempt(2)  # the server sent one stanza
    failed = sm_answer(ok, "failed")
    assert failed.find(q(NS_STANZAS, "undefined-condition")) is not None, xml(ok)
    too_high = failed.find(q(NS_SM, "handled-count-too-high"))
    assert too_high is not None and too_high.get("h") == "2" and too_high.get("send-count") == "1", xml(ok)
    assert failed.get("h") == "1", "the account's own session: its count is told"
    c.close()
    # Refusals leave the session asleep, for a client that counts right.
    c, ok = attempt(1)
    assert sm_answer(ok, "resumed").get("h") == "1"
    assert chat_bodies(c.sync()) == []
    c.close()
    friend.close()


def test_without_resumption_sm_is_not_offered_inline(tern_factory):
    server = tern_factory({"limits": {"resume_timeout_seconds": 0}})
    name = account(server, "s2q")
    c = server.raw()
    feats = c.secure_start()
    inline = feats.find("%s/%s" % (q(NS_SASL2, "authentication"), q(NS_SASL2, "inline")))
    assert inline is not None and inline.find(q(NS_SM, "sm")) is None, xml(feats)
    ok = expect_success(c, c.sasl2_plain(name, PW, resume_el("abc", 0)))
    assert [ch.tag for ch in sm_answer(ok, "failed")] == [q(NS_STANZAS, "feature-not-implemented")]
    c.close()
