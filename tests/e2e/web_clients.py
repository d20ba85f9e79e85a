"""Hand-driven clients for the HTTP side of Tern: a raw WebSocket client
(RFC 6455 over a plain socket, no library) speaking XMPP framing (RFC 7395),
and a BOSH client (XEP-0124/0206) over http.client."""

import base64
import hashlib
import http.client
import os
import random
import socket
import struct
import time
import xml.etree.ElementTree as ET

NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
NS_CLIENT = "jabber:client"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_STREAM = "http://etherx.jabber.org/streams"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def q(ns, name):
    return "{%s}%s" % (ns, name)


def plain_payload(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()


class WsClosed(Exception):
    def __init__(self, code):
        super().__init__("WebSocket closed with code %r" % (code,))
        self.code = code


class WsClient:
    """One WebSocket connection. `status` is the handshake's HTTP status."""

    def __init__(self, port, path="/xmpp-websocket", protocol="xmpp", origin=None,
                 host=None, timeout=5.0):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % (host or "127.0.0.1:%d" % port),
                 "Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append("Sec-WebSocket-Protocol: " + protocol)
        if origin:
            lines.append("Origin: " + origin)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, self.buf = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1]) if status_line else 0
        self.headers = {}
        for h in header_lines:
            k, _, v = h.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if self.status == 101:
            expect = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            assert self.headers.get("sec-websocket-accept") == expect
        self.close_code = None

    # -- frames ------------------------------------------------------------

    def send_frame(self, opcode, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send(self, text):
        self.send_frame(1, text)

    def _read(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no WebSocket data in time")
            if not chunk:
                raise WsClosed(self.close_code)
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        b0, b1 = self._read(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8, deadline))[0]
        assert not b1 & 0x80, "server frames must not be masked"
        return b0 & 0x0F, self._read(n, deadline)

    def recv(self, timeout=None):
        """The next text message; answers pings; raises WsClosed on a close."""
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 9:
                self.send_frame(10, payload)
                continue
            if opcode == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self.send_frame(8, payload[:2])
                except OSError:
                    pass
                raise WsClosed(self.close_code)
            if opcode == 1:
                return payload.decode()

    def element(self, timeout=None):
        return ET.fromstring(self.recv(timeout))

    def wait_for(self, pred, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            el = self.element(max(0.01, deadline - time.monotonic()))
            if pred(el):
                return el

    def wait_closed(self, timeout=None):
        """Reads until the server's close frame; returns its code."""
        try:
            while True:
                self.recv(timeout)
        except WsClosed as e:
            return e.code

    # -- XMPP ----------------------------------------------------------------

    def open(self, to="localhost"):
        self.send("<open xmlns='%s' to='%s' version='1.0'/>" % (NS_FRAMING, to))
        opened = self.element()
        assert opened.tag == q(NS_FRAMING, "open"), opened.tag
        features = self.element()
        assert features.tag == q(NS_STREAM, "features"), features.tag
        return opened, features

    def login(self, user, password, resource="web"):
        _, features = self.open()
        mechs = [m.text for m in features.iter(q(NS_SASL, "mechanism"))]
        assert "PLAIN" in mechs, mechs
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                  % (NS_SASL, plain_payload(user, password)))
        res = self.element()
        assert res.tag == q(NS_SASL, "success"), ET.tostring(res)
        _, features = self.open()
        assert features.find(q(NS_BIND, "bind")) is not None
        self.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='%s'>"
                  "<resource>%s</resource></bind></iq>" % (NS_BIND, resource))
        res = self.element()
        assert res.tag == q(NS_CLIENT, "iq") and res.get("type") == "result", ET.tostring(res)
        return res.find("%s/%s" % (q(NS_BIND, "bind"), q(NS_BIND, "jid"))).text

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class BoshClient:
    """A BOSH session driven request by request; each request on its own
    HTTP connection unless `conn` is given (so tests may hold several)."""

    def __init__(self, port, domain="localhost", wait=10, hold=1):
        self.port = port
        self.domain = domain
        self.wait = wait
        self.hold = hold
        self.rid = random.randint(1 << 20, 1 << 40)
        self.sid = None

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.wait + 10)

    def post(self, body, conn=None, headers=None):
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request("POST", "/http-bind", body=body.encode(),
                         headers=dict({"Content-Type": "text/xml; charset=utf-8"}, **(headers or {})))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data, ET.fromstring(data)
        finally:
            if own:
                conn.close()

    def next_rid(self):
        self.rid += 1
        return self.rid

    def body(self, payload="", rid=None, **attrs):
        rid = self.next_rid() if rid is None else rid
        extra = "".join(" %s='%s'" % (k.replace("__", ":"), v) for k, v in attrs.items())
        return ("<body xmlns='%s' sid='%s' rid='%d'%s>%s</body>"
                % (NS_HTTPBIND, self.sid, rid, extra, payload))

    def create(self):
        status, _, el = self.post(
            "<body xmlns='%s' xmlns:xmpp='urn:xmpp:xbosh' rid='%d' to='%s' wait='%d' hold='%d' "
            "xmpp:version='1.0' xml:lang='en' ver='1.6' content='text/xml; charset=utf-8'/>"
            % (NS_HTTPBIND, self.rid, self.domain, self.wait, self.hold))
        assert status == 200, status
        self.sid = el.get("sid")
        return el

    def request(self, payload="", **attrs):
        return self.post(self.body(payload, **attrs))[2]

    def collect(self, el, into):
        into.extend(list(el))
        return el

    def login(self, user, password, resource="bosh"):
        """Creates the session, authenticates, restarts, binds; returns the JID."""
        el = self.create()
        got = list(el)
        while not any(c.tag == q(NS_STREAM, "features") for c in got):
            got.extend(self.request())
        el = self.request("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>"
                          % (NS_SASL, plain_payload(user, password)))
        assert el.find(q(NS_SASL, "success")) is not None, ET.tostring(el)
        el = self.request(**{"xmpp__restart": "true", "xmlns:xmpp": "urn:xmpp:xbosh",
                             "to": self.domain})
        got = list(el)
        while not any(c.tag == q(NS_STREAM, "features") for c in got):
            got.extend(self.request())
        el = self.request("<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='%s'>"
                          "<resource>%s</resource></bind></iq>" % (NS_BIND, resource))
        iq = el.find(q(NS_CLIENT, "iq"))
        assert iq is not None and iq.get("type") == "result", ET.tostring(el)
        return iq.find("%s/%s" % (q(NS_BIND, "bind"), q(NS_BIND, "jid"))).text
