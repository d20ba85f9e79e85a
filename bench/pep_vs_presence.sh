#!/bin/bash
# PEP notifications per second next to presence deliveries per second, on
# one fresh Tern: U users, each with K mutual contacts, all online.
#   presence: users change presence at RATE changes/s (each goes to K contacts)
#   pep:      users publish to a PEP node at RATE publishes/s; caps say
#             +notify, so each publish goes to K contacts (and the publisher)
#
#   bench/pep_vs_presence.sh [USERS] [CONTACTS] [RATE] [SECONDS]
# Uses build/tern and build/tern-bench; prints both reports' JSON lines.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
USERS=${1:-100}
CONTACTS=${2:-50}
RATE=${3:-200}
SECONDS_=${4:-5}
TERN=$ROOT/build/tern
BENCH=$ROOT/build/tern-bench
DIR=$(mktemp -d /tmp/tern-pep-bench.XXXXXX)
# shellcheck source=bench/bench_lib.sh
source "$ROOT/bench/bench_lib.sh"
PORT=$(free_port)
bench_config "$DIR/tern.toml" "$DIR/data" "$PORT" '"ping", "roster", "presence", "offline", "disco", "pep"'
"$TERN" user add bench0@localhost bench --config "$DIR/tern.toml" >/dev/null
/usr/bin/python3 "$ROOT/bench/roster_provision.py" --db "$DIR/data/tern.db" --users "$USERS" \
  --contacts "$CONTACTS" --domain localhost --pattern 'bench{}' --password bench >&2
run() {
  "$TERN" serve --config "$DIR/tern.toml" >"$DIR/$1.out" 2>"$DIR/$1.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q . "$DIR/$1.out" 2>/dev/null && break; sleep 0.1; done
  "$BENCH" "$1" --port "$PORT" --users "$USERS" --contacts "$CONTACTS" --rate "$RATE" \
    --duration "$SECONDS_" --server-pid "$pid" --quiet | tee "$DIR/$1.report" | grep '^JSON'
  kill -TERM "$pid"; wait "$pid" || true
}
run presence
run pep
echo "reports in $DIR" >&2
