"""XEP-0363 HTTP File Upload: the service at upload.<domain> hands out slots,
the files go through Tern's own HTTP listener. slixmpp's xep_0363 plugin
does a whole upload as Gajim, Dino and Conversations do (disco#items,
disco#info with identity store/file, slot, PUT with the slot's headers);
the rest of the tests drive the protocol and HTTP by hand."""

import asyncio
import calendar
import io
import http.client
import os
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from clients import SlixClient, run
from conftest import NS_CLIENT, NS_STANZAS, free_port, q, stanza_error, unique_user

NS_UPLOAD = "urn:xmpp:http:upload:0"
NS_INFO = "http://jabber.org/protocol/disco#info"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_DATA = "jabber:x:data"
PASSWORD = "upload secret"
MAX = 200000
QUOTA = 300000


def upload_server(tern_factory, **options):
    port = free_port()
    opts = {"max_file_bytes": MAX, "quota_bytes": QUOTA}
    opts.update(options)
    server = tern_factory({"listen": {"http": ["127.0.0.1:%d" % port]}, "modules.upload": opts})
    server.http_port = port
    return server


@pytest.fixture
def server(tern_factory):
    return upload_server(tern_factory)


def login(server, prefix="up"):
    jid = unique_user(prefix) + "@localhost"
    server.add_user(jid, PASSWORD)
    c = server.raw()
    c.login(jid.split("@")[0], PASSWORD, resource="r")
    return c, jid


def request_slot(client, filename, size, content_type="application/octet-stream"):
    ctype = " content-type='%s'" % content_type if content_type else ""
    return client.iq("get", "<request xmlns='%s' filename='%s' size='%d'%s/>"
                     % (NS_UPLOAD, filename, size, ctype), to="upload.localhost")


def slot_of(res):
    assert res.get("type") == "result", ET.tostring(res, encoding="unicode")
    slot = res.find(q(NS_UPLOAD, "slot"))
    put = slot.find(q(NS_UPLOAD, "put"))
    headers = {h.get("name"): h.text for h in put.findall(q(NS_UPLOAD, "header"))}
    return put.get("url"), slot.find(q(NS_UPLOAD, "get")).get("url"), headers


def http_request(server, method, url, body=None, headers=None):
    """One request on a fresh connection to the test listener; the URL's host
    goes in the Host header as a client would send it."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    try:
        conn.putrequest(method, parts.path or "/", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", parts.netloc or "localhost")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None and "Content-Length" not in (headers or {}):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused on its header: the answer is already there
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def put(server, url, body, headers, content_type="application/octet-stream", **extra):
    h = dict(headers)
    if content_type is not None:
        h["Content-Type"] = content_type
    h.update(extra)
    return http_request(server, "PUT", url, body, h)[0]


def path_of(url):
    return urllib.parse.urlsplit(url).path


# --- real client ------------------------------------------------------------

def _fix_get_info_from_domain(client):
    """slixmpp 1.8.3's xep_0030 get_info_from_domain hands bare coroutines to
    asyncio.wait, which Python 3.11 refuses; the same walk (disco#info of the
    domain and of each of its items), with tasks."""
    disco = client["xep_0030"]

    async def get_info_from_domain(domain=None, timeout=None, cached=True, callback=None):
        domain = domain or client.boundjid.domain
        infos = [asyncio.ensure_future(disco.get_info(domain, timeout=timeout))]
        items = (await disco.get_items(domain, timeout=timeout))["disco_items"]["items"]
        infos += [asyncio.ensure_future(disco.get_info(i[0], timeout=timeout)) for i in items]
        done, _ = await asyncio.wait(infos, timeout=timeout)
        return [f.result() for f in done if not f.exception()]

    disco.get_info_from_domain = get_info_from_domain


def test_slixmpp_uploads_and_the_get_url_serves_the_same_bytes(server):
    jid = unique_user("slix") + "@localhost"
    server.add_user(jid, PASSWORD)
    data = os.urandom(150000)

    async def scenario():
        client = SlixClient(jid, PASSWORD)
        client.register_plugin("xep_0030")
        client.register_plugin("xep_0363")
        _fix_get_info_from_domain(client)
        client.connect(("127.0.0.1", server.c2s_port))
        await client.ready
        try:
            return await client["xep_0363"].upload_file(
                "holiday photo.jpg", size=len(data), content_type="image/jpeg",
                input_file=io.BytesIO(data), timeout=10)
        finally:
            client.disconnect()

    url = run(scenario())
    assert url.startswith("http://localhost:%d/upload/" % server.http_port), url
    assert url.endswith("/holiday%20photo.jpg")
    status, headers, body = http_request(server, "GET", url)
    assert status == 200
    assert body == data
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Length"] == str(len(data))
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Content-Disposition"].startswith("inline")
    assert "Cache-Control" in headers
    # HEAD: the same headers, no body.
    status, head_headers, body = http_request(server, "HEAD", url)
    assert (status, body) == (200, b"")
    assert head_headers["Content-Length"] == str(len(data))


# --- discovery --------------------------------------------------------------

def test_server_lists_the_service_with_its_limit(server):
    client, _ = login(server)
    items = client.iq("get", "<query xmlns='%s'/>" % NS_ITEMS, to="localhost")
    jids = [i.get("jid") for i in items.find(q(NS_ITEMS, "query"))]
    assert "upload.localhost" in jids
    info = client.iq("get", "<query xmlns='%s'/>" % NS_INFO, to="upload.localhost")
    query = info.find(q(NS_INFO, "query"))
    identities = [(i.get("category"), i.get("type")) for i in query.findall(q(NS_INFO, "identity"))]
    assert ("store", "file") in identities
    assert NS_UPLOAD in [f.get("var") for f in query.findall(q(NS_INFO, "feature"))]
    form = query.find(q(NS_DATA, "x"))
    fields = {f.get("var"): f.findtext(q(NS_DATA, "value")) for f in form.findall(q(NS_DATA, "field"))}
    assert fields["FORM_TYPE"] == NS_UPLOAD
    assert fields["max-file-size"] == str(MAX)


# --- refusals of the slot request -------------------------------------------

def test_too_large_file_is_refused_with_the_limit(server):
    client, _ = login(server)
    res = request_slot(client, "big.bin", MAX + 1)
    assert stanza_error(res) == ("modify", [q(NS_STANZAS, "not-acceptable")])
    too_large = res.find(q(NS_CLIENT, "error")).find(q(NS_UPLOAD, "file-too-large"))
    assert too_large.findtext(q(NS_UPLOAD, "max-file-size")) == str(MAX)


def test_quota_counts_uploads_and_open_slots(server):
    client, _ = login(server)
    put_url, _, headers = slot_of(request_slot(client, "a.bin", 150000))
    assert put(server, put_url, b"a" * 150000, headers) == 201
    # 150000 stored + 100000 reserved by an open slot: 50001 more is over.
    slot_of(request_slot(client, "b.bin", 100000))
    res = request_slot(client, "c.bin", 50001)
    assert stanza_error(res) == ("wait", [q(NS_STANZAS, "resource-constraint")])
    retry = res.find(q(NS_CLIENT, "error")).find(q(NS_UPLOAD, "retry"))
    stamp = calendar.timegm(time.strptime(retry.get("stamp")[:19], "%Y-%m-%dT%H:%M:%S"))
    assert stamp > time.time() + 29 * 86400  # when the first upload expires
    # Another account has its own quota.
    other, _ = login(server)
    slot_of(request_slot(other, "c.bin", 50001))


@pytest.mark.parametrize("filename,condition", [
    ("../escape.txt", "not-acceptable"),
    ("dir/x.txt", "not-acceptable"),
    ("a&#10;b.txt", "not-acceptable"),
])
def test_bad_filenames_are_refused(server, filename, condition):
    client, _ = login(server)
    res = request_slot(client, filename, 10)
    assert stanza_error(res) == ("modify", [q(NS_STANZAS, condition)])


def test_bad_size_is_a_bad_request(server):
    client, _ = login(server)
    res = client.iq("get", "<request xmlns='%s' filename='x' size='-5'/>" % NS_UPLOAD,
                    to="upload.localhost")
    assert stanza_error(res) == ("modify", [q(NS_STANZAS, "bad-request")])


# --- the PUT ----------------------------------------------------------------

def test_put_needs_the_slot_token_size_and_type_and_happens_once(server):
    client, _ = login(server)
    data = os.urandom(1000)
    put_url, get_url, headers = slot_of(request_slot(client, "doc.pdf", len(data), "application/pdf"))
    assert put_url == get_url and list(headers) == ["Authorization"]
    assert headers["Authorization"].startswith("Bearer ")
    # Not found before the upload.
    assert http_request(server, "GET", get_url)[0] == 404
    # The GET URL alone does not allow an upload.
    assert put(server, put_url, data, {}, "application/pdf") == 403
    assert put(server, put_url, data, {"Authorization": "Bearer " + "0" * 64}, "application/pdf") == 403
    assert put(server, put_url, data, {"Authorization": headers["Authorization"][:-1] + "x"},
               "application/pdf") == 403
    # Exactly the declared size and type.
    assert put(server, put_url, data[:-1], headers, "application/pdf") == 400
    assert put(server, put_url, data + b"x", headers, "application/pdf") == 413
    assert put(server, put_url, data, headers, "text/html") == 400
    # Another slot's token does not open this one.
    _, _, other_headers = slot_of(request_slot(client, "doc.pdf", len(data), "application/pdf"))
    assert put(server, put_url, data, other_headers, "application/pdf") == 403
    assert put(server, put_url, data, headers, "application/pdf") == 201
    assert put(server, put_url, data, headers, "application/pdf") == 409
    status, got_headers, body = http_request(server, "GET", get_url)
    assert (status, body) == (200, data)
    assert got_headers["Content-Type"] == "application/pdf"
    assert got_headers["Content-Disposition"] == "attachment; filename*=UTF-8''doc.pdf"


def test_a_non_ascii_file_name_comes_back_percent_encoded(server):
    # RFC 6266 §4.3 with RFC 8187: UTF-8, every byte outside the unreserved
    # set as %XX, so a space or a quote cannot end the header value.
    client, _ = login(server)
    data = b"hello"
    put_url, get_url, headers = slot_of(request_slot(client, "très \"cool\".txt", len(data), "text/plain"))
    assert put(server, put_url, data, headers, "text/plain") == 201
    status, got, body = http_request(server, "GET", get_url)
    assert (status, body) == (200, data)
    assert got["Content-Disposition"] == "inline; filename*=UTF-8''tr%C3%A8s%20%22cool%22.txt"


def test_html_upload_is_served_as_a_download_that_runs_nothing(server):
    client, _ = login(server)
    data = b"<script>alert(1)</script>"
    put_url, get_url, headers = slot_of(request_slot(client, "x.html", len(data), "text/html"))
    assert put(server, put_url, data, headers, "text/html") == 201
    status, got, body = http_request(server, "GET", get_url)
    assert status == 200 and body == data
    assert got["Content-Disposition"].startswith("attachment")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in got["Content-Security-Policy"]


def test_expired_slot_refuses_the_put(tern_factory):
    server = upload_server(tern_factory, slot_seconds=1)
    client, _ = login(server)
    put_url, get_url, headers = slot_of(request_slot(client, "late.txt", 4, "text/plain"))
    time.sleep(1.5)
    assert put(server, put_url, b"late", headers, "text/plain") == 410
    assert http_request(server, "GET", get_url)[0] == 404


def test_cors_preflight_for_browser_clients(tern_factory):
    server = upload_server(tern_factory)
    client, _ = login(server)
    put_url, _, headers = slot_of(request_slot(client, "p.png", 3, "image/png"))
    own = "http://localhost:%d" % server.http_port
    status, got, _ = http_request(server, "OPTIONS", put_url, headers={
        "Origin": own, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert status == 204
    assert got["Access-Control-Allow-Origin"] == own
    assert "PUT" in got["Access-Control-Allow-Methods"]
    assert "Authorization" in got["Access-Control-Allow-Headers"]
    assert http_request(server, "OPTIONS", put_url, headers={"Origin": "https://evil.example"})[0] == 403
    assert put(server, put_url, b"png", headers, "image/png", Origin="https://evil.example") == 403
    assert put(server, put_url, b"png", headers, "image/png", Origin=own) == 201


# --- GET of what is not there -----------------------------------------------

def test_unknown_ids_and_path_traversal_are_404(server):
    client, _ = login(server)
    data = b"secret"
    put_url, get_url, headers = slot_of(request_slot(client, "s.txt", len(data), "text/plain"))
    assert put(server, put_url, data, headers, "text/plain") == 201
    slot_id = path_of(get_url).split("/")[2]
    base = "http://localhost:%d" % server.http_port
    for path in ["/upload/%s/s.txt" % ("0" * 32),
                 "/upload/%s/other.txt" % slot_id,
                 "/upload/%s/meta" % slot_id,
                 "/upload/%s/file" % slot_id,
                 "/upload/%s/s.txt/x" % slot_id,
                 "/upload/%s" % slot_id,
                 "/upload/../tern.toml",
                 "/upload/%2e%2e/%2e%2e/tern.toml",
                 "/upload/%s/..%%2F..%%2Ftern.toml" % slot_id,
                 "/upload/%s/%%2e%%2e" % slot_id]:
        status, _, body = http_request(server, "GET", base + path)
        assert status == 404, path
        assert b"secret" not in body
    assert http_request(server, "GET", get_url)[2] == data


# --- lifecycle ----------------------------------------------------------------

def test_uploads_survive_a_restart_and_go_with_the_account(tern_factory):
    server = upload_server(tern_factory)
    client, jid = login(server)
    put_url, get_url, headers = slot_of(request_slot(client, "keep.txt", 4, "text/plain"))
    assert put(server, put_url, b"kept", headers, "text/plain") == 201
    client.close()
    server.stop_and_check()
    server.start()
    assert http_request(server, "GET", get_url)[2] == b"kept"
    server.del_user(jid)
    server.stop_and_check()
    server.start()  # the sweep at start removes the files of deleted accounts
    assert http_request(server, "GET", get_url)[0] == 404
    assert not os.listdir(server.data_dir / "uploads")


def _start_put(server, url, headers, declared, sent):
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    conn.putrequest("PUT", path_of(url), skip_host=True)
    conn.putheader("Host", "localhost")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(declared))
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(b"x" * sent)
    return conn


def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_kill_during_put_leaves_a_part_file_removed_at_next_start(tern_factory):
    server = upload_server(tern_factory)
    client, _ = login(server)
    put_url, get_url, headers = slot_of(request_slot(client, "big.bin", 100000))
    slot_id = path_of(put_url).split("/")[2]
    part = server.data_dir / "uploads" / slot_id / "file.part"
    conn = _start_put(server, put_url, headers, 100000, 40000)
    assert _wait_for(lambda: part.exists() and part.stat().st_size == 40000)
    server.proc.kill()
    server.proc.wait(5)
    conn.close()
    assert part.exists()
    server.start()
    assert not (server.data_dir / "uploads" / slot_id).exists()
    assert http_request(server, "GET", get_url)[0] == 404


def test_sigterm_during_put_stops_cleanly_and_serves_no_half_file(tern_factory):
    server = upload_server(tern_factory)
    client, _ = login(server)
    put_url, get_url, headers = slot_of(request_slot(client, "big.bin", 100000))
    slot_id = path_of(put_url).split("/")[2]
    part = server.data_dir / "uploads" / slot_id / "file.part"
    conn = _start_put(server, put_url, headers, 100000, 30000)
    assert _wait_for(lambda: part.exists() and part.stat().st_size == 30000)
    server.stop_and_check()
    conn.close()
    server.start()
    assert http_request(server, "GET", get_url)[0] == 404
    assert not (server.data_dir / "uploads" / slot_id).exists()


def test_a_broken_connection_leaves_the_slot_usable(server):
    client, _ = login(server)
    data = os.urandom(50000)
    put_url, get_url, headers = slot_of(request_slot(client, "retry.bin", len(data)))
    slot_dir = server.data_dir / "uploads" / path_of(put_url).split("/")[2]
    conn = _start_put(server, put_url, headers, len(data), 10000)
    part = slot_dir / "file.part"
    assert _wait_for(lambda: part.exists() and part.stat().st_size == 10000)
    conn.close()
    assert _wait_for(lambda: not slot_dir.exists())
    assert put(server, put_url, data, headers) == 201
    assert http_request(server, "GET", get_url)[2] == data


def _tmpfs(path, size):
    path.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(path)],
                         capture_output=True)
    return res.returncode == 0


def test_full_disk_answers_507_and_the_slot_stays_unused(tern_factory, tmp_path):
    disk = tmp_path / "small-disk"
    if not _tmpfs(disk, "64k"):
        pytest.skip("cannot mount a tmpfs here (the unit tests cover a failing write)")
    try:
        server = upload_server(tern_factory, path=str(disk))
        client, _ = login(server)
        data = os.urandom(150000)
        put_url, get_url, headers = slot_of(request_slot(client, "full.bin", len(data)))
        assert put(server, put_url, data, headers) == 507
        assert http_request(server, "GET", get_url)[0] == 404
        assert put(server, put_url, data, headers) == 507  # not 409: the slot is still open
        assert _wait_for(lambda: os.listdir(disk) == [])
        # The slot was not used up: a smaller file still fits.
        small = os.urandom(1000)
        put_url2, get_url2, headers2 = slot_of(request_slot(client, "small.bin", len(small)))
        assert put(server, put_url2, small, headers2) == 201
        assert http_request(server, "GET", get_url2)[2] == small
        server.stop_and_check()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_https_listener_gives_https_urls_and_serves_over_tls(tern_factory):
    import ssl
    port = free_port()
    server = tern_factory({"listen": {"https": ["127.0.0.1:%d" % port]},
                           "modules.upload": {"max_file_bytes": MAX}})
    client, _ = login(server)
    data = os.urandom(70000)
    put_url, get_url, headers = slot_of(request_slot(client, "tls.bin", len(data)))
    assert put_url.startswith("https://localhost:%d/upload/" % port), put_url
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def request(method, body=None, extra=None):
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
        try:
            conn.request(method, path_of(put_url), body=body, headers=extra or {})
            res = conn.getresponse()
            return res.status, res.read()
        finally:
            conn.close()

    assert request("PUT", data, dict(headers, **{"Content-Type": "application/octet-stream"}))[0] == 201
    assert request("GET") == (200, data)


def test_expect_100_continue_gets_continue_before_the_body(server):
    """curl and others ask before sending a large body."""
    import socket
    client, _ = login(server)
    data = os.urandom(5000)
    put_url, get_url, headers = slot_of(request_slot(client, "ask.bin", len(data)))
    s = socket.create_connection(("127.0.0.1", server.http_port), timeout=5)
    try:
        head = ("PUT %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\nAuthorization: %s\r\nExpect: 100-continue\r\n\r\n"
                % (path_of(put_url), len(data), headers["Authorization"]))
        s.sendall(head.encode())
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(data)
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(1000)
        assert got.startswith(b"HTTP/1.1 201")
    finally:
        s.close()
    assert http_request(server, "GET", get_url)[2] == data
