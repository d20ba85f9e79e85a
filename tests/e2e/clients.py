"""Client helpers for the e2e tests: raw accounts and archive queries
(XEP-0313, for accounts and rooms alike), and slixmpp (asyncio) wrapped so that a
test can connect, log in with one chosen SASL mechanism, and await messages.

slixmpp objects must be created inside a running event loop (they create
futures in __init__), so everything here is async and tests call run().
"""

import asyncio
import logging
import ssl

import conftest  # noqa: F401  (makes Debian's dist-packages importable)
import slixmpp
from conftest import NS_CLIENT, q, stanza_error, xml

log = logging.getLogger("e2e.clients")


def run(coro, timeout=30):
    """Runs one test scenario in a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class LoginFailed(AssertionError):
    pass


class SlixClient(slixmpp.ClientXMPP):
    """A slixmpp client that trusts the test server's self-signed certificate,
    resolves nothing (connects to 127.0.0.1:port), and records what it gets.

    mech: restrict SASL to exactly this mechanism (feature_mechanisms
    use_mech). channel_binding=False withholds the TLS channel binding from
    SASL: slixmpp 1.8 only knows 'tls-unique' and, when it has binding data
    but uses a non-PLUS mechanism, sends the 'y' GS2 flag, which a server
    that offers -PLUS must reject (RFC 5802 §6). Tests of plain SCRAM want
    the 'n' flag, as a client without binding support sends.
    """

    def __init__(self, jid, password, mech=None, channel_binding=False, presence=True):
        super().__init__(jid, password, sasl_mech=mech)
        self.use_ipv6 = False
        self.whitespace_keepalive = False
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.messages = asyncio.Queue()
        # Each message as received: the same one twice is a duplicate
        # delivery, which next_message reports.
        self.messages_seen = set()
        self.duplicates = []
        self.stream_errors = []
        self.auth_failures = []
        self.send_initial_presence = presence
        self.ready = asyncio.get_running_loop().create_future()
        self.register_plugin("xep_0199")  # ping
        if not channel_binding:
            mechs = self["feature_mechanisms"]
            original = mechs.sasl_callback

            def without_binding(required, optional):
                creds = original(required, optional)
                creds.pop("channel_binding", None)
                return creds

            mechs.sasl_callback = without_binding
        self.add_event_handler("session_start", self._on_session_start)
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("failed_auth", self._on_failed_auth)
        self.add_event_handler("failed_all_auth", self._on_failed_all_auth)
        self.add_event_handler("no_auth", self._on_failed_all_auth)
        self.add_event_handler("stream_error", self._on_stream_error)
        self.add_event_handler("disconnected", self._on_disconnected)
        self.add_event_handler("connection_failed", self._on_connection_failed)

    def _settle(self, exc=None):
        if not self.ready.done():
            if exc is None:
                self.ready.set_result(True)
            else:
                self.ready.set_exception(exc)

    async def _on_session_start(self, _event):
        if self.send_initial_presence:
            self.send_presence()
        self._settle()

    def _on_message(self, msg):
        key = str(msg)
        if key in self.messages_seen:
            self.duplicates.append(key)
        self.messages_seen.add(key)
        self.messages.put_nowait(msg)

    def _on_failed_auth(self, stanza):
        self.auth_failures.append(str(stanza))

    def _on_failed_all_auth(self, _event=None):
        self._settle(LoginFailed("SASL failed for %s: failures %s; offered %s; wanted %s"
                                 % (self.boundjid.bare, self.auth_failures,
                                    sorted(self["feature_mechanisms"].mech_list),
                                    self["feature_mechanisms"].use_mech)))

    def _on_stream_error(self, err):
        self.stream_errors.append(str(err))
        self._settle(LoginFailed("stream error: %s" % err))

    def _on_disconnected(self, reason):
        self._settle(LoginFailed("disconnected before session start: %s (auth failures %s)"
                                 % (reason, self.auth_failures)))

    def _on_connection_failed(self, err):
        self._settle(LoginFailed("connection failed: %s" % (err,)))

    @property
    def tls_object(self):
        if self.transport is None:
            return None
        return self.transport.get_extra_info("ssl_object")

    @property
    def mechanism(self):
        mech = self["feature_mechanisms"].mech
        return mech.name if mech else None

    async def next_message(self, timeout=5.0, body=None):
        """The next received <message/> (with that body, if given)."""
        async def get():
            while True:
                msg = await self.messages.get()
                if self.duplicates:
                    raise AssertionError("%s got the same message twice: %s"
                                         % (self.boundjid, self.duplicates[0]))
                if body is None or msg["body"] == body:
                    return msg
        return await asyncio.wait_for(get(), timeout)

    def drop(self):
        """Closes the connection without a goodbye, if there is one."""
        self.cancel_connection_attempt()
        if self.transport is not None:
            try:
                self.abort()
            except AttributeError:  # asyncio's SSL transport already torn down
                pass

    async def close(self):
        if self.transport is not None:
            try:
                await asyncio.wait_for(self.disconnect(wait=1.0), 5)
            except (asyncio.TimeoutError, Exception):
                self.abort()


async def slix_login(jid, password, port, mech=None, direct_tls=False, timeout=10.0,
                     channel_binding=False, presence=True):
    """Connects and logs in; returns the client once its session started."""
    client = SlixClient(jid, password, mech=mech, channel_binding=channel_binding,
                        presence=presence)
    # With an address given slixmpp still "resolves" the JID's domain and
    # takes the port from default_port, so both must point at the server.
    client.default_port = port
    client.connect(("127.0.0.1", port), use_ssl=direct_tls)
    try:
        await asyncio.wait_for(asyncio.shield(client.ready), timeout)
    except asyncio.TimeoutError:
        client.drop()
        raise LoginFailed("no session for %s within %.0fs (auth failures %s)"
                          % (jid, timeout, client.auth_failures))
    except LoginFailed:
        client.drop()
        raise
    return client


# --------------------------------------------------------------------------
# Raw clients on accounts made on demand, and XEP-0313 archive queries
# (test_mam.py, test_muc_mam.py, test_muc_extras.py)
# --------------------------------------------------------------------------

NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SID = "urn:xmpp:sid:0"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
ID_CHARS = set("0123456789abcdefghjkmnpqrstvwxyz")


def account_client(server, name, password, resource="r"):
    """A logged-in RawClient of name@localhost, made with `password` the
    first time this server sees the name."""
    added = server.__dict__.setdefault("_added_accounts", set())
    if name not in added:
        server.add_user("%s@localhost" % name, password)
        added.add(name)
    c = server.raw(timeout=10.0)
    c.login(name, password, resource=resource)
    return c


def form(**fields):
    out = ["<x xmlns='jabber:x:data' type='submit'>",
           "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" % NS_MAM]
    for var, value in fields.items():
        var = var.replace("_", "-")
        values = value if isinstance(value, list) else [value]
        out.append("<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % v for v in values)))
    out.append("</x>")
    return "".join(out)


def rsm(max_=None, after=None, before=None):
    parts = []
    if max_ is not None:
        parts.append("<max>%d</max>" % max_)
    if after is not None:
        parts.append("<after>%s</after>" % after)
    if before is not None:
        parts.append("<before>%s</before>" % before if before else "<before/>")
    return "<set xmlns='%s'>%s</set>" % (NS_RSM, "".join(parts))


class Page:
    def __init__(self, results, iq):
        self.results = results  # [(archive id, forwarded <message/>, stamp)]
        self.iq = iq
        fin = iq.find(q(NS_MAM, "fin"))
        self.fin = fin
        self.complete = fin is not None and fin.get("complete") == "true"
        s = fin.find(q(NS_RSM, "set")) if fin is not None else None
        self.first = s.findtext(q(NS_RSM, "first")) if s is not None else None
        self.last = s.findtext(q(NS_RSM, "last")) if s is not None else None
        count = s.findtext(q(NS_RSM, "count")) if s is not None else None
        self.count = int(count) if count is not None else None

    @property
    def ids(self):
        return [r[0] for r in self.results]

    @property
    def bodies(self):
        return [r[1].findtext(q(NS_CLIENT, "body")) for r in self.results]


_qids = iter(range(1, 10 ** 9))


def query(client, payload="", to=None, expect_error=None, timeout=10.0):
    """Sends a MAM query; returns a Page (results in arrival order) or, with
    expect_error, the error condition's local name."""
    qid = "q%d" % next(_qids)
    iq_id = "mam-" + qid
    to_attr = " to='%s'" % to if to else ""
    client.send("<iq type='set' id='%s'%s><query xmlns='%s' queryid='%s'>%s</query></iq>"
                % (iq_id, to_attr, NS_MAM, qid, payload))
    results = []
    while True:
        el = client.next_element(timeout)
        if el.tag == q(NS_CLIENT, "iq") and el.get("id") == iq_id:
            break
        result = el.find(q(NS_MAM, "result"))
        if el.tag != q(NS_CLIENT, "message") or result is None:
            continue  # other traffic
        assert result.get("queryid") == qid, xml(el)
        assert el.get("to") == client.jid, xml(el)
        forwarded = result.find(q(NS_FORWARD, "forwarded"))
        assert forwarded is not None, xml(el)
        delay = forwarded.find(q(NS_DELAY, "delay"))
        assert delay is not None and delay.get("stamp", "").endswith("Z"), xml(el)
        inner = forwarded.find(q(NS_CLIENT, "message"))
        assert inner is not None, xml(el)
        rid = result.get("id")
        assert rid and set(rid) <= ID_CHARS, xml(el)
        results.append((rid, inner, delay.get("stamp")))
    if expect_error:
        assert el.get("type") == "error", xml(el)
        _, conds = stanza_error(el)
        return [c.split("}")[1] for c in conds]
    assert el.get("type") == "result", xml(el)
    return Page(results, el)


def stanza_ids(message, by):
    return [s.get("id") for s in message.findall(q(NS_SID, "stanza-id")) if s.get("by") == by]
