"""Federation (RFC 6120 server-to-server, XEP-0220 dialback, XEP-0178 SASL
EXTERNAL) against real servers on loopback:

- Debian's Prosody and ejabberd, each started by hand as its own user
  (peers.HandStarted) with a self-signed certificate, so both directions
  authenticate by dialback. Tern reaches them through [s2s] hosts; Prosody
  reaches Tern through a test plugin (prosody_plugins/mod_tern_test_routes.lua)
  that replaces its DNS lookup for Tern's domain; ejabberd through a
  throw-away DNS server (fake_dns.py) named in its inetrc, whose SRV record
  points at "localhost" (ejabberd resolves SRV targets with the system's
  getaddrinfo, and the hosts file is read-only).
- A second Tern, both with certificates from a test CA, so both directions
  authenticate by SASL EXTERNAL.
- A fake peer that claims a domain it does not own, or hands over a
  dialback key nobody issued: nothing it sends is delivered.
- A domain that does not resolve: the message bounces in time.
"""

import asyncio
import re
import shutil
import socket
import ssl
import threading
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clients import run, slix_login
from conftest import (NS_STREAM, NS_STREAMS, NS_STANZAS, NS_TLS, RawClient, TernServer,
                      free_port, q, unique_user)
from fake_dns import FakeDns
from peers import (EJABBERDCTL, PROSODY, PROSODYCTL, Ejabberd, HandStarted,
                   skip_unless_installed)

NS_SERVER = "jabber:server"
NS_DB = "jabber:server:dialback"
TERN_DOMAIN = "tern.example"
PROSODY_DOMAIN = "prosody.example"
EJABBERD_DOMAIN = "ejabberd.example"
FAKE_DOMAIN = "fake.example"
PW = "secret"
PLUGINS = Path(__file__).parent / "prosody_plugins"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=str(cwd), check=True, capture_output=True)


def self_signed(directory, domain):
    """A self-signed EC certificate for `domain`: (cert path, key path)."""
    cert, key = directory / ("%s.crt" % domain), directory / ("%s.key" % domain)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "30", "-subj", "/CN=%s" % domain, "-addext", "subjectAltName=DNS:%s" % domain,
            "-keyout", str(key), "-out", str(cert), cwd=directory)
    return cert, key


def make_test_ca(directory):
    """A CA (cert, key) for the SASL EXTERNAL tests."""
    cert, key = directory / "ca.crt", directory / "ca.key"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "30", "-subj", "/CN=Tern test CA", "-keyout", str(key), "-out", str(cert),
            cwd=directory)
    return cert, key


def issued_by(ca, directory, domain):
    """A certificate for `domain` signed by `ca`: (cert path, key path)."""
    ca_cert, ca_key = ca
    key, csr, cert = (directory / ("%s.%s" % (domain, ext)) for ext in ("key", "csr", "crt"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=%s" % domain, "-keyout", str(key), "-out", str(csr), cwd=directory)
    ext = directory / ("%s.ext" % domain)
    ext.write_text("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\n" % domain)
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "30", "-extfile", str(ext), "-out", str(cert),
            cwd=directory)
    return cert, key


class ProsodyPeer(HandStarted):
    """Prosody serving `domain` with c2s and s2s on loopback, dialback on,
    TLS with a self-signed certificate, and outgoing s2s to the domains in
    `routes` ({domain: port}) sent to 127.0.0.1:port."""

    def __init__(self, domain, routes):
        super().__init__("prosody", "prosody-s2s")
        self.domain = domain
        self.c2s_port = free_port()
        self.s2s_port = free_port()
        d = self.dir
        for sub in ("data", "certs", "plugins"):
            (d / sub).mkdir()
        shutil.copy(PLUGINS / "mod_tern_test_routes.lua", d / "plugins")
        cert, key = self_signed(d / "certs", domain)
        self.config = d / "prosody.cfg.lua"
        route_table = ", ".join('["%s"] = { "127.0.0.1", %d }' % (dom, port)
                                for dom, port in routes.items())
        self.config.write_text(
            'pidfile = "%s"\n' % (d / "prosody.pid") +
            'data_path = "%s"\n' % (d / "data") +
            'plugin_paths = { "%s" }\n' % (d / "plugins") +
            'log = { debug = "%s" }\n' % (d / "prosody.log") +
            'modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping",'
            ' "version", "tern_test_routes" }\n'
            'c2s_ports = { %d }\n' % self.c2s_port +
            'c2s_interfaces = { "127.0.0.1" }\n'
            's2s_ports = { %d }\n' % self.s2s_port +
            's2s_interfaces = { "127.0.0.1" }\n'
            'http_ports = { }\nhttps_ports = { }\n'
            'c2s_direct_tls_ports = { }\ns2s_direct_tls_ports = { }\n'
            'c2s_require_encryption = false\n'
            's2s_require_encryption = true\n'
            's2s_secure_auth = false\n'
            'use_ipv6 = false\n'
            'authentication = "internal_hashed"\n'
            'storage = "internal"\n'
            'ssl = { certificate = "%s"; key = "%s"; }\n' % (cert, key) +
            'tern_test_routes = { %s }\n' % route_table +
            'VirtualHost "%s"\n' % domain)
        self.hand_over()

    def ctl(self, *args, check=True):
        return self.run([PROSODYCTL, "--config", str(self.config), *args], check=check)

    def add_user(self, user, password):
        self.ctl("register", user, self.domain, password)
        return "%s@%s" % (user, self.domain)

    def start(self):
        self.spawn([PROSODY, "--config", str(self.config)])

        def listening():
            for port in (self.c2s_port, self.s2s_port):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                except OSError:
                    return False
            return True

        self.wait_until(listening, "listen on its c2s and s2s ports")
        return self

    def stop(self):
        if self.running():
            import os
            import signal
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.wait_stopped()



class EjabberdPeer(Ejabberd):
    """ejabberd serving `domain`: c2s and s2s on loopback, STARTTLS required
    on s2s, dialback on, a self-signed certificate. Its outgoing s2s finds
    the domains of `routes` ({domain: port}) through FakeDns."""

    def __init__(self, domain, routes):
        super().__init__([domain])
        self.domain = domain
        self.c2s_port = free_port()
        self.s2s_port = free_port()
        d = self.dir
        cert, key = self_signed(d, domain)
        pem = d / "ejabberd.pem"
        pem.write_text(cert.read_text() + key.read_text())
        records = {}
        for dom, port in routes.items():
            records[("_xmpp-server._tcp." + dom, "SRV")] = ("localhost", port)
        self.dns = FakeDns(records)
        self.dns.start()
        (d / "ejabberd.yml").write_text(
            "hosts: [%s]\n" % domain +
            "loglevel: info\n"
            "certfiles: [\"%s\"]\n" % pem +
            "listen:\n"
            "  - {port: %d, ip: \"127.0.0.1\", module: ejabberd_c2s, starttls: true}\n" % self.c2s_port +
            "  - {port: %d, ip: \"127.0.0.1\", module: ejabberd_s2s_in}\n" % self.s2s_port +
            "s2s_use_starttls: required\n"
            "auth_method: internal\n"
            "auth_password_format: plain\n"
            "default_db: mnesia\n"
            "modules:\n"
            "  mod_roster: {}\n"
            "  mod_s2s_dialback: {}\n"
            "  mod_ping: {}\n"
            "  mod_disco: {}\n"
            "  mod_offline: {}\n")
        (d / "inetrc").write_text('{lookup,[file,dns]}.\n{host,{127,0,0,1}, ["localhost"]}.\n'
                                  '{resolv_conf, ""}.\n{nameserver, {127,0,0,1}, %d}.\n' % self.dns.port)
        self.hand_over()

    def add_user(self, user, password):
        self.ctl("register", user, self.domain, password)
        return "%s@%s" % (user, self.domain)

    def cleanup(self):
        super().cleanup()
        self.dns.close()


def tern_config(s2s_port, routes, extra_s2s=None, tls=None):
    s2s = {"hosts": ["%s=127.0.0.1:%d" % (dom, port) for dom, port in routes.items()],
           "connect_timeout_seconds": 8}
    s2s.update(extra_s2s or {})
    overrides = {"listen": {"s2s": ["127.0.0.1:%d" % s2s_port]}, "s2s": s2s,
                 "server": {"log_level": "debug"}}
    if tls:
        overrides["tls"] = {"cert": str(tls[0]), "key": str(tls[1]), "require_starttls": True}
    return overrides


def failure_logs(*servers):
    out = []
    for s in servers:
        if isinstance(s, TernServer):
            out.append("--- tern %s ---\n%s" % (s.domain, s.log()[-6000:]))
        else:
            out.append("--- %s ---\n%s" % (s.name, s.log_tail()))
    return "\n".join(out)


PEERS = [
    pytest.param("prosody", marks=skip_unless_installed(PROSODY, "prosody")),
    pytest.param("ejabberd", marks=skip_unless_installed(EJABBERDCTL, "ejabberd")),
]


@pytest.fixture(scope="module", params=PEERS)
def federation(request, tmp_path_factory):
    """Tern (tern.example) and a peer (prosody.example or ejabberd.example),
    federated: (tern, peer)."""
    tern_s2s = free_port()
    fake_authority = free_port()  # see FakeAuthority
    if request.param == "prosody":
        peer = ProsodyPeer(PROSODY_DOMAIN, {TERN_DOMAIN: tern_s2s})
    else:
        peer = EjabberdPeer(EJABBERD_DOMAIN, {TERN_DOMAIN: tern_s2s})
    tern = TernServer(tmp_path_factory.mktemp("tern-s2s"),
                      tern_config(tern_s2s, {peer.domain: peer.s2s_port,
                                             FAKE_DOMAIN: fake_authority}),
                      domain=TERN_DOMAIN)
    tern.s2s_port = tern_s2s
    tern.fake_authority_port = fake_authority
    try:
        peer.start()
        tern.start()
        yield tern, peer
    finally:
        try:
            tern.stop_and_check()
        finally:
            peer.cleanup()


async def pair(tern, peer):
    """A logged-in Tern user and a logged-in user of the peer."""
    a_user, b_user = unique_user("ta"), unique_user("pb")
    tern.add_user(a_user, PW)
    peer.add_user(b_user, PW)
    a = await slix_login("%s@%s/phone" % (a_user, TERN_DOMAIN), PW, tern.c2s_port)
    b = await slix_login("%s@%s/laptop" % (b_user, peer.domain), PW, peer.c2s_port)
    return a, b


async def close_all(*clients):
    for c in clients:
        await c.close()


def explain(servers):
    return lambda: failure_logs(*servers)


async def expect_message(client, body, servers, timeout=15.0):
    try:
        return await client.next_message(timeout=timeout, body=body)
    except asyncio.TimeoutError:
        raise AssertionError("%s did not get %r\n%s" % (client.boundjid, body,
                                                        failure_logs(*servers)))


def test_chat_both_ways_to_bare_and_full_jids(federation):
    tern, peer = federation

    async def scenario():
        a, b = await pair(tern, peer)
        try:
            a.send_message(mto=b.boundjid.bare, mbody="to the peer, bare", mtype="chat")
            m = await expect_message(b, "to the peer, bare", federation)
            assert m["from"] == a.boundjid.full
            b.send_message(mto=a.boundjid.full, mbody="to tern full", mtype="chat")
            m = await expect_message(a, "to tern full", federation)
            assert m["from"] == b.boundjid.full
            a.send_message(mto=b.boundjid.full, mbody="to the peer, full", mtype="chat")
            await expect_message(b, "to the peer, full", federation)
            b.send_message(mto=a.boundjid.bare, mbody="to tern bare", mtype="chat")
            await expect_message(a, "to tern bare", federation)
        finally:
            await close_all(a, b)

    run(scenario(), timeout=60)


async def wait_until(cond, what, servers, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0fs\n%s" % (what, timeout, failure_logs(*servers)))
        await asyncio.sleep(0.1)


def test_subscription_handshake_and_presence_both_ways(federation):
    tern, peer = federation

    async def scenario():
        a, b = await pair(tern, peer)
        try:
            # Interested resources (RFC 6121 §2.1.6) get roster pushes.
            await a.get_roster()
            await b.get_roster()
            # The peer's user accepts and subscribes back (slixmpp's defaults),
            # Tern's user accepts that in turn.
            a.send_presence(pto=b.boundjid.bare, ptype="subscribe")
            await wait_until(lambda: a.client_roster[b.boundjid.bare]["subscription"] == "both",
                             "Tern user's roster item for the peer's user is 'both'", federation)
            await wait_until(lambda: b.client_roster[a.boundjid.bare]["subscription"] == "both",
                             "peer's user's roster item for the Tern user is 'both'", federation)
            # Presence flows once subscribed, both ways.
            await wait_until(lambda: b.boundjid.resource in a.client_roster.presence(b.boundjid.bare),
                             "Tern user sees the peer's user available", federation)
            await wait_until(lambda: a.boundjid.resource in b.client_roster.presence(a.boundjid.bare),
                             "peer's user sees the Tern user available", federation)
            b.send_presence(pstatus="busy", pshow="dnd")
            await wait_until(lambda: a.client_roster.presence(b.boundjid.bare)
                             .get(b.boundjid.resource, {}).get("show") == "dnd",
                             "the peer's user's new show reaches the Tern user", federation)
            # Unavailable on logout, then probes at login (RFC 6121 §4.3),
            # each way.
            a_jid, b_jid = a.boundjid, b.boundjid
            await a.close()
            await wait_until(lambda: a_jid.resource not in b.client_roster.presence(a_jid.bare),
                             "the peer's user sees the Tern user go offline", federation)
            a = await slix_login(a_jid.full, PW, tern.c2s_port, presence=False)
            await a.get_roster()
            a.send_presence()
            await wait_until(lambda: b_jid.resource in a.client_roster.presence(b_jid.bare),
                             "the Tern user's probe at login finds the peer's user", federation)
            await b.close()
            await wait_until(lambda: b_jid.resource not in a.client_roster.presence(b_jid.bare),
                             "the Tern user sees the peer's user go offline", federation)
            b = await slix_login(b_jid.full, PW, peer.c2s_port, presence=False)
            await b.get_roster()
            b.send_presence()
            await wait_until(lambda: a_jid.resource in b.client_roster.presence(a_jid.bare),
                             "the peer's probe at login finds the Tern user", federation)
        finally:
            await close_all(a, b)

    run(scenario(), timeout=90)


def test_iq_to_the_servers_and_to_full_jids(federation):
    tern, peer = federation

    async def scenario():
        a, b = await pair(tern, peer)
        try:
            for client, target in ((a, peer.domain), (b, TERN_DOMAIN),
                                   (a, b.boundjid.full), (b, a.boundjid.full)):
                try:
                    await client["xep_0199"].ping(jid=target, timeout=15)
                except Exception as e:  # noqa: BLE001 — report which ping failed
                    raise AssertionError("ping from %s to %s failed: %r\n%s" % (
                        client.boundjid, target, e, failure_logs(*federation)))
        finally:
            await close_all(a, b)

    run(scenario(), timeout=90)


def s2s_stream(port, from_domain, to_domain=TERN_DOMAIN):
    """A raw s2s stream to Tern after STARTTLS: (client, stream header)."""
    c = RawClient(port, domain=to_domain, timeout=10)
    extra = "from='%s' xmlns:db='%s'" % (from_domain, NS_DB)
    c.open_stream(to=to_domain, xmlns=NS_SERVER, extra=extra)
    c.read_header()
    features = c.features()
    assert features.find(q(NS_TLS, "starttls")) is not None, c.dump()
    c.send("<starttls xmlns='%s'/>" % NS_TLS)
    c.expect(q(NS_TLS, "proceed"))
    c._wrap_tls()
    c._reset_parser()
    c.open_stream(to=to_domain, xmlns=NS_SERVER, extra=extra)
    header = c.read_header()
    c.features()
    return c, header


def no_message_for(client, seconds):
    async def check():
        try:
            m = await client.next_message(timeout=seconds)
        except asyncio.TimeoutError:
            return None
        return m
    return check()


def test_fake_peer_with_a_key_nobody_issued_gets_nothing_delivered(federation):
    """A peer claims the peer's domain (which is up) with a made-up dialback
    key: Tern asks the real peer, which says invalid; Tern answers invalid, closes,
    and the message sent after the claim reaches nobody."""
    tern, peer = federation
    s2s_port = tern.s2s_port
    victim = unique_user("victim")
    tern.add_user(victim, PW)

    async def scenario():
        a = await slix_login("%s@%s/r" % (victim, TERN_DOMAIN), PW, tern.c2s_port)
        try:
            c, _ = await asyncio.to_thread(s2s_stream, s2s_port, peer.domain)
            c.send("<db:result from='%s' to='%s'>%s</db:result>"
                   % (peer.domain, TERN_DOMAIN, "ab" * 32))
            c.send("<message from='mallory@%s/x' to='%s@%s' type='chat'><body>spoofed</body>"
                   "</message>" % (peer.domain, victim, TERN_DOMAIN))
            result = await asyncio.to_thread(
                c.wait_for, lambda el: el.tag in (q(NS_DB, "result"), q(NS_STREAM, "error")), 15,
                "a dialback result or a stream error")
            assert result.tag == q(NS_STREAM, "error") or result.get("type") == "invalid", c.dump()
            closed = await asyncio.to_thread(c.wait_closed, 10)
            assert closed, c.dump()
            assert await no_message_for(a, 2) is None, "the spoofed message was delivered"
        finally:
            await close_all(a)

    run(scenario(), timeout=60)


def test_fake_peer_sending_for_an_unauthenticated_domain_is_cut_off(federation):
    tern, peer = federation
    s2s_port = tern.s2s_port
    victim = unique_user("victim")
    tern.add_user(victim, PW)

    async def scenario():
        a = await slix_login("%s@%s/r" % (victim, TERN_DOMAIN), PW, tern.c2s_port)
        try:
            # No dialback at all: the stanza ends the stream (RFC 6120 §4.9.3.12).
            c, _ = await asyncio.to_thread(s2s_stream, s2s_port, "evil.example")
            c.send("<message from='eve@evil.example/x' to='%s@%s' type='chat'><body>spam</body>"
                   "</message>" % (victim, TERN_DOMAIN))
            await asyncio.to_thread(c.expect_stream_error, "not-authorized", 10)
            # A key for a domain that does not exist: Tern cannot reach its
            # authoritative server, answers with a dialback error, and a
            # stanza for it ends the stream with invalid-from... unless it
            # claims nothing at all.
            c, _ = await asyncio.to_thread(s2s_stream, s2s_port, "nowhere.invalid")
            c.send("<db:result from='nowhere.invalid' to='%s'>%s</db:result>"
                   % (TERN_DOMAIN, "cd" * 32))
            result = await asyncio.to_thread(
                c.wait_for, lambda el: el.tag == q(NS_DB, "result"), 20, "a dialback answer")
            assert result.get("type") == "error", c.dump()
            assert result.find("{%s}error/{%s}remote-server-not-found" % (NS_SERVER, NS_STANZAS)) \
                is not None or result.find("{%s}error" % NS_SERVER) is not None, c.dump()
            c.send("<message from='eve@nowhere.invalid/x' to='%s@%s' type='chat'><body>spam</body>"
                   "</message>" % (victim, TERN_DOMAIN))
            await asyncio.to_thread(c.expect_stream_error, "not-authorized", 10)
            assert await no_message_for(a, 1) is None, "a message from an unauthenticated peer was delivered"
        finally:
            await close_all(a)

    run(scenario(), timeout=90)


def test_message_to_an_unresolvable_domain_bounces_in_time(federation):
    tern, _ = federation
    user = unique_user("lonely")
    tern.add_user(user, PW)

    async def scenario():
        a = await slix_login("%s@%s/r" % (user, TERN_DOMAIN), PW, tern.c2s_port)
        errors = asyncio.Queue()
        a.add_event_handler("message_error", errors.put_nowait)
        try:
            started = time.monotonic()
            a.send_message(mto="someone@no-such-domain.invalid", mbody="hello?", mtype="chat")
            err = await asyncio.wait_for(errors.get(), 20)
            took = time.monotonic() - started
            assert err["error"]["condition"] == "remote-server-not-found", str(err)
            assert err["from"] == "someone@no-such-domain.invalid"
            assert took < 15, "bounced only after %.1fs" % took
        finally:
            await close_all(a)

    run(scenario(), timeout=60)


def tern_status(server):
    res = server.cli("status")
    return res.stdout + res.stderr


class TwoTerns:
    """one.example and two.example with certificates from a test CA."""

    def __init__(self, tmp_path_factory, extra_s2s=None):
        pki = tmp_path_factory.mktemp("pki")
        ca = make_test_ca(pki)
        self.domains = ("one.example", "two.example")
        ports = {d: free_port() for d in self.domains}
        self.servers = {}
        for me, other in (self.domains, self.domains[::-1]):
            s2s = {"ca_file": str(ca[0])}
            s2s.update(extra_s2s or {})
            cfg = tern_config(ports[me], {other: ports[other]}, extra_s2s=s2s,
                              tls=issued_by(ca, pki, me))
            self.servers[me] = TernServer(tmp_path_factory.mktemp("tern-" + me), cfg, domain=me)

    def __enter__(self):
        for s in self.servers.values():
            s.start()
            s.add_user("alice", PW)
        return self

    def __exit__(self, *exc):
        for s in self.servers.values():
            s.stop_and_check()

    async def clients(self):
        one, two = self.domains
        a = await slix_login("alice@%s/r" % one, PW, self.servers[one].c2s_port)
        b = await slix_login("alice@%s/r" % two, PW, self.servers[two].c2s_port)
        return a, b


def test_two_terns_authenticate_by_certificate(tmp_path_factory):
    """Certificates from a test CA: SASL EXTERNAL both ways, no dialback."""
    with TwoTerns(tmp_path_factory) as terns:
        servers = list(terns.servers.values())
        one, two = terns.domains

        async def scenario():
            a, b = await terns.clients()
            try:
                a.send_message(mto="alice@%s" % two, mbody="one to two", mtype="chat")
                await expect_message(b, "one to two", servers)
                b.send_message(mto=a.boundjid.full, mbody="two to one", mtype="chat")
                await expect_message(a, "two to one", servers)
                await b["xep_0199"].ping(jid=one, timeout=10)
            finally:
                await close_all(a, b)

        run(scenario(), timeout=60)
        for s in servers:
            status = tern_status(s)
            assert "auth=SASL EXTERNAL" in status and "dialback" not in status, \
                "%s\n%s" % (status, failure_logs(*servers))


def test_idle_link_closes_and_the_next_stanza_reopens_it(tmp_path_factory):
    with TwoTerns(tmp_path_factory, {"idle_timeout_seconds": 2}) as terns:
        servers = list(terns.servers.values())
        one, two = terns.domains

        async def scenario():
            a, b = await terns.clients()
            try:
                a.send_message(mto="alice@%s" % two, mbody="first", mtype="chat")
                await expect_message(b, "first", servers)
                await wait_until(lambda: "out one.example -> two.example" not in
                                 tern_status(terns.servers[one]),
                                 "the idle link closes", servers, timeout=10)
                a.send_message(mto="alice@%s" % two, mbody="second", mtype="chat")
                await expect_message(b, "second", servers)
            finally:
                await close_all(a, b)

        run(scenario(), timeout=60)


def test_a_peer_that_never_answers_bounces_with_remote_server_timeout(tmp_path_factory):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never speaks
    port = silent.getsockname()[1]
    tern = TernServer(tmp_path_factory.mktemp("tern-timeout"),
                      tern_config(free_port(), {"silent.example": port},
                                  extra_s2s={"connect_timeout_seconds": 2}),
                      domain=TERN_DOMAIN)
    tern.start()
    try:
        tern.add_user("alice", PW)

        async def scenario():
            a = await slix_login("alice@%s/r" % TERN_DOMAIN, PW, tern.c2s_port)
            errors = asyncio.Queue()
            a.add_event_handler("message_error", errors.put_nowait)
            try:
                started = time.monotonic()
                a.send_message(mto="bob@silent.example", mbody="anyone?", mtype="chat")
                err = await asyncio.wait_for(errors.get(), 15)
                assert err["error"]["condition"] == "remote-server-timeout", str(err)
                took = time.monotonic() - started
                assert 1.5 < took < 8, "bounced after %.1fs, the timeout is 2s" % took
            finally:
                await close_all(a)

        run(scenario(), timeout=40)
    finally:
        silent.close()
        tern.stop_and_check()


class FakeAuthority(threading.Thread):
    """The authoritative server of fake.example, as far as Tern can tell: it
    accepts Tern's outgoing link (STARTTLS with a self-signed certificate,
    then dialback), answers Tern's own <db:result/> with valid and every
    <db:verify/> with valid. A peer claiming fake.example thus authenticates
    for fake.example, and for nothing else."""

    def __init__(self, port, cert):
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(20)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        self.verified = []
        self.error = None

    def run(self):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(20)
            buf = self._until(conn, b"", b">")  # the stream header
            header = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' " \
                     "xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='%s' " \
                     "from='%s' to='%s' id='%s' version='1.0'>" % (NS_DB, FAKE_DOMAIN, TERN_DOMAIN, "%s")
            conn.sendall((header % "fake1" + "<stream:features><starttls xmlns='%s'/>"
                          "</stream:features>" % NS_TLS).encode())
            self._until(conn, b"", b"<starttls")
            conn.sendall(("<proceed xmlns='%s'/>" % NS_TLS).encode())
            conn = self.ctx.wrap_socket(conn, server_side=True)
            buf = self._until(conn, b"", b"<stream:stream")
            conn.sendall((header % "fake2" + "<stream:features><dialback xmlns="
                          "'urn:xmpp:features:dialback'><errors/></dialback></stream:features>").encode())
            answered_result = False
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                if not answered_result and b"</db:result>" in buf:
                    answered_result = True
                    conn.sendall(("<db:result from='%s' to='%s' type='valid'/>"
                                  % (FAKE_DOMAIN, TERN_DOMAIN)).encode())
                for m in re.finditer(rb"<db:verify[^>]*id='([^']+)'[^>]*>[^<]*</db:verify>", buf):
                    self.verified.append(m.group(1).decode())
                    conn.sendall(("<db:verify from='%s' to='%s' id='%s' type='valid'/>"
                                  % (FAKE_DOMAIN, TERN_DOMAIN, m.group(1).decode())).encode())
                buf = re.sub(rb"<db:verify[^>]*>[^<]*</db:verify>", b"", buf)
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.error = e

    @staticmethod
    def _until(conn, buf, marker):
        while marker not in buf:
            data = conn.recv(65536)
            if not data:
                raise EOFError("closed before %r" % marker)
            buf += data
        return buf


def test_peer_authenticated_for_one_domain_cannot_send_for_another(federation, tmp_path):
    """A peer that really is fake.example (its authoritative server vouches
    for its key) gets its own stanzas delivered; one claiming to come from
    the peer's domain on that stream ends it with invalid-from, undelivered."""
    tern, peer = federation
    authority = FakeAuthority(tern.fake_authority_port, self_signed(tmp_path, FAKE_DOMAIN))
    authority.start()
    victim = unique_user("victim")
    tern.add_user(victim, PW)

    async def scenario():
        a = await slix_login("%s@%s/r" % (victim, TERN_DOMAIN), PW, tern.c2s_port)
        try:
            c, _ = await asyncio.to_thread(s2s_stream, tern.s2s_port, FAKE_DOMAIN)
            c.send("<db:result from='%s' to='%s'>%s</db:result>" % (FAKE_DOMAIN, TERN_DOMAIN, "ef" * 32))
            result = await asyncio.to_thread(
                c.wait_for, lambda el: el.tag == q(NS_DB, "result"), 20, "a dialback answer")
            assert result.get("type") == "valid", c.dump() + repr(authority.error)
            c.send("<message from='eve@%s/x' to='%s@%s' type='chat'><body>genuine</body></message>"
                   % (FAKE_DOMAIN, victim, TERN_DOMAIN))
            await expect_message(a, "genuine", (tern,))
            c.send("<message from='mallory@%s/x' to='%s@%s' type='chat'><body>forged</body></message>"
                   % (peer.domain, victim, TERN_DOMAIN))
            await asyncio.to_thread(c.expect_stream_error, "invalid-from", 10)
            assert await no_message_for(a, 1) is None, "the forged message was delivered"
        finally:
            await close_all(a)

    run(scenario(), timeout=60)
    authority.listener.close()


def test_direct_tls_listener_needs_no_starttls(tmp_path_factory):
    """listen.s2s_tls (XEP-0368): TLS first, then features without STARTTLS."""
    tls_port = free_port()
    cfg = tern_config(free_port(), {})
    cfg["listen"]["s2s_tls"] = ["127.0.0.1:%d" % tls_port]
    tern = TernServer(tmp_path_factory.mktemp("tern-s2s-tls"), cfg, domain=TERN_DOMAIN)
    tern.start()
    try:
        c = RawClient(tls_port, domain=TERN_DOMAIN, timeout=10, direct_tls=True)
        c.open_stream(to=TERN_DOMAIN, xmlns=NS_SERVER,
                      extra="from='peer.example' xmlns:db='%s'" % NS_DB)
        c.read_header()
        features = c.features()
        assert features.find(q(NS_TLS, "starttls")) is None, c.dump()
        assert features.find("{urn:xmpp:features:dialback}dialback") is not None, c.dump()
        c.close()
    finally:
        tern.stop_and_check()


def test_bytes_per_second_from_one_domain_are_limited(tmp_path_factory):
    """s2s.max_bytes_per_second = 20000: 60 messages of ~1.1 KB take more
    than two seconds to come in, and all of them do."""
    with TwoTerns(tmp_path_factory, {"max_bytes_per_second": 20000}) as terns:
        servers = list(terns.servers.values())
        one, two = terns.domains

        async def scenario():
            a, b = await terns.clients()
            try:
                a.send_message(mto=b.boundjid.full, mbody="warm up", mtype="chat")
                await expect_message(b, "warm up", servers)
                await asyncio.sleep(1.2)  # the bucket refills
                started = time.monotonic()
                for i in range(60):
                    a.send_message(mto=b.boundjid.full, mbody="m%d %s" % (i, "x" * 1000),
                                   mtype="chat")
                for i in range(60):
                    await expect_message(b, "m%d %s" % (i, "x" * 1000), servers, timeout=20)
                took = time.monotonic() - started
                assert took > 1.5, "60 KB came in %.2fs at 20 KB/s" % took
            finally:
                await close_all(a, b)

        run(scenario(), timeout=90)
