"""Raw-XML helpers for the multi-user chat tests (XEP-0045 and what rooms
carry: archives, avatars, registration), shared by test_muc.py,
test_muc_mam.py and test_muc_extras.py. `c` is a conftest RawClient."""

import itertools

from conftest import NS_CLIENT, q, stanza_error, unique_user, xml

MUC = "conference.localhost"
NS_MUC = "http://jabber.org/protocol/muc"
NS_USER = NS_MUC + "#user"
NS_ADMIN = NS_MUC + "#admin"
NS_OWNER = NS_MUC + "#owner"
NS_DATA = "jabber:x:data"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DELAY = "urn:xmpp:delay"
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

_rooms = itertools.count(1)


def new_room():
    return "room%d_%s@%s" % (next(_rooms), unique_user("r"), MUC)


def is_presence(el):
    return el.tag == q(NS_CLIENT, "presence")


def is_message(el):
    return el.tag == q(NS_CLIENT, "message")


def codes(el):
    x = el.find(q(NS_USER, "x"))
    if x is None:
        return set()
    return {int(s.get("code")) for s in x.findall(q(NS_USER, "status"))}


def item(el):
    x = el.find(q(NS_USER, "x"))
    return None if x is None else x.find(q(NS_USER, "item"))


def error_condition(el):
    typ, conds = stanza_error(el)
    return typ, [c.split("}")[1] for c in conds]


def send_join(c, room, nick, password=None, history=None, muc=True):
    inner = ""
    if password is not None:
        inner += "<password>%s</password>" % password
    if history is not None:
        inner += "<history %s/>" % " ".join("%s='%s'" % kv for kv in history.items())
    x = "<x xmlns='%s'>%s</x>" % (NS_MUC, inner) if muc else ""
    c.send("<presence to='%s/%s'>%s</presence>" % (room, nick, x))


def self_presence(c, room):
    """Waits for the presence from the room that carries status 110 (or an
    error presence); returns it."""
    return c.wait_for(lambda el: is_presence(el) and el.get("from", "").startswith(room + "/")
                      and (110 in codes(el) or el.get("type") == "error"),
                      what="self-presence from %s" % room)


def subject_message(c, room):
    return c.wait_for(lambda el: is_message(el) and el.find(q(NS_CLIENT, "subject")) is not None
                      and el.find(q(NS_CLIENT, "body")) is None
                      and el.get("from", "").split("/")[0] == room,
                      what="subject from %s" % room)


def join(c, room, nick, **kw):
    """Joins an existing room; returns (elements before self-presence,
    self-presence, elements up to and including the subject)."""
    send_join(c, room, nick, **kw)
    before = []
    while True:
        el = c.next_element()
        if is_presence(el) and el.get("from", "").startswith(room + "/") and (
                110 in codes(el) or el.get("type") == "error"):
            break
        before.append(el)
    self_p = el
    if self_p.get("type") == "error":
        return before, self_p, []
    after = []
    while True:
        el = c.next_element()
        after.append(el)
        if is_message(el) and el.find(q(NS_CLIENT, "subject")) is not None and \
                el.find(q(NS_CLIENT, "body")) is None:
            return before, self_p, after


def owner_set(c, room, payload):
    return c.iq("set", "<query xmlns='%s'>%s</query>" % (NS_OWNER, payload), to=room)


def field(var, *values):
    return "<field var='%s'>%s</field>" % (var, "".join("<value>%s</value>" % v for v in values))


def configure(c, room, **fields):
    inner = field("FORM_TYPE", "http://jabber.org/protocol/muc#roomconfig")
    for k, v in fields.items():
        inner += field("muc#roomconfig_" + k, v)
    res = owner_set(c, room, "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, inner))
    assert res.get("type") == "result", xml(res)
    return res


def create_room(c, nick="owner", **config):
    """Creates a room (reserved if config is given, else instant) and
    returns its JID, with `c` in it as owner."""
    room = new_room()
    _, self_p, _ = join(c, room, nick)
    assert {110, 201} <= codes(self_p), xml(self_p)
    if config:
        configure(c, room, **config)
    else:
        res = owner_set(c, room, "<x xmlns='%s' type='submit'/>" % NS_DATA)
        assert res.get("type") == "result", xml(res)
    return room


def admin_set(c, room, items):
    return c.iq("set", "<query xmlns='%s'>%s</query>" % (NS_ADMIN, items), to=room)


def groupchat(c, room, body, id_=None):
    id_attr = " id='%s'" % id_ if id_ else ""
    c.send("<message to='%s' type='groupchat'%s><body>%s</body></message>" % (room, id_attr, body))


def wait_groupchat(c, body):
    return c.wait_for(lambda el: is_message(el) and el.get("type") == "groupchat"
                      and el.findtext(q(NS_CLIENT, "body")) == body, what="groupchat %r" % body)


def room_features(c, room):
    info = c.iq("get", "<query xmlns='%s'/>" % NS_INFO, to=room)
    return {f.get("var") for f in info.find(q(NS_INFO, "query")).findall(q(NS_INFO, "feature"))}
