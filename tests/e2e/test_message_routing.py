"""Messages to a bare JID (RFC 6121 §8.5.2): delivered to the available
resources with the highest non-negative priority (all of them on a tie),
never to a negative priority, headlines to every non-negative resource,
and to a full JID that is not connected as if to the bare JID (§8.5.3.2.1).
"""

from conftest import NS_CLIENT, q, unique_user

PASSWORD = "routing"


def login(server, jid, resource, priority):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource, presence=False)
    c.send("<presence><priority>%d</priority></presence>" % priority)
    c.poll(0.3)
    c.elements.clear()
    return c


def bodies(client, seconds=0.6):
    client.poll(seconds)
    got = [el.findtext(q(NS_CLIENT, "body")) for el in client.elements
           if el.tag == q(NS_CLIENT, "message") and el.findtext(q(NS_CLIENT, "body"))]
    client.elements.clear()
    return got


def test_bare_jid_messages_follow_priority(tern_server):
    alice = tern_server.add_user(unique_user("alice"), PASSWORD)
    bob = tern_server.add_user(unique_user("bob"), PASSWORD)
    a = tern_server.raw()
    a.login(alice.split("@")[0], PASSWORD, resource="a", presence=True)
    high1 = login(tern_server, bob, "high1", 5)
    high2 = login(tern_server, bob, "high2", 5)
    low = login(tern_server, bob, "low", 1)
    negative = login(tern_server, bob, "negative", -1)
    try:
        a.message(bob, "tie")
        assert bodies(high1) == ["tie"]
        assert bodies(high2) == ["tie"], "a tie at the top priority reaches every such resource"
        assert bodies(low) == []
        assert bodies(negative) == []

        a.send("<message to='%s' type='headline'><body>news</body></message>" % bob)
        assert bodies(high1) == ["news"] and bodies(high2) == ["news"] and bodies(low) == ["news"]
        assert bodies(negative) == [], "negative priority never gets bare-JID messages"

        a.message(bob + "/gone", "to a resource that is not there")
        assert bodies(high1) == ["to a resource that is not there"]

        a.message(bob + "/low", "to the low one by name")
        assert bodies(low) == ["to the low one by name"], "a full JID reaches that resource"
        assert bodies(high1) == []

        high1.close()
        high2.close()
        # The closes travel on other connections: give the server a moment
        # to see them before the next message is routed.
        a.poll(0.5)
        a.message(bob, "after the top left")
        assert bodies(low) == ["after the top left"]
        assert bodies(negative) == []
    finally:
        for c in (a, low, negative):
            c.close()
