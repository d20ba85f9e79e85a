#!/usr/bin/python3
"""Measure the server memory (RSS) per idle authenticated client session.

Starts `tern serve` on a free loopback port, logs in N client sessions
(optionally through STARTTLS, always SASL SCRAM-SHA-256 and resource
binding, then initial presence), keeps them idle for a few seconds and
compares the server's VmRSS before and after. Stdlib only; see
bench/README.md. With --transport bosh the sessions are BOSH sessions
(XEP-0124/0206 at /http-bind on a plain HTTP listener on loopback, which
Tern trusts with SASL): each idles as a browser's does, with one long poll
held by the server (hold=1) on its one keep-alive HTTP connection.

    python3 bench/idle_sessions.py --sessions 1000 --tls
    python3 bench/idle_sessions.py --sessions 1000 --no-tls
    python3 bench/idle_sessions.py --sessions 1000 --transport bosh
    python3 bench/idle_sessions.py --sessions 1000 --sm            # live, stream management on
    python3 bench/idle_sessions.py --sessions 1000 --hibernate     # connections dropped: hibernated
    python3 bench/idle_sessions.py --sessions 1000 --hibernate --warm-up  # without the pools a running server has
    python3 bench/idle_sessions.py --sessions 19000 --sigterm-open # time a stop with every session open
"""

import argparse
import asyncio
import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

STREAM_HEADER = (
    b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
)
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
DOMAIN = "localhost"
PASSWORD = "pw"

RE_FEATURES_END = re.compile(rb"</(?:stream:)?features>|<(?:stream:)?features[^>]*/>")
RE_PROCEED = re.compile(rb"<proceed[^>]*/>|<proceed[^>]*>\s*</proceed>")
RE_CHALLENGE = re.compile(rb"<challenge[^>]*>([^<]*)</challenge>")
RE_SUCCESS = re.compile(rb"<success[^>]*/>|<success[^>]*>([^<]*)</success>")
RE_ENABLED = re.compile(rb"<enabled[^>]*/>")
RE_IQ_B = re.compile(rb"<iq\b[^>]*\bid=['\"]b['\"][^>]*(?:/>|>.*?</iq>)", re.S)
# Anything that ends a login early; checked alongside every expected tag.
RE_FATAL = re.compile(rb"<failure\b.*?(?:/>|</failure>)|<(?:stream:)?error\b.*?</(?:stream:)?error>|</stream:stream>",
                      re.S)


class LoginError(Exception):
    pass


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, metrics_port=None):
    """VmRSS and RssAnon of `pid` in KiB, from /proc/PID/status, and with
    `metrics_port` the heap bytes in use (tern_heap_in_use_bytes), which,
    unlike the RSS, falls when memory is freed."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "Threads", "VmHWM"):
                out[k] = int(v.split()[0])
    if metrics_port:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            m = re.search(r"^tern_heap_in_use_bytes (\d+)$", r.read().decode(), re.M)
        if m:
            out["HeapInUse"] = int(m.group(1))
    return out


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def binary_usable(tern):
    """True when `tern --help` runs: the binary exists and is not half-written by a build."""
    try:
        st1 = os.stat(tern)
        ok = subprocess.run([tern, "--help"], capture_output=True, timeout=30).returncode == 0
        time.sleep(0.5)
        return ok and os.stat(tern).st_mtime_ns == st1.st_mtime_ns
    except (OSError, subprocess.SubprocessError):
        return False


def wait_for_binary(tern, attempts=40, wait=15):
    for i in range(attempts):
        if binary_usable(tern):
            return
        log(f"{tern} is missing or being rebuilt; waiting {wait}s ({i + 1}/{attempts})")
        time.sleep(wait)
    raise SystemExit(f"{tern} never became usable")


def write_config(path, workdir, port, tls, log_level="warn", http_port=None):
    http = f'["127.0.0.1:{http_port}"]' if http_port else "[]"
    text = f"""[server]
domains = ["{DOMAIN}"]
data_dir = "{workdir}/data"
log_level = "{log_level}"
[listen]
c2s = ["127.0.0.1:{port}"]
c2s_tls = []
s2s = []
http = {http}
https = []
component = []
[tls]
require_starttls = {"true" if tls else "false"}
[limits]
max_resources_per_account = 16
# all benchmark connections come from 127.0.0.1
connections_per_ip_per_minute = 1000000
"""
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------- accounts

async def create_accounts(tern, config, n, concurrency=8):
    """Adds user1..userN@localhost that `tern user list` does not show yet."""
    existing = set()
    if n:
        p = await asyncio.create_subprocess_exec(tern, "user", "list", DOMAIN, "--config", config,
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"tern user list failed ({p.returncode}): {err.decode(errors='replace')}")
        existing = set(out.decode().split())
    todo = [k for k in range(1, n + 1) if f"user{k}@{DOMAIN}" not in existing]
    sem = asyncio.Semaphore(concurrency)
    waiting = asyncio.Lock()  # one waiter for a rebuilt binary, not eight
    failures = []

    async def add(k):
        async with sem:
            for attempt in range(5):
                try:
                    p = await asyncio.create_subprocess_exec(
                        tern, "user", "add", f"user{k}@{DOMAIN}", PASSWORD, "--config", config,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    _, err = await p.communicate()
                    rc, err = p.returncode, err.decode(errors="replace").strip()
                except OSError as e:  # e.g. the binary is being relinked
                    rc, err = None, str(e)
                if rc == 0 or (rc is not None and "already exists" in err and attempt > 0):
                    return
                async with waiting:
                    await asyncio.get_running_loop().run_in_executor(None, wait_for_binary, tern)
            failures.append((k, rc, err))

    t0 = time.monotonic()
    await asyncio.gather(*(add(k) for k in todo))
    if failures:
        for k, rc, err in failures[:10]:
            log(f"tern user add user{k}: exit {rc}: {err}")
        raise SystemExit(f"{len(failures)} of {len(todo)} accounts could not be created")
    return len(todo), len(existing), time.monotonic() - t0


# ---------------------------------------------------------------- SASL

# SaltedPassword per (salt, iterations), as real clients cache it: accounts
# provisioned in bulk (roster_provision.py) share one salt, so a ramp of
# 10,000 logins measures the server, not PBKDF2 here.
SALTED = {}


class Scram:
    """SCRAM-SHA-256 without channel binding (gs2 header "n,,"), as a client."""

    def __init__(self, user):
        self.cnonce = base64.b64encode(os.urandom(18)).decode()
        self.bare = f"n={user},r={self.cnonce}"

    def auth_element(self):
        first = "n,," + self.bare
        return (f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'>"
                f"{base64.b64encode(first.encode()).decode()}</auth>").encode()

    async def response_element(self, challenge_b64, pool):
        """The <response/> to the server-first-message; PBKDF2 runs in `pool`."""
        server_first = base64.b64decode(challenge_b64).decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        nonce, salt, iters = attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
        if not nonce.startswith(self.cnonce):
            raise LoginError(f"sasl: server nonce {nonce!r} does not extend ours")
        salted = SALTED.get((salt, iters))
        if salted is None:
            salted = await asyncio.get_running_loop().run_in_executor(
                pool, hashlib.pbkdf2_hmac, "sha256", PASSWORD.encode(), salt, iters)
            SALTED[(salt, iters)] = salted
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        self.auth_message = f"{self.bare},{server_first},{without_proof}".encode()
        self.salted = salted
        signature = hmac.digest(stored_key, self.auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        final = f"{without_proof},p={base64.b64encode(proof).decode()}"
        return f"<response xmlns='{NS_SASL}'>{base64.b64encode(final.encode()).decode()}</response>".encode()

    def check_success(self, success_b64):
        server_key = hmac.digest(self.salted, b"Server Key", "sha256")
        expected_v = base64.b64encode(hmac.digest(server_key, self.auth_message, "sha256")).decode()
        server_final = base64.b64decode(success_b64 or b"").decode()
        if server_final != f"v={expected_v}":
            raise LoginError(f"sasl: bad server signature {server_final!r}")


# ---------------------------------------------------------------- client

class Client:
    def __init__(self, k, host, port, tls, ssl_ctx, pool, timeout, sm=False, hibernate=False):
        self.k = k
        self.sm, self.hibernate = sm or hibernate, hibernate
        self.host, self.port = host, port
        self.tls, self.ssl_ctx = tls, ssl_ctx
        self.pool = pool
        self.timeout = timeout
        self.buf = b""
        self.reader = self.writer = None
        self.step = "connect"
        self.closed_by_server = False
        self.drainer = None

    async def read_until(self, pattern):
        """Consumes the buffer up to the end of `pattern`'s first match."""
        deadline = time.monotonic() + self.timeout
        while True:
            m = pattern.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            bad = RE_FATAL.search(self.buf)
            if bad:
                raise LoginError(f"{self.step}: server sent {bad.group(0)[:300]!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise LoginError(f"{self.step}: timed out; have {self.buf[-300:]!r}")
            try:
                data = await asyncio.wait_for(self.reader.read(65536), left)
            except asyncio.TimeoutError:
                raise LoginError(f"{self.step}: timed out; have {self.buf[-300:]!r}") from None
            if not data:
                raise LoginError(f"{self.step}: connection closed; have {self.buf[-300:]!r}")
            self.buf += data

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def open_stream(self):
        await self.send(STREAM_HEADER)
        m = await self.read_until(RE_FEATURES_END)
        return m

    async def login(self):
        self.step = "connect"
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), self.timeout)

        self.step = "stream features"
        await self.open_stream()
        if self.tls:
            self.step = "starttls"
            await self.send(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            await self.read_until(RE_PROCEED)
            if self.buf:
                raise LoginError(f"starttls: unexpected bytes after <proceed/>: {self.buf[:200]!r}")
            self.step = "tls handshake"
            await asyncio.wait_for(self.writer.start_tls(self.ssl_ctx, server_hostname=DOMAIN), self.timeout)
            self.step = "stream features after tls"
            await self.open_stream()

        self.step = "sasl auth"
        scram = Scram(f"user{self.k}")
        await self.send(scram.auth_element())
        m = await self.read_until(RE_CHALLENGE)
        self.step = "sasl response"
        await self.send(await scram.response_element(m.group(1), self.pool))
        m = await self.read_until(RE_SUCCESS)
        scram.check_success(m.group(1))

        self.step = "stream features after sasl"
        await self.open_stream()
        self.step = "bind"
        await self.send(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                        b"<resource>r</resource></bind></iq>")
        m = await self.read_until(RE_IQ_B)
        iq = m.group(0)
        if not re.search(rb"type=['\"]result['\"]", iq) or b"<jid" not in iq:
            raise LoginError(f"bind: {iq[:300]!r}")
        self.step = "presence"
        await self.send(b"<presence/>")
        if self.sm:
            # XEP-0198 with resumption: a dropped connection hibernates the session.
            self.step = "sm enable"
            await self.send(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
            await self.read_until(RE_ENABLED)
        if self.hibernate:
            self.writer.transport.abort()
            self.writer = None
            self.step = "bound"
            return
        self.step = "bound"
        self.drainer = asyncio.create_task(self.drain())

    async def drain(self):
        """Reads and drops whatever the server sends while idle; notes a close."""
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    self.closed_by_server = True
                    return
        except (ConnectionError, ssl.SSLError, OSError):
            self.closed_by_server = True

    async def close(self):
        if self.drainer:
            self.drainer.cancel()
        if self.writer is None:
            return
        try:
            if not self.closed_by_server:
                self.writer.write(b"</stream:stream>")
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (Exception, asyncio.CancelledError):
            pass


class BoshClient:
    """One BOSH session on one keep-alive HTTP connection: during the login
    one request at a time, each answered with what the server has to say;
    then, idle, one long poll (hold=1, the `wait` the server grants) that
    the server holds and answers empty after `wait` seconds, and a new one
    at once. A second connection only for the terminate at the end."""

    def __init__(self, k, host, port, pool, timeout, wait):
        self.k = k
        self.host, self.port = host, port
        self.pool = pool
        self.timeout = timeout
        self.wait = wait
        self.rid = int.from_bytes(os.urandom(5), "big")
        self.sid = None
        self.reader = self.writer = None
        self.step = "connect"
        self.closed_by_server = False
        self.poller = None
        self.got = b""  # payloads received and not consumed yet

    async def http_post(self, body, timeout, fresh_connection=False):
        """POSTs `body` to /http-bind; returns the response body."""
        if fresh_connection:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        else:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port,
                                                                         limit=1 << 20)
            reader, writer = self.reader, self.writer
        try:
            writer.write(f"POST /http-bind HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                         f"Content-Type: text/xml; charset=utf-8\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            data = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", 0))), timeout)
        except asyncio.IncompleteReadError:
            raise LoginError(f"{self.step}: HTTP connection closed") from None
        if fresh_connection or headers.get("connection", "").lower() == "close":
            writer.close()
            if not fresh_connection:
                self.writer = self.reader = None
        if status_line.split()[1:2] != ["200"]:
            raise LoginError(f"{self.step}: HTTP {status_line!r}: {data[:200]!r}")
        if b"type='terminate'" in data or b'type="terminate"' in data:
            raise LoginError(f"{self.step}: session terminated: {data[:300]!r}")
        return data

    def body(self, payload=b"", **attrs):
        self.rid += 1
        extra = "".join(f" {k}='{v}'" for k, v in attrs.items())
        return (f"<body xmlns='{NS_HTTPBIND}' sid='{self.sid}' rid='{self.rid}'{extra}>".encode()
                + payload + b"</body>")

    @staticmethod
    def payload(data):
        """What is inside <body ...>...</body> (or nothing if it is <body/>)."""
        start = data.find(b">")
        if start < 0 or data[start - 1:start] == b"/":
            return b""
        return data[start + 1:data.rfind(b"</body>")]

    async def request_until(self, payload, pattern, **attrs):
        """Sends `payload`, then empty requests, until `pattern` shows up."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LoginError(f"{self.step}: timed out; have {self.got[-300:]!r}")
            self.got += self.payload(await self.http_post(self.body(payload, **attrs), left))
            payload, attrs = b"", {}
            m = pattern.search(self.got)
            if m:
                self.got = self.got[m.end():]
                return m
            bad = RE_FATAL.search(self.got)
            if bad:
                raise LoginError(f"{self.step}: server sent {bad.group(0)[:300]!r}")

    async def login(self):
        self.step = "session creation"
        self.rid += 1
        data = await self.http_post(
            (f"<body xmlns='{NS_HTTPBIND}' xmlns:xmpp='urn:xmpp:xbosh' rid='{self.rid}' to='{DOMAIN}' "
             f"wait='{self.wait}' hold='1' xmpp:version='1.0' ver='1.6' "
             f"content='text/xml; charset=utf-8'/>").encode(), self.timeout)
        m = re.search(rb"\bsid=['\"]([^'\"]+)['\"]", data)
        if not m:
            raise LoginError(f"session creation: no sid in {data[:300]!r}")
        self.sid = m.group(1).decode()
        self.got = self.payload(data)
        if not RE_FEATURES_END.search(self.got):
            await self.request_until(b"", RE_FEATURES_END)
        self.got = b""
        self.step = "sasl auth"
        scram = Scram(f"user{self.k}")
        m = await self.request_until(scram.auth_element(), RE_CHALLENGE)
        self.step = "sasl response"
        m = await self.request_until(await scram.response_element(m.group(1), self.pool), RE_SUCCESS)
        scram.check_success(m.group(1))
        self.step = "stream features after sasl"
        await self.request_until(b"", RE_FEATURES_END,
                                 **{"xmpp:restart": "true", "xmlns:xmpp": "urn:xmpp:xbosh", "to": DOMAIN})
        self.step = "bind"
        m = await self.request_until(b"<iq type='set' id='b' xmlns='jabber:client'>"
                                     b"<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                                     b"<resource>r</resource></bind></iq>", RE_IQ_B)
        iq = m.group(0)
        if not re.search(rb"type=['\"]result['\"]", iq) or b"<jid" not in iq:
            raise LoginError(f"bind: {iq[:300]!r}")
        self.step = "bound"
        # The initial presence rides on the first long poll.
        self.poller = asyncio.create_task(self.poll(b"<presence xmlns='jabber:client'/>"))

    async def poll(self, payload):
        """The idle session: one request always held by the server."""
        try:
            while True:
                await self.http_post(self.body(payload), self.wait + 30)
                payload = b""
        except (LoginError, ConnectionError, OSError, asyncio.TimeoutError):
            self.closed_by_server = True

    async def close(self):
        """Terminates the session (XEP-0124 §13) on a second connection."""
        if self.poller:
            self.poller.cancel()
        try:
            if self.sid and not self.closed_by_server:
                await self.http_post(self.body(b"<presence type='unavailable' xmlns='jabber:client'/>",
                                               type="terminate"), 10, fresh_connection=True)
        except (Exception, asyncio.CancelledError):
            pass  # the terminate answer is itself a terminate body: LoginError
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# ---------------------------------------------------------------- server

class Server:
    def __init__(self, tern, config, workdir):
        self.tern, self.config = tern, config
        self.stderr_path = os.path.join(workdir, "tern.stderr")
        self.proc = None

    async def start(self, attempts, retry_wait):
        for attempt in range(1, attempts + 1):
            if not await asyncio.get_running_loop().run_in_executor(None, binary_usable, self.tern):
                log(f"{self.tern} is missing or being rebuilt (attempt {attempt}/{attempts}); "
                    f"waiting {retry_wait}s")
                await asyncio.sleep(retry_wait)
                continue
            self.stderr_file = open(self.stderr_path, "wb")
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    self.tern, "serve", "--config", self.config,
                    stdout=subprocess.PIPE, stderr=self.stderr_file)
            except OSError as e:
                log(f"cannot start {self.tern}: {e} (attempt {attempt}/{attempts})")
                self.stderr_file.close()
                await asyncio.sleep(retry_wait)
                continue
            with open(self.tern, "rb") as f:
                self.binary_sha256 = hashlib.sha256(f.read()).hexdigest()[:16]
            try:
                while True:
                    line = await asyncio.wait_for(self.proc.stdout.readline(), 30)
                    if not line:
                        break
                    if line.startswith(b"tern ready"):
                        self.ready_line = line.decode().strip()
                        # Keep stdout drained so the server never blocks on it.
                        self.stdout_task = asyncio.create_task(self._drain_stdout())
                        return
            except asyncio.TimeoutError:
                self.proc.kill()
            rc = await self.proc.wait()
            log(f"tern serve did not become ready (exit {rc}), attempt {attempt}/{attempts}; stderr:")
            log(self.stderr_text())
            await asyncio.sleep(retry_wait)
        raise SystemExit("tern serve never became ready")

    async def _drain_stdout(self):
        while await self.proc.stdout.readline():
            pass

    def stderr_text(self, tail=4000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-tail:].decode(errors="replace")
        except OSError:
            return ""

    async def stop(self):
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = await asyncio.wait_for(self.proc.wait(), 30)
        except asyncio.TimeoutError:
            self.proc.kill()
            rc = await self.proc.wait()
            log("tern serve did not exit within 30 s of SIGTERM; killed")
            rc = f"killed ({rc})"
        self.stderr_file.close()
        return rc


# ---------------------------------------------------------------- main

async def run(args):
    fd_soft, _ = raise_fd_limit()
    if args.sessions + 100 > fd_soft:
        raise SystemExit(f"{args.sessions} sessions need more than the fd limit {fd_soft}")
    os.makedirs(args.workdir, exist_ok=True)
    config = os.path.join(args.workdir, "tern.toml")
    port = free_port()
    http_port = free_port()  # BOSH, and /metrics for the heap in use
    args.metrics_port = http_port
    write_config(config, os.path.abspath(args.workdir), port, args.tls, args.log_level, http_port)
    wait_for_binary(args.tern)
    check = subprocess.run([args.tern, "config", "check", "--config", config], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"tern config check failed:\n{check.stdout}{check.stderr}")

    added, had, secs = await create_accounts(args.tern, config, args.sessions, args.add_concurrency)
    log(f"accounts: {added} added in {secs:.1f}s, {had} already there")

    server = Server(args.tern, config, args.workdir)
    await server.start(args.start_attempts, args.retry_wait)
    pid = server.proc.pid
    log(f"{server.ready_line} (pid {pid}, port {port}, http {http_port})")
    ssl_ctx = ssl.create_default_context()
    ssl_ctx.check_hostname = False
    ssl_ctx.verify_mode = ssl.CERT_NONE
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    exit_code = 0
    if args.warm_up:
        # What a server that has run a while already holds: socket states,
        # pooled parsers, the store's page cache. The baseline comes after,
        # so only what the measured sessions themselves keep is counted.
        plain = argparse.Namespace(**{**vars(args), "sm": False, "hibernate": False,
                                      "keep_seconds": 0, "sigterm_open": False})
        rd, ok = await one_round(plain, port if args.transport == "tcp" else http_port, ssl_ctx, pool, server, pid)
        log(f"warm-up: {rd['sessions']} sessions logged in and closed")
        if not ok:
            exit_code = 1
    await asyncio.sleep(args.settle)
    before = rss_kib(pid, args.metrics_port)
    rounds = []
    for r in range(1, args.rounds + 1):
        rd, ok = await one_round(args, port if args.transport == "tcp" else http_port, ssl_ctx, pool, server, pid)
        rounds.append(rd)
        if not ok:
            exit_code = 1
            break
    rc = await server.stop()
    pool.shutdown()
    if rc != 0:
        exit_code = 1
        log(f"tern serve exited with {rc} after SIGTERM; stderr:")
        log(server.stderr_text())

    print(f"{'round':>5} {'sessions':>8} {'via':>4} {'RSS before':>11} {'RSS after':>11} {'KiB/session':>11} "
          f"{'anon KiB/s':>10} {'heap B/s':>8} {'after close':>11}")
    for i, rd in enumerate(rounds, 1):
        n = rd["sessions"]
        per = (rd["rss_after_kib"] - before["VmRSS"]) / n if n else 0.0
        per_anon = (rd["anon_after_kib"] - before["RssAnon"]) / n if n else 0.0
        rd["kib_per_session"], rd["anon_kib_per_session"] = round(per, 2), round(per_anon, 2)
        heap = "HeapInUse" in before and rd.get("heap_after_bytes") is not None
        per_heap = (rd["heap_after_bytes"] - before["HeapInUse"]) / n if heap and n else 0.0
        rd["heap_bytes_per_session"] = round(per_heap)
        via = "bosh" if args.transport == "bosh" else "tls" if args.tls else "tcp"
        print(f"{i:>5} {n:>8} {via:>4} {before['VmRSS']:>7} KiB {rd['rss_after_kib']:>7} KiB "
              f"{per:>11.1f} {per_anon:>10.1f} {per_heap:>8.0f} {rd['rss_after_close_kib'] or 0:>7} KiB")
    first = rounds[0]
    result = {
        "sessions": first["sessions"], "requested": args.sessions, "transport": args.transport,
        "tls": args.tls and args.transport == "tcp",
        "rss_before_kib": before["VmRSS"], "rss_after_kib": first["rss_after_kib"],
        "kib_per_session": first["kib_per_session"],
        "anon_before_kib": before["RssAnon"], "anon_after_kib": first["anon_after_kib"],
        "anon_kib_per_session": first["anon_kib_per_session"],
        "heap_bytes_per_session": first["heap_bytes_per_session"],
        "rss_after_close_kib": first["rss_after_close_kib"], "threads": first["threads"],
        "login_seconds": first["login_seconds"], "alive_after_keep": first["alive_after_keep"],
        "login_failures": first["login_failures"], "server_exit": rc,
        "tern_sha256": server.binary_sha256, "warm_up": args.warm_up,
    }
    if len(rounds) > 1:
        result["rounds"] = rounds
    print(json.dumps(result), flush=True)
    return exit_code


async def one_round(args, port, ssl_ctx, pool, server, pid):
    """Logs in, idles and closes args.sessions sessions; returns (readings, all went well)."""
    if args.transport == "bosh":
        clients = [BoshClient(k, "127.0.0.1", port, pool, args.timeout, args.bosh_wait)
                   for k in range(1, args.sessions + 1)]
    else:
        clients = [Client(k, "127.0.0.1", port, args.tls, ssl_ctx, pool, args.timeout,
                          sm=args.sm, hibernate=args.hibernate)
                   for k in range(1, args.sessions + 1)]
    sem = asyncio.Semaphore(args.concurrency)
    errors = []

    async def login(c):
        async with sem:
            try:
                await c.login()
            except (LoginError, OSError, ssl.SSLError, asyncio.TimeoutError, ValueError, KeyError) as e:
                errors.append((c.k, str(e) if isinstance(e, LoginError) else f"{c.step}: {type(e).__name__}: {e}"))
                await c.close()

    t0 = time.monotonic()
    await asyncio.gather(*(login(c) for c in clients))
    login_secs = time.monotonic() - t0
    bound = [c for c in clients if c.step == "bound"]
    log(f"logged in {len(bound)}/{args.sessions} sessions in {login_secs:.1f}s")
    ok = True
    if errors:
        ok = False
        kinds = {}
        for k, e in errors:
            kinds.setdefault(re.sub(r"\d+", "#", e)[:160], []).append(k)
        for kind, ks in kinds.items():
            log(f"  {len(ks)} login(s) failed, e.g. user{ks[0]}: {kind}")
        for k, e in errors[:3]:
            log(f"  user{k}: {e}")
        log("server stderr (tail):")
        log(server.stderr_text())

    await asyncio.sleep(args.keep_seconds)
    after = rss_kib(pid, args.metrics_port)
    alive = sum(1 for c in bound if not c.closed_by_server)
    if alive != len(bound) and not args.hibernate:
        ok = False
        log(f"{len(bound) - alive} bound sessions were closed by the server while idle")

    if args.sigterm_open:
        # The stop with every session still open (issue 9: exit within 10 s).
        t_stop = time.monotonic()
        rc = await server.stop()
        log(f"SIGTERM with {alive} sessions open: exit {rc} after {time.monotonic() - t_stop:.2f}s")
        await asyncio.gather(*(c.close() for c in clients))
        return {"sessions": len(bound), "rss_after_kib": after["VmRSS"], "anon_after_kib": after["RssAnon"],
                "heap_after_bytes": after.get("HeapInUse"),
                "rss_after_close_kib": None, "threads": after.get("Threads"),
                "login_seconds": round(login_secs, 2), "alive_after_keep": alive,
                "login_failures": len(errors), "stop_seconds": round(time.monotonic() - t_stop, 2),
                "stop_exit": rc}, ok and rc == 0
    # Bounded: a BOSH terminate takes a second connection per session.
    closing = asyncio.Semaphore(500)

    async def close(c):
        async with closing:
            await c.close()

    await asyncio.gather(*(close(c) for c in clients))
    await asyncio.sleep(args.settle)
    closed = rss_kib(pid) if server.proc.returncode is None else {}
    if server.proc.returncode is not None:
        ok = False
        log(f"tern serve died (exit {server.proc.returncode}); stderr:")
        log(server.stderr_text())
    return {
        "sessions": len(bound), "rss_after_kib": after["VmRSS"], "anon_after_kib": after["RssAnon"],
                "heap_after_bytes": after.get("HeapInUse"),
        "rss_after_close_kib": closed.get("VmRSS"), "threads": after.get("Threads"),
        "login_seconds": round(login_secs, 2), "alive_after_keep": alive, "login_failures": len(errors),
    }, ok


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tern", default="/work/main/build/tern", help="tern binary")
    p.add_argument("--sessions", type=int, default=1000, help="idle sessions to open (0: baseline only)")
    p.add_argument("--tls", action=argparse.BooleanOptionalAction, default=True,
                   help="STARTTLS before authenticating (--no-tls: plain TCP, require_starttls = false)")
    p.add_argument("--transport", choices=["tcp", "bosh"], default="tcp",
                   help="tcp: XMPP on TCP (--tls/--no-tls); bosh: BOSH sessions on plain HTTP (loopback)")
    p.add_argument("--bosh-wait", type=int, default=60,
                   help="BOSH `wait` asked for: seconds the server holds an idle long poll (Tern allows 60)")
    p.add_argument("--keep-seconds", type=float, default=5, help="idle time before the second RSS reading")
    p.add_argument("--workdir", default=None,
                   help="config, data_dir and server stderr; accounts there are reused "
                        "(default: a new temporary directory, removed afterwards)")
    p.add_argument("--rounds", type=int, default=1,
                   help="log in, idle and close the sessions this many times against one server "
                        "(RSS after later rounds shows whether freed session memory is reused)")
    p.add_argument("--log-level", default="warn", help="server log level (its stderr is in the workdir)")
    p.add_argument("--sigterm-open", action="store_true",
                   help="send SIGTERM while the sessions are still open and time the exit (one round)")
    p.add_argument("--warm-up", action="store_true",
                   help="log in and close the same number of plain sessions before the baseline reading, "
                        "so that pools a running server already has are not counted per session")
    p.add_argument("--sm", action="store_true", help="enable stream management with resumption")
    p.add_argument("--hibernate", action="store_true",
                   help="drop each connection after --sm: the server keeps hibernated sessions")
    p.add_argument("--concurrency", type=int, default=50, help="logins in flight at once")
    p.add_argument("--add-concurrency", type=int, default=8, help="`tern user add` processes at once")
    p.add_argument("--timeout", type=float, default=60, help="seconds for each login step")
    p.add_argument("--settle", type=float, default=1, help="seconds to wait before the RSS readings")
    p.add_argument("--start-attempts", type=int, default=10, help="tries to start tern serve")
    p.add_argument("--retry-wait", type=float, default=30, help="seconds between tries")
    args = p.parse_args()
    if args.transport == "bosh" and (args.sm or args.hibernate):
        p.error("--sm/--hibernate are for --transport tcp")
    temp = args.workdir is None
    if temp:
        args.workdir = tempfile.mkdtemp(prefix="tern-idle-")
    try:
        code = asyncio.run(run(args))
    finally:
        if temp:
            shutil.rmtree(args.workdir, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
