"""HTTP side of Tern: static page, discovery, /metrics, WebSocket (RFC 7395)
and BOSH (XEP-0124/0206), each against a real `tern serve` and, for
routing, a TCP client on the same server."""

import http.client
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import NS_CLIENT, RawClient, TernServer, free_port, q, unique_user
from web_clients import (NS_FRAMING, NS_HTTPBIND, NS_SASL, NS_STREAM, BoshClient,
                         WsClient, WsClosed)

PASSWORD = "web-secret"


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    port = free_port()
    server = TernServer(tmp_path_factory.mktemp("tern-web"), {
        "listen": {"http": ["127.0.0.1:%d" % port]},
        "http": {"allowed_origins": ["https://chat.example.org"]},
    })
    server.http_port = port
    server.start()
    yield server
    server.stop()


def get(port, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def user(server):
    name = unique_user("w")
    server.add_user("%s@localhost" % name, PASSWORD)
    return name


def tcp_client(server):
    name = user(server)
    c = RawClient(server.c2s_port)
    c.login(name, PASSWORD)
    return c


# --- static files and discovery --------------------------------------------

def test_page_is_served_with_its_type_and_security_headers(web_server):
    status, headers, body = get(web_server.http_port, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    # Own scripts only, and WebAssembly (converse.js's OMEMO) but no eval().
    assert "script-src 'self' 'wasm-unsafe-eval';" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-cache"
    assert headers["x-content-type-options"] == "nosniff"
    assert b"/dist/converse.min.js" in body


def test_assets_have_types_and_long_caching(web_server):
    status, headers, body = get(web_server.http_port, "/main.js")
    assert status == 200
    assert headers["content-type"].startswith("text/javascript")
    assert "max-age" in headers["cache-control"]
    status, headers, _ = get(web_server.http_port, "/dist/converse.min.css")
    if status == 200:  # present once `make web` ran
        assert headers["content-type"].startswith("text/css")
    status, headers, body = get(web_server.http_port, "/tern-config.js")
    assert status == 200 and b'"domain": "localhost"' in body


@pytest.mark.parametrize("path", [
    "/../tern.toml", "/..%2ftern.toml", "/%2e%2e/tern.toml", "/dist/../../package.json",
    "/.%2e/.%2e/package.json", "/%2fetc%2fpasswd", "//etc/passwd", "/main.js%00.html",
    "/..\\package.json", "/nonexistent.html",
])
def test_no_path_traversal(web_server, path):
    status, _, body = get(web_server.http_port, path)
    assert status == 404, (path, status)
    assert b"root:" not in body and b"[server]" not in body


def test_wrong_method_is_405(web_server):
    status, headers, _ = get(web_server.http_port, "/", method="DELETE")
    assert status == 405
    assert "GET" in headers["allow"]


def test_oversized_headers_are_refused(web_server):
    status, _, _ = get(web_server.http_port, "/", headers={"X-Big": "a" * 20000})
    assert status == 431


def test_keep_alive_serves_several_requests_on_one_connection(web_server):
    conn = http.client.HTTPConnection("127.0.0.1", web_server.http_port, timeout=10)
    for path in ("/", "/main.js", "/.well-known/host-meta"):
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    conn.close()


def test_host_meta_announces_both_endpoints(web_server):
    port = web_server.http_port
    status, headers, body = get(port, "/.well-known/host-meta")
    assert status == 200
    assert headers["content-type"].startswith("application/xrd+xml")
    assert headers["access-control-allow-origin"] == "*"
    xrd = ET.fromstring(body)
    links = {l.get("rel"): l.get("href") for l in xrd.iter("{http://docs.oasis-open.org/ns/xri/xrd-1.0}Link")}
    assert links["urn:xmpp:alt-connections:websocket"] == "ws://127.0.0.1:%d/xmpp-websocket" % port
    assert links["urn:xmpp:alt-connections:xbosh"] == "http://127.0.0.1:%d/http-bind" % port
    status, headers, body = get(port, "/.well-known/host-meta.json")
    assert status == 200 and headers["content-type"] == "application/json"
    import json
    rels = {l["rel"]: l["href"] for l in json.loads(body)["links"]}
    assert rels["urn:xmpp:alt-connections:websocket"].endswith("/xmpp-websocket")


def test_metrics_on_loopback(web_server):
    status, headers, body = get(web_server.http_port, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert 'tern_sessions{transport="websocket"}' in text
    assert "tern_resident_memory_bytes" in text


def test_metrics_refused_to_unlisted_addresses(tern_factory):
    port = free_port()
    server = tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]},
                           "http": {"metrics_addresses": ["192.0.2.1"]}})
    status, _, _ = get(port, "/metrics")
    assert status == 403


# --- WebSocket --------------------------------------------------------------

def test_websocket_login_and_message_round_trip(web_server):
    tcp = tcp_client(web_server)
    name = user(web_server)
    ws = WsClient(web_server.http_port)
    assert ws.status == 101
    assert ws.headers["sec-websocket-protocol"] == "xmpp"
    jid = ws.login(name, PASSWORD)
    assert jid == "%s@localhost/web" % name
    ws.send("<message xmlns='jabber:client' to='%s' type='chat'><body>from ws</body></message>" % tcp.jid)
    got = tcp.wait_message("from ws")
    assert got.get("from") == jid
    tcp.message(jid, "to ws")
    msg = ws.wait_for(lambda el: el.tag == q(NS_CLIENT, "message"))
    assert msg.findtext(q(NS_CLIENT, "body")) == "to ws"
    assert msg.get("from") == tcp.jid
    ws.send("<close xmlns='%s'/>" % NS_FRAMING)
    closing = ws.element()
    assert closing.tag == q(NS_FRAMING, "close")
    assert ws.wait_closed() == 1000
    tcp.close()


def test_websocket_without_xmpp_subprotocol_is_refused(web_server):
    ws = WsClient(web_server.http_port, protocol=None)
    assert ws.status == 400
    ws = WsClient(web_server.http_port, protocol="chat")
    assert ws.status == 400


def test_websocket_origin_checked(web_server):
    port = web_server.http_port
    assert WsClient(port, origin="https://evil.example").status == 403
    assert WsClient(port, origin="https://chat.example.org").status == 101
    assert WsClient(port, origin="http://127.0.0.1:%d" % port).status == 101


def test_websocket_bad_framing_closes_only_that_session(web_server):
    tcp = tcp_client(web_server)
    bystander = WsClient(web_server.http_port)
    bystander_jid = bystander.login(user(web_server), PASSWORD)
    # Two elements in one message: bad-format, then <close/>, then code 1000.
    bad = WsClient(web_server.http_port)
    bad.open()
    bad.send("<iq xmlns='jabber:client' type='get' id='a'/><iq xmlns='jabber:client' type='get' id='b'/>")
    err = bad.element()
    assert err.tag == q(NS_STREAM, "error")
    assert err.find("{urn:ietf:params:xml:ns:xmpp-streams}bad-format") is not None
    assert bad.element().tag == q(NS_FRAMING, "close")
    assert bad.wait_closed() == 1000
    # Not well-formed XML.
    bad = WsClient(web_server.http_port)
    bad.open()
    bad.send("<message><body>unclosed</message>")
    err = bad.element()
    assert err.find("{urn:ietf:params:xml:ns:xmpp-streams}not-well-formed") is not None
    assert bad.wait_closed() == 1000
    # A binary message: unsupported data.
    bad = WsClient(web_server.http_port)
    bad.open()
    bad.send_frame(2, b"<presence/>")
    assert bad.wait_closed() == 1003
    # The other sessions carry on.
    tcp.message(bystander_jid, "still here")
    msg = bystander.wait_for(lambda el: el.tag == q(NS_CLIENT, "message"))
    assert msg.findtext(q(NS_CLIENT, "body")) == "still here"
    tcp.close()


def test_websocket_message_too_big_is_closed_1009(tern_factory):
    port = free_port()
    tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]},
                  "limits": {"max_stanza_bytes": 4096}})
    ws = WsClient(port)
    ws.open()
    ws.send("<message xmlns='jabber:client'><body>%s</body></message>" % ("x" * 20000))
    assert ws.wait_closed() == 1009


def test_websocket_answers_ping(web_server):
    ws = WsClient(web_server.http_port)
    ws.open()
    ws.send_frame(9, b"hello")
    opcode, payload = ws.recv_frame()
    assert (opcode, payload) == (10, b"hello")


def test_plain_http_from_an_untrusted_address_offers_no_mechanisms(tern_factory):
    port = free_port()
    tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]},
                  "http": {"trusted_addresses": []}})
    ws = WsClient(port)
    _, features = ws.open()
    assert [m.text for m in features.iter(q(NS_SASL, "mechanism"))] == []
    ws.send("<auth xmlns='%s' mechanism='PLAIN'>AGEAYg==</auth>" % NS_SASL)
    failure = ws.element()
    assert failure.tag == q(NS_SASL, "failure")


# --- BOSH -------------------------------------------------------------------

def test_bosh_login_and_message_round_trip(web_server):
    tcp = tcp_client(web_server)
    bosh = BoshClient(web_server.http_port, wait=5)
    name = user(web_server)
    created_sid = None
    jid = bosh.login(name, PASSWORD)
    assert jid == "%s@localhost/bosh" % name
    assert len(bosh.sid) >= 32
    bosh.request("<message xmlns='jabber:client' to='%s' type='chat'><body>from bosh</body></message>" % tcp.jid)
    assert tcp.wait_message("from bosh").get("from") == jid
    # A poll held open gets the message when it comes.
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("el", bosh.request()))
    t.start()
    tcp.message(jid, "to bosh")
    t.join(10)
    msg = result["el"].find(q(NS_CLIENT, "message"))
    assert msg is not None and msg.findtext(q(NS_CLIENT, "body")) == "to bosh"
    el = bosh.request(type="terminate")
    assert el.get("type") == "terminate"
    tcp.close()


def test_bosh_empty_response_when_wait_expires(web_server):
    bosh = BoshClient(web_server.http_port, wait=1)
    bosh.login(user(web_server), PASSWORD)
    el = bosh.request()
    assert el.tag == q(NS_HTTPBIND, "body") and len(el) == 0 and el.get("type") is None


def test_bosh_out_of_order_rids_are_processed_in_order(web_server):
    tcp = tcp_client(web_server)
    bosh = BoshClient(web_server.http_port, wait=5)
    bosh.login(user(web_server), PASSWORD)
    first, second = bosh.rid + 1, bosh.rid + 2
    bosh.rid += 2
    msg = "<message xmlns='jabber:client' to='%s' type='chat'><body>%s</body></message>"
    late = threading.Thread(target=lambda: bosh.post(bosh.body(msg % (tcp.jid, "second"), rid=second)))
    late.start()
    # The second request must not be processed before the first arrives.
    tcp.ping()
    assert tcp.maybe_element(0.3) is None
    bosh.post(bosh.body(msg % (tcp.jid, "first"), rid=first))
    got = [tcp.wait_message().findtext(q(NS_CLIENT, "body")) for _ in range(2)]
    assert got == ["first", "second"]
    late.join(10)
    tcp.close()


def test_bosh_repeated_rid_is_answered_again(web_server):
    tcp = tcp_client(web_server)
    bosh = BoshClient(web_server.http_port, wait=5)
    bosh.login(user(web_server), PASSWORD)
    body = bosh.body("<iq xmlns='jabber:client' type='get' id='p1' to='localhost'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>")
    status1, raw1, el1 = bosh.post(body)
    status2, raw2, el2 = bosh.post(body)
    assert status1 == status2 == 200
    assert raw1 == raw2
    assert el1.find(q(NS_CLIENT, "iq")).get("id") == "p1"
    tcp.close()


def test_bosh_unknown_sid_gets_item_not_found(web_server):
    bosh = BoshClient(web_server.http_port)
    bosh.sid = "0123456789abcdef0123456789abcdef"
    el = bosh.request()
    assert el.get("type") == "terminate"
    assert el.get("condition") == "item-not-found"


def test_bosh_rid_outside_window_ends_session(web_server):
    bosh = BoshClient(web_server.http_port, wait=2)
    bosh.login(user(web_server), PASSWORD)
    el = bosh.post(bosh.body(rid=bosh.rid + 50))[2]
    assert el.get("type") == "terminate" and el.get("condition") == "item-not-found"
    el = bosh.request()
    assert el.get("condition") == "item-not-found"


def test_bosh_unknown_host(web_server):
    bosh = BoshClient(web_server.http_port, domain="nowhere.example")
    el = bosh.create()
    assert el.get("type") == "terminate" and el.get("condition") == "host-unknown"


def test_bosh_cors_preflight(web_server):
    status, headers, _ = get(web_server.http_port, "/http-bind", method="OPTIONS",
                             headers={"Origin": "https://chat.example.org",
                                      "Access-Control-Request-Method": "POST"})
    assert status == 204
    assert headers["access-control-allow-origin"] == "https://chat.example.org"
    assert "POST" in headers["access-control-allow-methods"]
    status, _, _ = get(web_server.http_port, "/http-bind", method="OPTIONS",
                       headers={"Origin": "https://evil.example"})
    assert status == 403


def test_sigterm_soon_after_bosh_sessions_terminated_exits_at_once(tern_factory):
    """A terminated BOSH session's inactivity reaper used to keep it (and
    the shutdown) waiting up to `inactivity` seconds."""
    port = free_port()
    server = tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]}})
    for _ in range(3):
        bosh = BoshClient(port, wait=5)
        name = unique_user("wt")
        server.add_user("%s@localhost" % name, PASSWORD)
        bosh.login(name, PASSWORD)
        assert bosh.request(type="terminate").get("type") == "terminate"
    started = time.monotonic()
    assert server.stop() == 0
    assert time.monotonic() - started < 10, "shutdown waited for terminated BOSH sessions"
