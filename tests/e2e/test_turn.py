"""STUN/TURN discovery (XEP-0215) with TURN credentials in the REST API
scheme coturn checks with its static-auth-secret: the password must be
base64(HMAC-SHA1(secret, username)) and the username "<expiry>:<account>"."""

import base64
import calendar
import hashlib
import hmac
import time

import pytest

from conftest import NS_CLIENT, NS_STANZAS, q, stanza_error, unique_user

NS_EXTDISCO = "urn:xmpp:extdisco:2"
NS_INFO = "http://jabber.org/protocol/disco#info"
SECRET = "coturn static-auth-secret"
PASSWORD = "turn user secret"
TTL = 3600


@pytest.fixture
def server(tern_factory):
    return tern_factory({"modules.turn": {"host": "turn.example.org", "port": 3478,
                                          "tls_port": 5349, "secret": SECRET,
                                          "ttl_seconds": TTL}})


def login(server):
    jid = unique_user("turn") + "@localhost"
    server.add_user(jid, PASSWORD)
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource="call")
    return c, jid


def services(client, extra=""):
    res = client.iq("get", "<services xmlns='%s'%s/>" % (NS_EXTDISCO, extra), to="localhost")
    assert res.get("type") == "result", res
    return [dict(s.attrib) for s in res.find(q(NS_EXTDISCO, "services"))]


def parse_stamp(stamp):
    return calendar.timegm(time.strptime(stamp.replace("Z", "").split(".")[0], "%Y-%m-%dT%H:%M:%S"))


def check_coturn_credentials(service, account):
    """What coturn does with use-auth-secret: recompute the HMAC."""
    expiry, user = service["username"].split(":", 1)
    assert user == account
    assert abs(int(expiry) - (time.time() + TTL)) < 60
    expected = base64.b64encode(hmac.new(SECRET.encode(), service["username"].encode(),
                                         hashlib.sha1).digest()).decode()
    assert service["password"] == expected
    assert parse_stamp(service["expires"]) == int(expiry)


def test_services_with_credentials_coturn_accepts(server):
    client, jid = login(server)
    got = services(client)
    assert [(s["type"], s["transport"], s["host"], s["port"]) for s in got] == [
        ("stun", "udp", "turn.example.org", "3478"),
        ("turn", "udp", "turn.example.org", "3478"),
        ("turn", "tcp", "turn.example.org", "3478"),
        ("turns", "tcp", "turn.example.org", "5349"),
    ]
    assert "username" not in got[0] and "restricted" not in got[0]
    for s in got[1:]:
        assert s["restricted"] == "1"
        check_coturn_credentials(s, jid)


def test_type_filter_and_credentials_request(server):
    client, jid = login(server)
    assert [s["type"] for s in services(client, " type='turn'")] == ["turn", "turn"]
    res = client.iq("get", "<credentials xmlns='%s'><service host='turn.example.org' type='turns'/>"
                           "</credentials>" % NS_EXTDISCO, to="localhost")
    assert res.get("type") == "result", res
    (svc,) = res.find(q(NS_EXTDISCO, "credentials"))
    assert (svc.get("type"), svc.get("port")) == ("turns", "5349")
    check_coturn_credentials(dict(svc.attrib), jid)
    res = client.iq("get", "<credentials xmlns='%s'><service host='elsewhere.example' type='turn'/>"
                           "</credentials>" % NS_EXTDISCO, to="localhost")
    assert stanza_error(res) == ("cancel", [q(NS_STANZAS, "item-not-found")])


def test_feature_is_advertised_only_when_configured(server, tern_factory):
    client, _ = login(server)
    info = client.iq("get", "<query xmlns='%s'/>" % NS_INFO, to="localhost")
    assert NS_EXTDISCO in {f.get("var") for f in info.iter(q(NS_INFO, "feature"))}

    bare = tern_factory()
    other, _ = login(bare)
    info = other.iq("get", "<query xmlns='%s'/>" % NS_INFO, to="localhost")
    assert NS_EXTDISCO not in {f.get("var") for f in info.iter(q(NS_INFO, "feature"))}
    res = other.iq("get", "<services xmlns='%s'/>" % NS_EXTDISCO, to="localhost")
    assert stanza_error(res) == ("cancel", [q(NS_STANZAS, "service-unavailable")])
