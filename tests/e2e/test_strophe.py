"""Interop with clients built on other stacks: libstrophe (C, compiled here
from strophe_client.c) and aioxmpp, each exchanging messages with slixmpp."""

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from clients import run, slix_login
from conftest import unique_user

HERE = Path(__file__).resolve().parent
PASSWORD = "s3cret-strophe"


@pytest.fixture(scope="module")
def strophe_bin(tmp_path_factory):
    if shutil.which("cc") is None or shutil.which("pkg-config") is None:
        pytest.fail("cc and pkg-config are needed to build the libstrophe client")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libstrophe"],
                           capture_output=True, text=True)
    if flags.returncode != 0:
        pytest.fail("libstrophe not found by pkg-config (apt-get install libstrophe-dev): "
                    + flags.stderr)
    out = tmp_path_factory.mktemp("strophe") / "strophe_client"
    res = subprocess.run(["cc", "-std=c11", "-Wall", "-O1", "-o", str(out),
                          str(HERE / "strophe_client.c"), *flags.stdout.split()],
                         capture_output=True, text=True)
    assert res.returncode == 0, "compiling strophe_client.c failed:\n" + res.stderr
    return out


class StropheProcess:
    """strophe_client running beside the asyncio scenario."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.log_path = log_path
        self.lines = []

    async def line(self, prefix, timeout=10.0):
        """The next stdout line starting with prefix (earlier ones are kept)."""
        async def read():
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError("strophe_client ended before printing %r; "
                                         "output %r\n--- its log ---\n%s"
                                         % (prefix, self.lines, self.log()))
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append(line)
                if line.startswith("ERROR"):
                    raise AssertionError("strophe_client: %s\n--- its log ---\n%s"
                                         % (line, self.log()))
                if line.startswith(prefix):
                    return line
        try:
            return await asyncio.wait_for(read(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError("strophe_client printed no %r within %.0fs; output %r\n"
                                 "--- its log ---\n%s" % (prefix, timeout, self.lines,
                                                          self.log()[-6000:]))

    async def wait(self, timeout=10.0):
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError("strophe_client did not exit; output %r" % self.lines)

    def log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""


async def start_strophe(binary, port, jid, password, *args, log_dir):
    log_path = Path(log_dir) / ("strophe-%s.log" % os.urandom(3).hex())
    log_file = open(log_path, "wb")
    proc = await asyncio.create_subprocess_exec(
        str(binary), "127.0.0.1", str(port), jid, password, *args,
        stdout=asyncio.subprocess.PIPE, stderr=log_file, stdin=asyncio.subprocess.DEVNULL)
    log_file.close()
    return StropheProcess(proc, log_path)


@pytest.fixture(scope="module")
def pair(tern_server):
    alice = tern_server.add_user(unique_user("alice"), PASSWORD)
    bob = tern_server.add_user(unique_user("bob"), PASSWORD)
    return alice, bob


def test_strophe_and_slixmpp_exchange_messages(tern_server, pair, strophe_bin, tmp_path):
    alice, bob = pair

    async def scenario():
        a = await slix_login(alice + "/slix", PASSWORD, tern_server.c2s_port, mech="SCRAM-SHA-256")
        s = None
        try:
            s = await start_strophe(strophe_bin, tern_server.c2s_port, bob + "/strophe", PASSWORD,
                                    "--send-to", a.boundjid.full, "--body", "from strophe",
                                    "--expect", "1", log_dir=tmp_path)
            bound = (await s.line("BOUND ")).split(" ", 1)[1]
            assert bound == bob + "/strophe"

            # strophe -> slixmpp
            msg = await a.next_message(body="from strophe", timeout=10)
            assert msg["from"].full == bound
            assert msg["type"] == "chat"

            # slixmpp -> strophe
            a.send_message(mto=bound, mbody="from slixmpp", mtype="chat")
            got = await s.line("MSG ")
            assert got == "MSG from=%s type=chat body=from slixmpp" % a.boundjid.full
            await s.line("DONE")
            assert await s.wait() == 0
        finally:
            if s is not None and s.proc.returncode is None:
                s.proc.kill()
                await s.proc.wait()
            await a.close()

    run(scenario(), timeout=45)


def test_strophe_direct_tls_login(tern_server, pair, strophe_bin, tmp_path):
    _, bob = pair

    async def scenario():
        s = await start_strophe(strophe_bin, tern_server.tls_port, bob + "/dtls", PASSWORD,
                                "--direct-tls", log_dir=tmp_path)
        bound = (await s.line("BOUND ")).split(" ", 1)[1]
        assert bound == bob + "/dtls"
        await s.line("DONE")
        assert await s.wait() == 0

    run(scenario(), timeout=30)


def test_strophe_wrong_password_fails(tern_server, pair, strophe_bin, tmp_path):
    _, bob = pair

    async def scenario():
        s = await start_strophe(strophe_bin, tern_server.c2s_port, bob + "/bad", "not-it",
                                "--timeout", "10", log_dir=tmp_path)
        code = await s.wait(15)
        out = s.lines + [l.decode().rstrip() for l in (await s.proc.stdout.read()).splitlines()]
        assert code == 1, out
        assert not any(l.startswith("BOUND") for l in out), out

    run(scenario(), timeout=30)


def test_aioxmpp_and_slixmpp_exchange_messages(tern_server, pair):
    import aioxmpp
    import aioxmpp.connector
    import aioxmpp.dispatcher
    alice, bob = pair

    async def scenario():
        a = await slix_login(alice + "/slix2", PASSWORD, tern_server.c2s_port, mech="SCRAM-SHA-1")
        client = aioxmpp.PresenceManagedClient(
            aioxmpp.JID.fromstr(bob + "/aio"),
            aioxmpp.make_security_layer(PASSWORD, no_verify=True),
            override_peer=[("127.0.0.1", tern_server.c2s_port,
                            aioxmpp.connector.STARTTLSConnector())],
            max_initial_attempts=1,
        )
        received = asyncio.Queue()
        dispatcher = client.summon(aioxmpp.dispatcher.SimpleMessageDispatcher)
        dispatcher.register_callback(aioxmpp.MessageType.CHAT, None, received.put_nowait)
        try:
            async with client.connected():
                assert str(client.local_jid) == bob + "/aio"

                msg = aioxmpp.Message(to=aioxmpp.JID.fromstr(a.boundjid.full),
                                      type_=aioxmpp.MessageType.CHAT)
                msg.body[None] = "from aioxmpp"
                await client.send(msg)
                got = await a.next_message(body="from aioxmpp", timeout=10)
                assert got["from"].full == bob + "/aio"

                a.send_message(mto=bob + "/aio", mbody="from slixmpp", mtype="chat")
                # The libstrophe test's client left without acknowledging its
                # last message, which XEP-0198 §5 sends to offline storage: bob
                # gets it again at this login, from alice's other resource.
                m = await asyncio.wait_for(received.get(), 10)
                while str(m.from_) != a.boundjid.full:
                    assert str(m.from_) == alice + "/slix", m
                    m = await asyncio.wait_for(received.get(), 10)
                assert m.body.any() == "from slixmpp"
        finally:
            await a.close()

    run(scenario(), timeout=45)
