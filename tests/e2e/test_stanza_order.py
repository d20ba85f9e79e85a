"""Stanzas from one sender reach one receiver in the order sent (RFC 6120
§10.1), whatever module handles them: a `subscribed` (storage work on both
rosters), a directed presence, a message, a roster set and a `subscribe`
sent back to back, fifty times, on a server with two shards. Raw clients:
the test must see the order on the wire, which slixmpp would hide."""

from conftest import NS_CLIENT, q, unique_user

PW = "pw-order"
NS_ROSTER = "jabber:iq:roster"
ROUNDS = 50


def login(server, name):
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource="r")
    # An interested resource (RFC 6121 §2.1.6): it gets roster pushes.
    res = c.iq("get", "<query xmlns='%s'/>" % NS_ROSTER)
    assert res.get("type") == "result"
    c.send("<presence/>")
    return c


def is_presence(el, frm, type_=None):
    return (el.tag == q(NS_CLIENT, "presence") and el.get("from") == frm
            and el.get("type") == type_)


def push_item(el):
    """The <item/> of a roster push, or None."""
    if el.tag != q(NS_CLIENT, "iq") or el.get("type") != "set":
        return None
    query = el.find(q(NS_ROSTER, "query"))
    return None if query is None else (query, query.find(q(NS_ROSTER, "item")))


def read_until(client, pred, what):
    """Every element up to and including the first for which pred holds."""
    seen = []
    while True:
        el = client.next_element()
        if el is None:
            client.fail("no %s; got %d elements before" % (what, len(seen)))
        seen.append(el)
        if pred(el):
            return seen


def status_of(el):
    s = el.find(q(NS_CLIENT, "status"))
    return None if s is None else s.text


def body_of(el):
    b = el.find(q(NS_CLIENT, "body"))
    return None if b is None else b.text


def test_subscribed_presence_message_roster_set_subscribe_arrive_in_order_on_two_shards(tern_factory):
    server = tern_factory({"server": {"shards": 2}})
    alice_name, bob_name = unique_user("ordera"), unique_user("orderb")
    server.add_user("%s@localhost" % alice_name, PW)
    server.add_user("%s@localhost" % bob_name, PW)
    alice_bare, bob_bare = "%s@localhost" % alice_name, "%s@localhost" % bob_name
    alice_full = alice_bare + "/r"
    alice = login(server, alice_name)
    bob = login(server, bob_name)

    last_version = -1
    for i in range(ROUNDS):
        tag = "round %d" % i
        bob.send("<presence to='%s' type='subscribe'/>" % alice_bare)
        read_until(alice, lambda el: is_presence(el, bob_bare, "subscribe"), "subscribe from bob")
        # Back to back, in one write.
        alice.send(
            "<presence to='%s' type='subscribed'/>" % bob_bare
            + "<presence to='%s/r'><status>%s</status></presence>" % (bob_bare, tag)
            + "<message to='%s' type='chat' id='m%d'><body>%s</body></message>" % (bob_bare, i, tag)
            + "<iq type='set' id='set%d'><query xmlns='%s'><item jid='%s' name='%s'/></query></iq>"
            % (i, NS_ROSTER, bob_bare, tag)
            + "<presence to='%s' type='subscribe'/>" % bob_bare)

        # What bob receives from alice (and his roster pushes), in order.
        got = read_until(bob, lambda el: is_presence(el, alice_bare, "subscribe"), "subscribe from alice")
        kinds = []
        for el in got:
            p = push_item(el)
            if p and p[1] is not None and p[1].get("jid") == alice_bare and p[1].get("subscription") == "to":
                kinds.append("push to")
            elif is_presence(el, alice_bare, "subscribed"):
                kinds.append("subscribed")
            elif is_presence(el, alice_full) and status_of(el) == tag:
                kinds.append("directed presence")
            elif el.tag == q(NS_CLIENT, "message") and body_of(el) == tag:
                kinds.append("message")
            elif is_presence(el, alice_bare, "subscribe"):
                kinds.append("subscribe")
        assert kinds == ["push to", "subscribed", "directed presence", "message", "subscribe"], (i, kinds)

        # What alice receives: her pushes in the order of her changes, with
        # increasing versions, and the roster-set result between them.
        got = read_until(alice, lambda el: (push_item(el) or (None, None))[1] is not None
                         and push_item(el)[1].get("ask") == "subscribe", "push of alice's subscribe")
        steps = []
        for el in got:
            p = push_item(el)
            if p and p[1] is not None and p[1].get("jid") == bob_bare:
                version = int(p[0].get("ver"))
                assert version > last_version, (i, version, last_version)
                last_version = version
                if p[1].get("ask") == "subscribe":
                    steps.append("push ask")
                elif p[1].get("name") == tag:
                    steps.append("push name")
                elif p[1].get("subscription") == "from":
                    steps.append("push from")
            elif el.tag == q(NS_CLIENT, "iq") and el.get("id") == "set%d" % i:
                assert el.get("type") == "result"
                steps.append("set result")
        assert steps == ["push from", "push name", "set result", "push ask"], (i, steps)

        # Back to a clean state for the next round: alice removes bob
        # (unsubscribe + unsubscribed to him, RFC 6121 §2.5.2).
        res = alice.iq("set", "<query xmlns='%s'><item jid='%s' subscription='remove'/></query>"
                       % (NS_ROSTER, bob_bare))
        assert res.get("type") == "result"
        got = read_until(bob, lambda el: is_presence(el, alice_bare, "unsubscribed"), "unsubscribed")
        seen = [el.get("type") for el in got if el.get("from") == alice_bare]
        assert seen == ["unsubscribe", "unsubscribed"], (i, seen)
        # The unavailable that follows the cancellation comes after it.
        read_until(bob, lambda el: is_presence(el, alice_full, "unavailable"), "unavailable from alice")

    alice.close()
    bob.close()
