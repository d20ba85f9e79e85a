"""XEP-0357 push notifications over raw c2s. The app server is a local test
account's full JID: it receives the publish iqs and answers them. A message
for an account with no session, or for one whose stream-managed session is
hibernating, is published to every registered (jid, node); nothing private
by default; disable stops it; an error reply disables the pair; the
registrations survive a restart."""

import time
import xml.etree.ElementTree as ET

from conftest import NS_CLIENT, q, unique_user

PW = "pw-push"
NS_PUSH = "urn:xmpp:push:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_DATA = "jabber:x:data"
NS_SM = "urn:xmpp:sm:3"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"


def account(server, prefix):
    name = unique_user(prefix)
    server.add_user("%s@localhost" % name, PW)
    return name


def login(server, name, presence=False, resource="r"):
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource=resource, presence=presence)
    return c


def leave(c):
    """Closes the stream the polite way: once the server has closed its
    side, the session is unbound."""
    c.send("</stream:stream>")
    c.wait_closed()
    c.close()


def enable(c, app_jid, node, secret=None):
    form = ""
    if secret is not None:
        form = ("<x xmlns='%s'><field var='FORM_TYPE'><value>%s</value></field>"
                "<field var='secret'><value>%s</value></field></x>" % (NS_DATA, PUBLISH_OPTIONS, secret))
    res = c.iq("set", "<enable xmlns='%s' jid='%s' node='%s'>%s</enable>" % (NS_PUSH, app_jid, node, form))
    assert res.get("type") == "result", res


def disable(c, app_jid, node=None):
    node_attr = " node='%s'" % node if node else ""
    res = c.iq("set", "<disable xmlns='%s' jid='%s'%s/>" % (NS_PUSH, app_jid, node_attr))
    assert res.get("type") == "result", res


def is_publish(el):
    return (el.tag == q(NS_CLIENT, "iq") and el.get("type") == "set"
            and el.find(q(NS_PUBSUB, "pubsub")) is not None)


def node_of(iq):
    return iq.find(q(NS_PUBSUB, "pubsub")).find(q(NS_PUBSUB, "publish")).get("node")


def fields(form):
    return {f.get("var"): f.findtext(q(NS_DATA, "value")) for f in form.findall(q(NS_DATA, "field"))}


def summary(iq):
    form = (iq.find(q(NS_PUBSUB, "pubsub")).find(q(NS_PUBSUB, "publish"))
            .find(q(NS_PUBSUB, "item")).find(q(NS_PUSH, "notification")).find(q(NS_DATA, "x")))
    assert form is not None and form.get("type") == "submit"
    return fields(form)


def publish_options(iq):
    opts = iq.find(q(NS_PUBSUB, "pubsub")).find(q(NS_PUBSUB, "publish-options"))
    return None if opts is None else fields(opts.find(q(NS_DATA, "x")))


def next_publish(app, timeout=10.0):
    return app.wait_for(is_publish, timeout, "a push publish")


def answer(app, iq, error=None):
    if error is None:
        app.send("<iq type='result' id='%s' to='%s'/>" % (iq.get("id"), iq.get("from")))
    else:
        app.send("<iq type='error' id='%s' to='%s'><error type='cancel'><%s xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                 "</error></iq>" % (iq.get("id"), iq.get("from"), error))


def wait_log_after(server, offset, text, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in server.log()[offset:]:
            return
        time.sleep(0.05)
    raise AssertionError("server never logged %r" % text)


def setup_accounts(server, prefix):
    """(user name, app server client, sender client)."""
    user, app_name, sender = (account(server, prefix + x) for x in "uas")
    app = login(server, app_name, resource="push")
    return user, app, login(server, sender)


def test_account_advertises_push(tern_server):
    user = account(tern_server, "pdi")
    c = login(tern_server, user)
    res = c.iq("get", "<query xmlns='%s'/>" % NS_DISCO_INFO, to="%s@localhost" % user)
    feats = [f.get("var") for f in res.find(q(NS_DISCO_INFO, "query")).findall(q(NS_DISCO_INFO, "feature"))]
    assert NS_PUSH in feats
    c.close()


def test_enable_needs_a_jid_and_is_only_for_the_account_itself(tern_server):
    user, other = account(tern_server, "pfa"), account(tern_server, "pfb")
    c = login(tern_server, user)
    res = c.iq("set", "<enable xmlns='%s' node='n'/>" % NS_PUSH)
    assert res.get("type") == "error"
    assert res.find(q(NS_CLIENT, "error")).find(q("urn:ietf:params:xml:ns:xmpp-stanzas", "bad-request")) is not None
    res = c.iq("set", "<enable xmlns='%s' jid='push.example' node='n'/>" % NS_PUSH, to="%s@localhost" % other)
    assert res.get("type") == "error"
    assert res.find(q(NS_CLIENT, "error")).find(q("urn:ietf:params:xml:ns:xmpp-stanzas", "forbidden")) is not None
    c.close()


def test_message_while_offline_is_published_without_the_body(tern_server):
    user, app, s = setup_accounts(tern_server, "pof")
    u = login(tern_server, user)
    enable(u, app.jid, "node-1", secret="s3cr3t")
    leave(u)
    s.message("%s@localhost" % user, "a private matter")
    iq = next_publish(app)
    assert iq.get("from") == "%s@localhost" % user
    assert iq.get("to") == app.jid
    assert node_of(iq) == "node-1"
    fs = summary(iq)
    assert fs["FORM_TYPE"] == "urn:xmpp:push:summary"
    assert fs["message-count"] == "1"
    assert fs["last-message-sender"] == s.jid.split("/")[0]
    assert "last-message-body" not in fs
    assert publish_options(iq) == {"FORM_TYPE": PUBLISH_OPTIONS, "secret": "s3cr3t"}
    assert "a private matter" not in ET.tostring(iq, encoding="unicode")
    answer(app, iq)
    # A result keeps the registration: the next message is published too.
    s.message("%s@localhost" % user, "again")
    answer(app, next_publish(app))
    # Chat states alone wake nobody.
    s.send("<message to='%s@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>" % user)
    s.message("%s@localhost" % user, "third")
    iq = next_publish(app)
    answer(app, iq)
    assert not [el for el in app.sync() if is_publish(el)]
    app.close()
    s.close()


def test_message_while_hibernated_is_published(tern_server):
    user, app, s = setup_accounts(tern_server, "phb")
    u = login(tern_server, user, presence=True)
    enable(u, app.jid, "node-h")
    u.send("<enable xmlns='%s' resume='true'/>" % NS_SM)
    assert u.expect(q(NS_SM, "enabled")).get("resume") == "true"
    u.sync()
    offset = len(tern_server.log())
    u.sock.close()  # no closing tag: the connection broke
    wait_log_after(tern_server, offset, "connection lost; resumable")
    s.message("%s@localhost" % user, "while asleep")
    iq = next_publish(app)
    assert iq.get("from") == "%s@localhost" % user
    assert node_of(iq) == "node-h"
    assert summary(iq)["last-message-sender"] == s.jid.split("/")[0]
    assert publish_options(iq) is None
    answer(app, iq)
    app.close()
    s.close()


def test_disable_stops_notifications(tern_server):
    user, app, s = setup_accounts(tern_server, "pds")
    u = login(tern_server, user)
    for node in ("gone", "kept", "other"):
        enable(u, app.jid, node)
    disable(u, app.jid, "gone")
    disable(u, app.jid, "never-enabled")  # not an error
    leave(u)
    s.message("%s@localhost" % user, "one")
    first = next_publish(app)
    answer(app, first)
    second = next_publish(app)
    answer(app, second)
    assert sorted([node_of(first), node_of(second)]) == ["kept", "other"]
    assert not [el for el in app.sync() if is_publish(el)]

    # Disabling by JID alone removes every node of that app server.
    u = login(tern_server, user)
    disable(u, app.jid)
    leave(u)
    # A canary registration on another app server shows when the message
    # has been handled.
    canary = login(tern_server, account(tern_server, "pdc"), resource="push")
    u = login(tern_server, user)
    enable(u, canary.jid, "canary")
    leave(u)
    s.message("%s@localhost" % user, "two")
    answer(canary, next_publish(canary))
    assert not [el for el in app.sync() if is_publish(el)]
    canary.close()
    app.close()
    s.close()


def test_an_error_reply_disables_the_registration(tern_server):
    user, app, s = setup_accounts(tern_server, "per")
    u = login(tern_server, user)
    enable(u, app.jid, "bad")
    enable(u, app.jid, "good")
    leave(u)
    offset = len(tern_server.log())
    s.message("%s@localhost" % user, "one")
    for _ in range(2):
        iq = next_publish(app)
        answer(app, iq, error="item-not-found" if node_of(iq) == "bad" else None)
    wait_log_after(tern_server, offset, "node 'bad' disabled")
    s.message("%s@localhost" % user, "two")
    iq = next_publish(app)
    assert node_of(iq) == "good"
    answer(app, iq)
    assert not [el for el in app.sync() if is_publish(el)]
    app.close()
    s.close()


def test_an_unreachable_app_server_is_disabled(tern_server):
    user, app, s = setup_accounts(tern_server, "pun")
    u = login(tern_server, user)
    enable(u, app.jid, "good")
    enable(u, "%s/nobody-here" % app.jid.split("/")[0], "lost")
    leave(u)
    offset = len(tern_server.log())
    s.message("%s@localhost" % user, "one")
    answer(app, next_publish(app))
    # The router answers for the missing resource with service-unavailable.
    wait_log_after(tern_server, offset, "node 'lost' disabled")
    app.close()
    s.close()


def test_registrations_survive_a_restart_and_the_body_is_sent_when_configured(tern_factory):
    server = tern_factory({"modules.push": {"include_body": True}})
    user, app, s = setup_accounts(server, "prs")
    u = login(server, user)
    enable(u, app.jid, "node-r", secret="kept")
    u.close()
    app.close()
    s.close()
    server.stop_and_check()
    server.start()
    app = login(server, app.jid.split("@")[0], resource="push")
    s = login(server, s.jid.split("@")[0])
    s.message("%s@localhost" % user, "hello there")
    iq = next_publish(app)
    assert node_of(iq) == "node-r"
    assert summary(iq)["last-message-body"] == "hello there"
    assert publish_options(iq)["secret"] == "kept"
    answer(app, iq)
    app.close()
    s.close()


def test_deleting_the_account_deletes_its_registrations(tern_server):
    user, app, s = setup_accounts(tern_server, "pdl")
    u = login(tern_server, user)
    enable(u, app.jid, "n")
    leave(u)
    tern_server.del_user("%s@localhost" % user)
    tern_server.add_user("%s@localhost" % user, PW)
    canary = login(tern_server, account(tern_server, "pdk"), resource="push")
    u = login(tern_server, user)
    enable(u, canary.jid, "canary")
    leave(u)
    s.message("%s@localhost" % user, "to the new account")
    answer(canary, next_publish(canary))
    assert not [el for el in app.sync() if is_publish(el)]
    canary.close()
    app.close()
    s.close()
