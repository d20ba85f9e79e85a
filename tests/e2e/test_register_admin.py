"""In-band registration (XEP-0077) and service administration (XEP-0050 ad-hoc
commands with the XEP-0133 admin commands), against a real server.

Raw XML where the exact stanzas matter (before authentication, stream errors,
command payloads); slixmpp where a real client should simply work (logging in
with a registered account, running a command with its xep_0050 plugin,
receiving an announcement).
"""

import asyncio

import pytest

from conftest import (NS_CLIENT, NS_SASL, NS_STANZAS, NS_STREAM, TernServer, q,
                      stanza_error, unique_user, xml)
from clients import LoginFailed, run, slix_login

NS_REGISTER = "jabber:iq:register"
NS_REGISTER_FEATURE = "http://jabber.org/features/iq-register"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
NS_ADMIN = "http://jabber.org/protocol/admin"
ADMIN = "boss"
ADMIN_PW = "boss-secret"


@pytest.fixture(scope="module")
def reg_server(tmp_path_factory):
    """Registration on (with a high per-address limit, so the tests here do
    not run into it), one admin."""
    server = TernServer(tmp_path_factory.mktemp("tern-reg"), {
        "server": {"admins": ["%s@localhost" % ADMIN]},
        "modules.register": {"enabled": True, "per_ip_per_hour": 1000},
    })
    server.start()
    server.add_user(ADMIN, ADMIN_PW)
    yield server
    server.stop_and_check()


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def pre_auth(server):
    """A stream past STARTTLS, not authenticated; returns (client, features)."""
    c = server.raw()
    _, feats = c.start()
    feats = c.starttls()
    return c, feats


def register_iq(c, user, password):
    return c.iq("set", "<query xmlns='%s'><username>%s</username><password>%s</password></query>"
                % (NS_REGISTER, user, password))


def logged_in(server, user, password, resource="r"):
    c = server.raw()
    c.login(user, password, resource=resource)
    return c


def can_login(server, user, password):
    c = server.raw()
    c.start()
    c.starttls()
    res = c.auth_scram(user, password)
    c.close()
    return res.tag == q(NS_SASL, "success")


def assert_error(el, condition, type_=None):
    assert el.get("type") == "error", xml(el)
    etype, conds = stanza_error(el)
    assert conds and conds[0] == q(NS_STANZAS, condition), xml(el)
    if type_ is not None:
        assert etype == type_, xml(el)


def field_xml(var, *values):
    return "<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % v for v in values))


def command(c, node, action="execute", sessionid=None, fields=None):
    attrs = "node='%s' action='%s'" % (node, action)
    if sessionid:
        attrs += " sessionid='%s'" % sessionid
    body = ""
    if fields is not None:
        body = ("<x xmlns='%s' type='submit'>%s%s</x>"
                % (NS_DATA, field_xml("FORM_TYPE", NS_ADMIN), "".join(fields)))
    return c.iq("set", "<command xmlns='%s' %s>%s</command>" % (NS_COMMANDS, attrs, body),
                to="localhost")


def run_admin_command(c, name, fields):
    """Both stages of an admin command; returns the final <command/>."""
    node = "%s#%s" % (NS_ADMIN, name)
    first = command(c, node)
    assert first.get("type") == "result", xml(first)
    cmd = first.find(q(NS_COMMANDS, "command"))
    assert cmd.get("status") == "executing" and cmd.get("node") == node, xml(first)
    sessionid = cmd.get("sessionid")
    assert sessionid
    form = cmd.find(q(NS_DATA, "x"))
    assert form is not None and form.get("type") == "form", xml(first)
    hidden = [f for f in form.findall(q(NS_DATA, "field")) if f.get("var") == "FORM_TYPE"]
    assert hidden and hidden[0].findtext(q(NS_DATA, "value")) == NS_ADMIN
    second = command(c, node, sessionid=sessionid, fields=fields)
    assert second.get("type") == "result", xml(second)
    done = second.find(q(NS_COMMANDS, "command"))
    assert done.get("status") == "completed" and done.get("sessionid") == sessionid, xml(second)
    return done


def note_of(cmd):
    note = cmd.find(q(NS_COMMANDS, "note"))
    assert note is not None, xml(cmd)
    return note.get("type"), note.text or ""


# --------------------------------------------------------------------------
# XEP-0077, registration off (the default)
# --------------------------------------------------------------------------

def test_registration_disabled_by_default(tern_server):
    c, feats = pre_auth(tern_server)
    assert feats.find(q(NS_REGISTER_FEATURE, "register")) is None, xml(feats)
    # Before authentication nothing answers it: the stream treats it as any
    # other data before authentication (RFC 6120 §4.9.3.12).
    c.send("<iq type='get' id='r1'><query xmlns='%s'/></iq>" % NS_REGISTER)
    c.expect_stream_error("not-authorized")
    c.close()
    # Authenticated, the server answers service-unavailable (XEP-0077 §3.1).
    user = unique_user("off")
    tern_server.add_user(user, "pw")
    c = logged_in(tern_server, user, "pw")
    assert_error(c.iq("get", "<query xmlns='%s'/>" % NS_REGISTER), "service-unavailable")
    assert_error(c.iq("set", "<query xmlns='%s'><remove/></query>" % NS_REGISTER),
                 "service-unavailable")
    c.close()


# --------------------------------------------------------------------------
# XEP-0077, registration on
# --------------------------------------------------------------------------

def test_register_before_auth_then_login_with_slixmpp(reg_server):
    c, feats = pre_auth(reg_server)
    assert feats.find(q(NS_REGISTER_FEATURE, "register")) is not None, xml(feats)
    res = c.iq("get", "<query xmlns='%s'/>" % NS_REGISTER)
    assert res.get("type") == "result", xml(res)
    query = res.find(q(NS_REGISTER, "query"))
    assert query is not None, xml(res)
    assert query.find(q(NS_REGISTER, "username")) is not None
    assert query.find(q(NS_REGISTER, "password")) is not None
    assert query.find(q(NS_REGISTER, "instructions")) is not None
    assert query.find(q(NS_REGISTER, "registered")) is None

    user = unique_user("reg")
    res = register_iq(c, user, "Calliope")
    assert res.get("type") == "result", xml(res)
    # The same stream then authenticates as the new account (§3.1.1).
    assert c.auth_scram(user, "Calliope").tag == q(NS_SASL, "success")
    c.close()

    async def scenario():
        client = await slix_login("%s@localhost/slix" % user, "Calliope", reg_server.c2s_port)
        await client.close()
    run(scenario())
    assert user in reg_server.list_users("localhost").stdout


def test_register_conflict_and_bad_fields(reg_server):
    user = unique_user("dup")
    c, _ = pre_auth(reg_server)
    assert register_iq(c, user, "one").get("type") == "result"
    assert_error(register_iq(c, user, "two"), "conflict", "cancel")
    assert_error(register_iq(c, user.upper(), "two"), "conflict")  # nodeprep'd to the same
    # XEP-0077 §3.1: missing or empty fields are not-acceptable.
    assert_error(register_iq(c, unique_user("e"), ""), "not-acceptable", "modify")
    assert_error(c.iq("set", "<query xmlns='%s'><username>%s</username></query>"
                      % (NS_REGISTER, unique_user("np"))), "not-acceptable")
    assert_error(register_iq(c, "bad@name", "pw"), "not-acceptable")
    assert_error(c.iq("set", "<query xmlns='%s'><remove/></query>" % NS_REGISTER),
                 "unexpected-request")
    c.close()
    assert can_login(reg_server, user, "one")


def test_register_throttled_per_address(tern_factory):
    server = tern_factory({"modules.register": {"enabled": True, "per_ip_per_hour": 2}})
    c, _ = pre_auth(server)
    first = unique_user("t")
    assert register_iq(c, first, "pw").get("type") == "result"
    assert_error(register_iq(c, first, "pw"), "conflict")  # an attempt counts too
    res = register_iq(c, unique_user("t"), "pw")
    # XEP-0077 §3.1.1 "attempts to register too many times": not-acceptable,
    # typed 'wait' since a later try can succeed.
    assert_error(res, "not-acceptable", "wait")
    c.close()
    # The limit is per address, not per stream.
    c, _ = pre_auth(server)
    assert_error(register_iq(c, unique_user("t"), "pw"), "not-acceptable", "wait")
    c.close()


def test_registered_account_get_and_password_change(reg_server):
    user = unique_user("pw")
    reg_server.add_user(user, "old")
    c = logged_in(reg_server, user, "old")
    res = c.iq("get", "<query xmlns='%s'/>" % NS_REGISTER)
    assert res.get("type") == "result", xml(res)
    query = res.find(q(NS_REGISTER, "query"))
    assert query.find(q(NS_REGISTER, "registered")) is not None, xml(res)
    assert query.findtext(q(NS_REGISTER, "username")) == user
    # Someone else's account: forbidden; an empty password never replaces the old one.
    other = unique_user("other")
    reg_server.add_user(other, "theirs")
    assert_error(c.iq("set", "<query xmlns='%s'><username>%s</username><password>x</password>"
                      "</query>" % (NS_REGISTER, other), to="localhost"), "forbidden")
    assert_error(c.iq("set", "<query xmlns='%s'><username>%s</username><password/></query>"
                      % (NS_REGISTER, user)), "bad-request")
    # XEP-0077 §3.3, addressed to the server as in its example.
    res = c.iq("set", "<query xmlns='%s'><username>%s</username><password>new</password></query>"
               % (NS_REGISTER, user), to="localhost")
    assert res.get("type") == "result", xml(res)
    c.close()
    assert can_login(reg_server, user, "new")
    assert not can_login(reg_server, user, "old")
    assert can_login(reg_server, other, "theirs")


def test_remove_closes_every_session_of_the_account(reg_server):
    user = unique_user("rm")
    reg_server.add_user(user, "pw")
    a = logged_in(reg_server, user, "pw", resource="a")
    b = logged_in(reg_server, user, "pw", resource="b")
    res = a.iq("set", "<query xmlns='%s'><remove/></query>" % NS_REGISTER)
    # XEP-0077 §3.2: the result, then a <not-authorized/> stream error on
    # every session of the account.
    assert res.get("type") == "result", xml(res)
    a.expect_stream_error("not-authorized")
    b.expect_stream_error("not-authorized")
    assert user not in reg_server.list_users("localhost").stdout
    assert not can_login(reg_server, user, "pw")


# --------------------------------------------------------------------------
# XEP-0050 / XEP-0133
# --------------------------------------------------------------------------

def test_admin_adds_user_who_then_logs_in(reg_server):
    admin = logged_in(reg_server, ADMIN, ADMIN_PW)
    user = unique_user("added")
    done = run_admin_command(admin, "add-user", [
        field_xml("accountjid", "%s@localhost" % user),
        field_xml("password", "fresh"), field_xml("password-verify", "fresh")])
    assert note_of(done)[0] == "info"
    # XEP-0133 §5: adding an existing user is a conflict.
    node = "%s#add-user" % NS_ADMIN
    first = command(admin, node).find(q(NS_COMMANDS, "command"))
    again = command(admin, node, sessionid=first.get("sessionid"), fields=[
        field_xml("accountjid", "%s@localhost" % user), field_xml("password", "x")])
    assert_error(again, "conflict")
    admin.close()

    async def scenario():
        client = await slix_login("%s@localhost/new" % user, "fresh", reg_server.c2s_port)
        await client.close()
    run(scenario())


def test_admin_add_user_with_slixmpp_xep_0050(reg_server):
    user = unique_user("slixadd")

    async def scenario():
        client = await slix_login("%s@localhost/admin" % ADMIN, ADMIN_PW, reg_server.c2s_port)
        client.register_plugin("xep_0004")
        client.register_plugin("xep_0050")
        try:
            node = "%s#add-user" % NS_ADMIN
            first = await client["xep_0050"].send_command("localhost", node, action="execute")
            assert first["command"]["status"] == "executing"
            form = first["command"]["form"]
            assert {"accountjid", "password"} <= set(form.get_fields().keys())
            submit = client["xep_0004"].make_form(ftype="submit")
            submit.add_field(var="FORM_TYPE", ftype="hidden", value=NS_ADMIN)
            submit.add_field(var="accountjid", value="%s@localhost" % user)
            submit.add_field(var="password", value="via-slix")
            submit.add_field(var="password-verify", value="via-slix")
            done = await client["xep_0050"].send_command(
                "localhost", node, action="complete", payload=submit,
                sessionid=first["command"]["sessionid"])
            assert done["command"]["status"] == "completed"
            assert done["command"]["notes"][0][0] == "info"
        finally:
            await client.close()
    run(scenario())
    assert can_login(reg_server, user, "via-slix")


def test_admin_changes_password_and_deletes_user(reg_server):
    user = unique_user("victim")
    reg_server.add_user(user, "before")
    admin = logged_in(reg_server, ADMIN, ADMIN_PW)
    done = run_admin_command(admin, "change-user-password", [
        field_xml("accountjid", "%s@localhost" % user), field_xml("password", "after")])
    assert note_of(done)[0] == "info"
    assert can_login(reg_server, user, "after")
    assert not can_login(reg_server, user, "before")

    victim = logged_in(reg_server, user, "after")
    done = run_admin_command(admin, "delete-user", [field_xml("accountjids", "%s@localhost" % user)])
    assert note_of(done)[0] == "info"
    victim.expect_stream_error("not-authorized")
    assert not can_login(reg_server, user, "after")
    admin.close()

    async def scenario():
        with pytest.raises(LoginFailed):
            await slix_login("%s@localhost/x" % user, "after", reg_server.c2s_port, timeout=5)
    run(scenario())


def test_online_users_list(reg_server):
    one, two = unique_user("on"), unique_user("on")
    reg_server.add_user(one, "pw")
    reg_server.add_user(two, "pw")
    c1 = logged_in(reg_server, one, "pw")
    c2 = logged_in(reg_server, two, "pw")
    admin = logged_in(reg_server, ADMIN, ADMIN_PW)
    done = run_admin_command(admin, "get-online-users-list", [field_xml("max_items", "none")])
    form = done.find(q(NS_DATA, "x"))
    assert form is not None and form.get("type") == "result", xml(done)
    jids = [v.text for f in form.findall(q(NS_DATA, "field")) if f.get("var") == "onlineuserjids"
            for v in f.findall(q(NS_DATA, "value"))]
    for bare in ("%s@localhost" % one, "%s@localhost" % two, "%s@localhost" % ADMIN):
        assert bare in jids, jids
    for c in (c1, c2, admin):
        c.close()


def test_announce_reaches_online_users_as_headline(reg_server):
    user = unique_user("listener")
    reg_server.add_user(user, "pw")

    async def scenario():
        client = await slix_login("%s@localhost/ears" % user, "pw", reg_server.c2s_port)
        try:
            admin = await asyncio.get_running_loop().run_in_executor(
                None, logged_in, reg_server, ADMIN, ADMIN_PW)
            done = await asyncio.get_running_loop().run_in_executor(
                None, run_admin_command, admin, "announce",
                [field_xml("subject", "Maintenance"),
                 field_xml("announcement", "Down at noon", "Back at one")])
            admin.close()
            assert note_of(done)[0] == "info"
            msg = await client.next_message(timeout=5)
            assert msg["type"] == "headline"
            assert msg["from"].full == "localhost"
            assert msg["subject"] == "Maintenance"
            assert msg["body"] == "Down at noon\nBack at one"
        finally:
            await client.close()
    run(scenario())


def test_non_admin_forbidden_and_protocol_errors(reg_server):
    user = unique_user("plain")
    reg_server.add_user(user, "pw")
    c = logged_in(reg_server, user, "pw")
    assert_error(command(c, "%s#add-user" % NS_ADMIN), "forbidden", "cancel")
    c.close()

    admin = logged_in(reg_server, ADMIN, ADMIN_PW)
    assert_error(command(admin, "%s#no-such-command" % NS_ADMIN), "item-not-found")
    # A made-up session id (XEP-0050 §6.4: bad-request + bad-sessionid).
    res = command(admin, "%s#announce" % NS_ADMIN, sessionid="made-up",
                  fields=[field_xml("announcement", "x")])
    assert_error(res, "bad-request", "modify")
    assert res.find("%s/%s" % (q(NS_CLIENT, "error"), q(NS_COMMANDS, "bad-sessionid"))) is not None
    # Cancel ends the session: status='canceled', and the id is then unknown.
    node = "%s#announce" % NS_ADMIN
    sid = command(admin, node).find(q(NS_COMMANDS, "command")).get("sessionid")
    res = command(admin, node, action="cancel", sessionid=sid)
    assert res.find(q(NS_COMMANDS, "command")).get("status") == "canceled", xml(res)
    res = command(admin, node, sessionid=sid, fields=[field_xml("announcement", "late")])
    assert res.find("%s/%s" % (q(NS_CLIENT, "error"), q(NS_COMMANDS, "bad-sessionid"))) is not None
    admin.close()


@pytest.mark.parametrize("allowed", [False, True])
def test_registration_on_an_unencrypted_stream(tern_factory, allowed):
    """XEP-0077 §11: registration sends a password; without TLS it is
    refused (and not offered) unless modules.register.allow_unencrypted."""
    server = tern_factory({
        "tls": {"require_starttls": False},
        "modules.register": {"enabled": True, "allow_unencrypted": allowed},
    })
    user = unique_user("plain")
    c = server.raw()
    _, feats = c.start()  # no STARTTLS
    offered = feats.find(q(NS_REGISTER_FEATURE, "register")) is not None
    assert offered == allowed, xml(feats)
    res = register_iq(c, user, "pw")
    if allowed:
        assert res.get("type") == "result", xml(res)
    else:
        assert_error(res, "policy-violation")
    c.close()
    assert can_login(server, user, "pw") == allowed

    # With TLS the feature is there and registration works either way.
    c, feats = pre_auth(server)
    assert feats.find(q(NS_REGISTER_FEATURE, "register")) is not None, xml(feats)
    other = unique_user("tls")
    assert register_iq(c, other, "pw").get("type") == "result"
    c.close()
