"""Smoke run of tern-bench against a real server, so the load generator keeps
working: a short hold, login, chat, paced chat, reconnect storm and MUC run,
and hold and chat over WebSocket (RFC 7395), each checked through its JSON
line.
No timing is asserted; only that everything connected and nothing was lost.
"""

import json
import os
import subprocess

import pytest

from conftest import BENCH_BIN, REPO, TERN_BIN, free_port

PROVISION = REPO / "bench" / "tern-bench" / "provision.sh"
PASSWORD = "bench-pw"
USERS = 20


def run_bench(server, scenario, *args, timeout=25, port=None):
    cmd = [BENCH_BIN, scenario, "--port", str(port or server.c2s_port), "--domain", server.domain,
           "--user-pattern", "smoke{}", "--password", PASSWORD, "--max-seconds", "20",
           "--quiet", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in res.stdout.splitlines() if l.startswith("JSON ")]
    assert lines, "no JSON line from %s (exit %d)\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(cmd), res.returncode, res.stdout, res.stderr)
    report = json.loads(lines[-1][len("JSON "):])
    report["_output"] = res.stdout + res.stderr
    return report


@pytest.fixture(scope="module")
def bench_server(tmp_path_factory):
    if not os.access(BENCH_BIN, os.X_OK):
        pytest.skip("tern-bench not built: %s" % BENCH_BIN)
    from conftest import TernServer
    http_port = free_port()
    server = TernServer(tmp_path_factory.mktemp("tern-bench"), {
        "listen": {"http": ["127.0.0.1:%d" % http_port]},
        "limits": {"connections_per_ip_per_minute": 1000000,
                   "stanza_rate": 100000, "stanza_burst": 1000000},
    })
    server.http_port = http_port
    server.start()
    res = subprocess.run(["sh", str(PROVISION), "-c", str(server.config_path), "-n", str(USERS),
                          "-d", server.domain, "-u", "smoke{}", "-p", PASSWORD,
                          "-t", TERN_BIN], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, "provision.sh failed:\n%s\n%s" % (res.stdout, res.stderr)
    yield server
    server.stop_and_check()


def test_hold_connects_every_session(bench_server):
    r = run_bench(bench_server, "hold", "--sessions", str(USERS), "--hold-seconds", "1",
                  "--server-pid", str(bench_server.proc.pid))
    assert r["online"] == USERS, r["_output"]
    assert r["failed"] == 0 and r["dropped"] == 0, r["_output"]
    assert r["tls"] == "starttls"
    assert r["server_rss_after_kib"] > 0
    assert r["generator_cpu_seconds"] >= 0


def test_hold_checkpoints_sample_rss_at_each_size(bench_server):
    r = run_bench(bench_server, "hold", "--checkpoints", "5,%d" % USERS, "--settle-seconds", "0.2",
                  "--hold-seconds", "0", "--server-pid", str(bench_server.proc.pid))
    assert r["sessions"] == USERS and r["online"] == USERS, r["_output"]
    cps = r["checkpoints"]
    assert [cp["sessions"] for cp in cps] == [5, USERS], r["_output"]
    assert [cp["online"] for cp in cps] == [5, USERS], r["_output"]
    assert all(cp["server_rss_kib"] > 0 for cp in cps), r["_output"]
    assert cps[-1]["server_rss_kib"] == r["server_rss_online_kib"]


def test_login_loops_without_failures(bench_server):
    r = run_bench(bench_server, "login", "--concurrency", "4", "--users", "8",
                  "--duration", "2", "--mech", "SCRAM-SHA-1")
    assert r["logins"] > 0, r["_output"]
    assert r["failed"] == 0, r["_output"]


def test_chat_delivers_everything(bench_server):
    r = run_bench(bench_server, "chat", "--pairs", "10", "--duration", "2", "--window", "5")
    assert r["pairs_ready"] == 10, r["_output"]
    assert r["failed"] == 0, r["_output"]
    assert r["received"] > 0 and r["delivered_per_second"] > 0, r["_output"]
    assert r["lost"] == 0 and r["errors"] == 0, r["_output"]
    assert r["latency_p50_us"] > 0


def test_paced_chat_sends_the_offered_rate(bench_server):
    # 200 msgs/s for 2 s: the pacer wakes once per message due, so about 400
    # are sent (not a burst per millisecond tick, not fewer).
    r = run_bench(bench_server, "chat", "--pairs", "5", "--duration", "2", "--rate", "200",
                  "--server-pid", str(bench_server.proc.pid))
    assert r["mode"] == "rate" and r["offered_rate"] == 200
    assert 360 <= r["sent"] <= 420, r["_output"]
    assert r["lost"] == 0 and r["errors"] == 0, r["_output"]
    assert 180 <= r["delivered_per_second"] <= 220, r["_output"]
    assert r["latency_p99_us"] > 0 and r["server_cpu_us_per_message"] > 0


def test_reconnect_storm_brings_every_client_back(bench_server):
    r = run_bench(bench_server, "reconnect", "--sessions", "12", "--settle-seconds", "0.3",
                  "--server-pid", str(bench_server.proc.pid))
    assert r["online_before"] == 12 and r["failed_before"] == 0, r["_output"]
    assert r["cut"] == 12, r["_output"]
    assert r["reconnected"] == 12 and r["reconnect_failed"] == 0, r["_output"]
    # The cut is ours: the old sessions' ends are not counted as drops.
    assert r["dropped"] == 0, r["_output"]
    assert 0 < r["back_p50_us"] <= r["back_max_us"], r["_output"]
    assert r["all_back_seconds"] * 1e6 >= r["back_max_us"] * 0.99, r["_output"]
    assert r["tls_resume"] == "no" and r["tls_resumed"] == 0


def test_reconnect_storm_resumes_tls_sessions(bench_server):
    r = run_bench(bench_server, "reconnect", "--sessions", "8", "--settle-seconds", "0.3",
                  "--tls-resume")
    assert r["reconnected"] == 8 and r["reconnect_failed"] == 0, r["_output"]
    assert r["tls_resume"] == "yes"
    # Tern issues TLS 1.3 tickets: every reconnect resumes.
    assert r["tls_resumed"] == 8, r["_output"]


def test_muc_rooms_are_created_joined_and_deliver(bench_server):
    # 2 rooms of 4: the first occupant creates and unlocks each room, the
    # others join; every groupchat message reaches all 4 occupants.
    r = run_bench(bench_server, "muc", "--rooms", "2", "--occupants", "4", "--rate", "50",
                  "--duration", "2", "--first-user", "10",
                  "--server-pid", str(bench_server.proc.pid))
    assert r["online"] == 8 and r["failed"] == 0, r["_output"]
    assert r["rooms_ready"] == 2, r["_output"]
    assert r["joined"] == 8 and r["join_errors"] == 0, r["_output"]
    assert r["sent"] > 50, r["_output"]
    assert r["expected_deliveries"] == r["sent"] * 4
    assert r["delivered_after_drain"] == r["expected_deliveries"], r["_output"]
    assert r["errors"] == 0, r["_output"]
    assert r["latency_p50_us"] > 0 and r["server_cpu_us_per_delivery"] > 0


# --- WebSocket (RFC 7395 over plain ws:// on loopback, which Tern trusts) ---

def run_ws(server, scenario, *args):
    return run_bench(server, scenario, "--transport", "ws", *args, port=server.http_port)


def test_ws_hold_connects_every_session(bench_server):
    # The HTTP port speaks no XMPP on TCP: online sessions came through the
    # Upgrade, SCRAM, the <open/> restart and bind over WebSocket.
    r = run_ws(bench_server, "hold", "--sessions", str(USERS), "--hold-seconds", "1",
               "--server-pid", str(bench_server.proc.pid))
    assert r["transport"] == "ws" and r["tls"] == "plain"
    assert r["online"] == USERS, r["_output"]
    assert r["failed"] == 0 and r["dropped"] == 0, r["_output"]
    assert r["server_rss_after_kib"] > 0


def test_ws_chat_delivers_an_exact_count(bench_server):
    # 100 messages paced at 200/s between 5 pairs: every one arrives, each a
    # text frame of its own, and none comes back as an error.
    r = run_ws(bench_server, "chat", "--pairs", "5", "--rate", "200", "--count", "100",
               "--duration", "5")
    assert r["pairs_ready"] == 5 and r["failed"] == 0, r["_output"]
    assert r["sent"] == 100, r["_output"]
    assert r["received"] == 100, r["_output"]
    assert r["lost"] == 0 and r["errors"] == 0 and r["dropped"] == 0, r["_output"]
    assert r["latency_p50_us"] > 0


def test_ws_saturated_chat_delivers_everything(bench_server):
    r = run_ws(bench_server, "chat", "--pairs", "4", "--duration", "1", "--window", "5")
    assert r["pairs_ready"] == 4 and r["failed"] == 0, r["_output"]
    assert r["received"] == r["sent"] > 0, r["_output"]
    assert r["lost"] == 0 and r["errors"] == 0 and r["dropped"] == 0, r["_output"]


def test_ws_refused_upgrade_is_a_counted_failure(bench_server):
    # No WebSocket endpoint at this path: the handshake must fail, not hang.
    r = run_ws(bench_server, "hold", "--sessions", "2", "--hold-seconds", "0",
               "--ws-path", "/no-such-endpoint")
    assert r["online"] == 0 and r["failed"] == 2, r["_output"]
    assert "websocket: HTTP/1.1 404" in r["_output"], r["_output"]
