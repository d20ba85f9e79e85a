"""Smoke run of tern-bench against a real server, so the load generator keeps
working: a short hold, login and chat, each checked through its JSON line.
No timing is asserted; only that everything connected and nothing was lost.
"""

import json
import os
import subprocess

import pytest

from conftest import REPO, TERN_BIN

BENCH_BIN = os.path.join(os.path.dirname(TERN_BIN), "tern-bench")
PROVISION = REPO / "bench" / "tern-bench" / "provision.sh"
PASSWORD = "bench-pw"
USERS = 20


def run_bench(server, scenario, *args, timeout=25):
    cmd = [BENCH_BIN, scenario, "--port", str(server.c2s_port), "--domain", server.domain,
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
    server = TernServer(tmp_path_factory.mktemp("tern-bench"), {
        "limits": {"connections_per_ip_per_minute": 1000000,
                   "stanza_rate": 100000, "stanza_burst": 1000000},
    })
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
