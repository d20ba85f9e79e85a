"""XEP-0388 (SASL2), XEP-0386 (Bind 2) and XEP-0484 (FAST) over raw c2s:
authentication without a stream restart, SCRAM's server signature in
<additional-data/>, failures with the RFC 6120 condition, a resource bound
inline with stream management, carbons and CSI enabled in the same request,
and a token that logs a client in again in one round trip."""

import base64
import datetime
import hashlib
import hmac
import uuid

from conftest import (NS_BIND, NS_BIND2, NS_CLIENT, NS_FAST, NS_SASL, NS_SASL2, NS_SM, NS_STREAM,
                      q, tls_exporter, unique_user, xml)

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
