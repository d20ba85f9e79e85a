"""What modern clients keep in PEP, kept in step with the older homes of the
same data: bookmarks (XEP-0402 node urn:xmpp:bookmarks:1 ↔ XEP-0048 in
private XML storage and in the PEP node storage:bookmarks, both ways) and
avatars (XEP-0084 ↔ the vCard PHOTO of XEP-0153, as XEP-0398 describes),
nicknames (XEP-0172) and private PEP (XEP-0223) through publish-options.
Raw stanzas assert the XML; slixmpp's xep_0048 and xep_0084 plugins drive
the same paths as clients do."""

import base64
import hashlib

from clients import run, slix_login
from conftest import NS_CLIENT, q, xml
from test_pep import (NS_EVENT, NS_PUBSUB, PASSWORD, answer_caps_if_asked, befriend, events,
                      get_items, iq, item_ids, login, new_user, publish, received,
                      send_caps_presence, wait_event)

NS_BOOKMARKS = "urn:xmpp:bookmarks:1"
NS_LEGACY = "storage:bookmarks"
NS_PRIVATE = "jabber:iq:private"
NS_VCARD = "vcard-temp"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_META = "urn:xmpp:avatar:metadata"
NS_NICK = "http://jabber.org/protocol/nick"

BOOKMARK_OPTIONS = {"pubsub#persist_items": "true", "pubsub#max_items": "max",
                    "pubsub#send_last_published_item": "never",
                    "pubsub#access_model": "whitelist"}
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def private_storage(client):
    res = iq(client, "get", "<query xmlns='%s'><storage xmlns='%s'/></query>" % (NS_PRIVATE, NS_LEGACY))
    assert res.get("type") == "result", xml(res)
    storage = res.find("%s/%s" % (q(NS_PRIVATE, "query"), q(NS_LEGACY, "storage")))
    return {c.get("jid"): c for c in storage.findall(q(NS_LEGACY, "conference"))}


def set_private_storage(client, conferences):
    inner = "".join("<conference jid='%s' name='%s' autojoin='%s'><nick>%s</nick></conference>"
                    % c for c in conferences)
    res = iq(client, "set", "<query xmlns='%s'><storage xmlns='%s'>%s</storage></query>"
             % (NS_PRIVATE, NS_LEGACY, inner))
    assert res.get("type") == "result", xml(res)


def pep_bookmarks(client, owner):
    reply = get_items(client, owner, NS_BOOKMARKS)
    assert reply.get("type") == "result", xml(reply)
    out = {}
    for item in reply.iter(q(NS_PUBSUB, "item")):
        out[item.get("id")] = item.find(q(NS_BOOKMARKS, "conference"))
    return out


# --------------------------------------------------------------------------
# bookmarks
# --------------------------------------------------------------------------

def test_a_xep0402_bookmark_appears_in_private_storage_and_the_legacy_node(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    room = "council@conference.localhost"
    res = publish(a, NS_BOOKMARKS, "<conference xmlns='%s' name='Council' autojoin='true'>"
                  "<nick>Puck</nick></conference>" % NS_BOOKMARKS, item_id=room,
                  options=BOOKMARK_OPTIONS)
    assert res.get("type") == "result", xml(res)
    conf = private_storage(a)[room]
    assert conf.get("name") == "Council"
    assert conf.get("autojoin") == "true"
    assert conf.findtext(q(NS_LEGACY, "nick")) == "Puck"
    legacy = get_items(a, alice, NS_LEGACY)
    storage = legacy.find(".//%s" % q(NS_LEGACY, "storage"))
    assert storage is not None, xml(legacy)
    assert [c.get("jid") for c in storage.findall(q(NS_LEGACY, "conference"))] == [room]
    # Retracting it removes it from the others too.
    res = iq(a, "set", "<pubsub xmlns='%s'><retract node='%s' notify='true'><item id='%s'/></retract>"
             "</pubsub>" % (NS_PUBSUB, NS_BOOKMARKS, room))
    assert res.get("type") == "result", xml(res)
    assert private_storage(a) == {}


def test_a_private_storage_bookmark_appears_in_pep_and_notifies(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    send_caps_presence(a, [NS_BOOKMARKS])
    answer_caps_if_asked(a)
    one, two = "one@conference.localhost", "two@conference.localhost"
    set_private_storage(a, [(one, "One", "true", "me"), (two, "Two", "false", "me")])
    marks = pep_bookmarks(a, alice)
    assert set(marks) == {one, two}
    assert marks[one].get("name") == "One" and marks[one].get("autojoin") == "true"
    assert marks[one].findtext(q(NS_BOOKMARKS, "nick")) == "me"
    got = events(received(a), NS_BOOKMARKS)
    assert len(got) == 2, [xml(e) for e in got]
    # Dropping one from private storage retracts its item.
    set_private_storage(a, [(one, "One", "true", "me")])
    assert set(pep_bookmarks(a, alice)) == {one}
    retracts = [e.find(".//%s" % q(NS_EVENT, "retract")) for e in events(received(a), NS_BOOKMARKS)]
    assert [r.get("id") for r in retracts if r is not None] == [two]
    # The node was made as XEP-0402 asks: whitelist, every item kept.
    conf = iq(a, "get", "<pubsub xmlns='%s#owner'><configure node='%s'/></pubsub>" % (NS_PUBSUB, NS_BOOKMARKS))
    assert "whitelist" in xml(conf) and ">max<" in xml(conf)


def test_legacy_pep_storage_bookmarks_reach_xep0402_and_private_storage(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    room = "legacy@conference.localhost"
    res = publish(a, NS_LEGACY, "<storage xmlns='%s'><conference jid='%s' name='Legacy' autojoin='true'/>"
                  "</storage>" % (NS_LEGACY, room), item_id="current",
                  options={"pubsub#access_model": "whitelist", "pubsub#persist_items": "true"})
    assert res.get("type") == "result", xml(res)
    assert set(pep_bookmarks(a, alice)) == {room}
    assert set(private_storage(a)) == {room}


def test_slixmpp_xep0048_private_bookmarks_round_trip_with_pep(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    room = "slix@conference.localhost"
    assert publish(a, NS_BOOKMARKS, "<conference xmlns='%s' name='Slix' autojoin='true'/>" % NS_BOOKMARKS,
                   item_id=room, options=BOOKMARK_OPTIONS).get("type") == "result"

    async def scenario():
        client = await slix_login(alice, PASSWORD, tern_server.c2s_port)
        try:
            client.register_plugin("xep_0048")
            got = await client["xep_0048"].get_bookmarks(method="xep_0049")
            confs = got["private"]["bookmarks"]["conferences"]
            assert [c["jid"] for c in confs] == [room]
            assert confs[0]["autojoin"]
            from slixmpp.plugins.xep_0048 import Bookmarks
            marks = Bookmarks()
            marks.add_conference("fromslix@conference.localhost", "nick", name="From slix", autojoin=True)
            await client["xep_0048"].set_bookmarks(marks, method="xep_0049")
        finally:
            client.drop()

    run(scenario())
    assert set(pep_bookmarks(a, alice)) == {"fromslix@conference.localhost"}


# --------------------------------------------------------------------------
# avatars, nickname, private PEP
# --------------------------------------------------------------------------

def test_a_pep_avatar_becomes_the_vcard_photo(tern_server):
    alice = new_user(tern_server)
    a = login(tern_server, alice)
    b64 = base64.b64encode(PNG).decode()
    sha = hashlib.sha1(PNG).hexdigest()
    assert publish(a, NS_AVATAR_DATA, "<data xmlns='%s'>%s</data>" % (NS_AVATAR_DATA, b64),
                   item_id=sha).get("type") == "result"
    assert publish(a, NS_AVATAR_META, "<metadata xmlns='%s'><info bytes='%d' id='%s' type='image/png'/>"
                   "</metadata>" % (NS_AVATAR_META, len(PNG), sha), item_id=sha).get("type") == "result"
    res = iq(a, "get", "<vCard xmlns='%s'/>" % NS_VCARD)
    photo = res.find("%s/%s" % (q(NS_VCARD, "vCard"), q(NS_VCARD, "PHOTO")))
    assert photo is not None, xml(res)
    assert photo.findtext(q(NS_VCARD, "TYPE")) == "image/png"
    assert photo.findtext(q(NS_VCARD, "BINVAL")) == b64


def test_a_vcard_photo_becomes_the_pep_avatar_and_notifies_contacts(tern_server):
    alice, bob = new_user(tern_server), new_user(tern_server)
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    send_caps_presence(b, [NS_AVATAR_META])
    answer_caps_if_asked(b)
    b64 = base64.b64encode(PNG).decode()
    res = iq(a, "set", "<vCard xmlns='%s'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL>"
             "</PHOTO></vCard>" % (NS_VCARD, b64))
    assert res.get("type") == "result", xml(res)
    sha = hashlib.sha1(PNG).hexdigest()
    ev = wait_event(b, NS_AVATAR_META)
    info = ev.find(".//{%s}info" % NS_AVATAR_META)
    assert info.get("id") == sha and info.get("type") == "image/png"
    assert info.get("bytes") == str(len(PNG))
    data = get_items(b, alice, NS_AVATAR_DATA)
    assert item_ids(data) == [sha]
    assert data.find(".//{%s}data" % NS_AVATAR_DATA).text == b64


def test_slixmpp_xep0084_publish_reaches_the_vcard(tern_server):
    alice = new_user(tern_server)

    async def scenario():
        client = await slix_login(alice, PASSWORD, tern_server.c2s_port)
        try:
            client.register_plugin("xep_0084")
            sha = hashlib.sha1(PNG).hexdigest()
            await client["xep_0084"].publish_avatar(PNG)
            await client["xep_0084"].publish_avatar_metadata(
                [{"id": sha, "type": "image/png", "bytes": len(PNG)}])
        finally:
            client.drop()

    run(scenario())
    a = login(tern_server, alice)
    res = iq(a, "get", "<vCard xmlns='%s'/>" % NS_VCARD)
    assert res.findtext(".//{%s}BINVAL" % NS_VCARD) == base64.b64encode(PNG).decode()


def test_nickname_and_private_pep(tern_server):
    alice, bob = new_user(tern_server), new_user(tern_server)
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    assert publish(a, NS_NICK, "<nick xmlns='%s'>Ali</nick>" % NS_NICK).get("type") == "result"
    assert get_items(b, alice, NS_NICK).findtext(".//{%s}nick" % NS_NICK) == "Ali"
    # XEP-0223: whitelist + persist; a contact cannot read it.
    node = "urn:example:private-prefs"
    assert publish(a, node, "<prefs xmlns='urn:example'/>",
                   options={"pubsub#access_model": "whitelist",
                            "pubsub#persist_items": "true"}).get("type") == "result"
    assert get_items(b, alice, node).get("type") == "error"
    assert item_ids(get_items(a, alice, node))
