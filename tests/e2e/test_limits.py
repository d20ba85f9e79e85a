"""The limits the README claims, end to end, each on a server configured with
small values so that the test is quick: the stanza rate, SASL attempts and
the auth throttle, resources per account, the handshake and idle timeouts,
XML depth and attributes, TLS 1.2 as the minimum and ALPN on direct TLS,
and the two admin commands that report on them (`tern status`,
`tern config check`).

Connections per address are tested with the token-bucket limiter that
replaces the per-minute one (another branch).
"""

import re
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (NS_SASL, NS_STANZAS, TERN_BIN, RawClient,
                      q, stanza_error, unique_user, xml)

PASSWORD = "limits-pw"


def new_user(server, prefix="u"):
    local = unique_user(prefix)
    server.add_user(local, PASSWORD)
    return local


def tls_client(server):
    c = server.raw()
    c.start()
    c.starttls()
    return c


def sasl_condition(el):
    assert el.tag == q(NS_SASL, "failure"), xml(el)
    conds = [c.tag for c in el if c.tag != q(NS_SASL, "text")]
    assert len(conds) == 1, "a SASL failure carries exactly one condition: " + xml(el)
    return conds[0].split("}", 1)[1]


# -- stanza rate ---------------------------------------------------------------

def test_stanza_rate_holds_a_flooding_session_to_the_rate_not_twice_it(tern_factory):
    """Over its rate a session is read more slowly (no error: it is not
    misbehaving, only fast); every stanza is still answered, in order, and
    another session is not slowed."""
    server = tern_factory({"limits": {"stanza_rate": 20, "stanza_burst": 5}})
    flooder = server.raw()
    flooder.login(new_user(server), PASSWORD, resource="flood")
    other = server.raw()
    other.login(new_user(server), PASSWORD, resource="calm")
    n = 85
    t0 = time.monotonic()
    flooder.send("".join("<iq type='get' id='f%d' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                         % (i, server.domain) for i in range(n)))
    t_other = time.monotonic()
    assert other.ping().get("type") == "result"
    other_took = time.monotonic() - t_other
    ids = [flooder.next_element(timeout=15).get("id") for _ in range(n)]
    took = time.monotonic() - t0
    assert ids == ["f%d" % i for i in range(n)], "every stanza answered, in order"
    # 5 from the burst, the other 80 at 20 a second: four seconds at least.
    assert took >= (n - 5) / 20 * 0.9, "not rate limited: %d pings in %.2fs" % (n, took)
    assert other_took < 2.0, "another session was slowed: %.2fs" % other_took
    assert flooder.ping().get("type") == "result", "the session stays open"


# -- SASL attempts and the auth throttle ---------------------------------------

def test_sasl_attempts_end_the_stream_with_policy_violation(tern_factory):
    """RFC 6120 §6.4.5: the server allows a bounded number of retries, each
    answered with <not-authorized/>, then closes the stream."""
    server = tern_factory({"limits": {"sasl_max_attempts": 2}})
    local = new_user(server)
    c = tls_client(server)
    assert sasl_condition(c.auth_scram(local, "wrong1", "SHA-256")) == "not-authorized"
    assert sasl_condition(c.auth_plain(local, "wrong2")) == "not-authorized"
    c.expect_stream_error("policy-violation")
    ok = tls_client(server)
    assert ok.auth_scram(local, PASSWORD, "SHA-256").tag == q(NS_SASL, "success")
    ok.close()


def test_auth_failures_from_one_address_are_answered_ever_later(tern_factory):
    """Three failures are free, the fourth is answered after 250 ms, the
    fifth after 500 ms (stream/auth_throttle.cc); the answer is still
    <not-authorized/>."""
    server = tern_factory({"limits": {"sasl_max_attempts": 10}})
    local = new_user(server)
    c = tls_client(server)
    took = []
    for i in range(5):
        t0 = time.monotonic()
        assert sasl_condition(c.auth_plain(local, "wrong%d" % i)) == "not-authorized"
        took.append(time.monotonic() - t0)
    assert took[3] >= 0.25 and took[4] >= 0.5, "not throttled: %s" % took
    assert took[4] > took[3], "the delay grows: %s" % took
    c.close()


# -- resources per account -------------------------------------------------------

def test_resources_per_account_cap_is_resource_constraint(tern_factory):
    """RFC 6120 §7.6.2.1: past the cap, bind fails with
    <resource-constraint/> of type 'wait'; the stream stays open and the
    bound sessions are untouched. Rebinding an existing resource replaces
    it, so it is not refused."""
    server = tern_factory({"limits": {"max_resources_per_account": 2}})
    local = new_user(server)
    one = server.raw()
    one.login(local, PASSWORD, resource="one")
    two = server.raw()
    two.login(local, PASSWORD, resource="two")
    three = server.raw()
    three.start()
    three.starttls()
    assert three.auth_scram(local, PASSWORD, "SHA-256").tag == q(NS_SASL, "success")
    three.restart()
    res = three.bind("three")
    assert res.get("type") == "error", xml(res)
    assert stanza_error(res) == ("wait", [q(NS_STANZAS, "resource-constraint")]), xml(res)
    for c in (one, two):
        assert c.ping().get("type") == "result"
    # Once one leaves, the third may bind (asking again until the server
    # has seen the close: each refusal is an answer, not a sleep).
    one.close()
    deadline = time.monotonic() + 10
    while True:
        res = three.bind("three")
        if res.get("type") == "result" or time.monotonic() > deadline:
            break
        assert stanza_error(res) == ("wait", [q(NS_STANZAS, "resource-constraint")]), xml(res)
        time.sleep(0.05)
    assert res.get("type") == "result", xml(res)
    two.close()
    three.close()


# -- timeouts ------------------------------------------------------------------

def test_handshake_timeout_is_connection_timeout(tern_factory):
    """A connection that does not authenticate in time gets
    <connection-timeout/> (RFC 6120 §4.9.3.4), not before the timeout."""
    server = tern_factory({"limits": {"handshake_timeout_seconds": 2}})
    c = server.raw(timeout=10)
    t0 = time.monotonic()
    c.start()
    c.expect_stream_error("connection-timeout", timeout=10)
    took = time.monotonic() - t0
    assert 1.9 <= took <= 8, "closed after %.2fs, the timeout is 2s" % took


def test_idle_timeout_shorter_than_handshake_timeout_is_connection_timeout(tern_factory):
    """A bound session silent for idle_timeout_seconds gets
    <connection-timeout/>; traffic (a whitespace keepalive included)
    resets the clock. The idle timeout once only began after the handshake
    deadline had passed."""
    server = tern_factory({"limits": {"idle_timeout_seconds": 10,
                                      "handshake_timeout_seconds": 60}})
    idle = server.raw(timeout=20)
    idle.login(new_user(server), PASSWORD, resource="idle")
    busy = server.raw(timeout=20)
    busy.login(new_user(server), PASSWORD, resource="busy")
    t0 = time.monotonic()
    # The busy one sends a keepalive every 2 s while the idle one waits.
    while not idle.elements and not idle.eof and time.monotonic() - t0 < 16:
        busy.send(" ")
        idle.poll(2.0)
    took = time.monotonic() - t0
    idle.expect_stream_error("connection-timeout", timeout=5)
    assert 9.5 <= took <= 15, "idle for %.1fs before the timeout of 10s" % took
    assert busy.ping().get("type") == "result", "keepalives keep a session open"
    busy.close()


# -- XML depth and attributes ----------------------------------------------------

def nested(depth_below_message):
    inner = "x"
    for i in range(depth_below_message):
        inner = "<e%d xmlns='urn:example:deep'>%s</e%d>" % (i, inner, i)
    return inner


@pytest.fixture
def small_xml_server(tern_factory):
    return tern_factory({"limits": {"max_xml_depth": 8, "max_attributes": 8}})


def test_xml_depth_limit_is_policy_violation(small_xml_server):
    """max_xml_depth counts levels below the stream root, the stanza being
    the first: with 8, a message may hold 7 levels of children, not 8."""
    server = small_xml_server
    c = server.raw()
    c.login(new_user(server), PASSWORD, resource="deep")
    c.send("<message to='%s'>%s</message>" % (c.jid, nested(7)))
    echo = c.wait_message()
    assert echo.get("from") == c.jid, xml(echo)
    c.send("<message to='%s'>%s</message>" % (c.jid, nested(8)))
    c.expect_stream_error("policy-violation")


def test_xml_attribute_limit_is_policy_violation(small_xml_server):
    server = small_xml_server
    c = server.raw()
    c.login(new_user(server), PASSWORD, resource="attrs")
    attrs = lambda n: " ".join("a%d='v'" % i for i in range(n))  # noqa: E731
    # <x/> with 7 attributes plus its namespace declaration: 8, accepted.
    c.send("<message to='%s'><x xmlns='urn:example:a' %s/></message>" % (c.jid, attrs(7)))
    assert c.wait_message().get("from") == c.jid
    c.send("<message to='%s'><x xmlns='urn:example:a' %s/></message>" % (c.jid, attrs(9)))
    c.expect_stream_error("policy-violation")


# -- TLS ---------------------------------------------------------------------------

def tls_handshake(server, **ctx_settings):
    """A direct TLS handshake with the given context settings; the
    SSLSocket, or the ssl.SSLError the client saw."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for k, v in ctx_settings.items():
        if k == "alpn":
            ctx.set_alpn_protocols(v)
        elif k == "ciphers":
            ctx.set_ciphers(v)
        else:
            setattr(ctx, k, v)
    raw = socket.create_connection(("127.0.0.1", server.tls_port), timeout=5)
    try:
        return ctx.wrap_socket(raw, server_hostname=server.domain)
    except ssl.SSLError as e:
        raw.close()
        return e


def test_tls_below_1_2_is_refused_by_the_server(tern_server):
    """The client offers TLS 1.0 and 1.1 only (at OpenSSL security level 0,
    so that the refusal is the server's): a protocol_version alert."""
    res = tls_handshake(tern_server, minimum_version=ssl.TLSVersion.TLSv1,
                        maximum_version=ssl.TLSVersion.TLSv1_1, ciphers="ALL:@SECLEVEL=0")
    assert isinstance(res, ssl.SSLError), "TLS %s accepted" % res.version()
    assert "ALERT_PROTOCOL_VERSION" in str(res) or "alert protocol version" in str(res), \
        "refused by the client, not the server: %s" % res
    ok = tls_handshake(tern_server, minimum_version=ssl.TLSVersion.TLSv1_2,
                       maximum_version=ssl.TLSVersion.TLSv1_2)
    assert not isinstance(ok, ssl.SSLError), ok
    assert ok.version() == "TLSv1.2"
    ok.close()


@pytest.mark.parametrize("offered, selected", [
    (["xmpp-client"], "xmpp-client"),        # XEP-0368
    (["h2", "xmpp-client"], "xmpp-client"),
    (["http/1.1"], None),                    # nothing we speak: no ALPN, not a failure
    (None, None),                            # clients that offer none are welcome
])
def test_direct_tls_alpn(tern_server, offered, selected):
    kw = {"alpn": offered} if offered else {}
    s = tls_handshake(tern_server, **kw)
    assert not isinstance(s, ssl.SSLError), s
    assert s.selected_alpn_protocol() == selected
    s.close()
    # And XMPP works over it (RawClient offers xmpp-client).
    local = new_user(tern_server)
    c = RawClient(tern_server.tls_port, domain=tern_server.domain, direct_tls=True)
    c.login(local, PASSWORD, resource="alpn")
    assert c.sock.selected_alpn_protocol() == "xmpp-client"
    c.close()


# -- the admin commands --------------------------------------------------------------

STATUS = re.compile(r"^running; domains (\S+); shards (\d+); streams (\d+); "
                    r"bound sessions (\d+); uptime (\d+)s(; s2s streams \d+.*)?$")


def test_tern_status_reports_sessions_and_uptime(tern_factory):
    server = tern_factory()
    c = server.raw()
    c.login(new_user(server), PASSWORD, resource="st")
    # An uptime of 0 would not prove the clock runs: be up two seconds
    # (a duration the test needs, not a wait for the server).
    time.sleep(max(0.0, server.ready_at + 2.1 - time.monotonic()))
    lower = int(time.monotonic() - server.ready_at)
    res = server.cli("status")
    m = STATUS.match(res.stdout.strip())
    assert m, res.stdout
    domains, shards, streams, bound, uptime, _ = m.groups()
    assert domains == server.domain
    assert int(shards) >= 1 and int(streams) == 1 and int(bound) == 1, res.stdout
    assert lower <= int(uptime) <= time.monotonic() - server.started_at + 1, (lower, res.stdout)
    c.close()
    server.stop_and_check()
    res = server.cli("status", check=False)
    assert res.returncode == 3 and res.stdout.startswith("not running"), res


def test_tern_config_check_reports_every_problem_with_its_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\ndomains = ["localhost"]\nbogus_key = 1\n\n'
                   '[limits]\nmax_xml_depth = 3\nstanza_rate = "fast"\n')
    res = subprocess.run([TERN_BIN, "config", "check", "--config", str(bad)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1, res
    lines = res.stderr.strip().splitlines()
    assert lines == [
        "%s:3: unknown key 'server.bogus_key'" % bad,
        "%s:6: limits.max_xml_depth: must be between 8 and 1024" % bad,
        "%s:7: limits.stanza_rate: expected an integer" % bad,
    ], res.stderr
    good = tmp_path / "good.toml"
    good.write_text('[server]\ndomains = ["example.org"]\n\n[limits]\nmax_xml_depth = 8\n')
    res = subprocess.run([TERN_BIN, "config", "check", "--config", str(good)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and res.stdout == "configuration OK\n", res
