"""Messages to a bare JID (RFC 6121 §8.5.2): delivered to the available
resources with the highest non-negative priority (all of them on a tie),
never to a negative priority, headlines to every non-negative resource,
and to a full JID that is not connected as if to the bare JID (§8.5.3.2.1).

No sleeps: the sender's ping round trip proves the server has routed what it
sent before, and each recipient's own ping round trip (RawClient.sync) then
collects everything delivered to it, so an absent message is proven absent.
"""

from conftest import NS_CLIENT, q, unique_user

PASSWORD = "routing"


def login(server, jid, resource, priority):
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource=resource, presence=False)
    c.send("<presence><priority>%d</priority></presence>" % priority)
    c.sync()  # the priority is in force once the server has answered after it
    return c


def delivered(sender, recipients):
    """{recipient: [bodies]} of everything delivered since the last call."""
    sender.sync()
    return {name: c.bodies_until_sync() for name, c in recipients.items()}


def unavailable_from(jids):
    return lambda el: (el.tag == q(NS_CLIENT, "presence") and el.get("from") in jids
                       and el.get("type") == "unavailable")


def test_bare_jid_messages_follow_priority(tern_server):
    alice = tern_server.add_user(unique_user("alice"), PASSWORD)
    bob = tern_server.add_user(unique_user("bob"), PASSWORD)
    a = tern_server.raw()
    a.login(alice.split("@")[0], PASSWORD, resource="a", presence=True)
    high1 = login(tern_server, bob, "high1", 5)
    high2 = login(tern_server, bob, "high2", 5)
    low = login(tern_server, bob, "low", 1)
    negative = login(tern_server, bob, "negative", -1)
    all4 = {"high1": high1, "high2": high2, "low": low, "negative": negative}
    try:
        a.message(bob, "tie")
        assert delivered(a, all4) == {"high1": ["tie"], "high2": ["tie"], "low": [],
                                      "negative": []}, \
            "a tie at the top priority reaches every such resource, and only those"

        a.send("<message to='%s' type='headline'><body>news</body></message>" % bob)
        assert delivered(a, all4) == {"high1": ["news"], "high2": ["news"], "low": ["news"],
                                      "negative": []}, \
            "headlines reach every non-negative resource, never a negative one"

        a.message(bob + "/gone", "to a resource that is not there")
        got = delivered(a, all4)
        assert got == {"high1": ["to a resource that is not there"],
                       "high2": ["to a resource that is not there"],
                       "low": [], "negative": []}, got

        a.message(bob + "/low", "to the low one by name")
        assert delivered(a, all4) == {"high1": [], "high2": [], "low": ["to the low one by name"],
                                      "negative": []}, "a full JID reaches that resource only"

        high1.close()
        high2.close()
        # Bob's other resources see the two go (RFC 6121 §4.5.2): after
        # that the server no longer counts them for routing.
        gone = {high1.jid, high2.jid}
        while gone:
            el = low.wait_for(unavailable_from(gone), what="unavailable from %s" % gone)
            gone.remove(el.get("from"))
        a.message(bob, "after the top left")
        got = delivered(a, {"low": low, "negative": negative})
        assert got == {"low": ["after the top left"], "negative": []}, got
    finally:
        for c in (a, low, negative):
            c.close()
