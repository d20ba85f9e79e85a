"""The avatar hash in presence (XEP-0153 §3.2, as XEP-0398 §4 has the
server put it there) and vCard4 over PEP (XEP-0292) kept in step with
vcard-temp (XEP-0054). Raw stanzas: the assertions are on the XML the specs
require."""

import base64
import hashlib

from conftest import NS_CLIENT, q, xml
from test_pep import (NS_EVENT, NS_INFO, NS_PUBSUB, answer_caps_if_asked, befriend, events,
                      get_items, iq, login, new_user, publish, received, send_caps_presence,
                      stash, wait_event)

NS_VCARD = "vcard-temp"
NS_UPDATE = "vcard-temp:x:update"
NS_AVATAR_DATA = "urn:xmpp:avatar:data"
NS_AVATAR_META = "urn:xmpp:avatar:metadata"
NODE_VCARD4 = "urn:xmpp:vcard4"
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"

# Two different 1x1 PNGs.
PNG_RED = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PNG_BLUE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def set_vcard(client, inner):
    res = iq(client, "set", "<vCard xmlns='%s'>%s</vCard>" % (NS_VCARD, inner))
    assert res.get("type") == "result", xml(res)


def vcard_photo(png):
    return "<PHOTO><TYPE>image/png</TYPE><BINVAL>%s</BINVAL></PHOTO>" % base64.b64encode(png).decode()


def publish_avatar(client, png):
    sha = sha1(png)
    b64 = base64.b64encode(png).decode()
    assert publish(client, NS_AVATAR_DATA, "<data xmlns='%s'>%s</data>" % (NS_AVATAR_DATA, b64),
                   item_id=sha).get("type") == "result"
    res = publish(client, NS_AVATAR_META, "<metadata xmlns='%s'><info bytes='%d' id='%s' type='image/png'/>"
                  "</metadata>" % (NS_AVATAR_META, len(png), sha), item_id=sha)
    assert res.get("type") == "result", xml(res)


def is_presence_from(el, jid):
    return (el.tag == q(NS_CLIENT, "presence") and el.get("from") == jid
            and el.get("type") in (None, "available"))


def wait_presence(client, jid, timeout=5.0):
    """The next available presence from `jid` (full JID), looking at what
    waited in the stash first."""
    for i, el in enumerate(stash(client)):
        if is_presence_from(el, jid):
            del stash(client)[i]
            return el
    return client.wait_for(lambda el: is_presence_from(el, jid), timeout, "presence from %s" % jid)


def photo_of(presence):
    """(has <x/>, photo text or None when there is no <photo/>)."""
    x = presence.find(q(NS_UPDATE, "x"))
    if x is None:
        return False, None
    photo = x.find(q(NS_UPDATE, "photo"))
    return True, (None if photo is None else (photo.text or ""))


def pair(tern_server):
    """alice and bob, mutual subscription, bob online and available."""
    alice, bob = new_user(tern_server, "av"), new_user(tern_server, "av")
    befriend(tern_server, alice, bob)
    b = login(tern_server, bob)
    b.send("<presence/>")
    b.sync()
    return alice, bob, b


# --------------------------------------------------------------------------
# XEP-0153 / XEP-0398 §4: the photo hash in presence
# --------------------------------------------------------------------------

def test_a_stored_avatar_hash_reaches_contacts_in_presence_from_the_first_one(tern_server):
    alice, bob, b = pair(tern_server)
    first = login(tern_server, alice, resource="one")
    set_vcard(first, "<FN>Alice</FN>" + vcard_photo(PNG_RED))
    first.close()
    # A new login: the hash comes from storage, loaded before its first presence.
    a = login(tern_server, alice, resource="two")
    a.send("<presence><show>chat</show></presence>")
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_RED)), xml(p)
    assert p.findtext(q(NS_CLIENT, "show")) == "chat"


def test_the_hash_changes_and_is_broadcast_again_after_an_avatar_change(tern_server):
    alice, bob, b = pair(tern_server)
    a = login(tern_server, alice)
    a.send("<presence/>")
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (False, None), xml(p)  # no avatar, no <x/> asked for
    # A vCard PHOTO: the presence goes out again, now with its hash.
    set_vcard(a, vcard_photo(PNG_RED))
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_RED)), xml(p)
    # A XEP-0084 publish (converted to the vCard): again, with the new hash.
    publish_avatar(a, PNG_BLUE)
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_BLUE)), xml(p)
    # The client's own presence afterwards carries the new hash too, and a
    # stale one it wrote is overwritten (§4: the server's hash wins).
    a.send("<presence><x xmlns='%s'><photo>%s</photo></x></presence>" % (NS_UPDATE, sha1(PNG_RED)))
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_BLUE)), xml(p)
    # The avatar switched off: the hash the server put there is emptied.
    res = publish(a, NS_AVATAR_META, "<metadata xmlns='%s'/>" % NS_AVATAR_META)
    assert res.get("type") == "result", xml(res)
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, ""), xml(p)
    # Setting the same vCard again changes nothing: no presence.
    set_vcard(a, "<FN>Alice</FN>")
    b.sync()
    assert [el for el in received(b) if is_presence_from(el, a.jid)] == []


def test_empty_photo_is_left_alone_and_empty_x_is_completed(tern_server):
    alice, bob, b = pair(tern_server)
    a = login(tern_server, alice)
    set_vcard(a, vcard_photo(PNG_RED))
    a.send("<presence><x xmlns='%s'><photo/></x></presence>" % NS_UPDATE)
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, ""), xml(p)
    a.send("<presence><x xmlns='%s'/></presence>" % NS_UPDATE)
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_RED)), xml(p)


def test_an_account_without_avatar_answers_an_empty_x_with_an_empty_photo(tern_server):
    alice, bob, b = pair(tern_server)
    a = login(tern_server, alice)
    a.send("<presence><x xmlns='%s'/></presence>" % NS_UPDATE)
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, ""), xml(p)


def test_directed_presence_gets_the_hash_and_probes_answer_with_it(tern_server):
    alice, bob = new_user(tern_server, "av"), new_user(tern_server, "av")
    carol = new_user(tern_server, "av")  # no subscription: directed presence only
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    set_vcard(a, vcard_photo(PNG_RED))
    a.send("<presence/>")
    c = login(tern_server, carol)
    c.send("<presence/>")
    c.sync()
    a.send("<presence to='%s'/>" % c.jid)
    p = wait_presence(c, a.jid)
    assert photo_of(p) == (True, sha1(PNG_RED)), xml(p)
    # bob comes online later: the probe is answered with the stamped presence.
    b = login(tern_server, bob)
    b.send("<presence/>")
    p = wait_presence(b, a.jid)
    assert photo_of(p) == (True, sha1(PNG_RED)), xml(p)


# --------------------------------------------------------------------------
# XEP-0292: vCard4 over PEP
# --------------------------------------------------------------------------

def vcard4_of(client, owner):
    res = get_items(client, owner, NODE_VCARD4)
    assert res.get("type") == "result", xml(res)
    items = res.findall(".//%s" % q(NS_PUBSUB, "item"))
    assert len(items) == 1, xml(res)
    assert items[0].get("id") == "current"
    card = items[0].find(q(NS_VCARD4, "vcard"))
    assert card is not None, xml(res)
    return card


def v4_text(card, prop, value="text"):
    return [el.findtext(q(NS_VCARD4, value)) for el in card.findall(q(NS_VCARD4, prop))]


def test_account_advertises_vcard4(tern_server):
    alice = new_user(tern_server, "v4")
    a = login(tern_server, alice)
    res = iq(a, "get", "<query xmlns='%s'/>" % NS_INFO, to=alice)
    feats = {f.get("var") for f in res.iter(q(NS_INFO, "feature"))}
    assert NODE_VCARD4 in feats
    assert "urn:xmpp:pep-vcard-conversion:0" in feats


def test_a_vcard_temp_set_updates_the_vcard4_node_and_notifies(tern_server):
    alice, bob = new_user(tern_server, "v4"), new_user(tern_server, "v4")
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    send_caps_presence(b, [NODE_VCARD4])
    answer_caps_if_asked(b)
    set_vcard(a, "<FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME>"
                 "<EMAIL><INTERNET/><WORK/><USERID>alice@example.org</USERID></EMAIL>"
                 "<TEL><HOME/><VOICE/><NUMBER>+1-555-0100</NUMBER></TEL><URL>https://example.org/</URL>"
                 "<NOTE>Curious</NOTE><BDAY>1852-05-04</BDAY><ORG><ORGNAME>Wonderland</ORGNAME></ORG>")
    ev = wait_event(b, NODE_VCARD4)
    assert ev.get("from") == alice
    item = ev.find(".//%s" % q(NS_EVENT, "item"))
    assert item.get("id") == "current"
    card = item.find(q(NS_VCARD4, "vcard"))
    assert card is not None, xml(ev)
    assert v4_text(card, "fn") == ["Alice Liddell"]
    card = vcard4_of(b, alice)
    assert v4_text(card, "fn") == ["Alice Liddell"]
    assert v4_text(card, "nickname") == ["ali"]
    assert v4_text(card, "email") == ["alice@example.org"]
    email = card.find(q(NS_VCARD4, "email"))
    assert email.findtext("%s/%s/%s" % (q(NS_VCARD4, "parameters"), q(NS_VCARD4, "type"),
                                        q(NS_VCARD4, "text"))) == "work"
    assert v4_text(card, "tel", "uri") == ["tel:+1-555-0100"]
    assert v4_text(card, "url", "uri") == ["https://example.org/"]
    assert v4_text(card, "note") == ["Curious"]
    assert v4_text(card, "bday", "date") == ["1852-05-04"]
    # The same vCard again: nothing changed, nothing notified.
    set_vcard(a, "<FN>Alice Liddell</FN><NICKNAME>ali</NICKNAME>"
                 "<EMAIL><INTERNET/><WORK/><USERID>alice@example.org</USERID></EMAIL>"
                 "<TEL><HOME/><VOICE/><NUMBER>+1-555-0100</NUMBER></TEL><URL>https://example.org/</URL>"
                 "<NOTE>Curious</NOTE><BDAY>1852-05-04</BDAY><ORG><ORGNAME>Wonderland</ORGNAME></ORG>")
    assert events(received(b), NODE_VCARD4) == []


def test_a_vcard4_publish_updates_vcard_temp_keeping_its_other_fields(tern_server):
    alice, bob = new_user(tern_server, "v4"), new_user(tern_server, "v4")
    befriend(tern_server, alice, bob)
    a = login(tern_server, alice)
    b = login(tern_server, bob)
    send_caps_presence(b, [NODE_VCARD4])
    answer_caps_if_asked(b)
    set_vcard(a, "<FN>Old</FN><ORG><ORGNAME>Wonderland</ORGNAME></ORG>" + vcard_photo(PNG_RED))
    wait_event(b, NODE_VCARD4)
    card = ("<vcard xmlns='%s'><fn><text>Alice Pleasance</text></fn><nickname><text>al</text></nickname>"
            "<email><parameters><type><text>home</text></type></parameters><text>al@example.org</text></email>"
            "<tel><uri>tel:+44-20-7946-0000</uri></tel><bday><date>1852-05-04</date></bday>"
            "<adr><locality>Oxford</locality></adr></vcard>" % NS_VCARD4)
    res = publish(a, NODE_VCARD4, card, item_id="current")
    assert res.get("type") == "result", xml(res)
    # A +notify contact gets the publish as with any PEP node …
    ev = wait_event(b, NODE_VCARD4)
    assert ev.find(".//%s" % q(NS_VCARD4, "adr")) is not None, xml(ev)
    # … and vcard-temp, read by anyone, follows.
    res = iq(b, "get", "<vCard xmlns='%s'/>" % NS_VCARD, to=alice)
    v = res.find(q(NS_VCARD, "vCard"))
    assert v is not None, xml(res)
    assert v.findtext(q(NS_VCARD, "FN")) == "Alice Pleasance"
    assert v.findtext(q(NS_VCARD, "NICKNAME")) == "al"
    email = v.find(q(NS_VCARD, "EMAIL"))
    assert email.findtext(q(NS_VCARD, "USERID")) == "al@example.org"
    assert email.find(q(NS_VCARD, "HOME")) is not None
    assert v.find(q(NS_VCARD, "TEL")).findtext(q(NS_VCARD, "NUMBER")) == "+44-20-7946-0000"
    assert v.findtext(q(NS_VCARD, "BDAY")) == "1852-05-04"
    assert v.find(q(NS_VCARD, "ORG")) is not None  # not a basic field: kept
    assert v.find(q(NS_VCARD, "PHOTO")) is not None
    # No loop: one event for the publish, none echoed back from vcard-temp.
    assert events(received(b), NODE_VCARD4) == []
    # The vCard4 item is what alice published (the copy to vcard-temp did
    # not rewrite it).
    assert v4_text(vcard4_of(a, alice), "fn") == ["Alice Pleasance"]
    assert vcard4_of(a, alice).find(q(NS_VCARD4, "adr")) is not None


def test_vcard4_node_survives_a_restart(tern_factory):
    server = tern_factory()
    alice = new_user(server, "v4")
    a = login(server, alice)
    set_vcard(a, "<FN>Persistent</FN>")
    a.close()
    server.stop()
    server.start()
    a = login(server, alice)
    assert v4_text(vcard4_of(a, alice), "fn") == ["Persistent"]
