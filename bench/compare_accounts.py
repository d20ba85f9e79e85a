#!/usr/bin/python3
"""Benchmark accounts and rosters for Prosody and ejabberd, as compare.sh needs them.

The same layout as roster_provision.py writes into Tern's database:

  * PATTERN.format(i)@DOMAIN for i = 0 .. USERS-1: no roster (hold, login,
    chat);
  * i = USERS .. USERS+PRESENCE-1: each with CONTACTS mutual contacts
    (subscription 'both') among those PRESENCE users, on the ring
    i <-> i+d (mod PRESENCE), d = 1 .. CONTACTS/2 (roster_provision.py's
    contact_offsets), for the presence scenario.

Every account has the same password and, for speed, ONE salt and key set
(SCRAM-SHA-1, as both servers use); benchmark data only.

  prosody DATA_DIR  writes Prosody 0.12 internal storage straight into
                    DATA_DIR/HOST/accounts/*.dat and roster/*.dat
                    (mod_auth_internal_hashed: hex keys, the salt a
                    UUID-like string, 10000 iterations as Prosody's default);
                    the server should be stopped.
  ejabberd FILE     writes a XEP-0227 file for `ejabberdctl import_piefxis`,
                    with <scram-credentials> as ejabberd 23.01 exports them
                    (the values base64 of its base64 strings, 4096
                    iterations as its default), so the import computes no
                    PBKDF2.

    /usr/bin/python3 bench/compare_accounts.py prosody DATA --users 19000 \\
        --presence-users 1000 --contacts 20 --password pw
"""

import argparse
import base64
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roster_provision import contact_offsets, derive  # noqa: E402


def node(args, i):
    return args.pattern.format(i)


def rosters(users, presence, contacts):
    """index -> contact indexes, for the presence users only."""
    out = {i: {} for i in range(users, users + presence)}  # dicts: ordered sets
    for d in contact_offsets(contacts, presence) if presence else []:
        for k in range(presence):
            # The offset presence/2 of an odd K meets every pair twice.
            a, b = users + k, users + (k + d) % presence
            out[a][b] = out[b][a] = None
    return {i: list(c) for i, c in out.items()}


def lua_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_prosody(args, jid):
    """Prosody's datamanager files: `return { ... };` per user and store."""
    salt = str(uuid.uuid4())
    stored, server = derive("sha1", args.password, salt.encode(), 10000)
    account = ("return {\n\t[\"iteration_count\"] = 10000;\n"
               f"\t[\"salt\"] = {lua_string(salt)};\n"
               f"\t[\"server_key\"] = {lua_string(server.hex())};\n"
               f"\t[\"stored_key\"] = {lua_string(stored.hex())};\n}};\n")
    # datamanager escapes every byte outside [_%w] in file names: names of
    # letters and digits and "localhost" are written as they are.
    base = os.path.join(args.target, args.domain)
    os.makedirs(os.path.join(base, "accounts"), exist_ok=True)
    os.makedirs(os.path.join(base, "roster"), exist_ok=True)
    for i in range(args.users + args.presence_users):
        with open(os.path.join(base, "accounts", node(args, i) + ".dat"), "w") as f:
            f.write(account)
    for i, contacts in rosters(args.users, args.presence_users, args.contacts).items():
        items = "".join(f"\t[{lua_string(jid(c))}] = {{\n\t\t[\"groups\"] = {{}};\n"
                        "\t\t[\"subscription\"] = \"both\";\n\t};\n" for c in contacts)
        with open(os.path.join(base, "roster", node(args, i) + ".dat"), "w") as f:
            f.write("return {\n\t[false] = {\n\t\t[\"pending\"] = {};\n"
                    f"\t\t[\"version\"] = {len(contacts)};\n\t}};\n{items}}};\n")


def write_ejabberd(args, jid):
    """One XEP-0227 file; ejabberd stores SCRAM values as base64 strings and
    exports (and imports) those strings base64-encoded once more."""
    salt = os.urandom(16)
    stored, server = derive("sha1", args.password, salt, 4096)

    def b64b64(raw):
        return base64.b64encode(base64.b64encode(raw)).decode()

    cred = ("<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>"
            f"<iter-count>4096</iter-count><salt>{b64b64(salt)}</salt>"
            f"<server-key>{b64b64(server)}</server-key><stored-key>{b64b64(stored)}</stored-key>"
            "</scram-credentials>")
    contacts = rosters(args.users, args.presence_users, args.contacts)
    with open(args.target, "w") as f:
        f.write("<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'>"
                f"<host jid='{args.domain}'>\n")
        for i in range(args.users + args.presence_users):
            roster = ""
            if i in contacts:
                roster = ("<query xmlns='jabber:iq:roster'>" +
                          "".join(f"<item jid='{jid(c)}' subscription='both'/>" for c in contacts[i]) +
                          "</query>")
            f.write(f"<user name='{node(args, i)}'>{cred}{roster}</user>\n")
        f.write("</host></server-data>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("server", choices=["prosody", "ejabberd"])
    ap.add_argument("target", help="prosody: its data_path; ejabberd: the XML file to write")
    ap.add_argument("--users", type=int, required=True, help="accounts without a roster")
    ap.add_argument("--presence-users", type=int, default=0, help="accounts with rosters, after those")
    ap.add_argument("--contacts", type=int, default=20, help="contacts per presence user")
    ap.add_argument("--domain", default="localhost")
    ap.add_argument("--pattern", default="bench{}")
    ap.add_argument("--password", default="pw")
    args = ap.parse_args()
    if not args.password.isascii() or not args.password.isprintable():
        raise SystemExit("--password must be printable ASCII (SASLprep is not implemented here)")

    def jid(i):
        return f"{node(args, i)}@{args.domain}"

    t0 = time.monotonic()
    (write_prosody if args.server == "prosody" else write_ejabberd)(args, jid)
    print(f"{args.server}: {args.users + args.presence_users} accounts, {args.presence_users} with "
          f"{args.contacts} contacts, written in {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
