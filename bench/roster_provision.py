#!/usr/bin/python3
"""Bulk-provision benchmark accounts and mutual rosters straight into Tern's SQLite file.

`tern user add` is one process and two PBKDF2 runs per account (~20 ms);
10,000 accounts with rosters would take minutes that way and rosters cannot
be made with it at all. This writes the rows directly, in one transaction:

  * N accounts PATTERN.format(i)@DOMAIN, i = FIRST .. FIRST+N-1, password
    PASSWORD, with SCRAM-SHA-1 and SCRAM-SHA-256 credentials computed as
    src/sasl/crypto.cc derive_credentials does: SaltedPassword =
    PBKDF2-HMAC-H(password, salt, 4096), ClientKey = HMAC(SaltedPassword,
    "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword,
    "Server Key"); salt, StoredKey and ServerKey are raw-byte BLOBs (as
    src/storage/sqlite/accounts.cc binds them).
    For speed ONE random 16-byte salt (and so one key set) per hash is
    computed and shared by every account. Tern itself gives each account
    and hash a fresh salt; shared salts only matter for an attacker with the
    database, so keep this to benchmark data.
  * Rosters where every user has exactly K contacts, each mutual
    (subscription 'both' on both sides). Taken literally, "user i lists
    users i+1 .. i+K and each of them lists i back" gives every user 2K
    items (K it added plus K that added it). So the links are i <-> i+d
    (mod N) for d = 1 .. K/2: user i's contacts are i-K/2 .. i+K/2 without
    i, i.e. K items (an odd K adds d = N/2). roster_version is set to the
    number of items (as if each had been added with one bump).

The database must exist with the schema applied: run
`tern user add seed@DOMAIN pw --config CFG` once first. The server should not
be running (it would not see rows written behind its back in caches).
Existing accounts / roster rows with the same keys are left as they are
(INSERT ... ON CONFLICT DO NOTHING).

    /usr/bin/python3 bench/roster_provision.py --db DATA/tern.db --users 10000 \
        --contacts 20 --domain localhost --pattern 'bench{}' --password bench
"""

import argparse
import hashlib
import hmac
import os
import sqlite3
import sys
import time

ITERATIONS = 4096
SALT_BYTES = 16


def derive(hash_name, password, salt, iterations=ITERATIONS):
    """(stored_key, server_key) as src/sasl/crypto.cc derive_credentials (ASCII password: SASLprep is identity)."""
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    stored_key = hashlib.new(hash_name, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    return stored_key, server_key


def contact_offsets(k, n):
    """Offsets d such that linking i <-> i+d (mod n) for every i gives each user exactly k contacts.

    Each link i <-> i+d gives user i one contact "forward" and user i+d one
    "backward", so offsets 1..k/2 give k contacts per user. An odd k adds the
    offset n/2 (needs even n), which pairs users up and gives one contact each.
    """
    if k <= 0:
        return []
    if k >= n:
        raise SystemExit(f"--contacts {k} needs more than {k} users")
    offsets = list(range(1, k // 2 + 1))
    if k % 2:
        if n % 2:
            raise SystemExit("an odd --contacts needs an even --users")
        offsets.append(n // 2)
    return offsets


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="tern's SQLite file (data_dir/tern.db)")
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--contacts", type=int, default=20,
                    help="roster items per user, all mutual 'both' (default 20)")
    ap.add_argument("--domain", default="localhost")
    ap.add_argument("--pattern", default="bench{}", help="user name, {} = index (default bench{})")
    ap.add_argument("--first", type=int, default=0, help="index of the first user (default 0)")
    ap.add_argument("--password", default="bench")
    args = ap.parse_args()

    if not args.password.isascii() or not args.password.isprintable():
        raise SystemExit("--password must be printable ASCII (SASLprep is not implemented here)")
    if not os.path.exists(args.db):
        raise SystemExit(f"{args.db} does not exist; run `tern user add seed@{args.domain} pw --config CFG` first")

    n, k = args.users, args.contacts
    offsets = contact_offsets(k, n)
    t0 = time.monotonic()
    creds = {}
    for name in ("sha1", "sha256"):
        salt = os.urandom(SALT_BYTES)
        creds[name] = (salt,) + derive(name, args.password, salt)
    now = int(time.time())

    def node(i):
        return args.pattern.format(args.first + i)

    db = sqlite3.connect(args.db, timeout=60, isolation_level=None)
    if db.execute("PRAGMA user_version").fetchone()[0] < 1:
        raise SystemExit(f"{args.db} has no schema yet; run `tern user add` once first")
    db.execute("BEGIN IMMEDIATE")
    s1, s256 = creds["sha1"], creds["sha256"]
    cur = db.executemany(
        "INSERT INTO accounts (user, domain, sha1_salt, sha1_iter, sha1_stored, sha1_server,"
        " sha256_salt, sha256_iter, sha256_stored, sha256_server, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user, domain) DO NOTHING",
        ((node(i), args.domain, s1[0], ITERATIONS, s1[1], s1[2], s256[0], ITERATIONS, s256[1], s256[2], now)
         for i in range(n)))
    accounts_added = cur.rowcount

    def roster_rows():
        for i in range(n):
            for d in offsets:
                j = (i + d) % n
                yield node(i), args.domain, f"{node(j)}@{args.domain}"
                yield node(j), args.domain, f"{node(i)}@{args.domain}"

    cur = db.executemany(
        "INSERT INTO roster (owner_user, owner_domain, jid, subscription) VALUES (?, ?, ?, 'both')"
        " ON CONFLICT (owner_user, owner_domain, jid) DO NOTHING", roster_rows())
    items_added = cur.rowcount
    # One bump per item, as if each had been added by a roster set.
    db.executemany(
        "INSERT INTO roster_version (owner_user, owner_domain, version)"
        " SELECT ?1, ?2, COUNT(*) FROM roster WHERE owner_user = ?1 AND owner_domain = ?2"
        " ON CONFLICT (owner_user, owner_domain) DO UPDATE SET version = MAX(version + 1, excluded.version)",
        ((node(i), args.domain) for i in range(n)))
    db.execute("COMMIT")

    lo, hi = db.execute(
        "SELECT MIN(c), MAX(c) FROM (SELECT COUNT(*) AS c FROM roster WHERE owner_domain = ?"
        " AND owner_user IN (SELECT user FROM accounts WHERE domain = ?) GROUP BY owner_user)",
        (args.domain, args.domain)).fetchone()
    db.close()
    print(f"{accounts_added} accounts and {items_added} roster items added in "
          f"{time.monotonic() - t0:.1f} s; items per provisioned user: {k} "
          f"(all users of {args.domain} with a roster: min {lo}, max {hi})")


if __name__ == "__main__":
    sys.exit(main())
