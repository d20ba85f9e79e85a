"""XEP-0198 stream management over raw c2s: the feature after SASL, <enable/>,
<r/> and <a/> both ways with the counts the spec requires, and <resume/> or
a second <enable/> where they do not belong (resumption itself:
test_sm_resume.py)."""

from conftest import NS_CLIENT, q, unique_user

PW = "pw-sm"
NS_SM = "urn:xmpp:sm:3"


def login(server, name):
    server.add_user("%s@localhost" % name, PW)
    c = server.raw(timeout=10.0)
    c.login(name, PW, resource="r")
    return c


def test_feature_enable_and_counts(tern_server):
    a_name, b_name = unique_user("sma"), unique_user("smb")
    a, b = login(tern_server, a_name), login(tern_server, b_name)
    assert a.post_auth_features.find(q(NS_SM, "sm")) is not None

    a.send("<enable xmlns='%s'/>" % NS_SM)
    enabled = a.expect(q(NS_SM, "enabled"))
    assert enabled.get("resume") is None  # not asked for

    # Inbound: three stanzas handled, then <r/> answers h='3'.
    for i in range(3):
        a.message("%s@localhost/r" % b_name, "to-b-%d" % i)
    a.send("<r xmlns='%s'/>" % NS_SM)
    assert a.expect(q(NS_SM, "a")).get("h") == "3"
    for i in range(3):
        b.wait_message("to-b-%d" % i)

    # Outbound: two messages to a; a acknowledges them (no error follows).
    b.message("%s@localhost/r" % a_name, "to-a-0")
    b.message("%s@localhost/r" % a_name, "to-a-1")
    a.wait_message("to-a-0")
    a.wait_message("to-a-1")
    a.send("<a xmlns='%s' h='2'/>" % NS_SM)
    a.ping()
    a.close()
    b.close()


def test_ack_of_unsent_stanzas_is_a_stream_error(tern_server):
    a = login(tern_server, unique_user("smx"))
    a.send("<enable xmlns='%s'/>" % NS_SM)
    a.expect(q(NS_SM, "enabled"))
    a.send("<a xmlns='%s' h='5'/>" % NS_SM)
    a.expect_stream_error("undefined-condition")


def test_resume_fails_and_double_enable_fails(tern_server):
    a = login(tern_server, unique_user("smr"))
    # §5: <resume/> replaces resource binding; on a bound stream it is unexpected.
    a.send("<resume xmlns='%s' previd='nope' h='0'/>" % NS_SM)
    failed = a.expect(q(NS_SM, "failed"))
    assert failed.find(q("urn:ietf:params:xml:ns:xmpp-stanzas", "unexpected-request")) is not None
    a.send("<enable xmlns='%s'/>" % NS_SM)
    a.expect(q(NS_SM, "enabled"))
    a.send("<enable xmlns='%s'/>" % NS_SM)
    failed = a.expect(q(NS_SM, "failed"))
    assert failed.find(q("urn:ietf:params:xml:ns:xmpp-stanzas", "unexpected-request")) is not None
    a.close()
