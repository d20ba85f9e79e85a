#!/bin/bash
# Two Tern builds, alternately, in one sitting: the A/B behind a "before and
# after" figure. Each run is a fresh server on the same data, over STARTTLS;
# it prints one line per run: label, rate, server CPU µs per delivery (in the
# measured window).
#
#   bench/ab.sh presence OLD_TERN NEW_TERN [ROUNDS] [USERS] [CONTACTS] [RATE] [SECONDS]
#   bench/ab.sh chat     OLD_TERN NEW_TERN [ROUNDS] [PAIRS] [SECONDS]
#
# presence: U users with K mutual contacts, all online (compare.sh's presence
# run), offered RATE changes/s. chat: PAIRS pairs at saturation (compare.sh's
# chat run). The modules are compare.sh's (Prosody's and ejabberd's feature
# set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKLOAD=$1
A=$(realpath "$2")
B=$(realpath "$3")
ROUNDS=${4:-3}
case $WORKLOAD in
  presence) USERS=${5:-1000} CONTACTS=${6:-20} RATE=${7:-15000} SECONDS_=${8:-10} ;;
  chat) PAIRS=${5:-50} USERS=$((PAIRS * 2)) CONTACTS=0 SECONDS_=${6:-10} ;;
  *) echo "usage: bench/ab.sh presence|chat OLD_TERN NEW_TERN ..." >&2; exit 2 ;;
esac
BENCH=$ROOT/build/tern-bench
DIR=$(mktemp -d /tmp/tern-ab.XXXXXX)
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
  local common=(--port "$PORT" --duration "$SECONDS_" --tls --mech SCRAM-SHA-1 --password pw
                --sources 4 --server-pid "$pid" --quiet --max-seconds $((SECONDS_ + 300)))
  if [[ $WORKLOAD == presence ]]; then
    "$BENCH" presence --users "$USERS" --contacts "$CONTACTS" --rate "$RATE" "${common[@]}"
  else
    "$BENCH" chat --pairs "$PAIRS" "${common[@]}"
  fi | grep '^JSON' | cut -c6- >"$DIR/$label.json" || true  # a run with losses still reports
  kill -TERM "$pid"; wait "$pid" || true
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[2]))
if "deliveries_per_second" in r:
    rate, cpu, unit = r["deliveries_per_second"], r.get("server_cpu_us_per_delivery", 0), "deliveries"
else:
    rate, cpu, unit = r["delivered_per_second"], r.get("server_cpu_us_per_message", 0), "msgs"
print(f"{sys.argv[1]}\t{rate:>9,.0f} {unit}/s\t{cpu:.2f} us server CPU/delivery")' "$label" "$DIR/$label.json"
}

for ((r = 1; r <= ROUNDS; r++)); do
  run "A#$r" A
  run "B#$r" B
done
