#!/bin/bash
# What stream management and the message archive cost a chat at
# saturation, in one sitting: the same Tern, the same pairs, four runs per
# round (neither, --sm on the clients, mam on the server, both), each on a
# fresh server process over STARTTLS. Prints msgs/s and server CPU per
# message for each run.
#
#   bench/chat_features.sh [ROUNDS] [PAIRS] [SECONDS] [TERN]
#
# The base modules are compare.sh's (Prosody's and ejabberd's feature set);
# "mam" adds the archive module with its defaults (every chat message
# archived, for both parties).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-2}
PAIRS=${2:-50}
SECONDS_=${3:-10}
TERN=$(realpath "${4:-$ROOT/build/tern}")
BENCH=$ROOT/build/tern-bench
DIR=$(mktemp -d /tmp/tern-chat-features.XXXXXX)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$DIR"' EXIT
# shellcheck source=bench/bench_lib.sh
source "$ROOT/bench/bench_lib.sh"
PORT=$(free_port)
make_cert "$DIR"

# config MODULES: tern.toml with the base modules plus MODULES.
config() { bench_config "$DIR/tern.toml" "$DIR/data" "$PORT" "$BENCH_BASE_MODULES$1" "$DIR"; }

config ""
"$TERN" user add bench0@localhost pw --config "$DIR/tern.toml" >/dev/null
/usr/bin/python3 "$ROOT/bench/roster_provision.py" --db "$DIR/data/tern.db" --users $((PAIRS * 2)) \
  --contacts 0 --domain localhost --pattern 'bench{}' --password pw >&2
# Each run starts from these accounts alone: what one run leaves behind
# (messages in flight at its end, in offline storage; an archive) would
# be delivered or read in the next.
mv "$DIR/data" "$DIR/accounts"

# run LABEL MODULES BENCH_FLAGS...
run() {
  local label=$1 modules=$2 pid
  shift 2
  config "$modules"
  rm -rf "$DIR/data"
  cp -a "$DIR/accounts" "$DIR/data"
  "$TERN" serve --config "$DIR/tern.toml" >"$DIR/$label.out" 2>"$DIR/$label.err" &
  pid=$!
  for _ in $(seq 100); do grep -q . "$DIR/$label.out" 2>/dev/null && break; sleep 0.1; done
  "$BENCH" chat --port "$PORT" --pairs "$PAIRS" --duration "$SECONDS_" --tls --mech SCRAM-SHA-1 \
    --password pw --sources 4 --server-pid "$pid" --quiet --max-seconds $((SECONDS_ + 120)) "$@" |
    grep '^JSON' | cut -c6- >"$DIR/$label.json" || true  # a run with losses still reports
  kill -TERM "$pid"; wait "$pid" || true
  /usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[2]))
rate, cpu, lost = r["delivered_per_second"], r.get("server_cpu_us_per_message", 0), r["lost"]
print(f"{sys.argv[1]:<12}{rate:>9,.0f} msgs/s\t{cpu:.2f} us server CPU/msg\tlost {lost}")' \
    "$label" "$DIR/$label.json"
}

for ((r = 1; r <= ROUNDS; r++)); do
  run "plain#$r" ""
  run "sm#$r" "" --sm
  run "mam#$r" ', "mam"'
  run "sm+mam#$r" ', "mam"' --sm
done
