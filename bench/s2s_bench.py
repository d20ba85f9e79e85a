#!/usr/bin/python3
"""Federation figures for the notes: two Tern processes on loopback, both
with certificates from a throw-away CA (SASL EXTERNAL).

    bench/s2s_bench.py throughput [--pairs 4] [--messages 20000]
        chat messages/s from users of one.example to users of two.example
        over the one s2s link between them (senders and receivers are raw
        TLS clients; a receiver counts </message> in what it reads).
    bench/s2s_bench.py idle-links [--links 200]
        opens that many links (one user of two.example writes to
        x@dN.one.example, N = 1..links; one.example's certificate covers
        *.one.example) and reports each server's RSS growth per s2s stream
        once they are idle.

TERN_BIN points at the binary (default build/tern).
"""

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
import conftest  # noqa: E402
from conftest import RawClient, TernServer, free_port  # noqa: E402
from test_s2s_interop import issued_by, make_test_ca, openssl  # noqa: E402

PW = "secret"


def rss_kib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wildcard_cert(ca, directory, domain):
    ca_cert, ca_key = ca
    key, csr, cert = (directory / ("wild.%s.%s" % (domain, e)) for e in ("key", "csr", "crt"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=%s" % domain, "-keyout", str(key), "-out", str(csr), cwd=directory)
    ext = directory / "wild.ext"
    ext.write_text("subjectAltName=DNS:%s,DNS:*.%s\nextendedKeyUsage=serverAuth,clientAuth\n"
                   % (domain, domain))
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "30", "-extfile", str(ext), "-out", str(cert),
            cwd=directory)
    return cert, key


def two_terns(work, one_domains, one_cert, two_cert, ca):
    ports = {"one": free_port(), "two": free_port()}
    routes_to_one = ["%s=127.0.0.1:%d" % (d, ports["one"]) for d in one_domains]
    common_limits = {"stanza_rate": 1000000, "stanza_burst": 10000000}
    one = TernServer(work / "one", {
        "server": {"domains": one_domains, "log_level": "warn"},
        "listen": {"s2s": ["127.0.0.1:%d" % ports["one"]]},
        "tls": {"cert": str(one_cert[0]), "key": str(one_cert[1])},
        "s2s": {"hosts": ["two.example=127.0.0.1:%d" % ports["two"]], "ca_file": str(ca[0]),
                "max_queued_stanzas": 1000000,
                "max_bytes_per_second": int(os.environ.get("S2S_MAX_BPS", "0"))},
        "limits": common_limits}, domain=one_domains[0])
    one.config_path.write_text(one.config_path.read_text().replace(
        'domains = ["%s"]' % one_domains[0], "domains = [%s]" % ", ".join('"%s"' % d for d in one_domains)))
    two = TernServer(work / "two", {
        "server": {"log_level": "warn"},
        "listen": {"s2s": ["127.0.0.1:%d" % ports["two"]]},
        "tls": {"cert": str(two_cert[0]), "key": str(two_cert[1])},
        "s2s": {"hosts": routes_to_one, "ca_file": str(ca[0]), "max_queued_stanzas": 1000000,
                "max_bytes_per_second": int(os.environ.get("S2S_MAX_BPS", "0"))},
        "limits": common_limits}, domain="two.example")
    return one, two


def login(server, user):
    c = RawClient(server.c2s_port, domain=server.domain, timeout=20)
    c.login(user, PW, resource="r", mech="PLAIN", presence=True)
    return c


class Counter(threading.Thread):
    def __init__(self, client):
        super().__init__(daemon=True)
        self.sock = client.sock
        self.count = 0
        self.stop = False

    def run(self):
        self.sock.settimeout(0.5)
        tail = b""
        while not self.stop:
            try:
                data = self.sock.recv(1 << 16)
            except Exception:  # noqa: BLE001 — timeouts while idle
                continue
            if not data:
                return
            data = tail + data
            self.count += data.count(b"</message>")
            # A tag cut by the read is counted with the next one (9 < 10 bytes).
            tail = data[-9:]


def throughput(args):
    with tempfile.TemporaryDirectory(prefix="tern-s2s-bench-") as tmp:
        work = Path(tmp)
        ca = make_test_ca(work)
        one, two = two_terns(work, ["one.example"], issued_by(ca, work, "one.example"),
                             issued_by(ca, work, "two.example"), ca)
        one.start()
        two.start()
        try:
            for i in range(args.pairs):
                one.add_user("s%d" % i, PW)
                two.add_user("r%d" % i, PW)
            senders = [login(one, "s%d" % i) for i in range(args.pairs)]
            receivers = [login(two, "r%d" % i) for i in range(args.pairs)]
            # The link, set up once.
            senders[0].message("r0@two.example/r", "warm up")
            receivers[0].wait_message("warm up", timeout=20)
            counters = [Counter(r) for r in receivers]
            for c in counters:
                c.start()
            batch = 500
            total = args.pairs * args.messages
            cpu_before = {s.proc.pid: os.times() for s in (one, two)}
            started = time.monotonic()

            def blast(i, s):
                stanza = ("<message to='r%d@two.example/r' type='chat'><body>%s</body></message>"
                          % (i, "x" * 40)).encode()
                for _ in range(args.messages // batch):
                    s.sock.sendall(stanza * batch)

            threads = [threading.Thread(target=blast, args=(i, s)) for i, s in enumerate(senders)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            deadline = time.monotonic() + 120
            while sum(c.count for c in counters) < total and time.monotonic() < deadline:
                time.sleep(0.05)
            took = time.monotonic() - started
            got = sum(c.count for c in counters)
            for c in counters:
                c.stop = True
            del cpu_before
            print("s2s throughput: %d of %d messages in %.2fs = %.0f msg/s (%d pairs, one link)"
                  % (got, total, took, got / took, args.pairs))
            print(two.cli("status").stdout.strip()[:400])
        finally:
            one.stop()
            two.stop()


def idle_links(args):
    with tempfile.TemporaryDirectory(prefix="tern-s2s-bench-") as tmp:
        work = Path(tmp)
        ca = make_test_ca(work)
        domains = ["one.example"] + ["d%d.one.example" % i for i in range(1, args.links + 1)]
        one, two = two_terns(work, domains, wildcard_cert(ca, work, "one.example"),
                             issued_by(ca, work, "two.example"), ca)
        one.start()
        two.start()
        try:
            two.add_user("w", PW)
            writer = login(two, "w")
            writer.sync()
            time.sleep(2)
            before = {"one": rss_kib(one.proc.pid), "two": rss_kib(two.proc.pid)}
            errors = 0
            deadline = time.monotonic() + 120
            if args.one_way:
                # A headline to a missing account is dropped without a reply:
                # links only from two.example to one.example.
                for i in range(1, args.links + 1):
                    writer.send("<message to='x@d%d.one.example' type='headline'><body>hi</body>"
                                "</message>" % i)
                while time.monotonic() < deadline:
                    st = one.cli("status").stdout
                    if int(re.search(r"s2s streams (\d+)", st).group(1)) >= args.links:
                        break
                    time.sleep(0.5)
            else:
                for i in range(1, args.links + 1):
                    writer.message("x@d%d.one.example" % i, "hello")
                # Each message to a missing account comes back as an error
                # over the reverse link: wait for them all.
                while errors < args.links and time.monotonic() < deadline:
                    el = writer.maybe_element(1)
                    if el is not None and el.get("type") == "error":
                        errors += 1
            time.sleep(3)
            after = {"one": rss_kib(one.proc.pid), "two": rss_kib(two.proc.pid)}
            status = two.cli("status").stdout
            streams = int(re.search(r"s2s streams (\d+)", status).group(1))
            status_one = one.cli("status").stdout
            streams_one = int(re.search(r"s2s streams (\d+)", status_one).group(1))
            print("links asked: %d; errors back: %d; s2s streams: two.example %d, one.example %d"
                  % (args.links, errors, streams, streams_one))
            for name, n in (("one", streams_one), ("two", streams)):
                grow = after[name] - before[name]
                print("%s: RSS %d -> %d KiB, +%d KiB for %d streams = %.1f KiB per stream"
                      % (name, before[name], after[name], grow, n, grow / max(n, 1)))
        finally:
            one.stop()
            two.stop()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--pairs", type=int, default=4)
    t.add_argument("--messages", type=int, default=20000)
    i = sub.add_parser("idle-links")
    i.add_argument("--links", type=int, default=200)
    i.add_argument("--one-way", action="store_true",
                   help="headlines (no replies): outgoing links on two.example only")
    args = p.parse_args()
    conftest.TERN_BIN = os.environ.get("TERN_BIN", conftest.TERN_BIN)
    {"throughput": throughput, "idle-links": idle_links}[args.cmd](args)


if __name__ == "__main__":
    main()
