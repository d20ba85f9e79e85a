"""XEP-0313 message archive management with XEP-0059 paging and XEP-0359
stanza ids, over raw c2s (the protocol details are what is under test):
archiving both directions, the stanza-id on delivery and on carbons,
queries with filters, RSM paging both ways through 1,000 messages,
flip-page, prefs, hints, deleted accounts, and an archive that survives a
restart. One test drives slixmpp's xep_0313 plugin."""

import time

import pytest

from clients import NS_FORWARD, NS_MAM, NS_RSM, NS_SID, account_client, form, query, rsm, stanza_ids
from conftest import NS_CLIENT, NS_STANZAS, TernServer, q, unique_user, xml

PW = "pw-mam"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ROSTER = "jabber:iq:roster"

# Paging through 1,000 messages needs more than the default stanza burst.
FAST = {"limits": {"stanza_rate": 100000, "stanza_burst": 100000}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-mam"), FAST)
    s.start()
    yield s
    s.stop_and_check()


def login(server, name, resource="r"):
    return account_client(server, name, PW, resource)


NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
_warm_ids = iter(range(1, 10 ** 9))


def warm_up(clients):
    """Every client sends every other one a chat state (never archived) and
    waits for theirs: then every account's blocklist is loaded. The blocking
    module holds a message while the recipient's list loads (a load the
    recipient's login started) and releases it from the recipient's shard,
    where it can overtake the sender's next messages; tests of the order of
    archived messages must not start before that."""
    for c in clients:
        for other in clients:
            if other is not c:
                c.send("<message to='%s' type='chat' id='warm-%d'><active xmlns='%s'/></message>"
                       % (other.jid, next(_warm_ids), NS_CHATSTATES))
    for c in clients:
        senders = {o.jid for o in clients if o is not c}
        while senders:
            el = c.wait_for(lambda el: el.tag == q(NS_CLIENT, "message")
                            and el.find(q(NS_CHATSTATES, "active")) is not None)
            senders.discard(el.get("from"))


def users(server, *prefixes):
    names = [unique_user(p) for p in prefixes]
    clients = [login(server, n) for n in names]
    warm_up(clients)
    return names, clients


def send_chat(client, to, body, extra=""):
    client.send("<message to='%s' type='chat' id='%s'><body>%s</body>%s</message>"
                % (to, body, body, extra))


# --------------------------------------------------------------------------


def test_disco_and_form(server):
    (a_name,), (a,) = users(server, "mdisco")
    info = a.iq("get", "<query xmlns='%s'/>" % NS_INFO, to="%s@localhost" % a_name)
    features = {f.get("var") for f in info.find(q(NS_INFO, "query")).findall(q(NS_INFO, "feature"))}
    assert {NS_MAM, NS_MAM + "#extended", NS_SID} <= features
    reply = a.iq("get", "<query xmlns='%s'/>" % NS_MAM)
    x = reply.find(q(NS_MAM, "query")).find(q("jabber:x:data", "x"))
    fields = [f.get("var") for f in x.findall(q("jabber:x:data", "field"))]
    assert fields[0] == "FORM_TYPE"
    assert {"with", "start", "end", "before-id", "after-id", "ids"} <= set(fields)
    a.close()


def test_archive_both_directions_and_stanza_id(server):
    (a_name, b_name), (a, b) = users(server, "ma", "mb")
    a_bare, b_bare = "%s@localhost" % a_name, "%s@localhost" % b_name
    # A forged id "by" the recipient goes; the origin-id stays as sent.
    send_chat(a, b.jid, "hello-b",
              "<stanza-id xmlns='%s' by='%s' id='forged'/><origin-id xmlns='%s' id='o-1'/>"
              % (NS_SID, b_bare, NS_SID))
    got = b.wait_message("hello-b")
    ids = stanza_ids(got, b_bare)
    assert len(ids) == 1 and ids[0] != "forged", xml(got)
    assert not stanza_ids(got, a_bare), xml(got)  # the sender's id stays with the sender
    assert got.find(q(NS_SID, "origin-id")).get("id") == "o-1"
    send_chat(b, a.jid, "hello-a")
    back = a.wait_message("hello-a")
    a_id_of_reply = stanza_ids(back, a_bare)[0]

    pa, pb = query(a), query(b)
    assert pa.bodies == ["hello-b", "hello-a"] and pa.complete
    assert pb.bodies == ["hello-b", "hello-a"] and pb.complete
    assert pb.ids[0] == ids[0]         # the id b was told is the id b's archive has
    assert pa.ids[1] == a_id_of_reply
    assert pa.count == 2 and pa.first == pa.ids[0] and pa.last == pa.ids[1]
    # The archived message is the message as sent, addresses stamped.
    inner = pa.results[0][1]
    assert inner.get("from") == a.jid and inner.get("to") == b.jid
    assert inner.find(q(NS_SID, "origin-id")).get("id") == "o-1"
    assert all(s.get("id") != "forged" for s in inner.findall(q(NS_SID, "stanza-id")))
    a.close()
    b.close()


def test_sent_carbon_and_archive_agree(server):
    (a_name, b_name), (a1, b) = users(server, "mca", "mcb")
    a_bare = "%s@localhost" % a_name
    a2 = login(server, a_name, resource="other")
    a2.iq("set", "<enable xmlns='%s'/>" % NS_CARBONS)
    send_chat(a1, b.jid, "carbon-me")
    carbon = a2.wait_for(lambda el: el.find(q(NS_CARBONS, "sent")) is not None)
    inner = carbon.find(q(NS_CARBONS, "sent")).find(q(NS_FORWARD, "forwarded")).find(q(NS_CLIENT, "message"))
    sent_ids = stanza_ids(inner, a_bare)
    assert len(sent_ids) == 1, xml(carbon)
    got = b.wait_message("carbon-me")
    assert not stanza_ids(got, a_bare), xml(got)
    page = query(a2)
    assert page.ids == sent_ids and page.bodies == ["carbon-me"]
    for c in (a1, a2, b):
        c.close()


def test_paging_through_1000_messages_both_ways(server):
    (a_name, b_name), (a, b) = users(server, "mpa", "mpb")
    total = 1000
    a.send("".join("<message to='%s' type='chat' id='m%d'><body>m%04d</body></message>"
                   % (b.jid, i, i) for i in range(total)))
    b.wait_message("m%04d" % (total - 1), timeout=30)

    # Forwards: pages of 100 through RSM <after/>.
    seen, after, pages = [], None, 0
    while True:
        page = query(b, rsm(100, after=after))
        pages += 1
        assert page.count == total
        seen += page.results
        if page.complete:
            break
        assert len(page.results) == 100
        after = page.last
    assert pages == 10
    assert [r[1].findtext(q(NS_CLIENT, "body")) for r in seen] == ["m%04d" % i for i in range(total)]
    ids = [r[0] for r in seen]
    assert ids == sorted(ids) and len(set(ids)) == total

    # Backwards: the last page (<before/> empty), then <before/> the first id.
    back, before = [], ""
    while True:
        page = query(b, rsm(128, before=before))
        assert page.ids == sorted(page.ids)  # chronological within a page
        back = page.results + back
        if page.complete:
            break
        assert len(page.results) == 128
        before = page.first
    assert [r[0] for r in back] == ids
    # One past the end and one before the start: empty and complete.
    end = query(b, rsm(10, after=ids[-1]))
    assert end.results == [] and end.complete
    start = query(b, rsm(10, before=ids[0]))
    assert start.results == [] and start.complete
    a.close()
    b.close()


def test_filters_ids_and_errors(server):
    (a_name, b_name, c_name), (a, b, c) = users(server, "mfa", "mfb", "mfc")
    for i in range(3):
        send_chat(a, b.jid, "to-b-%d" % i)
        send_chat(a, c.jid, "to-c-%d" % i)
    c.wait_message("to-c-2")
    b.wait_message("to-b-2")
    everything = query(a)
    assert len(everything.results) == 6

    with_c = query(a, form(**{"with": "%s@localhost" % c_name}))
    assert with_c.bodies == ["to-c-0", "to-c-1", "to-c-2"]
    with_full = query(a, form(**{"with": c.jid}))
    assert with_full.bodies == ["to-c-0", "to-c-1", "to-c-2"]
    with_other_resource = query(a, form(**{"with": "%s@localhost/nope" % c_name}))
    assert with_other_resource.results == []

    ids = everything.ids
    meta = a.iq("get", "<metadata xmlns='%s'/>" % NS_MAM).find(q(NS_MAM, "metadata"))
    assert meta.find(q(NS_MAM, "start")).get("id") == ids[0]
    assert meta.find(q(NS_MAM, "end")).get("id") == ids[-1]
    assert meta.find(q(NS_MAM, "end")).get("timestamp").endswith("Z")
    between = query(a, form(after_id=ids[0], before_id=ids[4]))
    assert between.ids == ids[1:4]
    picked = query(a, form(ids=[ids[5], ids[2]]))
    assert picked.ids == [ids[2], ids[5]]
    stamp = everything.results[0][2]
    assert query(a, form(start="2000-01-01T00:00:00Z", end="2999-01-01T00:00:00Z")).ids == ids
    assert query(a, form(end="2000-01-01T00:00:00Z")).results == []
    assert query(a, form(start="2999-01-01T00:00:00Z")).results == []
    assert len(query(a, form(start=stamp)).results) == 6  # start is inclusive, to the second

    # Errors.
    unknown = "0" * 12 + "1"
    assert query(a, rsm(after=unknown), expect_error=True) == ["item-not-found"]
    assert query(a, rsm(before="nonsense"), expect_error=True) == ["item-not-found"]
    assert query(a, form(after_id=unknown), expect_error=True) == ["item-not-found"]
    assert query(a, form(ids=[ids[0], unknown]), expect_error=True) == ["item-not-found"]
    # An id of another archive is not in this one.
    b_ids = query(b).ids
    assert query(a, rsm(after=b_ids[0]), expect_error=True) == ["item-not-found"]
    assert query(a, form(start="yesterday"), expect_error=True) == ["bad-request"]
    assert query(a, form(end="2010-13-01T00:00:00Z"), expect_error=True) == ["bad-request"]
    assert query(a, rsm(max_=-1) if False else "<set xmlns='%s'><max>x</max></set>" % NS_RSM,
                 expect_error=True) == ["bad-request"]
    assert query(a, form(**{"{urn:example}search": "x"}), expect_error=True) == ["feature-not-implemented"]
    # Someone else's archive.
    assert query(a, to="%s@localhost" % b_name, expect_error=True) == ["forbidden"]
    for cl in (a, b, c):
        cl.close()


def test_max_is_clamped_and_flip_page(server):
    (a_name, b_name), (a, b) = users(server, "mma", "mmb")
    a.send("".join("<message to='%s' type='chat'><body>n%03d</body></message>" % (b.jid, i)
                   for i in range(300)))
    b.wait_message("n299", timeout=20)
    page = query(a, rsm(1000))
    assert len(page.results) == 250 and not page.complete  # max_page default 250
    rest = query(a, rsm(1000, after=page.last))
    assert len(rest.results) == 50 and rest.complete

    plain = query(a, rsm(5, before=""))
    flipped = query(a, rsm(5, before="") + "<flip-page xmlns='%s'/>" % NS_MAM)
    assert plain.bodies == ["n295", "n296", "n297", "n298", "n299"]
    assert flipped.ids == list(reversed(plain.ids))
    assert (flipped.first, flipped.last) == (plain.first, plain.last)
    assert flipped.complete == plain.complete
    # max 0: the count only.
    count_only = query(a, rsm(0))
    assert count_only.results == [] and count_only.count == 300
    a.close()
    b.close()


def test_prefs_never_and_always(server):
    (a_name, b_name, c_name), (a, b, c) = users(server, "mra", "mrb", "mrc")
    c_bare = "%s@localhost" % c_name
    reply = a.iq("get", "<prefs xmlns='%s'/>" % NS_MAM)
    assert reply.find(q(NS_MAM, "prefs")).get("default") == "always"
    reply = a.iq("set", "<prefs xmlns='%s' default='never'><always><jid>%s</jid></always><never/></prefs>"
                 % (NS_MAM, c_bare))
    assert reply.get("type") == "result", xml(reply)
    prefs = a.iq("get", "<prefs xmlns='%s'/>" % NS_MAM).find(q(NS_MAM, "prefs"))
    assert prefs.get("default") == "never"
    assert [j.text for j in prefs.find(q(NS_MAM, "always")).findall(q(NS_MAM, "jid"))] == [c_bare]
    bad = a.iq("set", "<prefs xmlns='%s' default='sometimes'/>" % NS_MAM)
    assert bad.get("type") == "error"

    send_chat(a, b.jid, "not-kept")
    send_chat(a, c.jid, "kept")
    got_b = b.wait_message("not-kept")
    c.wait_message("kept")
    assert query(a).bodies == ["kept"]
    # b's own archive still has it (b's prefs are b's), and b got b's id.
    assert query(b).ids == stanza_ids(got_b, "%s@localhost" % b_name)
    # b says never for a: a's messages to b are no longer in b's archive.
    b.iq("set", "<prefs xmlns='%s' default='always'><always/><never><jid>%s@localhost</jid></never></prefs>"
         % (NS_MAM, a_name))
    send_chat(a, b.jid, "not-kept-either")
    got = b.wait_message("not-kept-either")
    assert not stanza_ids(got, "%s@localhost" % b_name)
    assert query(b).bodies == ["not-kept"]
    for cl in (a, b, c):
        cl.close()


def test_hints(server):
    (a_name, b_name), (a, b) = users(server, "mha", "mhb")
    send_chat(a, b.jid, "nostore", "<no-store xmlns='urn:xmpp:hints'/>")
    send_chat(a, b.jid, "noperm", "<no-permanent-store xmlns='urn:xmpp:hints'/>")
    a.send("<message to='%s' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>" % b.jid)
    a.send("<message to='%s' type='headline'><body>head</body></message>" % b.jid)
    a.send("<message to='%s' type='headline'><body>head-stored</body><store xmlns='urn:xmpp:hints'/></message>" % b.jid)
    got = b.wait_message("nostore")
    assert not stanza_ids(got, "%s@localhost" % b_name)
    b.wait_message("head-stored")
    assert query(b).bodies == ["head-stored"]
    assert query(a).bodies == ["head-stored"]
    a.close()
    b.close()


def test_roster_mode(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-mam-roster"),
                   dict(FAST, **{"modules.mam": {"default": "roster"}}))
    s.start()
    try:
        (a_name, b_name, c_name), (a, b, c) = users(s, "mxa", "mxb", "mxc")
        b_bare = "%s@localhost" % b_name
        a.iq("set", "<query xmlns='%s'><item jid='%s'/></query>" % (NS_ROSTER, b_bare))
        for i in range(5):  # order kept while the roster is read
            send_chat(a, b.jid, "r%d" % i)
            send_chat(a, c.jid, "s%d" % i)
        a.sync()  # a's ping waits behind a's messages, which wait for the rosters
        assert [m for m in b.bodies_until_sync() if m] == ["r%d" % i for i in range(5)]
        assert [m for m in c.bodies_until_sync() if m] == ["s%d" % i for i in range(5)]
        assert query(a).bodies == ["r%d" % i for i in range(5)]
        assert query(b).results == []  # a is not on b's roster
        for cl in (a, b, c):
            cl.close()
    finally:
        s.stop_and_check()


def test_unknown_and_deleted_accounts_leave_no_archive(server):
    (a_name,), (a,) = users(server, "mda")
    ghost = unique_user("mghost")
    send_chat(a, "%s@localhost/x" % ghost, "to-nobody")
    a.wait_for(lambda el: el.get("type") == "error")  # bounced
    b_name = unique_user("mdb")
    b = login(server, b_name)
    send_chat(a, b.jid, "to-b")
    b.wait_message("to-b")
    assert len(query(b).results) == 1
    b.iq("set", "<prefs xmlns='%s' default='never'/>" % NS_MAM)
    b.close()
    server.del_user("%s@localhost" % b_name)
    server.add_user("%s@localhost" % b_name, PW)
    b = server.raw(timeout=10.0)
    b.login(b_name, PW, resource="r")
    assert query(b).results == []
    # The prefs went with the account.
    prefs = b.iq("get", "<prefs xmlns='%s'/>" % NS_MAM).find(q(NS_MAM, "prefs"))
    assert prefs.get("default") == "always"
    send_chat(a, b.jid, "to-new-b")
    got = b.wait_message("to-new-b")
    assert stanza_ids(got, "%s@localhost" % b_name)
    assert query(b).bodies == ["to-new-b"]
    # Whoever registers the name a message went to does not read it.
    server.add_user("%s@localhost" % ghost, PW)
    g = server.raw(timeout=10.0)
    g.login(ghost, PW, resource="r")
    assert query(g).results == []
    for cl in (a, b, g):
        cl.close()


def test_archive_survives_restart(tmp_path_factory):
    s = TernServer(tmp_path_factory.mktemp("tern-mam-restart"), FAST)
    s.start()
    a_name, b_name = unique_user("msa"), unique_user("msb")
    s.add_user("%s@localhost" % a_name, PW)
    s.add_user("%s@localhost" % b_name, PW)
    a, b = s.raw(timeout=10.0), s.raw(timeout=10.0)
    a.login(a_name, PW, resource="r")
    b.login(b_name, PW, resource="r")
    warm_up([a, b])
    total = 500
    a.send("".join("<message to='%s' type='chat'><body>k%03d</body></message>" % (b.jid, i)
                   for i in range(total)))
    last = b.wait_message("k%03d" % (total - 1), timeout=20)
    last_id = stanza_ids(last, "%s@localhost" % b_name)[0]
    # SIGTERM right away: the writer queue is drained before the exit.
    assert s.stop() == 0
    # Back with a retention of one day: the purge at start keeps today's rows.
    with open(s.config_path, "a") as f:
        f.write("\n[modules.mam]\nretention_days = 1\n")
    s.start()
    try:
        b = s.raw(timeout=10.0)
        b.login(b_name, PW, resource="r")
        page = query(b, rsm(1000, before=""))
        assert len(page.results) == 250 and page.count == total
        assert page.last == last_id
        a = s.raw(timeout=10.0)
        a.login(a_name, PW, resource="r")
        assert query(a, rsm(0)).count == total
        # New ids continue above the stored ones.
        send_chat(a, b.jid, "after-restart")
        got = b.wait_message("after-restart")
        assert stanza_ids(got, "%s@localhost" % b_name)[0] > last_id
        a.close()
        b.close()
    finally:
        s.stop_and_check()


def test_slixmpp_xep_0313_retrieves_the_archive(server):
    from clients import run, slix_login
    (a_name, b_name), (a, b) = users(server, "msl", "msm")
    for i in range(3):
        send_chat(a, b.jid, "slix-%d" % i)
    b.wait_message("slix-2")

    async def fetch():
        client = await slix_login("%s@localhost" % a_name, PW, server.c2s_port)
        try:
            client.register_plugin("xep_0313")
            iq = await client.plugin["xep_0313"].retrieve(
                jid=None, with_jid=None, rsm={"max": 10}, timeout=10)
            fin = iq["mam_fin"]
            return fin.xml.get("complete"), fin["rsm"]["first"]
        finally:
            await client.close()

    complete, first = run(fetch())
    assert complete == "true"
    assert first == query(a).ids[0]
    a.close()
    b.close()
