"""Logging in with a real client (slixmpp) with each SASL mechanism, over
STARTTLS and direct TLS (XEP-0368), plus message exchange between two clients.

slixmpp 1.8 binds -PLUS mechanisms only to 'tls-unique' (which RFC 9266
leaves undefined for TLS 1.3, but which Tern accepts for such clients); the
bindings Tern advertises, 'tls-exporter' (RFC 9266) and
'tls-server-end-point' (RFC 5929), are tested with the RawClient.
"""

import asyncio
import ssl

import pytest

from clients import LoginFailed, run, slix_login
from conftest import NS_SASL, NS_SASL_CB, NS_STREAM, NS_TLS, RawClient, q, unique_user, xml

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def users(tern_server):
    alice = tern_server.add_user(unique_user("alice"), PASSWORD)
    bob = tern_server.add_user(unique_user("bob"), PASSWORD)
    return alice, bob


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_slixmpp_login_over_starttls(tern_server, users, mech):
    alice, _ = users

    async def scenario():
        c = await slix_login(alice + "/login-" + mech, PASSWORD, tern_server.c2s_port, mech=mech)
        try:
            assert c.mechanism == mech
            assert mech in c["feature_mechanisms"].mech_list
            tls = c.tls_object
            assert isinstance(tls, ssl.SSLObject), "session is not over TLS"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert c.boundjid.full == alice + "/login-" + mech
            # The session answers: ping the server (XEP-0199).
            await c["xep_0199"].ping(tern_server.domain, timeout=5)
        finally:
            await c.close()

    run(scenario())


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"])
def test_slixmpp_plus_login_with_tls_unique(tern_server, users, mech):
    alice, _ = users

    async def scenario():
        c = await slix_login(alice + "/plus", PASSWORD, tern_server.c2s_port, mech=mech,
                             channel_binding=True)
        try:
            assert c.mechanism == mech
            assert c.boundjid.full == alice + "/plus"
        finally:
            await c.close()

    run(scenario())


def test_slixmpp_login_with_server_generated_resource(tern_server, users):
    alice, _ = users

    async def scenario():
        c = await slix_login(alice, PASSWORD, tern_server.c2s_port, mech="SCRAM-SHA-256")
        try:
            assert c.boundjid.bare == alice
            assert c.boundjid.resource, "server assigned an empty resource"
        finally:
            await c.close()

    run(scenario())


def test_slixmpp_wrong_password_fails(tern_server, users):
    alice, _ = users

    async def scenario():
        with pytest.raises(LoginFailed) as info:
            c = await slix_login(alice, "wrong" + PASSWORD, tern_server.c2s_port,
                                 mech="SCRAM-SHA-256")
            await c.close()
        assert "not-authorized" in str(info.value)

    run(scenario())


def test_slixmpp_direct_tls_login(tern_server, users):
    """XEP-0368: TLS from the first byte on the c2s_tls port."""
    _, bob = users

    async def scenario():
        c = await slix_login(bob + "/direct", PASSWORD, tern_server.tls_port,
                             mech="SCRAM-SHA-256", direct_tls=True)
        try:
            assert isinstance(c.tls_object, ssl.SSLObject)
            assert c.boundjid.full == bob + "/direct"
            await c["xep_0199"].ping(tern_server.domain, timeout=5)
        finally:
            await c.close()

    run(scenario())


def test_slixmpp_stock_configuration_logs_in(tern_server, users):
    """slixmpp as an application would use it (no mechanism restriction,
    its own channel-binding behaviour) must get a session: interop check."""
    alice, _ = users

    async def scenario():
        c = await slix_login(alice + "/stock", PASSWORD, tern_server.c2s_port,
                             channel_binding=True)
        try:
            assert c.boundjid.full == alice + "/stock"
        finally:
            await c.close()

    run(scenario())


def test_message_between_full_jids(tern_server, users):
    alice, bob = users

    async def scenario():
        a = await slix_login(alice + "/phone", PASSWORD, tern_server.c2s_port, mech="SCRAM-SHA-256")
        b = await slix_login(bob + "/laptop", PASSWORD, tern_server.tls_port,
                             mech="SCRAM-SHA-1", direct_tls=True)
        try:
            a.send_message(mto=b.boundjid.full, mbody="hello bob", mtype="chat")
            msg = await b.next_message(body="hello bob")
            assert msg["from"].full == a.boundjid.full
            assert msg["to"].full == b.boundjid.full
            assert msg["type"] == "chat"

            b.send_message(mto=a.boundjid.full, mbody="hi alice \u00e9\u6f22", mtype="chat")
            msg = await a.next_message(body="hi alice \u00e9\u6f22")
            assert msg["from"].full == b.boundjid.full
        finally:
            await a.close()
            await b.close()

    run(scenario())


# -- -PLUS mechanisms and channel binding, with the RawClient ---------------

def _tls_features(server):
    c = RawClient(server.c2s_port, domain=server.domain)
    _, feats = c.start()
    assert feats.find(q(NS_TLS, "starttls")) is not None, xml(feats)
    feats = c.starttls()
    return c, feats


def test_plus_mechanisms_offered_after_tls_only(tern_server):
    c = RawClient(tern_server.c2s_port, domain=tern_server.domain)
    _, feats = c.start()
    pre = RawClient.mechanisms(feats)
    assert not any(m.endswith("-PLUS") for m in pre), pre
    feats = c.starttls()
    post = RawClient.mechanisms(feats)
    for m in ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
        assert m in post, (m, post)
    c.close()


def test_channel_binding_types_advertised(tern_server):
    """XEP-0440: a server offering -PLUS says which binding types it
    supports, so that clients on TLS 1.3 need not guess."""
    c, feats = _tls_features(tern_server)
    cb = feats.find(q(NS_SASL_CB, "sasl-channel-binding"))
    assert cb is not None, "no XEP-0440 <sasl-channel-binding/> in " + xml(feats)
    types = {t.get("type") for t in cb.findall(q(NS_SASL_CB, "channel-binding"))}
    assert {"tls-exporter", "tls-server-end-point"} <= types, types
    c.close()


@pytest.mark.parametrize("hash_name", ["SHA-256", "SHA-1"])
@pytest.mark.parametrize("cb_type", ["tls-exporter", "tls-server-end-point"])
def test_scram_plus_login(tern_server, users, hash_name, cb_type):
    alice, _ = users
    user = alice.split("@")[0]
    c, _ = _tls_features(tern_server)
    res = c.auth_scram(user, PASSWORD, hash_name, cb_type=cb_type)
    assert res.tag == q(NS_SASL, "success"), xml(res)
    _, feats = c.restart()
    jid = c.bound_jid("plus")
    assert jid == alice + "/plus"
    assert c.ping().get("type") == "result"
    c.close()


@pytest.mark.parametrize("cb_type", ["tls-exporter", "tls-server-end-point"])
def test_scram_plus_wrong_binding_data_fails(tern_server, users, cb_type):
    """A man in the middle would present other binding data: must fail."""
    alice, _ = users
    c, _ = _tls_features(tern_server)
    res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", cb_type=cb_type,
                       cb_data=b"\x00" * 32)
    assert res.tag == q(NS_SASL, "failure"), xml(res)
    assert [el.tag for el in res] == [q(NS_SASL, "not-authorized")], xml(res)
    c.close()


def test_scram_plus_unknown_binding_type_fails(tern_server, users):
    alice, _ = users
    c, _ = _tls_features(tern_server)
    res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", cb_type="tls-unique-for-telnet",
                       cb_data=b"x" * 12)
    assert res.tag == q(NS_SASL, "failure"), xml(res)
    assert [el.tag for el in res] == [q(NS_SASL, "not-authorized")], xml(res)
    c.close()


def test_scram_y_flag_rejected_when_plus_offered(tern_server, users):
    """RFC 5802 §6: 'y' means the client could bind but thinks the server
    cannot; a server that offered -PLUS must fail it (downgrade attack)."""
    alice, _ = users
    c, feats = _tls_features(tern_server)
    assert "SCRAM-SHA-256-PLUS" in RawClient.mechanisms(feats)
    res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", gs2_flag="y")
    assert res.tag == q(NS_SASL, "failure"), xml(res)
    assert [el.tag for el in res] == [q(NS_SASL, "not-authorized")], xml(res)
    c.close()


def test_scram_n_flag_accepted_over_tls(tern_server, users):
    alice, _ = users
    c, _ = _tls_features(tern_server)
    res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", gs2_flag="n")
    assert res.tag == q(NS_SASL, "success"), xml(res)
    c.close()


def test_plus_over_direct_tls(tern_server, users):
    alice, _ = users
    c = RawClient(tern_server.tls_port, domain=tern_server.domain, direct_tls=True)
    _, feats = c.start()
    assert feats.find(q(NS_TLS, "starttls")) is None, "STARTTLS offered inside TLS"
    assert "SCRAM-SHA-256-PLUS" in RawClient.mechanisms(feats)
    res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", cb_type="tls-exporter")
    assert res.tag == q(NS_SASL, "success"), xml(res)
    c.restart()
    assert c.bound_jid("dtls-plus") == alice + "/dtls-plus"
    c.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_large_stanzas_cross_tls_records_both_ways(tern_server, users, version):
    """TLS 1.3 sessions run on Tern's own record layer after the handshake,
    TLS 1.2 ones on OpenSSL: both must carry stanzas larger than one TLS
    record (16 KiB) in both directions, and channel binding must still work."""
    alice, _ = users
    c = RawClient(tern_server.c2s_port, tls_max_version=version)
    try:
        _, feats = c.start()
        c.starttls()
        assert c.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        res = c.auth_scram(alice.split("@")[0], PASSWORD, "SHA-256", cb_type="tls-exporter")
        assert res.tag == q(NS_SASL, "success"), xml(res)
        c.restart()
        me = c.bound_jid("big")
        body = "".join(chr(0x41 + i % 26) for i in range(60000))
        c.send_in_pieces("<message to='%s' type='chat' id='big1'><body>%s</body></message>"
                         % (me, body), piece=5000)
        got = c.wait_for(lambda e: e.tag == "{jabber:client}message" and e.get("id") == "big1")
        assert got.findtext("{jabber:client}body") == body
        pong = c.iq("get", "<ping xmlns='urn:xmpp:ping'/>")
        assert pong.get("type") == "result"
    finally:
        c.close()
