#!/usr/bin/env python3
"""Writes a XEP-0227 file for import tests and timing.

    gen_pie.py OUT --users 100000 --contacts 20 [--domain localhost]
               [--prefix user] [--password secret] [--plaintext]

Users are PREFIX0 .. PREFIX{N-1}; each has the next CONTACTS users (wrapping
around) as contacts with subscription 'both' in group 'Bench'. Every user has
the same password; by default the file carries SCRAM-SHA-1 and SCRAM-SHA-256
keys for it (one salt for all, computed once), with --plaintext a 'password'
attribute instead.
"""
import argparse
import base64
import hashlib
import hmac
from xml.sax.saxutils import quoteattr


def scram_keys(name, password, salt, iterations):
    salted = hashlib.pbkdf2_hmac(name, password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", name).digest()
    stored_key = hashlib.new(name, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", name).digest()
    return stored_key, server_key


def scram_element(mechanism, name, password, salt, iterations):
    stored, server = scram_keys(name, password, salt, iterations)
    b64 = lambda b: base64.b64encode(b).decode()
    return (f"<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='{mechanism}'>"
            f"<iter-count>{iterations}</iter-count><salt>{b64(salt)}</salt>"
            f"<server-key>{b64(server)}</server-key><stored-key>{b64(stored)}</stored-key>"
            "</scram-credentials>")


def generate(out, users, contacts, domain="localhost", prefix="user", password="secret",
             plaintext=False, iterations=4096):
    salt = b"tern-gen-pie-salt"
    creds = ""
    if not plaintext:
        creds = (scram_element("SCRAM-SHA-1", "sha1", password, salt, iterations) +
                 scram_element("SCRAM-SHA-256", "sha256", password, salt, iterations))
    with open(out, "w", encoding="utf-8") as f:
        f.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                "<server-data xmlns='urn:xmpp:pie:0'>\n"
                f"<host jid={quoteattr(domain)}>\n")
        for i in range(users):
            attrs = f"name='{prefix}{i}'"
            if plaintext:
                attrs += f" password={quoteattr(password)}"
            items = "".join(
                f"<item jid='{prefix}{(i + k) % users}@{domain}' subscription='both'>"
                "<group>Bench</group></item>"
                for k in range(1, min(contacts, users - 1) + 1))
            f.write(f"<user {attrs}>{creds}<query xmlns='jabber:iq:roster'>{items}</query></user>\n")
        f.write("</host>\n</server-data>\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--contacts", type=int, default=20)
    p.add_argument("--domain", default="localhost")
    p.add_argument("--prefix", default="user")
    p.add_argument("--password", default="secret")
    p.add_argument("--plaintext", action="store_true")
    a = p.parse_args()
    generate(a.out, a.users, a.contacts, a.domain, a.prefix, a.password, a.plaintext)


if __name__ == "__main__":
    main()
