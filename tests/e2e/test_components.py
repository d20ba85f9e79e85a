"""External components (XEP-0114): the accept protocol on listen.component,
routing both ways, the checks a component stream is held to, and the
example echo bot (examples/echo_component.py, a slixmpp ComponentXMPP)
talking to a real client."""

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, NS_STANZAS, RawClient, free_port, q, stanza_error, unique_user

NS_COMPONENT = "jabber:component:accept"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
DOMAIN = "echo.localhost"
SECRET = "component secret"
PASSWORD = "component user secret"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "echo_component.py"


@pytest.fixture
def server(tern_factory):
    port = free_port()
    srv = tern_factory({"listen": {"component": ["127.0.0.1:%d" % port]},
                        'components."%s"' % DOMAIN: {"secret": SECRET}})
    srv.component_port = port
    return srv


def component(server, domain=DOMAIN, secret=SECRET, expect_ok=True):
    """A raw component stream; returns it after the handshake (or the
    stream header, when expect_ok is False, for the caller to check)."""
    c = RawClient(server.component_port, domain=domain)
    c.open_stream(to=domain, xmlns=NS_COMPONENT, version=None)
    header = c.read_header()
    stream_id = header.get("id")
    assert stream_id, "the stream header has no id"
    digest = hashlib.sha1((stream_id + secret).encode()).hexdigest()
    c.send("<handshake>%s</handshake>" % digest)
    if expect_ok:
        assert header.get("from") == domain
        c.expect(q(NS_COMPONENT, "handshake"))
    return c


def user(server, resource="r"):
    jid = unique_user("cu") + "@localhost"
    server.add_user(jid, PASSWORD)
    c = server.raw()
    full = c.login(jid.split("@")[0], PASSWORD, resource=resource, presence=True)
    return c, full


def test_stanzas_flow_both_ways(server):
    comp = component(server)
    alice, alice_full = user(server)
    alice.send("<message to='bot@%s' type='chat' id='m1'><body>hello bot</body></message>" % DOMAIN)
    got = comp.expect(q(NS_COMPONENT, "message"))
    assert got.get("from") == alice_full
    assert got.get("to") == "bot@" + DOMAIN
    assert got.findtext(q(NS_COMPONENT, "body")) == "hello bot"

    comp.send("<message from='bot@%s/x' to='%s' type='chat' id='r1'><body>hi alice</body></message>"
              % (DOMAIN, alice_full))
    reply = alice.wait_for(lambda el: el.tag == q(NS_CLIENT, "message"), what="the component's message")
    assert reply.get("from") == "bot@%s/x" % DOMAIN
    assert reply.findtext(q(NS_CLIENT, "body")) == "hi alice"

    # An iq from the component to the server is answered to the component.
    comp.send("<iq type='get' id='p1' from='%s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>" % DOMAIN)
    pong = comp.expect(q(NS_COMPONENT, "iq"))
    assert (pong.get("type"), pong.get("id"), pong.get("to")) == ("result", "p1", DOMAIN)


def test_server_lists_the_component_in_disco_items(server):
    alice, _ = user(server)
    items = alice.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to="localhost")
    jids = {i.get("jid") for i in items.iter(q(NS_ITEMS, "item"))}
    assert DOMAIN in jids


def test_wrong_secret_is_not_authorized(server):
    c = component(server, secret="not the secret", expect_ok=False)
    c.expect_stream_error("not-authorized")
    # The domain is still free for the real component.
    component(server)


def test_unknown_domain_is_host_unknown(server):
    c = RawClient(server.component_port, domain="nobody.localhost")
    c.open_stream(to="nobody.localhost", xmlns=NS_COMPONENT, version=None)
    c.read_header()
    c.expect_stream_error("host-unknown")


def test_a_second_connection_for_the_domain_is_a_conflict(server):
    first = component(server)
    second = component(server, expect_ok=False)
    second.expect_stream_error("conflict")
    # The first one still works.
    first.send("<iq type='get' id='p2' from='%s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>" % DOMAIN)
    assert first.expect(q(NS_COMPONENT, "iq")).get("type") == "result"


def test_a_component_cannot_speak_for_another_domain(server):
    alice, alice_full = user(server)
    comp = component(server)
    comp.send("<message from='admin@localhost' to='%s' type='chat'><body>forged</body></message>"
              % alice_full)
    comp.expect_stream_error("invalid-from")
    # Nothing reached alice: everything she gets up to a ping round trip
    # after the error is checked.
    alice.send("<iq type='get' id='after' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    while True:
        el = alice.next_element()
        assert el.tag != q(NS_CLIENT, "message"), "the forged message was delivered"
        if el.tag == q(NS_CLIENT, "iq") and el.get("id") == "after":
            break


def test_stanzas_to_a_disconnected_component_bounce(server):
    alice, _ = user(server)
    comp = component(server)
    comp.send("</stream:stream>")
    assert comp.wait_closed()
    # Until the server has processed the close, a message could still be
    # taken by the old stream: retry the iq until it bounces.
    deadline = time.monotonic() + 5
    while True:
        res = alice.iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                       to="bot@" + DOMAIN)
        if res.get("type") == "error" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert stanza_error(res) == ("cancel", [q(NS_STANZAS, "service-unavailable")])
    alice.send("<message to='bot@%s' type='chat' id='lost'><body>anyone?</body></message>" % DOMAIN)
    bounce = alice.wait_for(lambda el: el.tag == q(NS_CLIENT, "message") and el.get("id") == "lost",
                            what="the bounce")
    assert bounce.get("type") == "error"
    assert stanza_error(bounce) == ("cancel", [q(NS_STANZAS, "service-unavailable")])


def test_sigterm_tells_the_component(server):
    comp = component(server)
    server.stop()
    comp.expect_stream_error("system-shutdown")


def test_example_echo_bot_with_a_real_client(server, tmp_path):
    log = tmp_path / "echo.log"
    with open(log, "wb") as stderr:
        bot = subprocess.Popen([sys.executable, str(EXAMPLE), DOMAIN, SECRET, "127.0.0.1",
                                str(server.component_port)],
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        line = bot.stdout.readline()
        assert line.strip() == "echo ready", line + log.read_text()
        jid = unique_user("echo") + "@localhost"
        server.add_user(jid, PASSWORD)

        async def scenario():
            client = await slix_login(jid + "/phone", PASSWORD, server.c2s_port)
            try:
                client.send_message(mto="echo@" + DOMAIN, mbody="ping 42", mtype="chat")
                msg = await client.next_message(body="ping 42")
                return str(msg["from"]), msg["body"]
            finally:
                client.drop()

        sender, body = run(scenario())
        assert sender.startswith("echo@" + DOMAIN)
        assert body == "ping 42"
    finally:
        bot.terminate()
        bot.wait(10)
