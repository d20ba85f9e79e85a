"""XEP-0045 multi-user chat at conference.<domain>: room creation (instant
and reserved), joining and leaving with their status codes, fan-out,
nick conflicts and changes, subject, history limits, private messages,
members-only rooms, bans, kicks, voice, passwords, invitations, destruction,
disco, and a persistent room surviving a restart. Most tests drive the wire
with the RawClient so that they can assert the stanzas the XEP requires;
one drives slixmpp's xep_0045 plugin."""

import asyncio
import itertools
import time

import pytest

from clients import run, slix_login
from conftest import NS_CLIENT, q, unique_user, xml
from muc_helpers import (MUC, NS_MUC, NS_USER, NS_ADMIN, NS_OWNER, NS_DATA, NS_INFO, NS_ITEMS,
                         NS_DELAY, NS_OCCUPANT_ID, new_room, is_presence, is_message, codes, item,
                         error_condition, join, owner_set, field, configure, create_room, admin_set,
                         groupchat, wait_groupchat)

PASSWORD = "muc secret"


def login(server, jid, resource="muc"):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource)
    return c


@pytest.fixture(scope="module")
def users(tern_server):
    return [tern_server.add_user(unique_user(p), PASSWORD)
            for p in ("alice", "bob", "carol", "dave")]


@pytest.fixture
def clients(tern_server, users):
    opened = []

    def make(i, resource="muc"):
        c = login(tern_server, users[i], resource)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


# --------------------------------------------------------------------------
# creation, joining, leaving
# --------------------------------------------------------------------------

def test_server_lists_the_service_and_the_service_describes_itself(clients):
    a = clients(0)
    items = a.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to="localhost")
    jids = [i.get("jid") for i in items.find(q(NS_ITEMS, "query"))]
    assert MUC in jids, xml(items)
    info = a.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=MUC)
    query = info.find(q(NS_INFO, "query"))
    idents = [(i.get("category"), i.get("type")) for i in query.findall(q(NS_INFO, "identity"))]
    assert ("conference", "text") in idents, xml(info)
    feats = {f.get("var") for f in query.findall(q(NS_INFO, "feature"))}
    assert NS_MUC in feats, xml(info)


def test_instant_room_creation(clients):
    a = clients(0)
    room = new_room()
    before, self_p, after = join(a, room, "alice")
    assert before == []
    assert codes(self_p) >= {110, 201}, xml(self_p)
    it = item(self_p)
    assert (it.get("affiliation"), it.get("role")) == ("owner", "moderator"), xml(self_p)
    assert self_p.find(q(NS_OCCUPANT_ID, "occupant-id")) is not None, xml(self_p)
    # The empty subject closes the join.
    assert after[-1].findtext(q(NS_CLIENT, "subject")) == "", xml(after[-1])
    # Locked until configured: others cannot enter.
    b = clients(1)
    _, err, _ = join(b, room, "bob")
    assert err.get("type") == "error"
    assert error_condition(err) == ("cancel", ["item-not-found"]), xml(err)
    # The instant room: an empty submit form unlocks it.
    res = owner_set(a, room, "<x xmlns='%s' type='submit'/>" % NS_DATA)
    assert res.get("type") == "result", xml(res)
    before, self_p, _ = join(b, room, "bob")
    assert codes(self_p) == {110}, xml(self_p)
    assert [el.get("from") for el in before if is_presence(el)] == [room + "/alice"]
    it = item(self_p)
    assert (it.get("affiliation"), it.get("role")) == ("none", "participant")


def test_reserved_room_gets_the_config_form_and_applies_it(clients):
    a = clients(0)
    room = new_room()
    join(a, room, "alice")
    res = a.iq("get", "<query xmlns='%s'/>" % NS_OWNER, to=room)
    assert res.get("type") == "result", xml(res)
    form = res.find(q(NS_OWNER, "query")).find(q(NS_DATA, "x"))
    vars_ = {f.get("var") for f in form.findall(q(NS_DATA, "field"))}
    for name in ("roomname", "roomdesc", "persistentroom", "publicroom", "membersonly",
                 "moderatedroom", "passwordprotectedroom", "roomsecret", "maxusers", "whois",
                 "changesubject", "allowinvites", "historylength"):
        assert "muc#roomconfig_" + name in vars_, name
    # Non-owners may not read it.
    configure(a, room, roomname="The Room", roomdesc="About things", whois="anyone")
    b = clients(1)
    _, self_p, _ = join(b, room, "bob")
    # Non-anonymous: 100, and every occupant sees real JIDs.
    assert codes(self_p) == {110, 100}, xml(self_p)
    assert item(self_p).get("jid") == b.jid
    res = b.iq("get", "<query xmlns='%s'/>" % NS_OWNER, to=room)
    assert error_condition(res) == ("auth", ["forbidden"]), xml(res)
    info = b.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    query = info.find(q(NS_INFO, "query"))
    feats = {f.get("var") for f in query.findall(q(NS_INFO, "feature"))}
    assert {NS_MUC, "muc_nonanonymous", "muc_temporary", "muc_open", "muc_unmoderated",
            "muc_unsecured", "muc_public", NS_OCCUPANT_ID} <= feats, feats
    assert query.find(q(NS_INFO, "identity")).get("name") == "The Room"


def test_join_leave_and_fan_out(clients):
    a, b, c = clients(0), clients(1), clients(2)
    room = create_room(a, "alice")
    join(b, room, "bob")
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    before, self_p, _ = join(c, room, "carol")
    assert sorted(el.get("from") for el in before if is_presence(el)) == [room + "/alice", room + "/bob"]
    # Semi-anonymous: a participant does not see real JIDs, the moderator does.
    assert all(item(el).get("jid") is None for el in before if is_presence(el))
    seen_by_a = a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/carol")
    assert item(seen_by_a).get("jid") == c.jid

    groupchat(b, room, "hello room", id_="m1")
    for client in (a, b, c):
        m = wait_groupchat(client, "hello room")
        assert m.get("from") == room + "/bob"
        assert m.get("to") == client.jid
        assert m.get("id") == "m1"
        assert m.find(q(NS_OCCUPANT_ID, "occupant-id")) is not None

    c.send("<presence to='%s/carol' type='unavailable'><status>bye</status></presence>" % room)
    gone = c.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert codes(gone) == {110}, xml(gone)
    assert item(gone).get("role") == "none"
    other = a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable"
                       and el.get("from") == room + "/carol")
    assert other.findtext(q(NS_CLIENT, "status")) == "bye"
    assert 110 not in codes(other)


def test_non_occupant_cannot_speak_and_nick_conflict(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    groupchat(b, room, "intruding")
    err = b.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("modify", ["not-acceptable"]), xml(err)
    _, err, _ = join(b, room, "alice")
    assert err.get("type") == "error" and err.get("from") == room + "/alice"
    assert error_condition(err) == ("cancel", ["conflict"]), xml(err)


def test_nick_change(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    b.send("<presence to='%s/robert'/>" % room)
    for client, self_ in ((a, False), (b, True)):
        old = client.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable"
                              and el.get("from") == room + "/bob")
        assert 303 in codes(old) and item(old).get("nick") == "robert", xml(old)
        assert (110 in codes(old)) == self_
        new = client.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/robert")
        assert new.get("type") is None
    # Taking a nick in use is a conflict.
    b.send("<presence to='%s/alice'/>" % room)
    err = b.wait_for(lambda el: is_presence(el) and el.get("type") == "error")
    assert error_condition(err) == ("cancel", ["conflict"])


def test_multi_session_nick(tern_server, users, clients):
    a = clients(0)
    room = create_room(a, "alice")
    b1 = clients(1, "one")
    b2 = clients(1, "two")
    join(b1, room, "bob")
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    _, self_p, _ = join(b2, room, "bob")
    assert self_p.get("type") is None and 110 in codes(self_p), xml(self_p)
    groupchat(a, room, "to both")
    wait_groupchat(b1, "to both")
    wait_groupchat(b2, "to both")
    # One session leaving leaves the nick in the room.
    b2.send("<presence to='%s/bob' type='unavailable'/>" % room)
    b2.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert not [el for el in a.sync() if is_presence(el) and el.get("from") == room + "/bob"]
    groupchat(a, room, "still there")
    wait_groupchat(b1, "still there")


def test_subject(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    a.send("<message to='%s' type='groupchat'><subject>Topic one</subject></message>" % room)
    for client in (a, b):
        m = client.wait_for(lambda el: is_message(el) and el.findtext(q(NS_CLIENT, "subject")) == "Topic one")
        assert m.get("from") == room + "/alice"
    # Participants may not change it unless the room says so.
    b.send("<message to='%s' type='groupchat'><subject>Mine</subject></message>" % room)
    err = b.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("auth", ["forbidden"])
    c = clients(2)
    _, _, after = join(c, room, "carol")
    assert after[-1].findtext(q(NS_CLIENT, "subject")) == "Topic one"


def test_history_limits(clients):
    a = clients(0)
    room = create_room(a, "alice")
    for i in range(5):
        groupchat(a, room, "line %d" % i)
        wait_groupchat(a, "line %d" % i)
    fresh = itertools.count()

    def history(**h):
        # A fresh session each time: the same history twice on one stream
        # would look like a duplicate delivery to the RawClient.
        b = clients(1, "h%d" % next(fresh))
        _, _, after = join(b, room, "bob", history=h if h else None)
        msgs = [el for el in after if is_message(el) and el.find(q(NS_CLIENT, "body")) is not None]
        b.send("<presence to='%s/bob' type='unavailable'/>" % room)
        b.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
        return msgs

    full = history()
    assert [m.findtext(q(NS_CLIENT, "body")) for m in full] == ["line %d" % i for i in range(5)]
    delay = full[0].find(q(NS_DELAY, "delay"))
    assert delay is not None and delay.get("from") == room and delay.get("stamp")
    assert [m.findtext(q(NS_CLIENT, "body")) for m in history(maxstanzas="2")] == ["line 3", "line 4"]
    assert history(maxchars="0") == []
    assert len(history(seconds="3600")) == 5
    assert len(history(since="2000-01-01T00:00:00Z")) == 5
    assert history(since="2999-01-01T00:00:00Z") == []
    # maxchars counts whole stanzas: room for exactly one.
    one = len(xml(full[-1]))
    assert len(history(maxchars=str(one + 200))) >= 1


def test_private_messages(clients):
    a, b, c = clients(0), clients(1), clients(2)
    room = create_room(a, "alice")
    join(b, room, "bob")
    a.send("<message to='%s/bob' type='chat'><body>psst</body></message>" % room)
    m = b.wait_message("psst")
    assert m.get("from") == room + "/alice"
    assert m.find(q(NS_USER, "x")) is not None
    # Not to a nick that is not there, not from outside.
    a.send("<message to='%s/nobody' type='chat'><body>?</body></message>" % room)
    err = a.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("cancel", ["item-not-found"])
    c.send("<message to='%s/bob' type='chat'><body>hi</body></message>" % room)
    err = c.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("modify", ["not-acceptable"])


# --------------------------------------------------------------------------
# roles and affiliations
# --------------------------------------------------------------------------

def test_members_only_room(clients, users):
    a, b, c = clients(0), clients(1), clients(2)
    c.send("<presence/>")  # available, so that the invitation reaches it
    room = create_room(a, "alice", membersonly="1")
    _, err, _ = join(b, room, "bob")
    assert err.get("type") == "error"
    assert error_condition(err) == ("auth", ["registration-required"]), xml(err)
    res = admin_set(a, room, "<item affiliation='member' jid='%s'/>" % users[1])
    assert res.get("type") == "result", xml(res)
    _, self_p, _ = join(b, room, "bob")
    assert item(self_p).get("affiliation") == "member"
    # The member list, for admins and owners only.
    res = a.iq("get", "<query xmlns='%s'><item affiliation='member'/></query>" % NS_ADMIN, to=room)
    listed = [(i.get("jid"), i.get("affiliation")) for i in res.find(q(NS_ADMIN, "query"))]
    assert listed == [(users[1], "member")], xml(res)
    res = b.iq("get", "<query xmlns='%s'><item affiliation='member'/></query>" % NS_ADMIN, to=room)
    assert error_condition(res) == ("auth", ["forbidden"])
    # Losing membership removes the occupant (321).
    res = admin_set(a, room, "<item affiliation='none' jid='%s'/>" % users[1])
    assert res.get("type") == "result", xml(res)
    out = b.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert codes(out) == {110, 321}, xml(out)
    # An invitation by the owner makes the invitee a member.
    a.send("<message to='%s'><x xmlns='%s'><invite to='%s'><reason>come</reason></invite></x></message>"
           % (room, NS_USER, users[2]))
    inv = c.wait_for(lambda el: is_message(el) and el.find(q(NS_USER, "x")) is not None)
    assert inv.get("from") == room
    invite = inv.find(q(NS_USER, "x")).find(q(NS_USER, "invite"))
    assert invite.get("from") == a.jid and invite.findtext(q(NS_USER, "reason")) == "come"
    _, self_p, _ = join(c, room, "carol")
    assert self_p.get("type") is None and item(self_p).get("affiliation") == "member", xml(self_p)
    # Declining goes back to the inviter.
    c.send("<message to='%s'><x xmlns='%s'><decline to='%s'><reason>no</reason></decline></x></message>"
           % (room, NS_USER, a.jid))
    dec = a.wait_for(lambda el: is_message(el) and el.find(q(NS_USER, "x")) is not None
                     and el.find(q(NS_USER, "x")).find(q(NS_USER, "decline")) is not None)
    assert dec.find(q(NS_USER, "x")).find(q(NS_USER, "decline")).get("from") == users[2]


def test_ban(clients, users):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    res = admin_set(a, room, "<item affiliation='outcast' jid='%s'><reason>spam</reason></item>" % users[1])
    assert res.get("type") == "result", xml(res)
    out = b.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert codes(out) == {110, 301}, xml(out)
    it = item(out)
    assert it.get("affiliation") == "outcast" and it.get("role") == "none"
    assert it.findtext(q(NS_USER, "reason")) == "spam"
    seen = a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert codes(seen) == {301}
    _, err, _ = join(b, room, "bob")
    assert error_condition(err) == ("auth", ["forbidden"]), xml(err)
    res = a.iq("get", "<query xmlns='%s'><item affiliation='outcast'/></query>" % NS_ADMIN, to=room)
    assert [i.get("jid") for i in res.find(q(NS_ADMIN, "query"))] == [users[1]]
    # The last owner cannot step down.
    res = admin_set(a, room, "<item affiliation='member' jid='%s'/>" % users[0])
    assert error_condition(res) == ("cancel", ["conflict"]), xml(res)


def test_kick(clients):
    a, b, c = clients(0), clients(1), clients(2)
    room = create_room(a, "alice")
    join(b, room, "bob")
    join(c, room, "carol")
    # A participant may not kick.
    res = admin_set(c, room, "<item nick='bob' role='none'/>")
    assert error_condition(res) == ("auth", ["forbidden"]), xml(res)
    res = admin_set(a, room, "<item nick='bob' role='none'><reason>out</reason></item>")
    assert res.get("type") == "result", xml(res)
    out = b.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    assert codes(out) == {110, 307}, xml(out)
    assert item(out).find(q(NS_USER, "actor")).get("nick") == "alice"
    seen = c.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable"
                      and el.get("from") == room + "/bob")
    assert codes(seen) == {307}
    # Nobody kicks the owner.
    res = admin_set(a, room, "<item nick='alice' role='none'/>")
    assert error_condition(res) == ("cancel", ["not-allowed"]), xml(res)


def test_voice_in_a_moderated_room(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice", moderatedroom="1")
    _, self_p, _ = join(b, room, "bob")
    assert item(self_p).get("role") == "visitor"
    groupchat(b, room, "may I?")
    err = b.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("auth", ["forbidden"]), xml(err)
    res = admin_set(a, room, "<item nick='bob' role='participant'/>")
    assert res.get("type") == "result", xml(res)
    p = b.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    assert item(p).get("role") == "participant"
    groupchat(b, room, "thanks")
    wait_groupchat(a, "thanks")
    res = a.iq("get", "<query xmlns='%s'><item role='participant'/></query>" % NS_ADMIN, to=room)
    assert [i.get("nick") for i in res.find(q(NS_ADMIN, "query"))] == ["bob"]
    res = admin_set(a, room, "<item nick='bob' role='visitor'/>")
    assert res.get("type") == "result"
    b.wait_for(lambda el: is_presence(el) and item(el) is not None and item(el).get("role") == "visitor")
    groupchat(b, room, "again?")
    err = b.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("auth", ["forbidden"])
    # The room no longer moderated: visitors get voice.
    configure(a, room, moderatedroom="0")
    p = b.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    assert item(p).get("role") == "participant", xml(p)


NS_REQUEST = "http://jabber.org/protocol/muc#request"


def voice_form(type_, **fields):
    inner = field("FORM_TYPE", NS_REQUEST)
    for var, value in fields.items():
        inner += field(var.replace("_", "#", 1) if var.startswith("muc_") else var, value)
    return "<x xmlns='%s' type='%s'>%s</x>" % (NS_DATA, type_, inner)


def test_voice_request_goes_to_moderators_and_their_approval_gives_voice(clients):
    a, b, c = clients(0), clients(1), clients(2)
    room = create_room(a, "alice", moderatedroom="1")
    join(b, room, "bob")
    _, self_p, _ = join(c, room, "carol")
    assert item(self_p).get("role") == "visitor"
    # A moderator has nothing to ask for.
    a.send("<message to='%s' id='vr0'>%s</message>" % (room, voice_form("submit", muc_role="participant")))
    err = a.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err)[1] == ["not-acceptable"], xml(err)
    # Bob, a visitor, asks; the moderator (alice) gets the form, carol does not.
    b.send("<message to='%s' id='vr1'>%s</message>" % (room, voice_form("submit", muc_role="participant")))
    m = a.wait_for(lambda el: is_message(el) and el.find(q(NS_DATA, "x")) is not None)
    assert m.get("from") == room, xml(m)
    form = m.find(q(NS_DATA, "x"))
    assert form.get("type") == "form"
    values = {f.get("var"): f.findtext(q(NS_DATA, "value")) for f in form.findall(q(NS_DATA, "field"))}
    assert values["FORM_TYPE"] == NS_REQUEST
    assert values["muc#roomnick"] == "bob" and values["muc#role"] == "participant"
    assert values["muc#jid"] == b.jid and values["muc#request_allow"] == "false"
    assert not [el for el in c.sync() if is_message(el) and el.find(q(NS_DATA, "x")) is not None]
    # Another visitor's approval is refused; the moderator's gives voice.
    approval = voice_form("submit", muc_role="participant", muc_jid=b.jid, muc_roomnick="bob",
                          muc_request_allow="true")
    c.send("<message to='%s' id='vr2'>%s</message>" % (room, approval))
    err = c.wait_for(lambda el: is_message(el) and el.get("type") == "error")
    assert error_condition(err) == ("auth", ["forbidden"]), xml(err)
    a.send("<message to='%s' id='vr3'>%s</message>" % (room, approval))
    p = b.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    assert item(p).get("role") == "participant", xml(p)
    groupchat(b, room, "voiced")
    wait_groupchat(a, "voiced")


def test_password_protected_room(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice", passwordprotectedroom="1", roomsecret="s3cret")
    _, err, _ = join(b, room, "bob")
    assert error_condition(err) == ("auth", ["not-authorized"]), xml(err)
    _, err, _ = join(b, room, "bob", password="wrong")
    assert error_condition(err) == ("auth", ["not-authorized"]), xml(err)
    _, self_p, _ = join(b, room, "bob", password="s3cret")
    assert self_p.get("type") is None and 110 in codes(self_p)


def test_destroy_with_alternate_venue(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    res = owner_set(a, room, "<destroy jid='elsewhere@%s'><reason>moved</reason></destroy>" % MUC)
    assert res.get("type") == "result", xml(res)
    out = b.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    destroy = out.find(q(NS_USER, "x")).find(q(NS_USER, "destroy"))
    assert destroy is not None and destroy.get("jid") == "elsewhere@" + MUC, xml(out)
    assert destroy.findtext(q(NS_USER, "reason")) == "moved"
    info = b.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    assert error_condition(info) == ("cancel", ["item-not-found"]), xml(info)


def test_public_rooms_are_listed_hidden_ones_not(clients):
    a = clients(0)
    public = create_room(a, "alice", roomname="Open Talk")
    hidden = create_room(a, "alice", publicroom="0")
    res = a.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to=MUC)
    items = {i.get("jid"): i.get("name") for i in res.find(q(NS_ITEMS, "query"))}
    assert items.get(public) == "Open Talk", xml(res)
    assert hidden not in items
    info = a.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=hidden)
    feats = {f.get("var") for f in info.find(q(NS_INFO, "query")).findall(q(NS_INFO, "feature"))}
    assert "muc_hidden" in feats


def test_temporary_room_goes_with_its_last_occupant(clients):
    a = clients(0)
    room = create_room(a, "alice")
    a.send("<presence to='%s/alice' type='unavailable'/>" % room)
    a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    info = a.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    assert error_condition(info) == ("cancel", ["item-not-found"]), xml(info)


def test_self_ping(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    res = a.iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=room + "/alice")
    assert res.get("type") == "result", xml(res)
    res = b.iq("get", "<ping xmlns='urn:xmpp:ping'/>", to=room + "/alice")
    assert error_condition(res) == ("modify", ["not-acceptable"]), xml(res)


def test_private_iq_between_occupants(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    a.send("<iq type='get' id='v1' to='%s/bob'><vCard xmlns='vcard-temp'/></iq>" % room)
    asked = b.wait_for(lambda el: el.tag == q(NS_CLIENT, "iq") and el.get("id") == "v1")
    assert asked.get("from") == room + "/alice" and asked.get("to") == b.jid, xml(asked)
    b.send("<iq type='result' id='v1' to='%s/alice'><vCard xmlns='vcard-temp'><FN>Bob</FN></vCard></iq>" % room)
    answer = a.wait_for(lambda el: el.tag == q(NS_CLIENT, "iq") and el.get("id") == "v1")
    assert answer.get("type") == "result" and answer.get("from") == room + "/bob", xml(answer)
    assert answer.find("{vcard-temp}vCard").findtext("{vcard-temp}FN") == "Bob"


def test_leaving_by_disconnecting(clients, tern_server, users):
    a = clients(0)
    room = create_room(a, "alice")
    b = login(tern_server, users[1], "gone")
    b.send("<presence/>")
    join(b, room, "bob")
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    b.close()
    a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable"
               and el.get("from") == room + "/bob")


def test_occupant_whose_session_vanished_is_removed_when_delivery_fails(clients, tern_server, users):
    a = clients(0)
    room = create_room(a, "alice")
    # Never available: its session's end tells nobody (no directed presence
    # is remembered for it), so the room learns of it from the bounce.
    b = login(tern_server, users[1], "ghost")
    join(b, room, "bob")
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    b.close()
    # Until the server has noticed the closed stream, deliveries still find
    # the session; the first one after that bounces.
    deadline = time.monotonic() + 10
    for n in itertools.count():
        groupchat(a, room, "anyone there? %d" % n)
        gone = [el for el in a.sync() if is_presence(el) and el.get("type") == "unavailable"
                and el.get("from") == room + "/bob"]
        if gone:
            break
        assert time.monotonic() < deadline, "the ghost was never removed"
        time.sleep(0.1)
    assert codes(gone[0]) == {333}, xml(gone[0])


def test_join_again_from_the_same_session_resends_the_room(clients):
    a, b = clients(0), clients(1)
    room = create_room(a, "alice")
    join(b, room, "bob")
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob")
    # A client that lost track joins again: it gets the room again, and the
    # others see no new occupant.
    before, self_p, after = join(b, room, "bob")
    assert [el.get("from") for el in before if is_presence(el)] == [room + "/alice"]
    assert codes(self_p) == {110}
    assert not [el for el in a.sync() if is_presence(el) and el.get("from") == room + "/bob"
                and el.get("type") == "unavailable"]


def test_only_admins_create_rooms_when_so_configured(tern_factory):
    admin = "boss_%s@localhost" % unique_user()
    server = tern_factory({"server": {"admins": [admin]}, "modules.muc": {"create": "admins"}})
    server.add_user(admin, PASSWORD)
    user = server.add_user(unique_user("plain"), PASSWORD)
    u = login(server, user)
    _, err, _ = join(u, new_room(), "me")
    assert error_condition(err) == ("cancel", ["not-allowed"]), xml(err)
    boss = login(server, admin)
    room = create_room(boss, "boss")
    _, self_p, _ = join(u, room, "me")
    assert self_p.get("type") is None
    u.close()
    boss.close()


# --------------------------------------------------------------------------
# persistence and a real client library
# --------------------------------------------------------------------------

def test_persistent_room_survives_a_restart(tern_factory):
    server = tern_factory()
    alice = server.add_user(unique_user("alice"), PASSWORD)
    bob = server.add_user(unique_user("bob"), PASSWORD)
    a = login(server, alice)
    room = create_room(a, "alice", persistentroom="1", roomname="Kept", membersonly="1")
    res = admin_set(a, room, "<item affiliation='member' jid='%s'/>" % bob)
    assert res.get("type") == "result"
    a.send("<message to='%s' type='groupchat'><subject>Still here</subject></message>" % room)
    a.wait_for(lambda el: is_message(el) and el.findtext(q(NS_CLIENT, "subject")) == "Still here")
    a.send("<presence to='%s/alice' type='unavailable'/>" % room)
    a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable")
    a.close()
    server.stop()
    server.start()
    b = login(server, bob)
    info = b.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    query = info.find(q(NS_INFO, "query"))
    assert query is not None, xml(info)
    assert query.find(q(NS_INFO, "identity")).get("name") == "Kept"
    feats = {f.get("var") for f in query.findall(q(NS_INFO, "feature"))}
    assert {"muc_persistent", "muc_membersonly"} <= feats
    _, self_p, after = join(b, room, "bob")
    assert self_p.get("type") is None and item(self_p).get("affiliation") == "member", xml(self_p)
    assert after[-1].findtext(q(NS_CLIENT, "subject")) == "Still here"
    b.close()


def test_slixmpp_xep_0045(tern_server, users):
    async def scenario():
        a = await slix_login(users[0] + "/slix", PASSWORD, tern_server.c2s_port)
        b = await slix_login(users[1] + "/slix", PASSWORD, tern_server.c2s_port)
        for c in (a, b):
            c.register_plugin("xep_0030")
            c.register_plugin("xep_0045")
        try:
            room = new_room()
            pres, subject, occupants, history = await a["xep_0045"].join_muc_wait(
                room, "alice", maxstanzas=10, timeout=10)
            assert {110, 201} <= {int(x) for x in pres["muc"]["status_codes"]}, pres
            form = await a["xep_0045"].get_room_config(room, timeout=10)
            form.set_values({"muc#roomconfig_roomname": "Slix Room"})
            await a["xep_0045"].set_room_config(room, form, timeout=10)
            pres, subject, occupants, history = await b["xep_0045"].join_muc_wait(
                room, "bob", maxstanzas=10, timeout=10)
            assert "alice" in [p["from"].resource for p in occupants]
            got = asyncio.get_running_loop().create_future()
            b.add_event_handler("groupchat_message",
                                lambda m: got.done() or m["body"] != "from slixmpp" or got.set_result(m))
            a.send_message(mto=room, mbody="from slixmpp", mtype="groupchat")
            msg = await asyncio.wait_for(got, 10)
            assert msg["from"] == room + "/alice"
            await a["xep_0045"].set_affiliation(room, "member", jid=users[1], timeout=10)
            members = await a["xep_0045"].get_affiliation_list(room, "member", timeout=10)
            assert [str(j) for j in members] == [users[1]]
            await a["xep_0045"].destroy(room, reason="done", timeout=10)
        finally:
            await a.close()
            await b.close()

    run(scenario())
