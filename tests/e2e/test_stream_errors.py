"""Protocol-level behaviour with the RawClient: SASL failures, TLS policy,
resource binding, stanza routing errors, restricted XML, limits, stream
header checks, shutdown, and the `tern user` commands on a live server.

Every assertion names the exact element the RFC requires (RFC 6120 unless
said otherwise).
"""

import base64
import re
import signal
import threading
import time

import pytest

from conftest import (NS_BIND, NS_CLIENT, NS_PING, NS_SASL, NS_SESSION, NS_STANZAS, NS_STREAM,
                      NS_STREAMS, NS_TLS, RawClient, q, stanza_error, unique_user, xml)

PASSWORD = "pa55-w0rd"


def sasl_condition(el):
    """The defined condition of a SASL <failure/> (None if not a failure)."""
    if el.tag != q(NS_SASL, "failure"):
        return None
    conds = [c.tag for c in el if c.tag.startswith("{%s}" % NS_SASL) and c.tag != q(NS_SASL, "text")]
    assert len(conds) == 1, "a SASL failure carries exactly one condition: " + xml(el)
    return conds[0].split("}", 1)[1]


def new_user(server, prefix="u"):
    local = unique_user(prefix)
    server.add_user(local, PASSWORD)
    return local


def online(server, local, resource=None, presence=False):
    c = server.raw()
    c.login(local, PASSWORD, resource=resource, presence=presence)
    return c


def tls_client(server):
    """A RawClient past STARTTLS, holding the post-TLS features."""
    c = server.raw()
    _, feats = c.start()
    assert feats.find(q(NS_TLS, "starttls")) is not None, xml(feats)
    c.feats = c.starttls()
    return c


# -- SASL -----------------------------------------------------------------

@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_wrong_password_is_not_authorized(tern_server, mech):
    local = new_user(tern_server)
    c = tls_client(tern_server)
    if mech == "PLAIN":
        res = c.auth_plain(local, "wrong-" + PASSWORD)
    else:
        res = c.auth_scram(local, "wrong-" + PASSWORD, mech[len("SCRAM-"):])
    assert sasl_condition(res) == "not-authorized", xml(res)
    # The stream stays usable for another attempt (RFC 6120 §6.4.5).
    res = c.auth_scram(local, PASSWORD, "SHA-256")
    assert res.tag == q(NS_SASL, "success"), xml(res)
    c.close()


def test_unknown_user_is_not_authorized(tern_server):
    c = tls_client(tern_server)
    res = c.auth_scram("nobody-" + unique_user(), PASSWORD, "SHA-256")
    assert sasl_condition(res) == "not-authorized", xml(res)
    c2 = tls_client(tern_server)
    res = c2.auth_plain("nobody-" + unique_user(), PASSWORD)
    assert sasl_condition(res) == "not-authorized", xml(res)
    c.close()
    c2.close()


def test_tampered_scram_proof_is_not_authorized(tern_server):
    local = new_user(tern_server)
    c = tls_client(tern_server)
    res = c.auth_scram(local, PASSWORD, "SHA-256", tamper_proof=True)
    assert sasl_condition(res) == "not-authorized", xml(res)
    c.close()


def test_unknown_mechanism_is_invalid_mechanism(tern_server):
    c = tls_client(tern_server)
    c.send("<auth xmlns='%s' mechanism='X-NOT-A-MECH'>AA==</auth>" % NS_SASL)
    assert sasl_condition(c.next_element()) == "invalid-mechanism"
    c.close()


def test_bad_base64_is_incorrect_encoding(tern_server):
    c = tls_client(tern_server)
    c.send("<auth xmlns='%s' mechanism='PLAIN'>!!!not base64!!!</auth>" % NS_SASL)
    assert sasl_condition(c.next_element()) == "incorrect-encoding"
    c.close()


def test_abort_during_scram_is_aborted(tern_server):
    """RFC 6120 §6.4.4: <abort/> → <failure><aborted/></failure>."""
    local = new_user(tern_server)
    c = tls_client(tern_server)
    first = "n,,n=%s,r=abcdefghijklmnop" % local
    c.send("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
           % (NS_SASL, base64.b64encode(first.encode()).decode()))
    c.expect(q(NS_SASL, "challenge"))
    c.send("<abort xmlns='%s'/>" % NS_SASL)
    assert sasl_condition(c.next_element()) == "aborted"
    c.close()


def test_plain_authzid_of_another_user_is_invalid_authzid(tern_server):
    local = new_user(tern_server)
    other = new_user(tern_server)
    c = tls_client(tern_server)
    res = c.auth_plain(local, PASSWORD, authzid="%s@%s" % (other, tern_server.domain))
    assert sasl_condition(res) == "invalid-authzid", xml(res)
    c.close()


def test_plain_authzid_equal_to_own_jid_succeeds(tern_server):
    local = new_user(tern_server)
    c = tls_client(tern_server)
    res = c.auth_plain(local, PASSWORD, authzid="%s@%s" % (local, tern_server.domain))
    assert res.tag == q(NS_SASL, "success"), xml(res)
    c.close()


# -- TLS policy -------------------------------------------------------------

def test_required_starttls_is_advertised_alone(tern_server):
    """require_starttls=true: the pre-TLS features are <starttls><required/>
    and nothing else (RFC 6120 §5.3.1: SHOULD NOT advertise others), so no
    mechanism at all is offered in the clear."""
    c = tern_server.raw()
    _, feats = c.start()
    starttls = feats.find(q(NS_TLS, "starttls"))
    assert starttls is not None, xml(feats)
    assert starttls.find(q(NS_TLS, "required")) is not None, xml(feats)
    assert [child.tag for child in feats] == [q(NS_TLS, "starttls")], xml(feats)
    assert RawClient.mechanisms(feats) == []
    c.close()


def test_sasl_before_required_tls_is_policy_violation(tern_server):
    local = new_user(tern_server)
    c = tern_server.raw()
    c.start()
    c.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, "AGEAYg=="))
    c.expect_stream_error("policy-violation")
    # And with SCRAM, which would be acceptable in the clear were TLS optional.
    c = tern_server.raw()
    c.start()
    c.send("<auth xmlns='%s' mechanism='SCRAM-SHA-256'>%s</auth>"
           % (NS_SASL, base64.b64encode(("n,,n=%s,r=abcdefgh" % local).encode()).decode()))
    c.expect_stream_error("policy-violation")


def test_stanza_before_required_tls_is_policy_violation(tern_server):
    c = tern_server.raw()
    c.start()
    c.send("<message to='someone@%s'><body>x</body></message>" % tern_server.domain)
    c.expect_stream_error("policy-violation")


def test_stanza_before_authentication_is_not_authorized(tern_server):
    """RFC 6120 §4.9.3.12: stanzas before the stream is authenticated."""
    c = tls_client(tern_server)
    c.send("<iq type='get' id='early'><ping xmlns='%s'/></iq>" % NS_PING)
    c.expect_stream_error("not-authorized")


def test_starttls_twice_is_refused(tern_server):
    """After TLS, <starttls/> is no longer offered; sending it anyway gets
    the TLS <failure/>, then the server closes the stream and the connection
    (RFC 6120 §5.4.2.2)."""
    c = tls_client(tern_server)
    assert c.feats.find(q(NS_TLS, "starttls")) is None, xml(c.feats)
    c.send("<starttls xmlns='%s'/>" % NS_TLS)
    el = c.next_element()
    assert el.tag == q(NS_TLS, "failure") and len(el) == 0, xml(el)
    # §5.4.2.2: the server closes the stream and terminates the TCP
    # connection itself, without waiting for our closing tag.
    assert c.wait_closed(5), "connection still open after the TLS failure"
    assert c.stream_ended, "no </stream:stream> after <failure/>"


@pytest.fixture(scope="module")
def optional_tls_server(tmp_path_factory):
    from conftest import TernServer
    server = TernServer(tmp_path_factory.mktemp("tern-opttls"),
                        {"tls": {"require_starttls": False}})
    server.start()
    yield server
    server.stop_and_check()


def test_optional_tls_features_offer_scram_but_not_plain(optional_tls_server):
    c = optional_tls_server.raw()
    _, feats = c.start()
    starttls = feats.find(q(NS_TLS, "starttls"))
    assert starttls is not None, xml(feats)
    assert starttls.find(q(NS_TLS, "required")) is None, xml(feats)
    mechs = RawClient.mechanisms(feats)
    assert "SCRAM-SHA-256" in mechs, mechs
    assert "PLAIN" not in mechs, "PLAIN offered in the clear: %s" % mechs
    assert not any(m.endswith("-PLUS") for m in mechs), "-PLUS offered without TLS: %s" % mechs
    c.close()


def test_optional_tls_plain_in_the_clear_is_refused(optional_tls_server):
    local = new_user(optional_tls_server)
    c = optional_tls_server.raw()
    c.start()
    res = c.auth_plain(local, PASSWORD)
    assert res.tag == q(NS_SASL, "failure"), xml(res)
    assert sasl_condition(res) == "encryption-required", xml(res)  # RFC 6120 §6.5.6
    c.close()


def test_optional_tls_scram_in_the_clear_works(optional_tls_server):
    local = new_user(optional_tls_server)
    c = optional_tls_server.raw()
    c.start()
    res = c.auth_scram(local, PASSWORD, "SHA-256")
    assert res.tag == q(NS_SASL, "success"), xml(res)
    c.restart()
    assert c.bound_jid("clear") == "%s@%s/clear" % (local, optional_tls_server.domain)
    c.close()


# -- resource binding and session ------------------------------------------------

def test_post_auth_features_offer_bind_and_optional_session(tern_server):
    local = new_user(tern_server)
    c = tls_client(tern_server)
    assert c.auth_scram(local, PASSWORD, "SHA-256").tag == q(NS_SASL, "success")
    _, feats = c.restart()
    assert feats.find(q(NS_BIND, "bind")) is not None, xml(feats)
    session = feats.find(q(NS_SESSION, "session"))
    assert session is not None, xml(feats)
    assert session.find(q(NS_SESSION, "optional")) is not None, xml(feats)
    assert feats.find(q(NS_SASL, "mechanisms")) is None, "SASL offered again: " + xml(feats)
    c.close()


def test_legacy_session_iq_gets_result(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local, "sess")
    res = c.iq("set", "<session xmlns='%s'/>" % NS_SESSION)
    assert res.get("type") == "result", xml(res)
    c.close()


def test_server_generates_resource(tern_server):
    local = new_user(tern_server)
    bare = "%s@%s" % (local, tern_server.domain)
    clients = [online(tern_server, local) for _ in range(2)]
    jids = [c.jid for c in clients]
    for jid in jids:
        assert jid.startswith(bare + "/") and len(jid) > len(bare) + 1, jid
    assert jids[0] != jids[1], "two sessions were given the same resource: %s" % jids
    # Both sessions live side by side.
    for c in clients:
        assert c.ping().get("type") == "result"
        c.close()


def test_bind_conflict_replaces_old_session(tern_server):
    """RFC 6120 §7.7.2.2: the server terminates the existing session with a
    <conflict/> stream error and binds the new one."""
    local = new_user(tern_server)
    first = online(tern_server, local, "dup")
    second = online(tern_server, local, "dup")
    assert second.jid == "%s@%s/dup" % (local, tern_server.domain)
    first.expect_stream_error("conflict")
    assert second.ping().get("type") == "result"
    second.close()


def test_bind_twice_on_one_stream_is_refused(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local, "once")
    res = c.bind("again")
    assert res.get("type") == "error", xml(res)
    assert stanza_error(res) == ("cancel", [q(NS_STANZAS, "not-allowed")]), xml(res)
    assert c.ping().get("type") == "result", "the stream stays open"
    c.close()


# -- stanza routing errors -------------------------------------------------

def assert_iq_error(res, iq_id, condition, from_=None):
    assert res.tag == q(NS_CLIENT, "iq"), xml(res)
    assert res.get("type") == "error", xml(res)
    assert res.get("id") == iq_id, xml(res)
    if from_ is not None:
        assert res.get("from") == from_, xml(res)
    _, conds = stanza_error(res)
    assert conds == [q(NS_STANZAS, condition)], xml(res)


def send_iq(c, iq_id, to, payload, type_="get"):
    to_attr = " to='%s'" % to if to else ""
    c.send("<iq type='%s' id='%s'%s>%s</iq>" % (type_, iq_id, to_attr, payload))
    return c.wait_for(lambda el: el.tag == q(NS_CLIENT, "iq") and el.get("id") == iq_id,
                      what="iq reply %s" % iq_id)


def test_iq_unknown_namespace_to_server_is_service_unavailable(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local)
    res = send_iq(c, "unk-1", tern_server.domain, "<query xmlns='urn:example:nothing'/>")
    assert_iq_error(res, "unk-1", "service-unavailable", from_=tern_server.domain)
    assert stanza_error(res)[0] == "cancel", xml(res)
    c.close()


def test_iq_unknown_namespace_to_own_account_is_service_unavailable(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local)
    res = send_iq(c, "unk-2", None, "<query xmlns='urn:example:nothing'/>")
    assert_iq_error(res, "unk-2", "service-unavailable")
    c.close()


def test_iq_to_missing_full_jid_is_service_unavailable(tern_server):
    """RFC 6121 §8.5.3.2.3: no resource matches the full JID."""
    local = new_user(tern_server)
    other = new_user(tern_server)
    c = online(tern_server, local)
    to = "%s@%s/nowhere" % (other, tern_server.domain)
    res = send_iq(c, "miss-1", to, "<ping xmlns='%s'/>" % NS_PING)
    assert_iq_error(res, "miss-1", "service-unavailable", from_=to)
    c.close()


def test_iq_to_missing_account_is_service_unavailable(tern_server):
    """RFC 6121 §8.5.1: no such account."""
    local = new_user(tern_server)
    c = online(tern_server, local)
    to = "no-such-%s@%s/r" % (unique_user(), tern_server.domain)
    res = send_iq(c, "miss-2", to, "<ping xmlns='%s'/>" % NS_PING)
    assert_iq_error(res, "miss-2", "service-unavailable", from_=to)
    c.close()


def test_ping_server(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local)
    res = c.ping()
    assert res.get("type") == "result" and res.get("from") == tern_server.domain, xml(res)
    c.close()


def test_spoofed_from_is_replaced_by_real_jid(tern_server):
    """RFC 6120 §8.1.2.1: the server stamps the sender's full JID."""
    alice = new_user(tern_server, "alice")
    bob = new_user(tern_server, "bob")
    a = online(tern_server, alice, "real", presence=True)
    b = online(tern_server, bob, "home", presence=True)
    # A 'from' naming the sender's own full JID is fine, and so stamped.
    a.message(b.jid, "own", extra_attrs=" from='%s'" % a.jid)
    assert b.wait_message("own").get("from") == a.jid
    # A forged one is overridden, not refused: "the server MUST add a 'from'
    # attribute to the stanza or override the 'from' attribute specified by
    # the client" (RFC 6120 §8.1.2.1).
    a.message(b.jid, "spoof", extra_attrs=" from='%s@%s/x'" % (bob, tern_server.domain))
    try:
        msg = b.wait_message("spoof")
    except AssertionError as e:
        raise AssertionError("%s\n--- sender's transcript ---\n%s" % (e, a.dump()))
    assert msg.get("from") == a.jid, xml(msg)
    assert a.ping().get("type") == "result", "the sender's session did not survive"
    a.close()
    b.close()


# -- malformed and restricted XML ----------------------------------------

@pytest.fixture
def bystanders(tern_server):
    """Two logged-in sessions that must not notice another stream's trouble."""
    x = online(tern_server, new_user(tern_server, "x"), "by", presence=True)
    y = online(tern_server, new_user(tern_server, "y"), "by", presence=True)
    yield x, y
    x.close()
    y.close()


def assert_unaffected(bystanders, tag):
    x, y = bystanders
    assert x.ping().get("type") == "result"
    x.message(y.jid, "still here " + tag)
    assert y.wait_message("still here " + tag).get("from") == x.jid


def test_malformed_xml_is_not_well_formed(tern_server, bystanders):
    victim = online(tern_server, new_user(tern_server))
    victim.send("<message to='%s'><body>x</bdy></message>" % bystanders[0].jid)
    victim.expect_stream_error("not-well-formed")
    assert_unaffected(bystanders, "malformed")


def test_garbage_before_auth_is_not_well_formed(tern_server, bystanders):
    c = tern_server.raw()
    c.start()
    c.send("<<<this is not xml>>>")
    c.expect_stream_error("not-well-formed")
    assert_unaffected(bystanders, "garbage")


def test_doctype_is_restricted_xml(tern_server, bystanders):
    c = tern_server.raw()
    c.open_stream(decl=False, prefix="<?xml version='1.0'?>"
                  "<!DOCTYPE stream:stream [<!ENTITY boom 'boom'>]>")
    c.read_header()
    c.expect_stream_error("restricted-xml")
    assert_unaffected(bystanders, "doctype")


def test_processing_instruction_is_restricted_xml(tern_server, bystanders):
    c = tern_server.raw()
    c.start()
    c.send("<?evil data?>")
    c.expect_stream_error("restricted-xml")
    assert_unaffected(bystanders, "pi")


def test_comment_is_restricted_xml(tern_server):
    """RFC 6120 §11.1: comments are restricted XML."""
    c = online(tern_server, new_user(tern_server))
    c.send("<!-- hello -->")
    c.expect_stream_error("restricted-xml")


@pytest.fixture(scope="module")
def small_stanza_server(tmp_path_factory):
    from conftest import TernServer
    server = TernServer(tmp_path_factory.mktemp("tern-small"),
                        {"limits": {"max_stanza_bytes": 10000}})
    server.start()
    yield server
    server.stop_and_check()


def test_oversized_stanza_is_policy_violation(small_stanza_server):
    alice = new_user(small_stanza_server, "alice")
    bob = new_user(small_stanza_server, "bob")
    a = online(small_stanza_server, alice, "a", presence=True)
    b = online(small_stanza_server, bob, "b", presence=True)
    # Under the limit: delivered.
    body = "m" * 5000
    a.message(b.jid, body)
    assert b.wait_message(body).get("from") == a.jid
    # Over it, sent in pieces so that no single read is the whole stanza.
    big = "<message to='%s' type='chat'><body>%s</body></message>" % (b.jid, "M" * 20000)
    a.send_in_pieces(big)
    a.expect_stream_error("policy-violation")
    # The other session carries on, and got nothing of the big stanza.
    leaked = [el for el in b.sync() if el.tag == q(NS_CLIENT, "message")]
    assert not leaked, [xml(el)[:200] for el in leaked]
    b.close()


def test_oversized_stanza_unterminated_is_policy_violation(small_stanza_server):
    """An element that never ends must not grow the buffer without bound."""
    c = online(small_stanza_server, new_user(small_stanza_server))
    c.send_in_pieces("<message><body>" + "N" * 30000)
    c.expect_stream_error("policy-violation")


def test_whitespace_keepalive_is_accepted(tern_server):
    local = new_user(tern_server)
    c = tern_server.raw()
    c.open_stream()
    c.send(" ")
    c.read_header()
    c.features()
    c.send(" \n ")
    c.starttls()
    c.send(" ")
    assert c.auth_scram(local, PASSWORD, "SHA-256").tag == q(NS_SASL, "success")
    c.restart()
    c.bound_jid("ka")
    for _ in range(3):  # each keepalive in a read of its own
        c.send(" ")
        assert c.ping().get("type") == "result"
    c.send("\n")
    assert c.ping().get("type") == "result"
    c.close()


# -- stream header --------------------------------------------------------------

def test_response_header(tern_server):
    c = tern_server.raw()
    header = c.start()[0]
    assert c.header_tag == q(NS_STREAM, "stream")
    assert header.get("from") == tern_server.domain, header
    assert header.get("version") == "1.0", header
    assert header.get("id"), "no stream id: %s" % header
    first_id = header["id"]
    # A restarted stream gets a new id (RFC 6120 §4.7.3).
    c.starttls()
    assert c.header.get("id") and c.header["id"] != first_id, (first_id, c.header)
    other = tern_server.raw().start()[0]
    assert other.get("id") != first_id
    c.close()


def test_unknown_host_is_host_unknown(tern_server):
    c = tern_server.raw()
    c.open_stream(to="unknown.example")
    c.read_header()
    c.expect_stream_error("host-unknown")


@pytest.mark.parametrize("version", [None, "0.9"])
def test_old_or_missing_version_is_unsupported_version(tern_server, version):
    c = tern_server.raw()
    c.open_stream(version=version)
    c.read_header()
    c.expect_stream_error("unsupported-version")


def test_higher_minor_version_gets_1_0(tern_server):
    """RFC 6120 §4.7.5: the receiving entity answers with the highest version
    it supports and the stream goes on."""
    c = tern_server.raw()
    c.open_stream(version="1.5")
    header = c.read_header()
    assert header.get("version") == "1.0", header
    assert c.features() is not None
    c.close()


def test_wrong_stream_namespace_is_invalid_namespace(tern_server):
    c = tern_server.raw()
    c.open_stream(stream_ns="http://wrong.example/streams")
    c.read_header()
    c.expect_stream_error("invalid-namespace")


def test_wrong_content_namespace_is_invalid_namespace(tern_server):
    c = tern_server.raw()
    c.open_stream(xmlns="jabber:server")
    c.read_header()
    c.expect_stream_error("invalid-namespace")


# -- shutdown ---------------------------------------------------------------

def test_sigterm_sends_system_shutdown_and_exits_0(tern_factory):
    server = tern_factory()
    local = new_user(server)
    authed = online(server, local, "bye")
    fresh = server.raw()
    fresh.start()
    server.should_run = False  # the exit below is what this test wants
    server.proc.send_signal(signal.SIGTERM)
    authed.expect_stream_error("system-shutdown", timeout=10)
    fresh.expect_stream_error("system-shutdown", timeout=10)
    assert server.proc.wait(15) == 0, server.log()[-4000:]


def test_peer_that_never_answers_our_closing_tag_is_hung_up_on(tern_factory):
    """RFC 6120 §4.4: after our </stream:stream> we wait a little for the
    peer's; a peer that never sends it (nor hangs up) is disconnected after
    the grace period, so SIGTERM is not held up by it until the bound."""
    server = tern_factory()
    local = new_user(server)
    silent = online(server, local, "silent")
    server.should_run = False  # the exit below is what this test wants
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    el = silent.wait_for(lambda e: e.tag == q(NS_STREAM, "error"), timeout=10, what="stream error")
    assert el.find(q(NS_STREAMS, "system-shutdown")) is not None, xml(el)
    # No closing tag from us: the server must hang up by itself.
    assert silent.wait_closed(timeout=10), "still connected %.1fs after SIGTERM" % (
        time.monotonic() - t0)
    assert server.proc.wait(15) == 0, server.log()[-4000:]
    assert "streams still open at the deadline" not in server.log()


# -- `tern user` on a live server -------------------------------------------

def test_user_del_while_online(tern_server):
    local = new_user(tern_server)
    c = online(tern_server, local, "doomed")
    assert c.ping().get("type") == "result"
    # The running server deletes it (over the control socket) and ends
    # its sessions.
    out = tern_server.del_user("%s@%s" % (local, tern_server.domain)).stdout
    assert out.strip() == "deleted %s@%s" % (local, tern_server.domain), out
    again = tern_server.cli("user", "del", "%s@%s" % (local, tern_server.domain), check=False)
    assert again.returncode == 1 and "no such user" in again.stderr, again
    # The open session ends as Prosody ends it: <not-authorized/>, then
    # </stream:stream> and the TCP close (all checked by expect_stream_error).
    err = c.expect_stream_error("not-authorized")
    assert err.findtext(q(NS_STREAMS, "text")) == "account deleted", xml(err)
    fresh = tls_client(tern_server)
    res = fresh.auth_scram(local, PASSWORD, "SHA-256")
    assert sasl_condition(res) == "not-authorized", xml(res)
    fresh.close()


def test_user_passwd_takes_effect_at_once(tern_server):
    local = new_user(tern_server)
    tern_server.passwd("%s@%s" % (local, tern_server.domain), "new-" + PASSWORD)
    old = tls_client(tern_server)
    assert sasl_condition(old.auth_scram(local, PASSWORD, "SHA-256")) == "not-authorized"
    old.close()
    for mech in ("SHA-256", "SHA-1"):
        new = tls_client(tern_server)
        res = new.auth_scram(local, "new-" + PASSWORD, mech)
        assert res.tag == q(NS_SASL, "success"), xml(res)
        new.close()
    plain = tls_client(tern_server)
    assert plain.auth_plain(local, "new-" + PASSWORD).tag == q(NS_SASL, "success")
    plain.close()


def test_user_list_prints_users(tern_factory):
    server = tern_factory()
    names = ["%s@%s" % (new_user(server, p), server.domain) for p in ("ann", "ben", "cid")]
    gone = names.pop()
    server.del_user(gone)
    jid_re = re.compile(r"[^\s@]+@[^\s/]+")
    out = server.list_users(server.domain).stdout
    assert set(jid_re.findall(out)) == set(names), out
    out_all = server.list_users().stdout
    assert set(jid_re.findall(out_all)) == set(names), out_all


def test_user_add_existing_fails(tern_server):
    local = new_user(tern_server)
    res = tern_server.cli("user", "add", "%s@%s" % (local, tern_server.domain), "x", check=False)
    assert res.returncode != 0, res
    # The old password still works.
    c = tls_client(tern_server)
    assert c.auth_scram(local, PASSWORD, "SHA-256").tag == q(NS_SASL, "success")
    c.close()
