#!/bin/bash
# Presence deliveries per second of two Tern builds, alternately, in one
# sitting: the A/B behind a "before and after" figure. Each run is a fresh
# server on the same data (U users with K mutual contacts, all online over
# STARTTLS, as bench/compare.sh's presence run), offered RATE changes/s for
# SECONDS; it prints one line per run: label, deliveries/s, server CPU µs per
# delivery (in the measured window).
#
#   bench/presence_ab.sh OLD_TERN NEW_TERN [ROUNDS] [USERS] [CONTACTS] [RATE] [SECONDS]
#
# The modules are compare.sh's (Prosody's and ejabberd's feature set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=$(realpath "$1")
B=$(realpath "$2")
ROUNDS=${3:-3}
USERS=${4:-1000}
CONTACTS=${5:-20}
RATE=${6:-15000}
SECONDS_=${7:-10}
BENCH=$ROOT/build/tern-bench
DIR=$(mktemp -d /tmp/tern-presence-ab.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
# shellcheck source=bench/bench_lib.sh
source "$ROOT/bench/bench_lib.sh"
PORT=$(free_port)
make_cert "$DIR"
bench_config "$DIR/tern.toml" "$DIR/data" "$PORT" "$BENCH_BASE_MODULES" "$DIR"
# Each build gets accounts made by its own `user add` (an older build may
# not open a database a newer one has migrated), copied afresh for each run.
for build in A B; do
  bin=${!build}
  bench_config "$DIR/provision.toml" "$DIR/accounts-$build" "$PORT" "$BENCH_BASE_MODULES" "$DIR"
  "$bin" user add bench0@localhost pw --config "$DIR/provision.toml" >/dev/null
  /usr/bin/python3 "$ROOT/bench/roster_provision.py" --db "$DIR/accounts-$build/tern.db" --users "$USERS" \
    --contacts "$CONTACTS" --domain localhost --pattern 'bench{}' --password pw >&2
done

# run LABEL BUILD (A or B)
run() {
  local label=$1 build=$2 bin=${!2} pid
  rm -rf "$DIR/data"
  cp -a "$DIR/accounts-$build" "$DIR/data"
  "$bin" serve --config "$DIR/tern.toml" >"$DIR/$label.out" 2>"$DIR/$label.err" &
  pid=$!
  for _ in $(seq 100); do grep -q . "$DIR/$label.out" 2>/dev/null && break; sleep 0.1; done
  "$BENCH" presence --port "$PORT" --users "$USERS" --contacts "$CONTACTS" --rate "$RATE" \
    --duration "$SECONDS_" --tls --mech SCRAM-SHA-1 --password pw --sources 4 --server-pid "$pid" \
    --quiet --max-seconds $((SECONDS_ + 300)) | grep '^JSON' | cut -c6- >"$DIR/$label.json"
  kill -TERM "$pid"; wait "$pid" || true
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[2]))
rate, cpu = r["deliveries_per_second"], r.get("server_cpu_us_per_delivery", 0)
print(f"{sys.argv[1]}\t{rate:>9,.0f} deliveries/s\t{cpu:.2f} us server CPU/delivery")' "$label" "$DIR/$label.json"
}

for ((r = 1; r <= ROUNDS; r++)); do
  run "A#$r" A
  run "B#$r" B
done
