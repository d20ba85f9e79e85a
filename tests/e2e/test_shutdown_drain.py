"""`tern serve` stops cleanly under load: SIGTERM with many open sessions and
offline messages still queued for storage ends the process with status 0
within server.shutdown_timeout_seconds, and nothing the server accepted is
lost: every session's last-activity record is written, and every offline
message it took from the sender is stored and handed out at the next start.

Regression: the process used to hang after logging "stopped" (a storage job
still queued in the blocking pool was destroyed after the shard loops it
pointed to), and queued writes were dropped. To have writes queued for
sure, the test holds the database's write lock for a while from SIGTERM on,
as a concurrent `tern user add` or a backup would: the server must wait
for it, not give up.
"""

import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import (BENCH_BIN, NS_CLIENT, RawClient, TernServer, q)
from gen_pie import generate

PASSWORD = "drain-pw"
SESSIONS = 1500        # idle bench sessions open at SIGTERM, one account each
RECIPIENTS = 50        # offline accounts the sender writes to
ACKED = 3000           # messages sent and confirmed (a ping answered after them)
UNACKED = 2000         # messages still being sent when SIGTERM arrives
SHUTDOWN_TIMEOUT = 20  # server.shutdown_timeout_seconds
LOCK_SECONDS = 3.5     # how long the write lock is held (under SQLite's 5 s busy timeout)
MARGIN = 5             # seconds allowed beyond the bound (process exit, slow machine)


def provision(server, tmp_path):
    """Bench accounts bench0.., recipients rcpt0.., and the sender, by import."""
    for prefix, count in (("bench", SESSIONS), ("rcpt", RECIPIENTS), ("sender", 1)):
        pie = tmp_path / ("%s.xml" % prefix)
        generate(str(pie), count, 0, domain=server.domain, prefix=prefix, password=PASSWORD)
        server.cli("import", str(pie), timeout=120)


def bound_sessions(server):
    res = server.cli("status", check=False)
    for part in res.stdout.split(";"):
        part = part.strip()
        if part.startswith("bound sessions "):
            return int(part.split()[-1])
    return -1


def wait_for_sessions(server, bench, count, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bench.poll() is not None:
            pytest.fail("tern-bench exited early:\n%s" % bench.stdout.read())
        if bound_sessions(server) >= count:
            return
        time.sleep(0.2)  # polling a status, not synchronising on it
    pytest.fail("only %d of %d sessions bound" % (bound_sessions(server), count))


def body_of(stanza_xml):
    start = stanza_xml.find("<body>")
    return stanza_xml[start + 6:stanza_xml.find("</body>")] if start >= 0 else None


def stored_bodies(db_path):
    """recipient localpart -> bodies of its stored offline messages, in order."""
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute("SELECT owner_user, stanza FROM offline ORDER BY seq").fetchall()
    out = {}
    for user, stanza in rows:
        out.setdefault(user, []).append(body_of(stanza))
    return out


def last_activity_owners(db_path):
    with sqlite3.connect(str(db_path)) as db:
        rows = db.execute("SELECT owner_user FROM documents WHERE key = 'last'").fetchall()
    return {r[0] for r in rows}


def hold_write_lock(db_path, seconds):
    """Takes SQLite's write lock now and releases it `seconds` later."""
    db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    release = threading.Timer(seconds, lambda: (db.rollback(), db.close()))
    release.start()
    return release


def sent_plan():
    """Message i goes to rcpt(i % RECIPIENTS) with body m<i>."""
    return [("rcpt%d" % (i % RECIPIENTS), "m%d" % i) for i in range(ACKED + UNACKED)]


def send_batch(client, domain, plan):
    data = "".join("<message to='%s@%s' type='chat'><body>%s</body></message>"
                   % (user, domain, body) for user, body in plan)
    client.send(data)


def test_sigterm_drains_queued_storage_writes_and_exits(tmp_path):
    if not os.access(BENCH_BIN, os.X_OK):
        pytest.skip("tern-bench not built: %s" % BENCH_BIN)
    server = TernServer(tmp_path / "server", {
        "server": {"shutdown_timeout_seconds": SHUTDOWN_TIMEOUT},
        "limits": {"connections_per_ip_per_minute": 1000000,
                   "stanza_rate": 1000000, "stanza_burst": 10000000},
        "modules.offline": {"max_messages": 100000},
    })
    provision(server, tmp_path)
    server.start()
    bench = subprocess.Popen(
        [BENCH_BIN, "hold", "--port", str(server.c2s_port), "--domain", server.domain,
         "--user-pattern", "bench{}", "--password", PASSWORD, "--sessions", str(SESSIONS),
         "--hold-seconds", "300", "--max-seconds", "400", "--quiet", "--sources", "4",
         "--mech", "SCRAM-SHA-1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_sessions(server, bench, SESSIONS)
        sender = RawClient(server.c2s_port, domain=server.domain, timeout=30)
        sender.login("sender0", PASSWORD, resource="s")
        plan = sent_plan()
        send_batch(sender, server.domain, plan[:ACKED])
        pong = sender.ping(timeout=30)
        assert pong.get("type") == "result", pong
        # The rest goes out while the server is told to stop: some of it is
        # read before the streams close, some is not.
        send_batch(sender, server.domain, plan[ACKED:])
        lock = hold_write_lock(server.data_dir / "tern.db", LOCK_SECONDS)
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            code = server.proc.wait(SHUTDOWN_TIMEOUT + MARGIN)
        except subprocess.TimeoutExpired:
            server.stop(signal.SIGKILL)
            pytest.fail("tern still running %ds after SIGTERM\n%s"
                        % (SHUTDOWN_TIMEOUT + MARGIN, server.log()[-4000:]))
        elapsed = time.monotonic() - t0
        lock.join()
        server.stop()
        sender.close()
    finally:
        bench.kill()
        bench.wait()
    assert code == 0, server.log()[-4000:]
    assert elapsed < SHUTDOWN_TIMEOUT + MARGIN
    assert "storage writes not finished" not in server.log(), server.log()[-4000:]

    db = server.data_dir / "tern.db"
    # Every session's logout was recorded (XEP-0012).
    owners = last_activity_owners(db)
    missing = [i for i in range(SESSIONS) if "bench%d" % i not in owners]
    assert not missing, "no last activity for %d accounts, e.g. bench%d" % (
        len(missing), missing[0])

    # Offline messages: the server reads one stream in order, so what it
    # accepted is a prefix of what was sent; per recipient, what is stored
    # must be that prefix with no gap, and include every acknowledged one.
    stored = stored_bodies(db)
    by_recipient = {}
    for user, body in plan:
        by_recipient.setdefault(user, []).append(body)
    acked = {}
    for user, body in plan[:ACKED]:
        acked[user] = acked.get(user, 0) + 1
    for user, sent in by_recipient.items():
        got = stored.get(user, [])
        assert got == sent[:len(got)], "%s: stored %s..., sent %s..." % (user, got[:5], sent[:5])
        assert len(got) >= acked[user], "%s: %d stored, %d acknowledged" % (
            user, len(got), acked[user])

    # And the next start hands them out.
    server.start()
    try:
        for i in (0, RECIPIENTS // 2, RECIPIENTS - 1):
            user = "rcpt%d" % i
            c = RawClient(server.c2s_port, domain=server.domain, timeout=15)
            c.login(user, PASSWORD, presence=True)
            bodies = []
            while len(bodies) < len(stored[user]):
                el = c.wait_for(lambda e: e.tag == q(NS_CLIENT, "message"), what="offline message")
                bodies.append(el.findtext(q(NS_CLIENT, "body")))
            assert bodies == stored[user]
            c.close()
    finally:
        assert server.stop() == 0
