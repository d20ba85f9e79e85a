"""`tern export` and `tern import` (XEP-0227): accounts moved from one server
to a fresh one keep their passwords (as SCRAM keys) and rosters; a file with
plaintext passwords gives accounts that log in; a second import changes
nothing.
"""

import pytest

from clients import run, slix_login
from conftest import unique_user
from gen_pie import generate

PASSWORD = "portable secret"


async def roster_of(c):
    iq = c.Iq()
    iq["type"] = "get"
    iq.enable("roster")
    iq = await iq.send()
    return {str(jid): dict(item) for jid, item in iq["roster"]["items"].items()}


async def add_contact(c, jid, name, group):
    iq = c.Iq()
    iq["type"] = "set"
    iq["roster"]["items"] = {jid: {"name": name, "subscription": "none", "groups": [group]}}
    await iq.send()


def test_export_then_import_into_a_fresh_server(tern_factory, tmp_path):
    source = tern_factory()
    alice = source.add_user(unique_user("alice"), PASSWORD)
    bob = source.add_user(unique_user("bob"), PASSWORD)

    async def seed():
        c = await slix_login(alice + "/seed", PASSWORD, source.c2s_port)
        try:
            await add_contact(c, bob, "Bob", "Friends")
        finally:
            await c.close()

    run(seed())
    exported = tmp_path / "export.xml"
    out = source.cli("export", str(exported)).stdout
    assert "exported 2 users, 1 roster items" in out
    text = exported.read_text()
    assert "password=" not in text
    assert "mechanism='SCRAM-SHA-256'" in text
    assert (exported.stat().st_mode & 0o777) == 0o600

    target = tern_factory()
    out = target.cli("import", str(exported)).stdout
    assert "2 created" in out and "1 added" in out, out

    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"):
        async def check():
            c = await slix_login(alice + "/" + mech, PASSWORD, target.c2s_port, mech=mech)
            try:
                assert c.mechanism == mech
                roster = await roster_of(c)
                assert bob in roster, roster
                assert roster[bob]["name"] == "Bob"
                assert roster[bob]["groups"] == ["Friends"]
            finally:
                await c.close()

        run(check())

    again = target.cli("import", str(exported)).stdout
    assert "2 users, 1 roster items: unchanged" in again, again


def test_import_with_plaintext_passwords_and_an_unserved_host(tern_factory, tmp_path):
    server = tern_factory()
    prefix = unique_user("pie")
    plain = tmp_path / "plain.xml"
    generate(str(plain), users=3, contacts=2, prefix=prefix, password=PASSWORD, plaintext=True)
    other = tmp_path / "other.xml"
    generate(str(other), users=2, contacts=1, domain="elsewhere.example", prefix=prefix)

    res = server.cli("import", str(plain))
    assert "3 created" in res.stdout and "6 added" in res.stdout, res.stdout
    res = server.cli("import", str(other))
    assert "2 skipped" in res.stdout, res.stdout
    assert "elsewhere.example is not served" in res.stderr, res.stderr

    async def check():
        me = "%s0@%s" % (prefix, server.domain)
        c = await slix_login(me + "/r", PASSWORD, server.c2s_port)
        try:
            roster = await roster_of(c)
            assert set(roster) == {"%s1@%s" % (prefix, server.domain),
                                   "%s2@%s" % (prefix, server.domain)}
            assert all(item["subscription"] == "both" for item in roster.values())
        finally:
            await c.close()

    run(check())
    again = server.cli("import", str(plain)).stdout
    assert "3 users, 6 roster items: unchanged" in again, again


def test_scram_keys_from_a_file_log_in_without_a_password_ever_given(tern_factory, tmp_path):
    server = tern_factory()
    prefix = unique_user("scram")
    path = tmp_path / "scram.xml"
    generate(str(path), users=2, contacts=1, prefix=prefix, password=PASSWORD)
    server.cli("import", str(path))

    async def check():
        c = await slix_login("%s1@%s/r" % (prefix, server.domain), PASSWORD, server.c2s_port,
                             mech="SCRAM-SHA-1")
        try:
            assert "%s0@%s" % (prefix, server.domain) in await roster_of(c)
        finally:
            await c.close()

    run(check())


def test_a_broken_file_is_reported_with_its_line(tern_factory, tmp_path):
    server = tern_factory(start=False)
    path = tmp_path / "broken.xml"
    path.write_text("<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='localhost'>\n<user")
    res = server.cli("import", str(path), check=False)
    assert res.returncode == 1
    assert "line 3" in res.stderr, res.stderr
