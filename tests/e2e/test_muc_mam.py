"""XEP-0313 on the room JID (room archives through the server's one
archive), XEP-0359 stanza-ids on live groupchat, XEP-0424 retraction and
XEP-0425 moderation in rooms, status 332 to every occupant when the server
stops, and XEP-0249 direct invitations passing through. Raw XML clients, so
that the stanzas the XEPs require are what is asserted; one test drives
slixmpp's xep_0313 plugin against a room."""

import time

import pytest

from clients import NS_MAM, NS_SID, account_client, form, query, rsm, stanza_ids
from conftest import NS_CLIENT, TernServer, q, unique_user, xml
from muc_helpers import (MUC, NS_DATA, NS_INFO, NS_OCCUPANT_ID, NS_USER, admin_set, codes, configure,
                         create_room, error_condition, field, is_message, is_presence, join,
                         owner_set, room_features, wait_groupchat)

PASSWORD = "muc-mam secret"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_RETRACT0 = "urn:xmpp:message-retract:0"
NS_MODERATE = "urn:xmpp:message-moderate:1"
NS_MODERATE0 = "urn:xmpp:message-moderate:0"
NS_FASTEN = "urn:xmpp:fasten:0"
NS_CONFERENCE = "jabber:x:conference"
FAST = {"limits": {"stanza_rate": 100000, "stanza_burst": 100000}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-muc-mam"), FAST)
    s.start()
    yield s
    s.stop_and_check()


def login(server, name, resource="r"):
    return account_client(server, name, PASSWORD, resource)


def people(server, *prefixes):
    return [login(server, unique_user(p)) for p in prefixes]


def say(c, room, body, extra=""):
    c.send("<message to='%s' type='groupchat' id='%s'><body>%s</body>%s</message>"
           % (room, body, body, extra))


def heard(c, room, body):
    """The groupchat `body` as `c` got it, and the room's stanza-id on it."""
    m = wait_groupchat(c, body)
    ids = stanza_ids(m, room)
    assert len(ids) == 1, xml(m)
    return m, ids[0]


def real_jid_of(inner):
    x = inner.find(q(NS_USER, "x"))
    it = None if x is None else x.find(q(NS_USER, "item"))
    return None if it is None else it.get("jid")


# --------------------------------------------------------------------------

def test_room_archives_and_live_stanza_ids_match_the_archive(server):
    a, b = people(server, "ra", "rb")
    room = create_room(a, "alice")
    feats = room_features(a, room)
    assert {NS_MAM, NS_SID, NS_RETRACT, NS_MODERATE, NS_MODERATE0} <= feats, feats
    join(b, room, "bob")
    say(a, room, "hello room")
    m_a, id_a = heard(a, room, "hello room")
    m_b, id_b = heard(b, room, "hello room")
    assert id_a == id_b
    assert m_b.get("from") == room + "/alice"
    # A client cannot forge the room's id: its own goes.
    say(b, room, "forged", "<stanza-id xmlns='%s' by='%s' id='0000000000001'/>" % (NS_SID, room))
    _, forged_id = heard(a, room, "forged")
    assert forged_id != "0000000000001"
    page = query(b, to=room)
    assert page.bodies == ["hello room", "forged"]
    assert page.ids == [id_a, forged_id]
    assert page.complete and page.count == 2
    inner = page.results[0][1]
    # As the room sent it: from room/nick, its stanza-id, its occupant-id.
    assert inner.get("from") == room + "/alice", xml(inner)
    assert inner.get("type") == "groupchat"
    assert stanza_ids(inner, room) == [id_a]
    assert inner.find(q(NS_OCCUPANT_ID, "occupant-id")) is not None
    # The wrapper comes from the room.
    # (query() already checked queryid, to, forwarded and delay.)
    # Bodiless chat states are not archived.
    b.send("<message to='%s' type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/>"
           "</message>" % room)
    a.wait_for(lambda el: is_message(el) and el.find(
        q("http://jabber.org/protocol/chatstates", "active")) is not None)
    assert query(a, to=room).count == 2
    # The service says so too.
    svc = a.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=MUC)
    assert NS_MAM in {f.get("var") for f in svc.find(q(NS_INFO, "query")).findall(q(NS_INFO, "feature"))}
    for c in (a, b):
        c.close()


def test_paging_filters_and_errors(server):
    a, b = people(server, "pa", "pb")
    room = create_room(a, "alice")
    join(b, room, "bob")
    ids = []
    for i in range(7):
        who, nick = (a, "alice") if i % 2 == 0 else (b, "bob")
        say(who, room, "m%d" % i)
        ids.append(heard(a, room, "m%d" % i)[1])
    # Forward, three at a time.
    p1 = query(a, rsm(3), to=room)
    assert p1.ids == ids[:3] and not p1.complete and p1.count == 7
    assert (p1.first, p1.last) == (ids[0], ids[2])
    p2 = query(a, rsm(3, after=p1.last), to=room)
    assert p2.ids == ids[3:6] and not p2.complete
    p3 = query(a, rsm(3, after=p2.last), to=room)
    assert p3.ids == ids[6:] and p3.complete
    # Backward from the end.
    b1 = query(a, rsm(3, before=""), to=room)
    assert b1.ids == ids[4:] and not b1.complete
    b2 = query(a, rsm(3, before=b1.first), to=room)
    assert b2.ids == ids[1:4] and not b2.complete
    b3 = query(a, rsm(3, before=b2.first), to=room)
    assert b3.ids == ids[:1] and b3.complete
    # Flip-page: the same page, newest first.
    flipped = query(a, rsm(3, before="") + "<flip-page/>", to=room)
    assert flipped.ids == list(reversed(ids[4:]))
    # with = room/nick: by nick.
    bob_only = query(a, form(**{"with": room + "/bob"}), to=room)
    assert bob_only.bodies == ["m1", "m3", "m5"]
    # before-id / after-id / ids.
    assert query(a, form(after_id=ids[4]), to=room).ids == ids[5:]
    assert query(a, form(before_id=ids[2]), to=room).ids == ids[:2]
    assert query(a, form(ids=[ids[1], ids[5]]), to=room).ids == [ids[1], ids[5]]
    # start/end: everything since the 4th message's stamp.
    stamp = query(a, form(ids=[ids[3]]), to=room).results[0][2]
    assert ids[3] in query(a, form(start=stamp), to=room).ids
    assert query(a, form(end="2001-01-01T00:00:00Z"), to=room).ids == []
    # Errors: unknown id, malformed form, unknown field.
    assert query(a, rsm(3, after="0000000000001"), to=room, expect_error=True) == ["item-not-found"]
    assert query(a, form(start="yesterday"), to=room, expect_error=True) == ["bad-request"]
    assert query(a, form(colour="red"), to=room, expect_error=True) == ["feature-not-implemented"]
    # The form itself.
    res = a.iq("get", "<query xmlns='%s'/>" % NS_MAM, to=room)
    assert res.get("type") == "result" and res.find(q(NS_MAM, "query")) is not None, xml(res)
    for c in (a, b):
        c.close()


def test_who_may_read_the_archive(server):
    a, b, c, d = people(server, "wa", "wb", "wc", "wd")
    room = create_room(a, "alice", membersonly="1")
    say(a, room, "members only talk")
    heard(a, room, "members only talk")
    # Not a member, not an occupant: forbidden.
    assert query(b, to=room, expect_error=True) == ["forbidden"]
    # A member may read without being in the room.
    assert admin_set(a, room, "<item affiliation='member' jid='%s'/>"
                     % b.jid.split("/")[0]).get("type") == "result"
    assert query(b, to=room).bodies == ["members only talk"]
    # An outcast may not.
    assert admin_set(a, room, "<item affiliation='outcast' jid='%s'/>"
                     % c.jid.split("/")[0]).get("type") == "result"
    assert query(c, to=room, expect_error=True) == ["forbidden"]
    # In an open room: occupants read, strangers do not.
    open_room = create_room(a, "alice")
    say(a, open_room, "open talk")
    heard(a, open_room, "open talk")
    assert query(d, to=open_room, expect_error=True) == ["forbidden"]
    join(d, open_room, "dave")
    assert query(d, to=open_room).bodies == ["open talk"]
    for x in (a, b, c, d):
        x.close()


def test_real_jids_only_for_those_who_may_see_them(server):
    a, b = people(server, "ja", "jb")
    room = create_room(a, "alice")  # semi-anonymous by default
    join(b, room, "bob")
    say(b, room, "who am i")
    heard(a, room, "who am i")
    bob_bare = b.jid.split("/")[0]
    as_participant = query(b, to=room).results[0][1]
    assert real_jid_of(as_participant) is None, xml(as_participant)
    as_moderator = query(a, to=room).results[0][1]
    assert real_jid_of(as_moderator) == bob_bare, xml(as_moderator)
    # Filtering by a real JID would tell who spoke: only for moderators.
    assert query(b, form(**{"with": bob_bare}), to=room, expect_error=True) == ["forbidden"]
    assert query(a, form(**{"with": bob_bare}), to=room).bodies == ["who am i"]
    # Non-anonymous: everyone sees.
    configure(a, room, whois="anyone")
    assert real_jid_of(query(b, to=room).results[0][1]) == bob_bare
    for c in (a, b):
        c.close()


def test_room_without_archiving(server):
    a, b = people(server, "na", "nb")
    room = create_room(a, "alice", enablearchiving="0")
    assert NS_MAM not in room_features(a, room)
    say(a, room, "not kept")
    m = wait_groupchat(a, "not kept")
    assert stanza_ids(m, room) == [], xml(m)
    assert query(a, to=room, expect_error=True) == ["service-unavailable"]
    # ejabberd's field name turns it on.
    res = owner_set(a, room, "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, field("mam", "1")))
    assert res.get("type") == "result", xml(res)
    say(a, room, "kept")
    heard(a, room, "kept")
    assert query(a, to=room).bodies == ["kept"]
    for c in (a, b):
        c.close()


def retract(c, room, stanza_id, legacy=False):
    if legacy:
        payload = ("<apply-to xmlns='%s' id='%s'><retract xmlns='%s'/></apply-to>"
                   % (NS_FASTEN, stanza_id, NS_RETRACT0))
    else:
        payload = "<retract xmlns='%s' id='%s'/>" % (NS_RETRACT, stanza_id)
    c.send("<message to='%s' type='groupchat' id='retract-%s'>%s"
           "<fallback xmlns='urn:xmpp:fallback:0' for='%s'/>"
           "<body>This person attempted to retract a previous message.</body>"
           "<store xmlns='urn:xmpp:hints'/></message>" % (room, stanza_id, payload, NS_RETRACT))


def wait_retraction(c, stanza_id, ns=NS_RETRACT):
    return c.wait_for(lambda el: is_message(el) and any(
        r.get("id") == stanza_id for r in el.findall(q(ns, "retract"))), what="retraction")


def archived(c, room, stanza_id):
    page = query(c, form(ids=[stanza_id]), to=room)
    assert len(page.results) == 1
    return page.results[0][1]


def test_sender_retracts_own_message(server):
    a, b, c = people(server, "xa", "xb", "xc")
    room = create_room(a, "alice", historylength="10")
    join(b, room, "bob")
    say(b, room, "oops secret")
    _, sid = heard(a, room, "oops secret")
    heard(b, room, "oops secret")
    retract(b, room, sid)
    got = wait_retraction(a, sid)
    assert got.get("from") == room + "/bob", xml(got)
    assert stanza_ids(got, room), "the retraction is archived too: %s" % xml(got)
    wait_retraction(b, sid)
    # The archive keeps a tombstone: the ids, no body.
    deadline = time.monotonic() + 5
    while True:
        inner = archived(a, room, sid)
        if inner.find(q(NS_RETRACT, "retracted")) is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    retracted = inner.find(q(NS_RETRACT, "retracted"))
    assert retracted is not None and retracted.get("stamp"), xml(inner)
    assert inner.findtext(q(NS_CLIENT, "body")) is None, xml(inner)
    assert not [el for el in inner.iter() if "oops secret" in (el.text or "")], xml(inner)
    assert stanza_ids(inner, room) == [sid]
    assert inner.get("from") == room + "/bob"
    # A newcomer's history no longer has it.
    before, _, after = join(c, room, "carol")
    assert "oops secret" not in [el.findtext(q(NS_CLIENT, "body")) for el in after]
    # Someone else's message cannot be retracted by a participant.
    say(a, room, "alice keeps this")
    _, sid2 = heard(b, room, "alice keeps this")
    retract(b, room, sid2, legacy=True)
    a.wait_for(lambda el: is_message(el) and el.find(q(NS_FASTEN, "apply-to")) is not None)
    # Nothing to wait for when nothing happens: give the archive a moment.
    time.sleep(0.5)
    assert archived(a, room, sid2).findtext(q(NS_CLIENT, "body")) == "alice keeps this"
    for x in (a, b, c):
        x.close()


_mod_ids = iter(range(1, 10 ** 9))


def moderate(c, room, stanza_id, reason="spam", legacy=False):
    """Sends a moderation request; returns the iq reply and what came
    before it (the moderator hears the notice first)."""
    if legacy:
        payload = ("<apply-to xmlns='%s' id='%s'><moderate xmlns='%s'><retract xmlns='%s'/>"
                   "<reason>%s</reason></moderate></apply-to>"
                   % (NS_FASTEN, stanza_id, NS_MODERATE0, NS_RETRACT0, reason))
    else:
        payload = ("<moderate xmlns='%s' id='%s'><retract xmlns='%s'/><reason>%s</reason></moderate>"
                   % (NS_MODERATE, stanza_id, NS_RETRACT, reason))
    iq_id = "mod%d" % next(_mod_ids)
    c.send("<iq type='set' id='%s' to='%s'>%s</iq>" % (iq_id, room, payload))
    before = []
    while True:
        el = c.next_element()
        if el.tag == q(NS_CLIENT, "iq") and el.get("id") == iq_id:
            return el, before
        before.append(el)


def notice_in(elements, stanza_id):
    found = [el for el in elements if is_message(el) and any(
        r.get("id") == stanza_id for r in el.findall(q(NS_RETRACT, "retract")))]
    assert len(found) == 1, [xml(e) for e in elements]
    return found[0]


def test_moderator_moderates_and_participant_may_not(server):
    a, b = people(server, "ma", "mb")
    room = create_room(a, "mod")
    join(b, room, "bob")
    say(b, room, "buy potions")
    _, sid = heard(a, room, "buy potions")
    heard(b, room, "buy potions")
    # A participant may not.
    res, _ = moderate(b, room, sid)
    assert error_condition(res) == ("auth", ["forbidden"]), xml(res)
    # An unknown id.
    res, _ = moderate(a, room, "0000000000001")
    assert error_condition(res)[1] == ["item-not-found"], xml(res)
    # The moderator may: everyone hears, in both forms, and the iq is answered.
    res, before = moderate(a, room, sid, reason="no spam here")
    assert res.get("type") == "result", xml(res)
    for notice in (notice_in(before, sid), wait_retraction(b, sid)):
        assert notice.get("from") == room and notice.get("type") == "groupchat", xml(notice)
        r = notice.find(q(NS_RETRACT, "retract"))
        moderated = r.find(q(NS_MODERATE, "moderated"))
        assert moderated is not None and moderated.get("by") == room + "/mod", xml(notice)
        assert moderated.find(q(NS_OCCUPANT_ID, "occupant-id")) is not None
        assert r.findtext(q(NS_RETRACT, "reason")) == "no spam here"
        legacy = notice.find(q(NS_FASTEN, "apply-to"))
        assert legacy is not None and legacy.get("id") == sid
        assert legacy.find(q(NS_MODERATE0, "moderated")) is not None
    inner = archived(b, room, sid)
    assert inner.findtext(q(NS_CLIENT, "body")) is None, xml(inner)
    tomb = inner.find(q(NS_RETRACT, "retracted"))
    assert tomb is not None and tomb.find(q(NS_MODERATE, "moderated")).get("by") == room + "/mod"
    # The notice is archived for those who catch up later.
    bodies_and_retracts = [(r[1].findtext(q(NS_CLIENT, "body")), r[1].find(q(NS_RETRACT, "retract")))
                           for r in query(b, to=room).results]
    assert any(rt is not None and rt.get("id") == sid for _, rt in bodies_and_retracts)
    # The older request form works too.
    say(b, room, "more potions")
    _, sid2 = heard(a, room, "more potions")
    res, before = moderate(a, room, sid2, legacy=True)
    assert res.get("type") == "result", xml(res)
    notice_in(before, sid2)
    wait_retraction(b, sid2)
    for c in (a, b):
        c.close()


def test_destroyed_room_takes_its_archive(server):
    a, = people(server, "da")
    room = create_room(a, "alice", persistentroom="1")
    say(a, room, "to be forgotten")
    heard(a, room, "to be forgotten")
    assert query(a, to=room).count == 1
    res = owner_set(a, room, "<destroy/>")
    assert res.get("type") == "result", xml(res)
    a.wait_for(lambda el: is_presence(el) and el.get("type") == "unavailable"
               and el.find(q(NS_USER, "x")).find(q(NS_USER, "destroy")) is not None)
    # The same name again: a new room, an empty archive.
    _, self_p, _ = join(a, room, "alice")
    assert 201 in codes(self_p)
    assert owner_set(a, room, "<x xmlns='%s' type='submit'/>" % NS_DATA).get("type") == "result"
    assert query(a, to=room).count == 0
    a.close()


def test_direct_invitation_passes_unchanged(server):
    a, b = people(server, "ia", "ib")
    room = create_room(a, "alice")
    # To the full JID: these raw clients send no presence, so a bare JID
    # would go to offline storage.
    a.send("<message to='%s' id='inv1'><x xmlns='%s' jid='%s' reason='come' password='pw'/></message>"
           % (b.jid, NS_CONFERENCE, room))
    got = b.wait_for(lambda el: is_message(el) and el.find(q(NS_CONFERENCE, "x")) is not None)
    x = got.find(q(NS_CONFERENCE, "x"))
    assert (x.get("jid"), x.get("reason"), x.get("password")) == (room, "come", "pw"), xml(got)
    assert got.get("from") == a.jid and got.get("id") == "inv1"
    for c in (a, b):
        c.close()


def test_slixmpp_xep_0313_on_a_room(server):
    from clients import run, slix_login
    name = unique_user("sl")
    a = login(server, name)
    room = create_room(a, "alice")
    for i in range(3):
        say(a, room, "slix-%d" % i)
    last_id = heard(a, room, "slix-2")[1]

    async def fetch():
        client = await slix_login("%s@localhost" % name, PASSWORD, server.c2s_port)
        try:
            client.register_plugin("xep_0313")
            iq = await client.plugin["xep_0313"].retrieve(jid=room, rsm={"max": 10}, timeout=10)
            fin = iq["mam_fin"]
            return fin.xml.get("complete"), fin["rsm"]["last"], fin["rsm"]["count"]
        finally:
            await client.close()

    complete, last, count = run(fetch())
    assert (complete, last, str(count)) == ("true", last_id, "3")
    a.close()


def test_archive_survives_restart(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-muc-mam-restart"), FAST)
    s.start()
    try:
        a = login(s, unique_user("rs"))
        room = create_room(a, "alice", persistentroom="1")
        say(a, room, "kept across restarts")
        _, sid = heard(a, room, "kept across restarts")
        a.close()
        s.stop()
        s.start()
        a = login(s, a.jid.split("@")[0])
        join(a, room, "alice")
        page = query(a, to=room)
        assert page.ids == [sid] and page.bodies == ["kept across restarts"]
        # New ids stay above the old ones.
        say(a, room, "after restart")
        _, sid2 = heard(a, room, "after restart")
        assert query(a, to=room).ids == [sid, sid2]
        a.close()
    finally:
        s.stop_and_check()


def test_occupants_hear_332_when_the_server_stops(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-muc-332"), FAST)
    s.start()
    try:
        a, b = people(s, "sa", "sb")
        room = create_room(a, "alice")
        join(b, room, "bob")
        a.sync()
        b.sync()
        s.proc.send_signal(15)  # SIGTERM
        for c, nick in ((a, "alice"), (b, "bob")):
            seen = []
            while True:
                el = c.maybe_element(10)
                if el is None:
                    break
                seen.append(el)
            mine = [el for el in seen if is_presence(el) and el.get("type") == "unavailable"
                    and el.get("from") == "%s/%s" % (room, nick)]
            assert mine and {110, 332} <= codes(mine[0]), [xml(e) for e in seen]
            x = mine[0].find(q(NS_USER, "x"))
            assert x.find(q(NS_USER, "item")).get("role") == "none"
            # Before the stream's <system-shutdown/>.
            errors = [i for i, el in enumerate(seen) if el.tag.endswith("}error")]
            assert errors and seen.index(mine[0]) < errors[0], [xml(e) for e in seen]
        assert s.proc.wait(20) == 0
    finally:
        s.stop_and_check()
