"""What rooms carry besides talk: room avatars (XEP-0486, vcard-temp on
the room JID), nick registration and reserved nicks (XEP-0045 §7.10,
§7.12), and the metadata of a room's archive (XEP-0313 §5). Raw XML
clients, so that the stanzas the XEPs require are what is asserted."""

import base64
import hashlib

import pytest

from clients import NS_MAM, account_client, stanza_ids
from conftest import TernServer, q, unique_user, xml
from muc_helpers import (NS_ADMIN, NS_DATA, NS_INFO, codes, create_room, error_condition,
                         field, is_message, is_presence, item, join, room_features,
                         wait_groupchat)

PASSWORD = "muc-extras secret"
NS_VCARD = "vcard-temp"
NS_REGISTER = "jabber:iq:register"
NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
NS_MUC_REGISTER = "http://jabber.org/protocol/muc#register"
AVATAR_MAX = 2048
# A small PNG's worth of bytes: the room hashes whatever the image is.
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-muc-extras"),
                   {"modules.muc": {"avatar_max_bytes": AVATAR_MAX}})
    s.start()
    yield s
    s.stop_and_check()


def people(server, *prefixes):
    return [account_client(server, unique_user(p), PASSWORD) for p in prefixes]


def vcard_with_photo(image, type_="image/png"):
    return ("<vCard xmlns='%s'><PHOTO><TYPE>%s</TYPE><BINVAL>%s</BINVAL></PHOTO></vCard>"
            % (NS_VCARD, type_, base64.b64encode(image).decode()))


def roominfo(c, room):
    """The room's muc#roominfo form as {var: [values]}."""
    info = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    for x in info.find(q(NS_INFO, "query")).findall(q(NS_DATA, "x")):
        fields = {f.get("var"): [v.text or "" for v in f.findall(q(NS_DATA, "value"))]
                  for f in x.findall(q(NS_DATA, "field"))}
        if fields.get("FORM_TYPE") == [NS_ROOMINFO]:
            return fields
    raise AssertionError("no muc#roominfo form: " + xml(info))


def config_change(c, room):
    """The room's 104 notice (configuration changed)."""
    m = c.wait_for(lambda el: is_message(el) and el.get("from") == room and 104 in codes(el),
                   what="104 from %s" % room)
    assert m.get("type") == "groupchat", xml(m)
    return m


def register_iq(c, room, payload, type_="set"):
    return c.iq(type_, "<query xmlns='%s'>%s</query>" % (NS_REGISTER, payload), to=room)


def register_form(nick):
    return "<x xmlns='%s' type='submit'>%s%s</x>" % (
        NS_DATA, field("FORM_TYPE", NS_MUC_REGISTER), field("muc#register_roomnick", nick))


def reserved_nick(c, room):
    res = c.iq("get", "<query xmlns='%s' node='x-roomuser-item'/>" % NS_INFO, to=room)
    query = res.find(q(NS_INFO, "query"))
    assert query is not None and query.get("node") == "x-roomuser-item", xml(res)
    idents = query.findall(q(NS_INFO, "identity"))
    if not idents:
        return None
    assert (idents[0].get("category"), idents[0].get("type")) == ("conference", "text"), xml(res)
    return idents[0].get("name")


# --------------------------------------------------------------------------
# room avatars (XEP-0486)
# --------------------------------------------------------------------------

def test_owner_sets_the_avatar_and_another_occupant_reads_it(server):
    a, b = people(server, "ava", "avb")
    room = create_room(a, "alice")
    join(b, room, "bob")
    assert NS_VCARD in room_features(b, room)
    assert "muc#roominfo_avatarhash" not in roominfo(b, room)

    res = a.iq("set", vcard_with_photo(IMAGE), to=room)
    assert res.get("type") == "result" and res.get("from") == room, xml(res)
    for c in (a, b):
        config_change(c, room)
    digest = hashlib.sha1(IMAGE).hexdigest()
    assert roominfo(b, room)["muc#roominfo_avatarhash"] == [digest]
    got = b.iq("get", "<vCard xmlns='%s'/>" % NS_VCARD, to=room)
    assert got.get("type") == "result" and got.get("from") == room, xml(got)
    photo = got.find(q(NS_VCARD, "vCard")).find(q(NS_VCARD, "PHOTO"))
    assert photo.findtext(q(NS_VCARD, "TYPE")) == "image/png", xml(got)
    assert base64.b64decode(photo.findtext(q(NS_VCARD, "BINVAL"))) == IMAGE
    # The room's vCard is the room's: the owner's own account vCard is untouched.
    own = a.iq("get", "<vCard xmlns='%s'/>" % NS_VCARD)
    assert own.get("type") == "result", xml(own)
    assert own.find(q(NS_VCARD, "vCard")).find(q(NS_VCARD, "PHOTO")) is None, xml(own)
    # Someone not in the room may read it too (to show it before joining).
    c, = people(server, "avc")
    assert c.iq("get", "<vCard xmlns='%s'/>" % NS_VCARD, to=room).get("type") == "result"

    # An empty vCard takes the avatar away.
    res = a.iq("set", "<vCard xmlns='%s'/>" % NS_VCARD, to=room)
    assert res.get("type") == "result", xml(res)
    config_change(b, room)
    assert "muc#roominfo_avatarhash" not in roominfo(b, room)
    got = b.iq("get", "<vCard xmlns='%s'/>" % NS_VCARD, to=room)
    assert got.find(q(NS_VCARD, "vCard")).find(q(NS_VCARD, "PHOTO")) is None, xml(got)
    for x in (a, b, c):
        x.close()


def test_only_owners_set_the_avatar_and_within_the_size_limit(server):
    a, b = people(server, "avo", "avp")
    room = create_room(a, "alice")
    join(b, room, "bob")
    res = b.iq("set", vcard_with_photo(IMAGE), to=room)
    assert error_condition(res) == ("auth", ["forbidden"]), xml(res)
    res = a.iq("set", vcard_with_photo(b"x" * (AVATAR_MAX + 1)), to=room)
    assert error_condition(res) == ("modify", ["not-acceptable"]), xml(res)
    res = a.iq("set", "<vCard xmlns='%s'><PHOTO><BINVAL>!!</BINVAL></PHOTO></vCard>" % NS_VCARD, to=room)
    assert error_condition(res) == ("modify", ["bad-request"]), xml(res)
    assert "muc#roominfo_avatarhash" not in roominfo(b, room)
    for c in (a, b):
        c.close()


# --------------------------------------------------------------------------
# nick registration (XEP-0045 §7.10, §7.12)
# --------------------------------------------------------------------------

def test_nick_registration_reserves_the_nick(server):
    a, b, c = people(server, "rga", "rgb", "rgc")
    room = create_room(a, "alice")
    feats = room_features(b, room)
    assert {NS_REGISTER, NS_MUC_REGISTER} <= feats, feats
    join(b, room, "bob")
    assert reserved_nick(b, room) is None

    # The form: FORM_TYPE muc#register, the nick required.
    res = register_iq(b, room, "", type_="get")
    form = res.find(q(NS_REGISTER, "query")).find(q(NS_DATA, "x"))
    assert form is not None and form.get("type") == "form", xml(res)
    fields = {f.get("var"): f for f in form.findall(q(NS_DATA, "field"))}
    assert fields["FORM_TYPE"].findtext(q(NS_DATA, "value")) == NS_MUC_REGISTER
    assert fields["muc#register_roomnick"].find(q(NS_DATA, "required")) is not None, xml(res)
    assert res.find(q(NS_REGISTER, "query")).find(q(NS_REGISTER, "registered")) is None

    # Not a form: bad-request. A submit: registered, and a member now,
    # which the occupants hear as bob's new affiliation.
    res = register_iq(b, room, "<x xmlns='%s' type='submit'/>" % NS_DATA)
    assert error_condition(res) == ("modify", ["bad-request"]), xml(res)
    res = register_iq(b, room, register_form("bobby"))
    assert res.get("type") == "result", xml(res)
    p = a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob"
                   and item(el) is not None and item(el).get("affiliation") == "member")
    assert p.get("type") is None, xml(p)
    assert reserved_nick(b, room) == "bobby"
    assert reserved_nick(c, room) is None
    res = register_iq(b, room, "", type_="get")
    query = res.find(q(NS_REGISTER, "query"))
    assert query.find(q(NS_REGISTER, "registered")) is not None, xml(res)
    assert query.findtext(q(NS_REGISTER, "username")) == "bobby"
    # Owners see the nick in the member list.
    res = a.iq("get", "<query xmlns='%s'><item affiliation='member'/></query>" % NS_ADMIN, to=room)
    listed = [(i.get("jid"), i.get("nick")) for i in res.find(q(NS_ADMIN, "query"))]
    assert listed == [(b.jid.split("/")[0], "bobby")], xml(res)

    # The nick is bob's: carol can neither enter under it nor register it.
    _, err, _ = join(c, room, "bobby")
    assert err.get("type") == "error", xml(err)
    assert error_condition(err) == ("cancel", ["conflict"]), xml(err)
    res = register_iq(c, room, register_form("bobby"))
    assert error_condition(res) == ("cancel", ["conflict"]), xml(res)
    # Nor take it by a nick change once inside.
    join(c, room, "carol")
    c.send("<presence to='%s/bobby'/>" % room)
    err = c.wait_for(lambda el: is_presence(el) and el.get("type") == "error")
    assert error_condition(err) == ("cancel", ["conflict"]), xml(err)

    # Unregistering gives the nick back and ends the membership.
    res = register_iq(b, room, "<remove/>")
    assert res.get("type") == "result", xml(res)
    a.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bob"
               and item(el) is not None and item(el).get("affiliation") == "none")
    assert reserved_nick(b, room) is None
    c.send("<presence to='%s/bobby'/>" % room)
    p = c.wait_for(lambda el: is_presence(el) and el.get("from") == room + "/bobby"
                   and 110 in codes(el))
    assert p.get("type") is None, xml(p)
    for x in (a, b, c):
        x.close()


def test_registration_in_a_members_only_room_is_for_members(server):
    a, b = people(server, "rma", "rmb")
    room = create_room(a, "alice", membersonly="1")
    res = register_iq(b, room, "", type_="get")
    assert error_condition(res) == ("cancel", ["not-allowed"]), xml(res)
    res = register_iq(b, room, register_form("bob"))
    assert error_condition(res) == ("cancel", ["not-allowed"]), xml(res)
    _, err, _ = join(b, room, "bob")
    assert error_condition(err) == ("auth", ["registration-required"]), xml(err)
    # The owner registers a nick of its own (it stays owner).
    res = register_iq(a, room, register_form("boss"))
    assert res.get("type") == "result", xml(res)
    assert reserved_nick(a, room) == "boss"
    for c in (a, b):
        c.close()


# --------------------------------------------------------------------------
# archive metadata (XEP-0313 §5) on the room
# --------------------------------------------------------------------------

def metadata(c, room):
    res = c.iq("get", "<metadata xmlns='%s'/>" % NS_MAM, to=room)
    assert res.get("type") == "result" and res.get("from") == room, xml(res)
    return res.find(q(NS_MAM, "metadata"))


def test_room_archive_metadata(server):
    a, b, stranger = people(server, "mda", "mdb", "mdc")
    room = create_room(a, "alice")
    join(b, room, "bob")
    empty = metadata(b, room)
    assert empty is not None and len(empty) == 0, xml(empty)
    ids = []
    for body in ("first", "second", "third"):
        a.send("<message to='%s' type='groupchat'><body>%s</body></message>" % (room, body))
        ids.append(stanza_ids(wait_groupchat(b, body), room)[0])
    meta = metadata(b, room)
    start, end = meta.find(q(NS_MAM, "start")), meta.find(q(NS_MAM, "end"))
    assert start.get("id") == ids[0] and end.get("id") == ids[-1], xml(meta)
    for e in (start, end):
        assert e.get("timestamp", "").endswith("Z"), xml(meta)
    assert start.get("timestamp") <= end.get("timestamp")
    # Who may not read the archive may not read its bounds either.
    res = stranger.iq("get", "<metadata xmlns='%s'/>" % NS_MAM, to=room)
    assert error_condition(res) == ("auth", ["forbidden"]), xml(res)
    for c in (a, b, stranger):
        c.close()


# --------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------

def test_avatar_and_registered_nick_survive_a_restart(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-muc-extras-restart"))
    s.start()
    try:
        a, b = people(s, "psa", "psb")
        room = create_room(a, "alice", persistentroom="1")
        assert a.iq("set", vcard_with_photo(IMAGE), to=room).get("type") == "result"
        assert register_iq(b, room, register_form("bobby")).get("type") == "result"
        for c in (a, b):
            c.close()
        s.stop()
        s.start()
        b = account_client(s, b.jid.split("@")[0], PASSWORD)
        assert roominfo(b, room)["muc#roominfo_avatarhash"] == [hashlib.sha1(IMAGE).hexdigest()]
        assert reserved_nick(b, room) == "bobby"
        _, self_p, _ = join(b, room, "bobby")
        assert item(self_p).get("affiliation") == "member", xml(self_p)
        b.close()
    finally:
        s.stop_and_check()
