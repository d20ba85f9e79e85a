"""Real-client helpers for the e2e tests: slixmpp (asyncio) wrapped so that a
test can connect, log in with one chosen SASL mechanism, and await messages.

slixmpp objects must be created inside a running event loop (they create
futures in __init__), so everything here is async and tests call run().
"""

import asyncio
import logging
import ssl

import conftest  # noqa: F401  (makes Debian's dist-packages importable)
import slixmpp

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
