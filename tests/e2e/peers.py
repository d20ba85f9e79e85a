"""Other XMPP servers for the migration tests: Debian's ejabberd and Prosody,
each started by hand (never through the init system) as its own system user,
on loopback, with its own config, free ports and data in a private temporary
directory. Each runs in its own session, so that stopping it ends every
process it started, whatever happened in the test.
"""

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import free_port

EJABBERDCTL = "/usr/sbin/ejabberdctl"
PROSODY = "/usr/bin/prosody"
PROSODYCTL = "/usr/bin/prosodyctl"
PROSODY_MIGRATOR = "/usr/bin/prosody-migrator"
PROSODY_SOURCE = "/usr/lib/prosody"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_started = []  # for the last-resort kill when a run ends before finalizers


def can_run_as(user):
    """ejabberdctl and prosodyctl run only as their user (or root, which
    becomes it)."""
    me = os.geteuid()
    try:
        return me == 0 or pwd.getpwuid(me).pw_name == user
    except KeyError:
        return False


def skip_unless_installed(binary, user):
    reason = None
    if not os.path.exists(binary):
        reason = "%s is not installed" % binary
    elif not can_run_as(user):
        reason = "%s must run as root or as the user %s" % (binary, user)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


class HandStarted:
    """A server run as `user` in a temporary directory of its own (pytest's
    tmp_path is root's and closed to other users)."""

    def __init__(self, user, name):
        self.user = user
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix="tern-e2e-%s-" % name))
        self.log_path = self.dir / "stdout.log"
        self.proc = None

    def as_user(self, argv):
        return (["runuser", "-u", self.user, "--"] if os.geteuid() == 0 else []) + list(argv)

    def hand_over(self):
        """Gives the directory to the server's user, once its files are written."""
        if os.geteuid() != 0:
            return
        for root, dirs, files in os.walk(self.dir):
            for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                shutil.chown(n, self.user, self.user)

    def run(self, argv, check=True, env=None, timeout=60):
        res = subprocess.run(self.as_user(argv), capture_output=True, text=True, env=env,
                             timeout=timeout, cwd=str(self.dir))
        if check and res.returncode != 0:
            raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s\n--- %s log ---\n%s"
                                 % (" ".join(argv), res.returncode, res.stdout, res.stderr,
                                    self.name, self.log_tail()))
        return res

    def spawn(self, argv, env=None):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.as_user(argv), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=str(self.dir), start_new_session=True)
        _started.append(self)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_stopped(self, timeout=STOP_TIMEOUT):
        """Waits for the process to end, then kills whatever is left of its
        session."""
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def kill(self):
        # Only while the session leader is alive (not yet reaped) is its
        # process group certainly still ours.
        if self.running():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def log_tail(self, n=6000):
        parts = []
        for path in sorted(self.dir.rglob("*.log")):
            parts.append("== %s\n%s" % (path.name, path.read_text(errors="replace")[-n:]))
        return "\n".join(parts)

    def wait_until(self, ready, what):
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if not self.running() or time.monotonic() > deadline:
                code = self.proc.poll()
                self.stop()
                pytest.fail("%s did not %s (exit code %r)\n%s"
                            % (self.name, what, code, self.log_tail()), pytrace=False)
            time.sleep(0.2)

    def cleanup(self):
        self.stop()
        self.kill()
        if self in _started:
            _started.remove(self)
        shutil.rmtree(self.dir, ignore_errors=True)


class Ejabberd(HandStarted):
    """ejabberd with no XMPP listener at all: ejabberdctl reaches the node
    over Erlang distribution, on a fixed free port (ERL_DIST_PORT), so no
    epmd is needed; ERL_EPMD_PORT still points at a private port, so that
    anything that starts one anyway does not meet another node's."""

    def __init__(self, hosts, host_config=""):
        super().__init__("ejabberd", "ejabberd")
        self.node = "tern-e2e-%d@localhost" % os.getpid()
        self.epmd_port = free_port()
        d = self.dir
        for sub in ("spool", "logs", "export"):
            (d / sub).mkdir()
        (d / "ejabberd.yml").write_text(
            "hosts: [%s]\n" % ", ".join(hosts) +
            "loglevel: info\n"
            "listen: []\n"
            "auth_method: internal\n"
            "auth_password_format: plain\n"
            "default_db: mnesia\n"
            "modules:\n"
            "  mod_roster: {}\n"
            "  mod_vcard: {}\n"
            "  mod_offline: {}\n"
            "  mod_admin_extra: {}\n" + host_config)
        (d / "ejabberdctl.cfg").write_text(
            "ERLANG_NODE=%s\n" % self.node +
            "ERL_DIST_PORT=%d\n" % free_port() +
            # Its own cookie: ~ejabberd/.erlang.cookie is neither read nor made.
            'ERL_OPTIONS="-setcookie tern-e2e-%d -env ERL_CRASH_DUMP_BYTES 0"\n' % os.getpid() +
            "CONTRIB_MODULES_PATH=%s\n" % (d / "contrib"))
        (d / "inetrc").write_text('{lookup,["file","native"]}.\n'
                                  '{host,{127,0,0,1}, ["localhost"]}.\n')
        self.hand_over()

    def _argv(self, *args):
        d = self.dir
        return [EJABBERDCTL, "--config-dir", str(d), "--config", str(d / "ejabberd.yml"),
                "--ctl-config", str(d / "ejabberdctl.cfg"), "--logs", str(d / "logs"),
                "--spool", str(d / "spool"), *args]

    def _env(self):
        return dict(os.environ, ERL_EPMD_PORT=str(self.epmd_port))

    def ctl(self, *args, check=True):
        return self.run(self._argv(*args), check=check, env=self._env())

    def start(self):
        self.spawn(self._argv("foreground"), env=self._env())
        self.wait_until(lambda: self.ctl("status", check=False).returncode == 0, "start")
        return self

    def stop(self):
        if self.running():
            self.ctl("stop", check=False)
            self.wait_stopped()
        # Only an epmd on our private port, should anything have started one.
        if shutil.which("epmd"):
            subprocess.run(["epmd", "-port", str(self.epmd_port), "-kill"], capture_output=True)

    def export_piefxis(self):
        """Runs export_piefxis; returns {file name: text}."""
        export = self.dir / "export"
        self.ctl("export_piefxis", str(export))
        return {p.name: p.read_text() for p in sorted(export.iterdir())}


class Prosody(HandStarted):
    """Prosody with one c2s port on loopback (no TLS: no certificate to
    make), no s2s, no HTTP."""

    def __init__(self, domain="localhost"):
        super().__init__("prosody", "prosody")
        self.port = free_port()
        d = self.dir
        for sub in ("data", "certs", "export"):
            (d / sub).mkdir()
        self.config = d / "prosody.cfg.lua"
        self.config.write_text(
            'pidfile = "%s"\n' % (d / "prosody.pid") +
            'data_path = "%s"\n' % (d / "data") +
            'certificates = "%s"\n' % (d / "certs") +
            'log = { info = "%s" }\n' % (d / "prosody.log") +
            'modules_enabled = { "roster", "saslauth", "disco", "vcard", "offline", "ping" }\n'
            'modules_disabled = { "s2s" }\n'
            'c2s_ports = { %d }\n' % self.port +
            'c2s_interfaces = { "127.0.0.1" }\n'
            's2s_ports = { }\nhttp_ports = { }\nhttps_ports = { }\n'
            'c2s_require_encryption = false\n'
            'authentication = "internal_hashed"\n'
            'storage = "internal"\n'
            'VirtualHost "%s"\n' % domain)
        self.hand_over()

    def ctl(self, *args, check=True):
        return self.run([PROSODYCTL, "--config", str(self.config), *args], check=check)

    def start(self):
        self.spawn([PROSODY, "--config", str(self.config)])

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        self.wait_until(listening, "listen on its c2s port")
        return self

    def stop(self):
        if self.running():
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.wait_stopped()

    def export_xep0227(self, host, stores):
        """prosody-migrator from the internal store to a 'xep0227' one;
        returns {file name: path}.

        Prosody 0.12's xep0227 driver ignores the store's 'path' and writes
        into prosody.paths.data, which the migrator takes from its built-in
        /var/lib/prosody: data_path is set in the config manager before the
        migrator runs, so the files land in our directory instead.
        """
        export = self.dir / "export"
        (self.dir / "migrator.cfg.lua").write_text(
            'input { type = "internal"; path = "%s"; hosts = { ["%s"] = { %s } } }\n'
            % (self.dir / "data", host, ", ".join('"%s"' % s for s in stores)) +
            'output { type = "xep0227"; }\n')
        self.hand_over()
        with open(PROSODY_MIGRATOR) as f:
            lua = f.readline().split()[-1]  # "#!/usr/bin/env lua5.4"
        preset = ("package.path = '{0}/?.lua;' .. package.path;"
                  "package.cpath = '{0}/?.so;' .. package.cpath;"
                  "require 'core.configmanager'.set('*', 'data_path', '{1}')"
                  .format(PROSODY_SOURCE, export))
        self.run([lua, "-e", preset, PROSODY_MIGRATOR, "--config",
                  str(self.dir / "migrator.cfg.lua"), "input", "output"])
        return {p.name: p for p in sorted(export.iterdir())}


def _kill_leftovers():
    for peer in list(_started):
        peer.kill()


atexit.register(_kill_leftovers)
