"""TLS interop: the three client stacks over TLS 1.2 (OpenSSL's record layer
in Tern) and TLS 1.3 (Tern's own, src/transport/tls13_records.h), KeyUpdate
both ways with `openssl s_client`, and a malformed record ending only the
connection that sent it.

Which version a session negotiated is read from the server's debug log
("TLS established (TLSv1.x)"), so the check does not depend on what each
client library exposes.
"""

import asyncio
import base64
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import conftest  # noqa: F401  (Debian's dist-packages)
from clients import LoginFailed, SlixClient, run, slix_login
from conftest import NS_STREAM, RawClient, TernServer, q, unique_user
from test_strophe import start_strophe, strophe_bin  # noqa: F401  (fixture)

PASSWORD = "s3cret-tls"
VERSIONS = ["TLSv1.2", "TLSv1.3"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-tls"), {"server": {"log_level": "debug"}})
    s.start()
    yield s
    s.stop()


def negotiated_version(server, full_jid, timeout=5.0):
    """The TLS version of the session bound to full_jid, from the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = server.log()
        bound = re.search(r"(c2s#\d+) %s: bound" % re.escape(full_jid), log)
        if bound:
            est = re.search(r"%s \S+: TLS established \((TLSv[\d.]+)\)" % bound.group(1), log)
            if est:
                return est.group(1)
        if time.monotonic() > deadline:
            raise AssertionError("no 'bound'/'TLS established' lines for %s in the log" % full_jid)
        time.sleep(0.05)  # polling a file another process appends to


async def slix_login_with(jid, port, version):
    """slix_login, with the TLS version pinned."""
    client = SlixClient(jid, PASSWORD, mech="SCRAM-SHA-256")
    pinned = ssl.TLSVersion[version.replace("TLSv1.", "TLSv1_")]
    client.ssl_context.minimum_version = pinned
    client.ssl_context.maximum_version = pinned
    client.default_port = port
    client.connect(("127.0.0.1", port))
    try:
        await asyncio.wait_for(asyncio.shield(client.ready), 10)
    except (asyncio.TimeoutError, LoginFailed):
        client.drop()
        raise
    return client


@pytest.mark.parametrize("version", VERSIONS)
def test_slixmpp_over_tls_version(server, version):
    alice = server.add_user(unique_user("alice"), PASSWORD)

    async def scenario():
        c = await slix_login_with(alice + "/slix", server.c2s_port, version)
        try:
            assert c.tls_object.version() == version
            # Both directions through the record layer: a message to itself.
            c.send_message(mto=c.boundjid.full, mbody="over " + version, mtype="chat")
            got = await c.next_message(body="over " + version, timeout=10)
            assert got["from"].full == c.boundjid.full
        finally:
            await c.close()
        assert negotiated_version(server, alice + "/slix") == version

    run(scenario(), timeout=40)


@pytest.mark.parametrize("version", VERSIONS)
def test_aioxmpp_over_tls_version(server, version):
    import aioxmpp
    import aioxmpp.connector
    import aioxmpp.dispatcher
    from OpenSSL import SSL
    alice = server.add_user(unique_user("alice"), PASSWORD)
    bob = server.add_user(unique_user("bob"), PASSWORD)
    pinned = {"TLSv1.2": SSL.TLS1_2_VERSION, "TLSv1.3": SSL.TLS1_3_VERSION}[version]

    layer = aioxmpp.make_security_layer(PASSWORD, no_verify=True)
    make_context = layer.ssl_context_factory

    def pinned_context():
        ctx = make_context()
        ctx.set_min_proto_version(pinned)
        ctx.set_max_proto_version(pinned)
        return ctx

    layer = layer._replace(ssl_context_factory=pinned_context)

    async def scenario():
        a = await slix_login(alice + "/slix", PASSWORD, server.c2s_port, mech="SCRAM-SHA-256")
        client = aioxmpp.PresenceManagedClient(
            aioxmpp.JID.fromstr(bob + "/aio"), layer,
            override_peer=[("127.0.0.1", server.c2s_port, aioxmpp.connector.STARTTLSConnector())],
            max_initial_attempts=1)
        received = asyncio.Queue()
        dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
        dispatcher.register_callback(aioxmpp.MessageType.CHAT, None, received.put_nowait)
        try:
            async with client.connected():
                msg = aioxmpp.Message(to=aioxmpp.JID.fromstr(a.boundjid.full),
                                      type_=aioxmpp.MessageType.CHAT)
                msg.body[None] = "aioxmpp over " + version
                await client.send(msg)
                got = await a.next_message(body="aioxmpp over " + version, timeout=10)
                assert got["from"].full == bob + "/aio"
                a.send_message(mto=bob + "/aio", mbody="back", mtype="chat")
                m = await asyncio.wait_for(received.get(), 10)
                assert m.body.any() == "back"
        finally:
            await a.close()
        assert negotiated_version(server, bob + "/aio") == version

    run(scenario(), timeout=45)


@pytest.mark.parametrize("version", VERSIONS)
def test_libstrophe_over_tls_version(server, version, strophe_bin, tmp_path, monkeypatch):  # noqa: F811
    # libstrophe has no TLS version option; OpenSSL's configuration file
    # pins it for the client process (libssl loads it at initialisation).
    conf = tmp_path / "openssl.cnf"
    conf.write_text("openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = pin\n"
                    "[pin]\nMinProtocol = %s\nMaxProtocol = %s\n" % (version, version))
    monkeypatch.setenv("OPENSSL_CONF", str(conf))
    alice = server.add_user(unique_user("alice"), PASSWORD)
    carol = server.add_user(unique_user("carol"), PASSWORD)

    async def scenario():
        a = await slix_login(alice + "/slix", PASSWORD, server.c2s_port, mech="SCRAM-SHA-256")
        s = None
        try:
            s = await start_strophe(strophe_bin, server.c2s_port, carol + "/strophe", PASSWORD,
                                    "--send-to", a.boundjid.full, "--body", "strophe " + version,
                                    "--expect", "1", log_dir=tmp_path)
            bound = (await s.line("BOUND ")).split(" ", 1)[1]
            msg = await a.next_message(body="strophe " + version, timeout=10)
            assert msg["from"].full == bound
            a.send_message(mto=bound, mbody="back", mtype="chat")
            assert await s.line("MSG ") == "MSG from=%s type=chat body=back" % a.boundjid.full
            await s.line("DONE")
            assert await s.wait() == 0
        finally:
            if s is not None and s.proc.returncode is None:
                s.proc.kill()
                await s.proc.wait()
            await a.close()
        assert negotiated_version(server, carol + "/strophe") == version

    run(scenario(), timeout=45)


class SClient:
    """`openssl s_client -starttls xmpp -msg`: XMPP typed on its stdin, its
    stdout (protocol messages and what the server sent) searched."""

    def __init__(self, port, domain):
        self.proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-starttls", "xmpp",
             "-xmpphost", domain, "-tls1_3", "-msg"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = ""
        self.seen = 0  # what wait_for has matched so far

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout=10.0):
        """Waits for pattern in the output after the last match; returns it."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out, self.seen)
            if m:
                self.seen = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not self._readable(0):
                raise AssertionError("s_client printed no %r; output:\n%s" % (pattern, self.out[-4000:]))
            if self._readable(left):
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data and self.proc.poll() is not None:
                    continue
                self.out += data.decode("utf-8", "replace")

    def _readable(self, timeout):
        return bool(select.select([self.proc.stdout], [], [], timeout)[0])

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_key_update_both_ways_with_openssl_s_client(server):
    """`K` makes s_client send a KeyUpdate that asks for ours: Tern must
    follow the client's new key and send its own KeyUpdate before its next
    record; `k` updates the client's key only. Pings answered after each
    show both ends in step."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is needed (Debian package openssl)")
    user = unique_user("ku")
    server.add_user(user, PASSWORD)
    c = SClient(server.c2s_port, server.domain)
    try:
        c.wait_for(r"<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], Finished")
        header = ("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
                  "xmlns:stream='%s' version='1.0'>" % (server.domain, NS_STREAM))
        c.send(header)
        c.wait_for(r"<mechanism>PLAIN</mechanism>")
        token = base64.b64encode(("\0%s\0%s" % (user, PASSWORD)).encode()).decode()
        c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>" % token)
        c.wait_for(r"<success")
        c.send(header)
        c.wait_for(r"urn:ietf:params:xml:ns:xmpp-bind")
        c.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
               "<resource>s_client</resource></bind></iq>")
        c.wait_for(r"<jid>%s@%s/s_client</jid>" % (user, server.domain))

        def ping(ping_id):
            c.send("<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>"
                   % (ping_id, server.domain))
            return c.wait_for(r"<iq[^>]*id='%s'[^>]*type='result'|<iq[^>]*type='result'[^>]*id='%s'"
                              % (ping_id, ping_id))

        ping("p0")
        # Client KeyUpdate with update_requested (1), then the server's own
        # KeyUpdate (update_not_requested, 0) must arrive before its answer.
        c.send("K\n")
        c.wait_for(r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate")
        before = c.seen
        answer = ping("p1")
        theirs = re.search(r"<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate", c.out[before:])
        assert theirs, "Tern sent no KeyUpdate after the client asked for one:\n" + c.out[before:]
        assert before + theirs.start() < answer.start()
        # A KeyUpdate that asks for nothing back: no KeyUpdate from Tern.
        c.send("k\n")
        c.wait_for(r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate")
        before = c.seen
        ping("p2")
        assert "KeyUpdate" not in c.out[before:c.seen]
        # And several rounds in a row, each with data between.
        for i in range(3):
            c.send("K\n")
            c.wait_for(r">>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate")
            ping("r%d" % i)
        c.send("</stream:stream>")
        c.wait_for(r"</stream:stream>")
    finally:
        c.close()
    assert server.alive()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_malformed_record_ends_only_its_own_connection(server, version):
    """A record that fails authentication gets a fatal bad_record_mac and a
    closed connection; another session on the same server carries on."""
    alice = server.add_user(unique_user("alice"), PASSWORD)
    mallory = server.add_user(unique_user("mallory"), PASSWORD)
    a = RawClient(server.c2s_port, domain=server.domain)
    m = RawClient(server.c2s_port, domain=server.domain, tls_max_version=version)
    try:
        a.login(alice.split("@")[0], PASSWORD, resource="a")
        m.login(mallory.split("@")[0], PASSWORD, resource="m")
        assert m.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                    ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
        # An application_data record of random bytes, written under the TLS
        # layer on the same socket.
        raw = socket.socket(fileno=os.dup(m.sock.fileno()))
        raw.sendall(b"\x17\x03\x03\x00\x30" + os.urandom(0x30))
        raw.close()
        m.sock.settimeout(5)
        with pytest.raises(ssl.SSLError) as err:
            while m.sock.recv(4096):
                pass
        assert err.value.reason == "SSLV3_ALERT_BAD_RECORD_MAC", err.value
        # The other session is untouched.
        assert a.ping().get("type") == "result"
        a.message(alice + "/a", "still here")
        assert a.wait_message("still here") is not None
    finally:
        a.close()
        m.close()
    assert server.alive()
