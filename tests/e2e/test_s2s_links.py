"""Federation beyond the account domains, and what the outgoing links check
and hold to, between two Terns on loopback (one.example, two.example):

- a remote user reaches a component's domain (XEP-0114) and a module's
  service domain (MUC) of the other server, and their replies go back over
  links that originate from those domains (dialback for the pair, since
  the certificate names only one.example);
- outgoing links check the receiving server's certificate (RFC 6125): a
  self-signed peer is accepted with dialback by default and marked in
  `tern status`, and refused with s2s.require_valid_certificates;
- s2s.max_write_bytes_per_second holds a link's write rate, and nothing
  waiting behind it is lost.
"""

import hashlib
import re
import time

from clients import run, slix_login
from conftest import NS_CLIENT, NS_STANZAS, RawClient, TernServer, free_port, q, stanza_error
from test_s2s_interop import (PW, close_all, expect_message, failure_logs, issued_by,
                              make_test_ca, self_signed, tern_config, tern_status)

import pytest

NS_COMPONENT = "jabber:component:accept"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
ONE, TWO = "one.example", "two.example"
ECHO = "echo.one.example"
MUC = "conference.one.example"
SECRET = "component secret"


def start_pair(tmp_path_factory, certs, extra_one=None, extra_two=None, one_overrides=None,
               two_routes=()):
    """one.example and two.example routed to each other; `certs(pki, domain)`
    makes each one's (cert, key); two also routes `two_routes` (domains
    served by one) to one's port. Returns (one, two), started."""
    pki = tmp_path_factory.mktemp("pki")
    ca = make_test_ca(pki)
    ports = {ONE: free_port(), TWO: free_port()}
    routes = {ONE: {TWO: ports[TWO]}, TWO: {ONE: ports[ONE]}}
    routes[TWO].update({d: ports[ONE] for d in two_routes})
    extra = {ONE: extra_one or {}, TWO: extra_two or {}}
    servers = {}
    for me in (ONE, TWO):
        s2s = {"ca_file": str(ca[0])}
        s2s.update(extra[me])
        cfg = tern_config(ports[me], routes[me], extra_s2s=s2s, tls=certs(ca, pki, me))
        if me == ONE:
            for table, keys in (one_overrides or {}).items():
                cfg.setdefault(table, {}).update(keys)
        servers[me] = TernServer(tmp_path_factory.mktemp("tern-" + me), cfg, domain=me)
    for s in servers.values():
        s.start()
    return servers[ONE], servers[TWO]


def from_ca(ca, pki, domain):
    return issued_by(ca, pki, domain)


def component(port, domain=ECHO):
    c = RawClient(port, domain=domain, timeout=10)
    c.open_stream(to=domain, xmlns=NS_COMPONENT, version=None)
    header = c.read_header()
    c.send("<handshake>%s</handshake>"
           % hashlib.sha1((header.get("id") + SECRET).encode()).hexdigest())
    c.expect(q(NS_COMPONENT, "handshake"))
    return c


def remote_user(server, name):
    server.add_user(name, PW)
    c = RawClient(server.c2s_port, domain=server.domain, timeout=15)
    full = c.login(name, PW, resource="r", presence=True)
    return c, full


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    """one.example with a component (echo.one.example) and MUC; two.example
    finds both service domains at one's s2s port. one.example requires valid
    certificates on its outgoing links, which two.example's is. No bidi
    (XEP-0288), so that the replies take links of the service domains."""
    comp_port = free_port()
    one, two = start_pair(
        tmp_path_factory, from_ca, extra_one={"require_valid_certificates": True, "bidi": False},
        extra_two={"bidi": False},
        one_overrides={"listen": {"component": ["127.0.0.1:%d" % comp_port]},
                       'components."%s"' % ECHO: {"secret": SECRET}},
        two_routes=(ECHO, MUC))
    one.component_port = comp_port
    try:
        yield one, two
    finally:
        try:
            one.stop_and_check()
        finally:
            two.stop_and_check()


def test_remote_user_and_local_component_talk_over_s2s(services):
    one, two = services
    comp = component(one.component_port)
    bob, bob_full = remote_user(two, "bob")
    try:
        bob.message("bot@%s" % ECHO, "hello component")
        got = comp.wait_for(lambda el: el.tag == q(NS_COMPONENT, "message"), what="bob's message")
        assert got.get("from") == bob_full, comp.dump()
        assert got.get("to") == "bot@" + ECHO
        assert got.findtext(q(NS_COMPONENT, "body")) == "hello component"
        comp.send("<message from='bot@%s/x' to='%s' type='chat' id='c1'><body>hello bob</body>"
                  "</message>" % (ECHO, bob_full))
        try:
            reply = bob.wait_message("hello bob")
        except AssertionError:
            raise AssertionError(failure_logs(one, two))
        assert reply.get("from") == "bot@%s/x" % ECHO
        assert reply.get("to") == bob_full
        # The reply left one.example on a link from the component's domain.
        status = tern_status(one)
        assert "out %s -> %s ready" % (ECHO, TWO) in status, status
        assert ("%s<-%s" % (ECHO, TWO)) in status, status
    finally:
        comp.close()
        bob.close()


def test_remote_user_discovers_the_local_muc_service(services):
    one, two = services
    carol, carol_full = remote_user(two, "carol")
    try:
        res = carol.iq("get", "<query xmlns='%s'/>" % NS_DISCO_INFO, to=MUC)
        assert res.get("type") == "result", "%s\n%s" % (carol.dump(), failure_logs(one, two))
        assert res.get("from") == MUC and res.get("to") == carol_full
        identities = res.findall("%s/%s" % (q(NS_DISCO_INFO, "query"), q(NS_DISCO_INFO, "identity")))
        assert any(i.get("category") == "conference" and i.get("type") == "text"
                   for i in identities), carol.dump()
        assert "out %s -> %s ready" % (MUC, TWO) in tern_status(one)
    finally:
        carol.close()


def one_from_ca_two_self_signed(ca, pki, domain):
    return issued_by(ca, pki, domain) if domain == ONE else self_signed(pki, domain)


def stop(*servers):
    for s in servers:
        s.stop_and_check()


def test_self_signed_peer_gets_dialback_and_is_marked_in_status(tmp_path_factory):
    one, two = start_pair(tmp_path_factory, one_from_ca_two_self_signed)
    try:
        alice, _ = remote_user(one, "alice")
        bob, bob_full = remote_user(two, "bob")
        alice.message(bob_full, "to a self-signed peer")
        try:
            bob.wait_message("to a self-signed peer")
        except AssertionError:
            raise AssertionError(failure_logs(one, two))
        status = tern_status(one)
        # Both ends are Tern with s2s.bidi on, so the link is bidirectional.
        assert ("out %s -> %s ready auth=dialback bidi (peer certificate not trusted)"
                % (ONE, TWO) in status), status
        # two.example trusts the test CA: one's certificate validates on
        # two's link to one (opened to verify one's dialback key).
        status = tern_status(two)
        assert "out %s -> %s" % (TWO, ONE) in status and "peer certificate" not in status, status
        alice.close()
        bob.close()
    finally:
        stop(one, two)


def test_require_valid_certificates_refuses_a_self_signed_peer(tmp_path_factory):
    one, two = start_pair(tmp_path_factory, one_from_ca_two_self_signed,
                          extra_one={"require_valid_certificates": True})
    try:
        alice, _ = remote_user(one, "alice")
        bob, bob_full = remote_user(two, "bob")
        alice.send("<message to='%s' type='chat' id='refused'><body>not sent</body></message>"
                   % bob_full)
        err = alice.wait_for(lambda el: el.tag == q(NS_CLIENT, "message") and
                             el.get("id") == "refused", what="the bounce")
        assert err.get("type") == "error", alice.dump()
        assert err.get("from") == bob_full
        assert stanza_error(err)[1] == [q(NS_STANZAS, "remote-server-not-found")], alice.dump()
        assert "not sent" not in [el.findtext(q(NS_CLIENT, "body")) for el in bob.sync()]
        # The failed link leaves the listing (it is gone once its socket is).
        deadline = time.monotonic() + 5
        while "out %s -> %s" % (ONE, TWO) in tern_status(one) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "out %s -> %s" % (ONE, TWO) not in tern_status(one), tern_status(one)
        alice.close()
        bob.close()
    finally:
        stop(one, two)


def test_write_rate_is_held_and_nothing_is_lost(tmp_path_factory):
    """s2s.max_write_bytes_per_second = 5000 with room for 10 queued
    stanzas: 30 messages of ~1.1 KB sent at once. The first second's burst
    goes out, 10 wait and follow at the rate, the rest bounce with
    resource-constraint: every message is either delivered, in order, or
    bounced."""
    rate = 5000
    one, two = start_pair(tmp_path_factory, from_ca,
                          extra_one={"max_write_bytes_per_second": rate,
                                     "max_queued_stanzas": 10})
    try:
        alice, _ = remote_user(one, "alice")
        bob, bob_full = remote_user(two, "bob")
        alice.message(bob_full, "warm up")  # the link is up before the burst
        bob.wait_message("warm up")
        time.sleep(1.1)  # the bucket is full again
        pad = "x" * 1000
        started = time.monotonic()
        for i in range(30):
            alice.send("<message to='%s' type='chat' id='w%d'><body>w%d %s</body></message>"
                       % (bob_full, i, i, pad))
        delivered, bounced, last = [], [], started
        deadline = started + 20
        while len(delivered) + len(bounced) < 30 and time.monotonic() < deadline:
            el = bob.maybe_element(0.1)
            if el is not None and el.tag == q(NS_CLIENT, "message"):
                delivered.append(int(el.findtext(q(NS_CLIENT, "body")).split()[0][1:]))
                last = time.monotonic()
            el = alice.maybe_element(0.05)
            if el is not None and el.tag == q(NS_CLIENT, "message") and el.get("type") == "error":
                assert stanza_error(el)[1] == [q(NS_STANZAS, "resource-constraint")], alice.dump()
                bounced.append(int(el.get("id")[1:]))
        assert sorted(delivered + bounced) == list(range(30)), \
            "delivered %s bounced %s\n%s" % (delivered, bounced, failure_logs(one, two))
        assert delivered == sorted(delivered), delivered
        assert 10 <= len(delivered) <= 20 and bounced, (delivered, bounced)
        # Beyond the one-second burst, the rest came at no more than the rate.
        took = last - started
        over_burst = len(delivered) * 1100 - rate
        assert took >= over_burst / rate * 0.8, \
            "%d messages in %.2fs at %d B/s" % (len(delivered), took, rate)
        alice.close()
        bob.close()
    finally:
        stop(one, two)


def s2s_streams(server):
    """The s2s stream descriptions in `tern status`."""
    status = tern_status(server)
    m = re.search(r"s2s streams (\d+): (.*)", status)
    return [] if m is None else [s.strip() for s in m.group(2).split(" | ")]


@pytest.mark.parametrize("bidi", [True, False], ids=["bidi", "no-bidi"])
def test_bidi_one_connection_carries_both_directions(tmp_path_factory, bidi):
    """XEP-0288: one.example's link to two.example asks for bidi; two.example
    answers over it instead of opening a link of its own. Without s2s.bidi
    there are two connections, one per direction."""
    one, two = start_pair(tmp_path_factory, from_ca, extra_one={"bidi": bidi},
                          extra_two={"bidi": bidi})
    try:
        alice, alice_full = remote_user(one, "alice")
        bob, bob_full = remote_user(two, "bob")
        for i in range(3):
            alice.message(bob_full, "there %d" % i)
            bob.wait_message("there %d" % i)
            bob.message(alice_full, "back %d" % i)
            try:
                alice.wait_message("back %d" % i)
            except AssertionError:
                raise AssertionError(failure_logs(one, two))
        one_streams, two_streams = s2s_streams(one), s2s_streams(two)
        if bidi:
            assert len(one_streams) == 1 and one_streams[0].startswith(
                "out %s -> %s ready auth=SASL EXTERNAL bidi" % (ONE, TWO)), one_streams
            assert len(two_streams) == 1 and two_streams[0].startswith("in ") and \
                "bidi" in two_streams[0] and "%s<-%s" % (TWO, ONE) in two_streams[0], two_streams
        else:
            assert len(one_streams) == 2 and len(two_streams) == 2, (one_streams, two_streams)
            assert not any("bidi" in s for s in one_streams + two_streams)
        alice.close()
        bob.close()
    finally:
        stop(one, two)
