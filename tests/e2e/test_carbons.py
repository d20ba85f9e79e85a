"""XEP-0280 message carbons over raw c2s, plus one scenario driven by
slixmpp's xep_0280 plugin: sent and received copies reach the account's
other carbons-enabled resources and no one else; <private/> and the
XEP-0334 no-copy hint keep a message out of carbons; groupchat, errors and
resources that did not enable carbons get no copies."""

import asyncio

from clients import run, slix_login
from conftest import NS_CLIENT, q, unique_user

PW = "pw-carbons"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


def login(server, name, resource, carbons=True, priority=None):
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource=resource)
    if carbons:
        reply = c.iq("set", "<enable xmlns='%s'/>" % NS_CARBONS)
        assert reply.get("type") == "result", reply
    if priority is not None:
        c.send("<presence><priority>%d</priority></presence>" % priority)
    else:
        c.send("<presence/>")
    return c


def account(server, prefix):
    name = unique_user(prefix)
    server.add_user("%s@localhost" % name, PW)
    return name


def carbon_of(el, direction):
    """The forwarded message inside a carbon of that direction, else None."""
    if el.tag != q(NS_CLIENT, "message"):
        return None
    wrapper = el.find(q(NS_CARBONS, direction))
    if wrapper is None:
        return None
    return wrapper.find(q(NS_FORWARD, "forwarded")).find(q(NS_CLIENT, "message"))


def carbons_in(elements):
    return [el for el in elements
            if el.tag == q(NS_CLIENT, "message")
            and (el.find(q(NS_CARBONS, "sent")) is not None
                 or el.find(q(NS_CARBONS, "received")) is not None)]


def wait_carbon(client, direction, body):
    el = client.wait_for(
        lambda e: (m := carbon_of(e, direction)) is not None
        and m.findtext(q(NS_CLIENT, "body")) == body,
        what="%s carbon of %r" % (direction, body))
    return el, carbon_of(el, direction)


def test_server_advertises_carbons(tern_server):
    name = account(tern_server, "cbd")
    c = login(tern_server, name, "r", carbons=False)
    info = c.iq("get", "<query xmlns='%s'/>" % NS_DISCO_INFO, to="localhost")
    features = {f.get("var") for f in info.iter(q(NS_DISCO_INFO, "feature"))}
    assert NS_CARBONS in features
    c.close()


def test_sent_and_received_copies(tern_server):
    alice, bob = account(tern_server, "cba"), account(tern_server, "cbb")
    a1 = login(tern_server, alice, "a1")
    a2 = login(tern_server, alice, "a2")
    b = login(tern_server, bob, "b", carbons=False)
    a1.sync(), a2.sync(), b.sync()  # presence exchanged and consumed

    # Received: bob -> alice/a1; a2 gets a <received/> copy, a1 the message.
    b.message("%s@localhost/a1" % alice, "hello-a1")
    a1.wait_message("hello-a1")
    el, inner = wait_carbon(a2, "received", "hello-a1")
    assert el.get("from") == "%s@localhost" % alice
    assert el.get("to") == "%s@localhost/a2" % alice
    assert inner.get("from") == "%s@localhost/b" % bob
    assert inner.get("to") == "%s@localhost/a1" % alice
    assert not carbons_in(a1.sync()), "the recipient resource got a copy too"

    # Sent: alice/a1 -> bob; a2 gets a <sent/> copy, a1 none.
    a1.message("%s@localhost/b" % bob, "hello-b")
    b.wait_message("hello-b")
    el, inner = wait_carbon(a2, "sent", "hello-b")
    assert el.get("from") == "%s@localhost" % alice
    assert el.get("to") == "%s@localhost/a2" % alice
    assert inner.get("from") == "%s@localhost/a1" % alice
    assert inner.get("to") == "%s@localhost/b" % bob
    assert not carbons_in(a1.sync()), "the sender got its own message back"
    assert not carbons_in(b.sync()), "a resource without carbons got a copy"
    for c in (a1, a2, b):
        c.close()


def test_message_to_bare_jid_copies_to_the_resources_it_missed(tern_server):
    alice, bob = account(tern_server, "cbr"), account(tern_server, "cbs")
    high = login(tern_server, alice, "high", priority=5)
    low = login(tern_server, alice, "low", priority=0)
    b = login(tern_server, bob, "b", carbons=False)
    high.sync(), low.sync(), b.sync()

    b.message("%s@localhost" % alice, "to-bare")
    high.wait_message("to-bare")
    wait_carbon(low, "received", "to-bare")
    assert not carbons_in(high.sync())
    for c in (high, low, b):
        c.close()


def test_private_and_no_copy_are_not_carbon_copied(tern_server):
    alice, bob = account(tern_server, "cbp"), account(tern_server, "cbq")
    a1 = login(tern_server, alice, "a1")
    a2 = login(tern_server, alice, "a2")
    b = login(tern_server, bob, "b")
    a1.sync(), a2.sync(), b.sync()

    a1.send("<message to='%s@localhost/b' type='chat'><body>private-out</body>"
            "<private xmlns='%s'/></message>" % (bob, NS_CARBONS))
    got = b.wait_message("private-out")
    # The receiving server removes <private/> before delivery (§7).
    assert got.find(q(NS_CARBONS, "private")) is None
    b.send("<message to='%s@localhost/a1' type='chat'><body>no-copy-in</body>"
           "<no-copy xmlns='urn:xmpp:hints'/></message>" % alice)
    a1.wait_message("no-copy-in")
    b.send("<message to='%s@localhost/a1' type='chat'><body>private-in</body>"
           "<private xmlns='%s'/></message>" % (alice, NS_CARBONS))
    a1.wait_message("private-in")
    # Neither is a chat message an account's other resources may see.
    b.send("<message to='%s@localhost/a1' type='groupchat'><body>gc</body></message>" % alice)
    a1.wait_message("gc")
    assert not carbons_in(a2.sync()), "a2 got a copy it must not get"
    for c in (a1, a2, b):
        c.close()


def test_disable_stops_copies_and_others_accounts_are_not_allowed(tern_server):
    alice, bob = account(tern_server, "cbx"), account(tern_server, "cby")
    a1 = login(tern_server, alice, "a1")
    a2 = login(tern_server, alice, "a2")
    b = login(tern_server, bob, "b", carbons=False)
    a1.sync(), a2.sync(), b.sync()

    assert a2.iq("set", "<disable xmlns='%s'/>" % NS_CARBONS).get("type") == "result"
    b.message("%s@localhost/a1" % alice, "after-disable")
    a1.wait_message("after-disable")
    a1.message("%s@localhost/b" % bob, "sent-after-disable")
    b.wait_message("sent-after-disable")
    assert not carbons_in(a2.sync())

    # Enabling carbons for someone else's account is refused (§4).
    reply = b.iq("set", "<enable xmlns='%s'/>" % NS_CARBONS, to="%s@localhost" % alice)
    assert reply.get("type") == "error"
    assert reply.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}not-allowed") is not None
    for c in (a1, a2, b):
        c.close()


def test_slixmpp_carbons_plugin(tern_server):
    alice, bob = account(tern_server, "cbk"), account(tern_server, "cbl")
    port = tern_server.c2s_port

    async def scenario():
        phone = await slix_login("%s@localhost/phone" % alice, PW, port)
        laptop = await slix_login("%s@localhost/laptop" % alice, PW, port)
        friend = await slix_login("%s@localhost/desk" % bob, PW, port)
        received, sent = asyncio.Queue(), asyncio.Queue()
        for client in (phone, laptop):
            client.register_plugin("xep_0280")
        laptop.add_event_handler("carbon_received", lambda m: received.put_nowait(m))
        laptop.add_event_handler("carbon_sent", lambda m: sent.put_nowait(m))
        await phone["xep_0280"].enable()
        await laptop["xep_0280"].enable()
        try:
            friend.send_message(mto="%s@localhost/phone" % alice, mbody="to-phone", mtype="chat")
            await phone.next_message(body="to-phone")
            copy = await asyncio.wait_for(received.get(), 5)
            inner = copy["carbon_received"]
            assert inner["body"] == "to-phone"
            assert str(inner["from"]) == "%s@localhost/desk" % bob

            phone.send_message(mto="%s@localhost/desk" % bob, mbody="from-phone", mtype="chat")
            await friend.next_message(body="from-phone")
            copy = await asyncio.wait_for(sent.get(), 5)
            inner = copy["carbon_sent"]
            assert inner["body"] == "from-phone"
            assert str(inner["to"]) == "%s@localhost/desk" % bob
        finally:
            for client in (phone, laptop, friend):
                await client.close()

    run(scenario())
