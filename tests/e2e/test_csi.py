"""XEP-0352 client state indication over raw c2s: an inactive client gets
no presence updates and chat states until something important arrives or
it says <active/>; then it gets the latest presence of each contact, in
order, and nothing is lost."""

from conftest import NS_CLIENT, q, unique_user

PW = "pw-csi"
NS_CSI = "urn:xmpp:csi:0"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"


def login(server, prefix):
    name = unique_user(prefix)
    server.add_user("%s@localhost" % name, PW)
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource="r")
    c.name = name
    c.full = "%s@localhost/r" % name
    c.send("<presence/>")
    return c


def go_inactive(client):
    client.send("<inactive xmlns='%s'/>" % NS_CSI)
    # The ping round trip proves the server read <inactive/> (a stream is
    # read in order); its reply is important, so it is not held itself.
    client.sync()


def shows(elements):
    return [el.findtext(q(NS_CLIENT, "show")) for el in elements
            if el.tag == q(NS_CLIENT, "presence")]


def nothing_arrives(client, seconds=0.5):
    el = client.maybe_element(seconds)
    assert el is None, "an inactive client got %s" % el.tag


def directed_presence(sender, to, show):
    sender.send("<presence to='%s'><show>%s</show></presence>" % (to, show))


def test_feature_is_offered_after_authentication(tern_server):
    a = login(tern_server, "csf")
    assert a.post_auth_features.find(q(NS_CSI, "csi")) is not None
    a.close()


def test_inactive_holds_presence_and_active_flushes_the_latest(tern_server):
    a, b, c = login(tern_server, "csa"), login(tern_server, "csb"), login(tern_server, "csc")
    a.sync()
    go_inactive(a)
    # Each sync makes the server's order the order written here.
    directed_presence(b, a.full, "away")
    b.sync()
    directed_presence(c, a.full, "xa")
    c.sync()
    directed_presence(b, a.full, "dnd")
    b.sync()
    nothing_arrives(a)
    a.send("<active xmlns='%s'/>" % NS_CSI)
    got = a.sync()
    # c's, then b's latest: b's "away" was superseded by its "dnd".
    assert shows(got) == ["xa", "dnd"], got
    assert [el.get("from") for el in got if el.tag == q(NS_CLIENT, "presence")] == [c.full, b.full]
    for x in (a, b, c):
        x.close()


def test_a_message_with_a_body_releases_what_was_held_first(tern_server):
    a, b = login(tern_server, "csm"), login(tern_server, "csn")
    a.sync()
    go_inactive(a)
    directed_presence(b, a.full, "away")
    b.send("<message to='%s' type='chat'><composing xmlns='%s'/></message>" % (a.full, NS_CHATSTATES))
    b.sync()
    nothing_arrives(a)
    b.message(a.full, "wake-up")
    first = a.next_element()
    second = a.next_element()
    third = a.next_element()
    assert first.tag == q(NS_CLIENT, "presence") and first.findtext(q(NS_CLIENT, "show")) == "away"
    assert second.find(q(NS_CHATSTATES, "composing")) is not None
    assert third.findtext(q(NS_CLIENT, "body")) == "wake-up"
    # Still inactive: the next presence waits again.
    directed_presence(b, a.full, "chat")
    b.sync()
    nothing_arrives(a)
    a.send("<active xmlns='%s'/>" % NS_CSI)
    assert shows(a.sync()) == ["chat"]
    a.close()
    b.close()


def test_subscription_requests_are_not_held(tern_server):
    a, b = login(tern_server, "css"), login(tern_server, "cst")
    a.sync()
    go_inactive(a)
    b.send("<presence to='%s@localhost' type='subscribe'/>" % a.name)
    el = a.wait_for(lambda e: e.tag == q(NS_CLIENT, "presence"), what="subscription request")
    assert el.get("type") == "subscribe"
    a.close()
    b.close()
