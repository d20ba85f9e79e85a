"""The per-address connection limit (limits.connections_per_ip_*): a token
bucket with a burst, loopback exempt by default.

Regression: with the old default of 300 connections per address per minute,
an acceptance suite run from one address had connections refused mid-run;
an office behind one NAT address would have too.
"""
import socket
import time
import xml.etree.ElementTree as ET

from conftest import NS_STREAM, q

REFUSAL_LOG = "refusing connections from 127.0.0.1"


def header_received(client):
    """Opens a stream; True when the server answered with its header."""
    client.open_stream()
    try:
        header = client.read_header(timeout=10)
    except AssertionError:
        return False
    return client.header_tag == q(NS_STREAM, "stream") and header.get("from") == client.domain


def read_stream_header(sock, deadline):
    """The attributes of the server's stream header on `sock`, or None when
    the connection closes (or the deadline passes) before one arrives."""
    parser = ET.XMLPullParser(events=("start",))
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(4096)
        except (socket.timeout, ConnectionResetError):
            return None
        if not data:
            return None
        parser.feed(data)
        for _, element in parser.read_events():
            return element.tag, dict(element.attrib)
    return None


def test_500_connections_from_loopback_in_one_second_are_all_accepted(tern_factory):
    server = tern_factory()  # default limits
    socks = []
    try:
        # Plain sockets, so that the client's own speed is not what is measured.
        started = time.monotonic()
        for _ in range(500):
            socks.append(socket.create_connection(("127.0.0.1", server.c2s_port), timeout=10))
        connect_seconds = time.monotonic() - started
        assert connect_seconds < 1.0, "the client took %.2fs to connect 500 times" % connect_seconds
        # Every one of them gets a stream header back (none was closed at accept).
        header = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='%s' to='%s' version='1.0'>" % (NS_STREAM, server.domain)).encode()
        for s in socks:
            s.sendall(header)
        deadline = time.monotonic() + 30
        for i, s in enumerate(socks):
            got = read_stream_header(s, deadline)
            assert got is not None, "connection %d got no stream header" % i
            tag, attrs = got
            assert tag == q(NS_STREAM, "stream"), (i, tag)
            assert attrs.get("from") == server.domain and attrs.get("id"), (i, attrs)
        assert "refusing connections" not in server.log()
    finally:
        for s in socks:
            s.close()


def test_burst_from_a_limited_address_is_cut_and_a_refill_lets_it_in(tern_factory):
    # Loopback limited like any address: 3 at once, then one every 3 s.
    server = tern_factory({"limits": {"connections_exempt_loopback": False,
                                      "connections_per_ip_per_minute": 20,
                                      "connections_per_ip_burst": 3}})
    kept = []
    try:
        burst_started = time.monotonic()
        for _ in range(3):
            c = server.raw()
            assert header_received(c), c.dump()
            kept.append(c)
        # The burst is spent: the next ones are closed at accept, unanswered.
        for _ in range(3):
            refused = server.raw()
            refused.open_stream()
            assert refused.wait_closed(timeout=5), refused.dump()
            assert refused.header is None, refused.dump()
            refused.sock.close()
        # A token comes back 3 s after the burst: try until one is let in.
        accepted_at = None
        while time.monotonic() - burst_started < 15:
            c = server.raw()
            if header_received(c):
                accepted_at = time.monotonic()
                kept.append(c)
                break
            c.sock.close()
            time.sleep(0.1)  # pacing of the retries, not a synchronisation
        assert accepted_at is not None, "no connection accepted after the refill"
        assert accepted_at - burst_started >= 2.9, "accepted before a token could have refilled"
        # Only the first refusal of the address was logged.
        assert server.log().count(REFUSAL_LOG) == 1, server.log()[-3000:]
    finally:
        for c in kept:
            c.sock.close()
