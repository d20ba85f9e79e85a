#!/usr/bin/env bash
# bench/compare.sh: Tern, Prosody and ejabberd side by side on loopback, in one
# sitting, driven by the same load generator (build/tern-bench).
#
# Each server is started by hand (never through the init system) on free
# loopback ports of its own, with a self-signed certificate for "localhost",
# SASL SCRAM-SHA-1 and rate limits raised, and gets the same runs:
#   hold-plain  a staged ramp of idle sessions over plain TCP, stopping at each
#               checkpoint (default 1,000, 10,000, 19,000) to sample the
#               server's RSS: KiB per session at each size
#   hold-tls    the same through STARTTLS, on a fresh server process (same
#               baseline as the plain run)
#   login       logins/s at a fixed concurrency
#   chat        P pairs at saturation: msgs/s, latency, server CPU per message
#   chat-rate   the same pairs at a fixed offered load of half Tern's
#               saturation rate: p50/p99 latency
#   login-resume  the login run again with TLS 1.3 session resumption
#               (tern-bench --tls-resume; tls_resumed says who resumed)
#   chat-light-R  500 pairs at light paced loads (--light-rates, default 200
#               and 2,000 msgs/s): p50/p99 latency, server CPU per message
#   presence    U users, each with K mutual contacts all online, change
#               presence at a fixed rate: deliveries/s (a fresh process)
#   storm       --storm-sessions sessions logged in, every connection cut at
#               once, every client reconnecting at once: time until all are
#               back (a fresh process; Tern also with --tls-resume: storm-resume)
#   muc-RxO     R rooms of O occupants (default 1x500 and 100x20) sending
#               groupchat at a fixed offered delivery rate: deliveries/s,
#               latency, server CPU per delivery (a fresh process)
#   feat-W-R    with --features: chat at saturation four ways W, plain, sm
#               (tern-bench --sm: XEP-0198 with resumption), mam (the server
#               archives every chat message, XEP-0313) and sm-mam, for
#               --feature-rounds rounds R, each on a fresh process whose data
#               is the provisioned accounts alone
# and Tern alone also runs chat at saturation with shards = 1 and = 2.
#
# bench/compare.sh --scaling runs only Tern: chat at a fixed offered load
# (half of its 1-shard saturation) with 1, 2, 4 ... shards up to the core
# count, the server pinned (taskset) to cores 0..S-1 and the generator to the
# others when there are any: server CPU per message by shard count.
# Everything after hold-plain goes through STARTTLS. Tern runs first (its
# chat result sets the chat-rate load for all three).
#
# Accounts, on every server: bench0..bench{N-1} (N = the last checkpoint)
# without rosters, and bench{N}..bench{N+U-1} with K contacts each, all
# subscription "both", for the presence run. They are written in bulk:
# Tern's SQLite file (bench/roster_provision.py), Prosody's data files and an
# ejabberd XEP-0227 import (bench/compare_accounts.py).
#
# It writes bench/results/<date>.md, .json and .png (bench/compare_report.py)
# and prints the headline table, one row per target of issue 4, on stdout.
#
# Prosody (Debian package prosody) and ejabberd (Debian package ejabberd) and
# gnuplot-nox are installed with apt-get if missing, with a policy-rc.d that
# forbids starting their system services. Configs are templates under
# bench/prosody/ and bench/ejabberd/; the script fills in ports and paths in
# a temporary directory, which is deleted at exit (--keep to keep it).
#
# SCRAM-SHA-1 is used everywhere: Prosody 0.12's internal_hashed stores only
# SCRAM-SHA-1 credentials, and ejabberd's default auth_scram_hash is sha.
#
# Needs root (apt-get, runuser -u prosody). Run from anywhere:
#   bench/compare.sh                                   # the full run (about 30 min)
#   bench/compare.sh --sizes 100,300 --presence-users 100 --seconds 3   # a quick check
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TERN=$ROOT/build/tern
BENCH=$ROOT/build/tern-bench
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
SIZES=1000,10000,19000
SETTLE_SECONDS=3
HOLD_SECONDS=5
LOGIN_SECONDS=10
LOGIN_CONCURRENCY=20
CHAT_SECONDS=10
PAIRS=50
CHAT_RATE=""
PRESENCE_USERS=1000
CONTACTS=20
PRESENCE_RATE=15000
PRESENCE_SECONDS=10
SCALING_SECONDS=""
LIGHT_RATES=200,2000
LIGHT_PAIRS=500
LIGHT_SECONDS=20
STORM_SESSIONS=2000
MUC_ROOMS=1x500,100x20
MUC_DELIVERIES=20000
MUC_SECONDS=10
SCALING_ONLY=0
FEATURES=0
FEATURE_ROUNDS=2
SOURCES=4
SERVERS="tern prosody ejabberd"
OUT=$ROOT/bench/results
DATE=$(date +%F)
KEEP=0
INSTALL_ONLY=0
PASSWORD=pw
MECH=SCRAM-SHA-1

usage() {
  cat <<USAGE
usage: bench/compare.sh [options]
  --sizes A,B,C          hold checkpoints: idle sessions at which the server RSS
                         is sampled; the last is also the number of accounts ($SIZES)
  -n, --users N          the same as --sizes N
  --settle-seconds S     wait at each checkpoint before sampling RSS ($SETTLE_SECONDS)
  --hold-seconds S       hold after the last checkpoint ($HOLD_SECONDS)
  --login-seconds S      login run ($LOGIN_SECONDS)
  --login-concurrency C  parallel login loops ($LOGIN_CONCURRENCY)
  --chat-seconds S       each chat run ($CHAT_SECONDS)
  --pairs P              chat pairs, needs 2P <= N ($PAIRS)
  --chat-rate R          offered msgs/s of the fixed-load chat run when Tern is
                         not among --servers (default: half Tern's saturation)
  --presence-users U     accounts with rosters for the presence run, 0 skips it ($PRESENCE_USERS)
  --contacts K           contacts per presence user ($CONTACTS)
  --presence-rate R      presence changes offered per second, in all ($PRESENCE_RATE)
  --presence-seconds S   presence run ($PRESENCE_SECONDS)
  --scaling-seconds S    Tern chat at shards = 1 and 2; 0 skips (--chat-seconds)
  --light-rates A,B      light paced chat runs, msgs/s in all; "" skips ($LIGHT_RATES)
  --light-pairs P        pairs of the light runs, needs 2P accounts ($LIGHT_PAIRS)
  --light-seconds S      each light run ($LIGHT_SECONDS)
  --storm-sessions N     reconnect storm: N sessions cut and reconnecting at
                         once; 0 skips ($STORM_SESSIONS)
  --muc-rooms RxO,...    MUC runs: R rooms of O occupants each; "" skips ($MUC_ROOMS)
  --muc-deliveries D     offered groupchat deliveries/s of each MUC run: the
                         message rate is D / O ($MUC_DELIVERIES)
  --muc-seconds S        each MUC run ($MUC_SECONDS)
  --features             also chat at saturation plain, with --sm (XEP-0198), with
                         the server archiving every message (XEP-0313 MAM) and
                         both, each on a fresh process from the accounts alone
  --feature-rounds R     rounds of those four runs ($FEATURE_ROUNDS)
  --scaling              only Tern's shard scaling: chat at half its 1-shard
                         saturation with 1, 2, 4 ... shards up to the core count
  --seconds S            every duration above at once (login, chat, presence,
                         scaling, light, muc)
  --sources K            source addresses 127.0.0.1..K for the generator ($SOURCES)
  --servers "LIST"       subset of "tern prosody ejabberd" (all three; Tern runs first)
  --out DIR              where <date>.md/.json/.png go ($OUT)
  --date NAME            report name instead of today's date ($DATE)
  --tern PATH            tern binary ($TERN)
  --bench PATH           tern-bench binary ($BENCH)
  --keep                 keep the temporary directory (configs, logs, raw output)
  --install-only         only install what is missing, then exit
USAGE
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --sizes|--checkpoints) SIZES=$2; shift 2 ;;
    -n|--users) SIZES=$2; shift 2 ;;
    --settle-seconds) SETTLE_SECONDS=$2; shift 2 ;;
    --hold-seconds) HOLD_SECONDS=$2; shift 2 ;;
    --login-seconds) LOGIN_SECONDS=$2; shift 2 ;;
    --login-concurrency) LOGIN_CONCURRENCY=$2; shift 2 ;;
    --chat-seconds) CHAT_SECONDS=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --chat-rate) CHAT_RATE=$2; shift 2 ;;
    --presence-users) PRESENCE_USERS=$2; shift 2 ;;
    --contacts) CONTACTS=$2; shift 2 ;;
    --presence-rate) PRESENCE_RATE=$2; shift 2 ;;
    --presence-seconds) PRESENCE_SECONDS=$2; shift 2 ;;
    --scaling-seconds) SCALING_SECONDS=$2; shift 2 ;;
    --seconds) LOGIN_SECONDS=$2; CHAT_SECONDS=$2; PRESENCE_SECONDS=$2; SCALING_SECONDS=$2
               LIGHT_SECONDS=$2; MUC_SECONDS=$2; shift 2 ;;
    --light-rates) LIGHT_RATES=$2; shift 2 ;;
    --light-pairs) LIGHT_PAIRS=$2; shift 2 ;;
    --light-seconds) LIGHT_SECONDS=$2; shift 2 ;;
    --storm-sessions) STORM_SESSIONS=$2; shift 2 ;;
    --muc-rooms) MUC_ROOMS=$2; shift 2 ;;
    --muc-deliveries) MUC_DELIVERIES=$2; shift 2 ;;
    --muc-seconds) MUC_SECONDS=$2; shift 2 ;;
    --scaling) SCALING_ONLY=1; shift ;;
    --features) FEATURES=1; shift ;;
    --feature-rounds) FEATURE_ROUNDS=$2; shift 2 ;;
    --sources) SOURCES=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --date) DATE=$2; shift 2 ;;
    --tern) TERN=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
SCALING_SECONDS=${SCALING_SECONDS:-$CHAT_SECONDS}

log() { printf '[compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ cleanup
# Every process this script starts is recorded here (pid, then a label) and
# stopped at exit, whatever happens.
STARTED_PIDS=()
CLEANUP_HOOKS=()
TMP=""

stop_pid() {  # stop_pid PID LABEL: TERM, wait up to 10 s, then KILL
  local pid=$1 label=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  log "stopping $label (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  log "$label did not stop in 10 s, killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# forget_pid PID: for a process that has exited. Its pid must not be
# signalled at exit: by then it may belong to someone else.
forget_pid() {
  local i keep=()
  for ((i = 0; i < ${#STARTED_PIDS[@]}; i += 2)); do
    [[ ${STARTED_PIDS[i]} == "$1" ]] || keep+=("${STARTED_PIDS[i]}" "${STARTED_PIDS[i + 1]}")
  done
  STARTED_PIDS=("${keep[@]}")
}

cleanup() {
  local rc=$? i
  set +e
  for ((i = ${#CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do eval "${CLEANUP_HOOKS[i]}"; done
  for ((i = ${#STARTED_PIDS[@]} - 2; i >= 0; i -= 2)); do
    stop_pid "${STARTED_PIDS[i]}" "${STARTED_PIDS[i + 1]}"
  done
  if [[ -n $TMP && -d $TMP ]]; then
    if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TMP=$(mktemp -d /tmp/tern-compare.XXXXXX)
chmod 755 "$TMP"   # the prosody user has to reach its config and data below

# ------------------------------------------------------------------ install
POLICY=/usr/sbin/policy-rc.d

restore_policy() {
  if [[ -e $TMP/policy-rc.d.saved ]]; then
    cp -p "$TMP/policy-rc.d.saved" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}

# A service the package started in spite of policy-rc.d: stop it through the
# init system if there is a working one, else by its pid file.
stop_package_service() {
  local name=$1 pidfile
  shift
  if command -v systemctl >/dev/null 2>&1 &&
     [[ $(systemctl is-system-running 2>/dev/null || true) =~ ^(running|degraded|starting)$ ]]; then
    systemctl stop "$name" 2>/dev/null || true
  elif command -v service >/dev/null 2>&1 && [[ -e /etc/init.d/$name ]]; then
    service "$name" stop >/dev/null 2>&1 || true
  fi
  for pidfile in "$@"; do
    if [[ -s $pidfile ]]; then
      local pid
      pid=$(tr -dc '0-9' <"$pidfile")
      [[ -n $pid ]] && stop_pid "$pid" "$name service started by its package"
    fi
  done
}

install_missing() {
  local need=()
  command -v prosody >/dev/null 2>&1 || need+=(prosody)
  [[ -x /usr/sbin/ejabberdctl ]] || need+=(ejabberd)
  command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v runuser >/dev/null 2>&1 || need+=(util-linux)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  [[ ${#need[@]} -eq 0 ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "needs root to apt-get install ${need[*]}"
  log "installing ${need[*]} (system services kept from starting by $POLICY)"
  [[ -e $POLICY ]] && cp -p "$POLICY" "$TMP/policy-rc.d.saved"
  CLEANUP_HOOKS+=(restore_policy)
  printf '#!/bin/sh\n# tern bench/compare.sh: no service starts during this install\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
       >"$TMP/apt.log" 2>&1; then
    log "apt-get install failed; retrying after apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$TMP/apt.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
      >>"$TMP/apt.log" 2>&1 || { tail -20 "$TMP/apt.log" >&2; die "apt-get install ${need[*]} failed"; }
  fi
  restore_policy
  unset 'CLEANUP_HOOKS[-1]'
  # Should a service have started anyway, stop it.
  stop_package_service prosody /run/prosody/prosody.pid /var/run/prosody/prosody.pid
  stop_package_service ejabberd /run/ejabberd/ejabberd.pid /var/run/ejabberd/ejabberd.pid
  # ejabberd's postinst runs `ejabberdctl status`, which leaves an epmd
  # daemon on port 4369; stop it if no Erlang node is registered with it.
  if [[ " ${need[*]} " == *" ejabberd "* ]] && [[ -x /usr/bin/epmd ]] &&
     /usr/bin/epmd -names >/dev/null 2>&1 && ! /usr/bin/epmd -names 2>/dev/null | grep -q '^name '; then
    log "stopping the epmd the ejabberd package started"
    /usr/bin/epmd -kill >/dev/null 2>&1 || true
  fi
  log "installed ${need[*]}"
}

install_missing
[[ $INSTALL_ONLY == 1 ]] && exit 0

# ------------------------------------------------------------------ checks
if [[ $SCALING_ONLY == 1 ]]; then
  # Tern's chat by shard count, nothing else: no accounts with rosters.
  SERVERS=tern PRESENCE_USERS=0 LIGHT_RATES="" STORM_SESSIONS=0 MUC_ROOMS="" FEATURES=0
  [[ $DATE == *-scaling ]] || DATE=$DATE-scaling
fi
ORDERED=""
for s in $SERVERS; do
  case $s in tern|prosody|ejabberd) ;; *) die "unknown server '$s' in --servers" ;; esac
done
for s in tern prosody ejabberd; do [[ " $SERVERS " == *" $s "* ]] && ORDERED+="$s "; done
SERVERS=${ORDERED% }
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--sizes takes ascending numbers like 1000,10000,19000"
USERS=${SIZES##*,}   # the last checkpoint: accounts without rosters
(( PAIRS * 2 <= USERS )) || die "--pairs $PAIRS needs at least $((PAIRS * 2)) users, the last size is $USERS"
(( LOGIN_CONCURRENCY <= USERS )) || die "--login-concurrency $LOGIN_CONCURRENCY is more than the last size $USERS"
(( PRESENCE_USERS == 0 || CONTACTS < PRESENCE_USERS )) ||
  die "--contacts $CONTACTS needs more than $CONTACTS --presence-users"
[[ -z $CHAT_RATE || $CHAT_RATE =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--chat-rate takes msgs/s"
[[ -z $LIGHT_RATES || $LIGHT_RATES =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--light-rates takes msgs/s like 200,2000"
[[ -z $LIGHT_RATES ]] || (( LIGHT_PAIRS * 2 <= USERS )) ||
  die "--light-pairs $LIGHT_PAIRS needs at least $((LIGHT_PAIRS * 2)) users, the last size is $USERS"
(( STORM_SESSIONS <= USERS )) || die "--storm-sessions $STORM_SESSIONS is more than the last size $USERS"
[[ $FEATURE_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "--feature-rounds takes a number of rounds"
[[ -z $MUC_ROOMS || $MUC_ROOMS =~ ^[0-9]+x[0-9]+(,[0-9]+x[0-9]+)*$ ]] || die "--muc-rooms takes RxO,... like 1x500,100x20"
for rc in ${MUC_ROOMS//,/ }; do
  (( ${rc%x*} * ${rc#*x} <= USERS )) || die "--muc-rooms $rc needs $(( ${rc%x*} * ${rc#*x} )) users, the last size is $USERS"
done

[[ $(id -u) -eq 0 ]] || die "run as root: Prosody and ejabberd run as their own users"
if [[ ! -x $TERN || ! -x $BENCH ]]; then
  log "building tern and tern-bench (missing)"
  ninja -C "$ROOT/build" -j1 tern tern-bench >&2 || die "cannot build $TERN / $BENCH"
fi
# The servers and the generator inherit this limit; one process may not go
# past it, so the largest checkpoint must fit under it with some room.
NOFILE=$(ulimit -Hn)
ulimit -n "$NOFILE"
(( USERS + 200 <= NOFILE )) || die "size $USERS does not fit under the open-file limit $NOFILE"

RAW=$TMP/raw
mkdir -p "$RAW" "$OUT"
: >"$RAW/timings.tsv"
declare -A SKIPPED=()

# free_port VAR: sets VAR to a free TCP port on 127.0.0.1 (the kernel picks
# one from the ephemeral range, so never a standard service port), distinct
# from those handed out before (not called in a subshell, so it remembers).
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (( p > 10000 )) || continue
    [[ $USED_PORTS == *" $p "* ]] && continue
    USED_PORTS+="$p "
    printf -v "$1" '%s' "$p"
    return
  done
}

# wait_port PORT PID SECONDS: until something accepts on 127.0.0.1:PORT;
# fails early if PID exits.
wait_port() {
  local port=$1 pid=$2 secs=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_pidfile FILE SECONDS: prints the pid in FILE once it is there.
wait_pidfile() {
  local f=$1 secs=$2 i pid
  for ((i = 0; i < secs * 10; i++)); do
    if [[ -s $f ]]; then
      pid=$(tr -dc '0-9' <"$f")
      if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; return 0; fi
    fi
    sleep 0.1
  done
  return 1
}

# One self-signed certificate for "localhost", shared by the three servers.
log "making a self-signed certificate for localhost"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$TMP/localhost.key" -out "$TMP/localhost.crt" 2>"$TMP/openssl.log" ||
  die "openssl req failed: $(cat "$TMP/openssl.log")"

# ------------------------------------------------------------------ measuring
# The server under test: set by SERVER_start, used by the runs below.
SRV_PID=""
SRV_PORT=""

# The machine is shared with whatever else runs on it, so every run also
# records how busy all CPUs were: cpu_snapshot PID prints the busy ticks of
# the whole machine, PID's ticks (user + system) and the time in ns.
CLK_TCK=$(getconf CLK_TCK)
proc_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
cpu_snapshot() {
  local busy proc
  busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
  proc=$(proc_ticks "$1")
  echo "$busy ${proc:-0} $(date +%s%N)"
}

# wait_idle: until the server uses less than a tenth of a core over a second
# (a fresh start has finished starting; the sessions of the last run are
# closed and cleaned up), at most 60 s.
wait_idle() {
  local i a b
  for ((i = 0; i < 60; i++)); do
    a=$(proc_ticks "$SRV_PID")
    sleep 1
    b=$(proc_ticks "$SRV_PID")
    [[ -n $a && -n $b ]] || return 0
    (( (b - a) * 10 < CLK_TCK )) && return 0
  done
  log "server $SRV_PID still busy after 60 s; going on"
}

# timed SERVER STAGE COMMAND...: runs the command, appends its wall time to
# timings.tsv (the report shows where the time of a run goes).
timed() {
  local server=$1 stage=$2 t0=$SECONDS rc=0
  shift 2
  "$@" || rc=$?
  printf '%s\t%s\t%s\n' "$server" "$stage" $((SECONDS - t0)) >>"$RAW/timings.tsv"
  return $rc
}

# bench SERVER LABEL SCENARIO ARGS...: one tern-bench run against the server
# under test; keeps the table, the JSON line and the CPU snapshots in $RAW
# as SERVER-LABEL.*. Later options win, so ARGS may say --no-tls.
bench() {
  local server=$1 label=$2 scenario=$3
  shift 3
  local base=$RAW/$server-$label before rc=0 pid
  wait_idle
  log "$server $label: tern-bench $scenario $*"
  before=$(cpu_snapshot "$SRV_PID")
  # In the background, so that a TERM to this script stops it too (cleanup).
  "${GEN_PIN[@]}" "$BENCH" "$scenario" --host 127.0.0.1 --port "$SRV_PORT" --domain localhost \
    --user-pattern 'bench{}' --password "$PASSWORD" --tls --mech "$MECH" --quiet \
    --sources "$SOURCES" --server-pid "$SRV_PID" "$@" >"$base.txt" 2>"$base.err" &
  pid=$!
  STARTED_PIDS+=("$pid" "tern-bench")
  wait "$pid" || rc=$?
  forget_pid "$pid"
  (( rc == 0 )) || { log "$server $label: tern-bench exited with $rc (see below)"; tail -5 "$base.err" >&2; }
  echo "$before $(cpu_snapshot "$SRV_PID")" >"$base.cpu"
  grep '^JSON ' "$base.txt" | tail -1 | cut -c6- >"$base.json" || true
  [[ -s $base.json ]] || { log "$server: no JSON from tern-bench $scenario"; rm -f "$base.json"; }
  sed 's/^/    /' "$base.txt" | grep -v '^    JSON' >&2 || true
}

# hold SERVER MODE: the staged ramp of idle sessions, plain or tls.
hold() {
  local tls=--tls
  [[ $2 == plain ]] && tls=--no-tls
  # Bounded by a login rate of 10/s at worst.
  bench "$1" "hold-$2" hold --checkpoints "$SIZES" --settle-seconds "$SETTLE_SECONDS" \
    --hold-seconds "$HOLD_SECONDS" --connect-concurrency 50 --max-seconds $((300 + USERS / 10)) "$tls"
}

# The offered load of chat-rate: half of Tern's saturation rate.
set_chat_rate() {
  [[ -s $RAW/tern-chat.json ]] || { log "no Tern chat result: chat-rate is skipped"; return 0; }
  CHAT_RATE=$("$PY" -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["delivered_per_second"] / 2))' \
    "$RAW/tern-chat.json")
  log "chat-rate: $CHAT_RATE msgs/s offered to every server (half of Tern's saturation)"
}

# load SERVER: the runs through STARTTLS after the idle sessions. chat-rate
# comes last: a server that cannot sustain it is left with a backlog.
load() {
  local s=$1
  timed "$s" login bench "$s" login login --concurrency "$LOGIN_CONCURRENCY" \
    --duration "$LOGIN_SECONDS" --max-seconds $((LOGIN_SECONDS + 120))
  # The same with TLS 1.3 session resumption (a reconnecting client): each
  # loop's next login offers the ticket of its last one; tls_resumed counts
  # the handshakes the server actually resumed.
  timed "$s" login-resume bench "$s" login-resume login --concurrency "$LOGIN_CONCURRENCY" \
    --duration "$LOGIN_SECONDS" --max-seconds $((LOGIN_SECONDS + 120)) --tls-resume
  light "$s"
  timed "$s" chat bench "$s" chat chat --pairs "$PAIRS" --duration "$CHAT_SECONDS" \
    --max-seconds $((CHAT_SECONDS + 120))
  [[ $s == tern && $CHAT_RATE_GIVEN == 0 ]] && set_chat_rate
  if [[ -n $CHAT_RATE && $CHAT_RATE != 0 ]]; then
    timed "$s" chat-rate bench "$s" chat-rate chat --pairs "$PAIRS" --rate "$CHAT_RATE" \
      --duration "$CHAT_SECONDS" --max-seconds $((CHAT_SECONDS + 120))
    # Tern's latency at lighter loads: where does p99 cross 2 ms?
    [[ $s == tern ]] && latency_ladder
  fi
}

# light SERVER: chat at light paced loads (--light-rates) over
# --light-pairs pairs: the latency a lightly loaded server gives and what a
# message costs it when it is mostly idle. Before the saturating runs, so no
# backlog from them slows it.
light() {
  local rate
  [[ -n $LIGHT_RATES ]] || return 0
  for rate in ${LIGHT_RATES//,/ }; do
    timed "$1" "chat-light-$rate" bench "$1" "chat-light-$rate" chat --pairs "$LIGHT_PAIRS" \
      --rate "$rate" --duration "$LIGHT_SECONDS" --max-seconds $((LIGHT_SECONDS + 180))
  done
}

# storm SERVER: the reconnect storm on a fresh process: --storm-sessions
# sessions log in (50 at a time), all connections are cut at once and all
# reconnect at once. Tern once more with TLS session resumption.
storm() {
  local s=$1 label
  (( STORM_SESSIONS > 0 )) || return 0
  timed "$s" start-storm "${s}_start" tls || return 1
  for label in storm storm-resume; do
    [[ $label == storm-resume && $s != tern ]] && continue
    local resume=()
    [[ $label == storm-resume ]] && resume=(--tls-resume)
    timed "$s" "$label" bench "$s" "$label" reconnect --sessions "$STORM_SESSIONS" \
      --connect-concurrency 50 --settle-seconds 2 --login-timeout 60 \
      --max-seconds $((300 + STORM_SESSIONS / 10)) "${resume[@]}"
  done
  timed "$s" stop "${s}_stop"
}

# muc SERVER: the MUC runs on a fresh process: for each RxO of --muc-rooms,
# R rooms of O occupants (created as instant rooms by their first occupant),
# messages at --muc-deliveries / O per second in all.
muc() {
  local s=$1 rc rooms occ
  [[ -n $MUC_ROOMS ]] || return 0
  timed "$s" start-muc "${s}_start" tls || return 1
  for rc in ${MUC_ROOMS//,/ }; do
    rooms=${rc%x*} occ=${rc#*x}
    timed "$s" "muc-$rc" bench "$s" "muc-$rc" muc --rooms "$rooms" --occupants "$occ" \
      --rate $(( (MUC_DELIVERIES + occ - 1) / occ )) --duration "$MUC_SECONDS" \
      --login-timeout 120 --drain-seconds 5 --max-seconds $((MUC_SECONDS + 600))
  done
  timed "$s" stop "${s}_stop"
}

# features SERVER: --features. Chat at saturation four ways, round after
# round: plain; sm (tern-bench --sm: every session enables XEP-0198 with
# resumption and answers each <r/>; its login fails unless the server
# answers <enabled/>, so pairs_ready = pairs says SM was on); mam (the
# server archives every chat message); sm-mam. Prosody and ejabberd load
# their SM and MAM modules only in the runs that need them (FEAT_SM,
# FEAT_MAM). Each run is on a fresh process whose data is the provisioned
# accounts alone (SERVER_DATA copied back): nothing a run left, offline
# messages or an archive, is delivered or stored in the next. After a mam
# run the archive is counted on disk (SERVER-feat-W-R.archived).
FEAT_SM=0
FEAT_MAM=0
features() {
  local s=$1 r way sm
  (( FEATURES )) || return 0
  for ((r = 1; r <= FEATURE_ROUNDS; r++)); do
    for way in plain sm mam sm-mam; do
      FEAT_SM=0 FEAT_MAM=0 sm=()
      [[ $way == *sm* ]] && FEAT_SM=1 sm=(--sm)
      [[ $way == *mam* ]] && FEAT_MAM=1
      rm -rf "${SERVER_DATA[$s]}"
      cp -a "${SERVER_DATA[$s]}.accounts" "${SERVER_DATA[$s]}"
      timed "$s" start-feat "${s}_start" tls || return 1
      timed "$s" "feat-$way" bench "$s" "feat-$way-$r" chat --pairs "$PAIRS" --duration "$CHAT_SECONDS" \
        --max-seconds $((CHAT_SECONDS + 120)) "${sm[@]}"
      timed "$s" stop "${s}_stop"
      if (( FEAT_MAM )); then archived "$s" >"$RAW/$s-feat-$way-$r.archived"; fi
    done
  done
  FEAT_SM=0 FEAT_MAM=0
}

# archived SERVER: the number of messages in the server's archive, read on
# disk with the server stopped (each message is archived twice, once for
# each party).
archived() {
  case $1 in
    tern) "$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from archive").fetchone()[0])' \
            "$TERN_DIR/data/tern.db" ;;
    # internal storage: one item(...); line per message in archive/USER.list
    prosody) cat "$PROSODY_DIR"/data/localhost/archive/*.list 2>/dev/null | grep -c '^item(' || true ;;
    # Mnesia: archive_msg is a disc_only_copies bag, a dets file (keypos 2:
    # the record's first field). From $TMP: a failing erl dumps there.
    ejabberd) (cd "$TMP" && erl -noshell -eval '{ok, T} = dets:open_file(t, [{file, "'"$EJ_DIR"'/spool/archive_msg.DAT"},
                {access, read}, {type, bag}, {keypos, 2}]), io:format("~b~n", [dets:info(T, size)]), halt().' 2>&1) || true ;;
  esac
}

# latency_ladder: Tern's chat at 1/8 and 1/4 of its saturation rate (the
# half-rate run above is the third step).
latency_ladder() {
  local d
  for d in 8 4; do
    timed tern "chat-rate-1of$d" bench tern "chat-rate-1of$d" chat --pairs "$PAIRS" \
      --rate $((CHAT_RATE * 2 / d)) --duration "$CHAT_SECONDS" --max-seconds $((CHAT_SECONDS + 120))
  done
}

# presence SERVER: on a process of its own, like the runs above: an offered
# load the server cannot keep up with leaves work queued in its sockets that
# would slow whatever runs next.
presence() {
  timed "$1" presence bench "$1" presence presence --users "$PRESENCE_USERS" --first-user "$USERS" \
    --contacts "$CONTACTS" --rate "$PRESENCE_RATE" --duration "$PRESENCE_SECONDS" \
    --max-seconds $((PRESENCE_SECONDS + 300))
}

# as_user USER DIR CMD...: CMD as USER (runuser), from DIR, with the open-file
# limit raised to this script's again: the PAM session runuser and su open
# set the soft limit back to 1024, which would cap the idle sessions.
as_user() {
  local user=$1 dir=$2
  shift 2
  # shellcheck disable=SC2016 # $1, $2 and $@ are the inner sh's
  runuser -u "$user" -- sh -c 'cd "$1" && ulimit -n "$2" && shift 2 && exec "$@"' sh "$dir" "$NOFILE" "$@"
}

# The server's open-file limit, for the report; a limit below the largest
# checkpoint would make the idle-session figures meaningless.
note_limits() {
  local n
  n=$(awk '/^Max open files/ {print $4}' "/proc/$SRV_PID/limits" 2>/dev/null || echo 0)
  echo "$n" >"$RAW/$1.nofile"
  (( ${n:-0} >= USERS + 50 )) || log "WARNING: $1 may open only ${n:-?} files, fewer than $USERS sessions need"
}

# run_server NAME: every run against one server. NAME_prepare writes its
# accounts, NAME_start MODE [SHARDS] starts it (sets SRV_PID and SRV_PORT),
# NAME_stop stops it. False if it could not be started.
run_server() {
  local s=$1 mode
  cut -d' ' -f1-3 /proc/loadavg >"$RAW/$s.loadavg"
  timed "$s" accounts "${s}_prepare" || return 1
  # --features: each of its runs starts from the accounts alone.
  if (( FEATURES )); then cp -a "${SERVER_DATA[$s]}" "${SERVER_DATA[$s]}.accounts"; fi
  for mode in plain tls; do
    timed "$s" "start-$mode" "${s}_start" "$mode" || return 1
    [[ $mode == plain ]] && note_limits "$s"
    timed "$s" "hold-$mode" hold "$s" "$mode"
    [[ $mode == tls ]] && load "$s"
    grep -E '^(VmHWM|VmRSS)' "/proc/$SRV_PID/status" >"$RAW/$s-$mode.status" 2>/dev/null || true
    timed "$s" stop "${s}_stop"
  done
  if (( PRESENCE_USERS > 0 )); then
    timed "$s" start-presence "${s}_start" tls || return 1
    presence "$s"
    timed "$s" stop "${s}_stop"
  fi
  storm "$s" || return 1
  muc "$s" || return 1
  features "$s" || return 1
  [[ $s == tern ]] && (( SCALING_SECONDS > 0 )) && scaling
  return 0
}

# run_scaling: --scaling, Tern alone. Chat at saturation with one shard
# gives the offered load (half of it, or --chat-rate), then the same paced
# chat with 1, 2, 4 ... shards up to the core count, each on a fresh
# process. The server is pinned to cores 0..S-1 and the generator to the
# others when S leaves any free; with S = all cores neither is pinned.
run_scaling() {
  local cores shards list="" rate
  cores=$(nproc)
  for ((shards = 1; shards < cores; shards *= 2)); do list+="$shards "; done
  list+=$cores
  echo "$list" >"$RAW/scaling.shards"
  timed tern accounts tern_prepare || return 1
  pin_for 1 "$cores"
  timed tern start-shards1 tern_start tls 1 || return 1
  timed tern scale-saturation bench tern scale-saturation chat --pairs "$PAIRS" \
    --duration "$SCALING_SECONDS" --max-seconds $((SCALING_SECONDS + 120))
  timed tern stop tern_stop
  rate=$CHAT_RATE
  if [[ -z $rate ]]; then
    [[ -s $RAW/tern-scale-saturation.json ]] || { log "no 1-shard saturation figure"; return 1; }
    rate=$("$PY" -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["delivered_per_second"] / 2))' \
      "$RAW/tern-scale-saturation.json")
  fi
  log "scaling: $rate msgs/s offered at every shard count ($list)"
  for shards in $list; do
    pin_for "$shards" "$cores"
    timed tern "start-shards$shards" tern_start tls "$shards" || return 1
    timed tern "scale-shards$shards" bench tern "scale-shards$shards" chat --pairs "$PAIRS" \
      --rate "$rate" --duration "$SCALING_SECONDS" --max-seconds $((SCALING_SECONDS + 120))
    echo "${SRV_PIN[*]:-none}	${GEN_PIN[*]:-none}" >"$RAW/tern-scale-shards$shards.pin"
    timed tern stop tern_stop
  done
  SRV_PIN=() GEN_PIN=()
}

# pin_for SHARDS CORES: taskset prefixes for the server (cores 0..S-1) and the
# generator (S..CORES-1), or none when the server needs every core.
SRV_PIN=()
GEN_PIN=()
pin_for() {
  local s=$1 cores=$2
  if (( s < cores )) && command -v taskset >/dev/null 2>&1; then
    SRV_PIN=(taskset -c "0-$((s - 1))")
    GEN_PIN=(taskset -c "$s-$((cores - 1))")
  else
    SRV_PIN=() GEN_PIN=()
  fi
}

# Tern's chat with 1 and 2 shards (threads), same sessions: at saturation,
# and at a quarter of the 2-shard saturation rate, where generator and
# server together leave the cores some slack, so CPU per message compares
# the shard counts without the cost of three threads fighting for two cores.
scaling() {
  local shards
  for shards in 1 2; do
    timed tern "start-shards$shards" tern_start tls "$shards" || return 1
    timed tern "chat-shards$shards" bench tern "chat-shards$shards" chat --pairs "$PAIRS" \
      --duration "$SCALING_SECONDS" --max-seconds $((SCALING_SECONDS + 120))
    if [[ -n $CHAT_RATE && $CHAT_RATE != 0 ]]; then
      timed tern "chat-shards$shards-paced" bench tern "chat-shards$shards-paced" chat \
        --pairs "$PAIRS" --rate $((CHAT_RATE / 2)) --duration "$SCALING_SECONDS" \
        --max-seconds $((SCALING_SECONDS + 120))
    fi
    timed tern stop tern_stop
  done
}

# ------------------------------------------------------------------ Tern
TERN_DIR=$TMP/tern

# tern_config MODE SHARDS PORT: tern.toml; shards = 0 is one per core.
tern_config() {
  local require=false mam=""
  [[ $1 == tls ]] && require=true
  (( FEAT_MAM )) && mam=', "mam"'
  cat >"$TERN_DIR/tern.toml" <<TOML
# written by bench/compare.sh
[server]
domains = ["localhost"]
data_dir = "$TERN_DIR/data"
shards = $2
log_level = "warn"
[listen]
c2s = ["127.0.0.1:$3"]
c2s_tls = []
s2s = []
http = []
https = []
component = []
[tls]
cert = "$TMP/localhost.crt"
key = "$TMP/localhost.key"
require_starttls = $require
[limits]
max_resources_per_account = 16
# every benchmark connection comes from 127.0.0.1..4, and sends flat out
connections_per_ip_per_minute = 1000000
stanza_rate = 1000000
stanza_burst = 1000000
[modules]
# The feature set Prosody and ejabberd load here (see their configs): no
# archive, carbons or other per-message work the peers do not do.
# muc: conference.localhost, for the muc runs (Prosody and ejabberd load theirs).
# mam (every chat message archived) only in the --features mam runs; stream
# management needs no module.
enabled = ["ping", "roster", "presence", "offline", "disco", "muc"$mam]
TOML
  "$TERN" config check --config "$TERN_DIR/tern.toml" >"$TERN_DIR/config-check.log" 2>&1 ||
    { cat "$TERN_DIR/config-check.log" >&2; log "tern config check failed"; return 1; }
}

tern_prepare() {
  mkdir -p "$TERN_DIR/data"
  free_port SRV_PORT
  tern_config tls 0 "$SRV_PORT" || return 1
  log "tern: creating $USERS + $PRESENCE_USERS accounts"
  # One account through the CLI creates the database and its schema; the
  # rest are written in one transaction each.
  "$TERN" user add bench0@localhost "$PASSWORD" --config "$TERN_DIR/tern.toml" >"$TERN_DIR/user-add.log" 2>&1 ||
    { cat "$TERN_DIR/user-add.log" >&2; log "tern user add failed"; return 1; }
  "$PY" "$ROOT/bench/roster_provision.py" --db "$TERN_DIR/data/tern.db" --users "$USERS" --contacts 0 \
    --domain localhost --pattern 'bench{}' --password "$PASSWORD" >&2 || return 1
  if (( PRESENCE_USERS > 0 )); then
    "$PY" "$ROOT/bench/roster_provision.py" --db "$TERN_DIR/data/tern.db" --first "$USERS" \
      --users "$PRESENCE_USERS" --contacts "$CONTACTS" --domain localhost --pattern 'bench{}' \
      --password "$PASSWORD" >&2 || return 1
  fi
}

# tern_start MODE [SHARDS]
tern_start() {
  free_port SRV_PORT
  tern_config "$1" "${2:-0}" "$SRV_PORT" || return 1
  # SRV_PIN (--scaling): taskset execs tern, so $! is tern itself.
  "${SRV_PIN[@]}" "$TERN" serve --config "$TERN_DIR/tern.toml" >>"$TERN_DIR/stdout.log" 2>>"$TERN_DIR/stderr.log" &
  SRV_PID=$!
  STARTED_PIDS+=("$SRV_PID" "tern serve")
  wait_port "$SRV_PORT" "$SRV_PID" 30 || { tail "$TERN_DIR/stderr.log" >&2; log "tern did not listen on $SRV_PORT"; return 1; }
  log "tern: pid $SRV_PID, c2s on 127.0.0.1:$SRV_PORT, $1, shards ${2:-0} (0: one per core)"
}

tern_stop() {
  stop_pid "$SRV_PID" "tern serve"
  wait "$SRV_PID" 2>/dev/null || true
  forget_pid "$SRV_PID"
  SRV_PID=""
}

# ------------------------------------------------------------------ Prosody
PROSODY_DIR=$TMP/prosody
PROSODY_RUNUSER=""

prosody_prepare() {
  mkdir -p "$PROSODY_DIR/data"
  cp "$TMP/localhost.crt" "$TMP/localhost.key" "$PROSODY_DIR/"
  log "prosody: writing $USERS + $PRESENCE_USERS accounts into its data files"
  "$PY" "$ROOT/bench/compare_accounts.py" prosody "$PROSODY_DIR/data" --users "$USERS" \
    --presence-users "$PRESENCE_USERS" --contacts "$CONTACTS" --password "$PASSWORD" >&2 || return 1
  chown -R prosody:prosody "$PROSODY_DIR"
  chmod 600 "$PROSODY_DIR/localhost.key"
}

prosody_start() {
  local d=$PROSODY_DIR require=false
  [[ $1 == tls ]] && require=true
  free_port SRV_PORT
  local features=""
  (( FEAT_SM )) && features+='"smacks"; '
  (( FEAT_MAM )) && features+='"mam"; '
  sed -e "s|@DATA@|$d/data|g" -e "s|@C2S_PORT@|$SRV_PORT|g" -e "s|@REQUIRE_TLS@|$require|g" \
      -e "s|@CERTS@|$d|g" -e "s|@CERT@|$d/localhost.crt|g" -e "s|@KEY@|$d/localhost.key|g" \
      -e "s|@FEATURE_MODULES@|$features|g" \
      "$ROOT/bench/prosody/prosody.cfg.lua.in" >"$d/prosody.cfg.lua"
  chown prosody:prosody "$d/prosody.cfg.lua"
  rm -f "$d/data/prosody.pid"
  as_user prosody "$d" prosody --config "$d/prosody.cfg.lua" -F >>"$d/stdout.log" 2>&1 &
  PROSODY_RUNUSER=$!
  STARTED_PIDS+=("$PROSODY_RUNUSER" "runuser prosody")
  if ! wait_port "$SRV_PORT" "$PROSODY_RUNUSER" 30; then
    tail -20 "$d/stdout.log" "$d/data/prosody.err" "$d/data/prosody.log" >&2 2>/dev/null
    log "prosody did not listen on $SRV_PORT"
    return 1
  fi
  # The Lua process itself (runuser may stay as its parent).
  SRV_PID=$(wait_pidfile "$d/data/prosody.pid" 10) || { log "prosody wrote no pid file"; return 1; }
  STARTED_PIDS+=("$SRV_PID" "prosody")
  log "prosody: pid $SRV_PID, c2s on 127.0.0.1:$SRV_PORT, $1"
}

# stop_server_and_wrapper LABEL WRAPPER_PID WRAPPER_LABEL: the server
# ($SRV_PID), then the process that started it (runuser, ejabberdctl).
stop_server_and_wrapper() {
  stop_pid "$SRV_PID" "$1"
  stop_pid "$2" "$3"
  wait "$2" 2>/dev/null || true
  forget_pid "$SRV_PID"
  forget_pid "$2"
  SRV_PID=""
}

prosody_stop() {
  stop_server_and_wrapper prosody "$PROSODY_RUNUSER" "runuser prosody"
  PROSODY_RUNUSER=""
}

# ------------------------------------------------------------------ ejabberd
EJ_DIR=$TMP/ejabberd
EJ_NODE=ternbench$$@localhost   # the same node on every start: Mnesia keeps the accounts
EJ_COOKIE=$(openssl rand -hex 16)
EJ=()
EJ_CTL=""
stop_ejabberd() {
  [[ ${#EJ[@]} -gt 0 ]] || return 0
  if [[ -n $SRV_PID ]] && kill -0 "$SRV_PID" 2>/dev/null; then
    log "stopping ejabberd (ejabberdctl stop)"
    timeout 30 "${EJ[@]}" stop >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  EJ=()
}
CLEANUP_HOOKS+=(stop_ejabberd)

ejabberd_prepare() {
  local n
  mkdir -p "$EJ_DIR/spool" "$EJ_DIR/logs" "$EJ_DIR/contrib" "$EJ_DIR/contrib-conf"
  cat "$TMP/localhost.crt" "$TMP/localhost.key" >"$EJ_DIR/localhost.pem"
  cp "$ROOT/bench/ejabberd/inetrc" "$EJ_DIR/inetrc"
  "$PY" "$ROOT/bench/compare_accounts.py" ejabberd "$EJ_DIR/users.xml" --users "$USERS" \
    --presence-users "$PRESENCE_USERS" --contacts "$CONTACTS" --password "$PASSWORD" >&2 || return 1
  chown -R ejabberd:ejabberd "$EJ_DIR"
  chmod 600 "$EJ_DIR/localhost.pem"
  # The import needs a running node; it is restarted afterwards, so that the
  # idle-session baseline does not carry what the import left behind.
  ejabberd_start tls || return 1
  log "ejabberd: creating $USERS + $PRESENCE_USERS accounts (ejabberdctl import_piefxis)"
  "${EJ[@]}" import_piefxis "$EJ_DIR/users.xml" >"$EJ_DIR/provision.log" 2>&1 ||
    { cat "$EJ_DIR/provision.log" >&2; log "ejabberdctl import_piefxis failed"; return 1; }
  n=$("${EJ[@]}" registered_users localhost | grep -c '^bench' || true)
  (( n == USERS + PRESENCE_USERS )) || { log "ejabberd has $n accounts, not $((USERS + PRESENCE_USERS))"; return 1; }
  ejabberd_stop
}

ejabberd_start() {
  local d=$EJ_DIR require=false dist features=""
  [[ $1 == tls ]] && require=true
  (( FEAT_SM )) && features+='mod_stream_mgmt: {}\n  '
  (( FEAT_MAM )) && features+='mod_mam: {default: always}'
  free_port SRV_PORT
  free_port dist
  sed -e "s|@C2S_PORT@|$SRV_PORT|g" -e "s|@PEM@|$d/localhost.pem|g" -e "s|@REQUIRE_TLS@|$require|g" \
      -e "s|@FEATURE_MODULES@|$features|g" \
      "$ROOT/bench/ejabberd/ejabberd.yml.in" >"$d/ejabberd.yml"
  sed -e "s|@DIR@|$d|g" -e "s|@NODE@|$EJ_NODE|g" -e "s|@DIST_PORT@|$dist|g" \
      -e "s|@COOKIE@|$EJ_COOKIE|g" \
      "$ROOT/bench/ejabberd/ejabberdctl.cfg.in" >"$d/ejabberdctl.cfg"
  chown ejabberd:ejabberd "$d/ejabberd.yml" "$d/ejabberdctl.cfg"
  chmod 600 "$d/ejabberdctl.cfg"
  rm -f "$d/ejabberd.pid"
  # Called by root, ejabberdctl runs erl through su as the ejabberd user; the
  # server itself is started as that user directly, for its open-file limit.
  EJ=(/usr/sbin/ejabberdctl --config-dir "$d" --ctl-config "$d/ejabberdctl.cfg"
      --logs "$d/logs" --spool "$d/spool")
  as_user ejabberd "$d/spool" "${EJ[@]}" foreground >>"$d/foreground.log" 2>&1 &
  EJ_CTL=$!
  STARTED_PIDS+=("$EJ_CTL" "ejabberdctl foreground")
  if ! wait_port "$SRV_PORT" "$EJ_CTL" 90; then
    tail -30 "$d/foreground.log" "$d/logs/ejabberd.log" "$d/logs/error.log" >&2 2>/dev/null
    return 1
  fi
  # beam.smp, the Erlang VM that is ejabberd (ejabberdctl and su are its parents).
  SRV_PID=$(wait_pidfile "$d/ejabberd.pid" 10) || { log "ejabberd wrote no pid file"; return 1; }
  STARTED_PIDS+=("$SRV_PID" "ejabberd beam.smp")
  log "ejabberd: pid $SRV_PID ($(ps -o comm= -p "$SRV_PID")), c2s on 127.0.0.1:$SRV_PORT, $1, node $EJ_NODE"
}

ejabberd_stop() {
  stop_ejabberd
  stop_server_and_wrapper "ejabberd beam.smp" "$EJ_CTL" "ejabberdctl foreground"
  EJ_CTL=""
}

# What SERVER_prepare writes and the servers change: copied back before each
# --features run.
declare -A SERVER_DATA=([tern]=$TERN_DIR/data [prosody]=$PROSODY_DIR/data [ejabberd]=$EJ_DIR/spool)

# ------------------------------------------------------------------ the run
machine_and_versions() {
  local tern_sha erl_ver
  tern_sha=$(sha256sum "$TERN" | cut -c1-16)
  erl_ver=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' 2>/dev/null || echo "?")
  "$PY" - "$RAW/meta.json" <<PY
import json, sys
meta = {
  "date": "$DATE",
  "started": "$(date -Is)",
  "machine": {
    "nproc": $(nproc),
    "cpu": "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/"/\\"/g')",
    "mem_total_kib": $(awk '/^MemTotal/ {print $2}' /proc/meminfo),
    "kernel": "$(uname -r)",
    "os": "$(. /etc/os-release && echo "$PRETTY_NAME")",
    "openssl": "$(openssl version | cut -d' ' -f1-2)",
    "open_files_limit": $NOFILE,
    "clk_tck": $CLK_TCK,
  },
  "versions": {
    "tern": "git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo '+dirty'), binary sha256 $tern_sha",
    "prosody": "$(dpkg-query -W -f '${Version}' prosody 2>/dev/null) (Debian), $(lua5.4 -v 2>&1 | cut -d' ' -f1-2)",
    "ejabberd": "$(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null) (Debian), Erlang/OTP $erl_ver",
    "tern_bench": "binary sha256 $(sha256sum "$BENCH" | cut -c1-16)",
  },
  "parameters": {
    "sizes": [int(x) for x in "$SIZES".split(",")], "users": $USERS,
    "settle_seconds": $SETTLE_SECONDS, "hold_seconds": $HOLD_SECONDS,
    "login_seconds": $LOGIN_SECONDS, "login_concurrency": $LOGIN_CONCURRENCY,
    "chat_seconds": $CHAT_SECONDS, "pairs": $PAIRS, "chat_rate_given": "$CHAT_RATE" or None,
    "presence_users": $PRESENCE_USERS, "contacts": $CONTACTS, "presence_rate": $PRESENCE_RATE,
    "presence_seconds": $PRESENCE_SECONDS, "scaling_seconds": $SCALING_SECONDS,
    "sources": $SOURCES, "tls": "STARTTLS", "mech": "$MECH", "generator_threads": 1,
    "light_rates": [int(x) for x in "$LIGHT_RATES".split(",") if x], "light_pairs": $LIGHT_PAIRS,
    "light_seconds": $LIGHT_SECONDS, "storm_sessions": $STORM_SESSIONS,
    "muc_rooms": [x for x in "$MUC_ROOMS".split(",") if x], "muc_deliveries": $MUC_DELIVERIES,
    "muc_seconds": $MUC_SECONDS, "mode": "scaling" if $SCALING_ONLY else "compare",
    "feature_rounds": $FEATURE_ROUNDS if $FEATURES else 0,
  },
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY
}

CHAT_RATE_GIVEN=0
[[ -n $CHAT_RATE ]] && CHAT_RATE_GIVEN=1
machine_and_versions
log "servers: $SERVERS; idle sessions at $SIZES; login ${LOGIN_SECONDS}s x$LOGIN_CONCURRENCY;" \
    "chat ${CHAT_SECONDS}s x$PAIRS pairs; presence $PRESENCE_USERS users x$CONTACTS contacts, ${PRESENCE_RATE}/s"
for s in $SERVERS; do
  t0=$SECONDS
  runner=run_server
  [[ $SCALING_ONLY == 1 ]] && runner=run_scaling
  if ! $runner "$s"; then
    SKIPPED[$s]="could not be started or provisioned; see the log above"
    log "SKIPPING $s: ${SKIPPED[$s]}"
    "${s}_stop" || true
    rm -f "$RAW/$s"-*.json
  fi
  printf '%s\ttotal\t%s\n' "$s" $((SECONDS - t0)) >>"$RAW/timings.tsv"
  log "$s: done in $((SECONDS - t0)) s"
done
for s in "${!SKIPPED[@]}"; do echo "$s	${SKIPPED[$s]}"; done >"$RAW/skipped.tsv"

# ------------------------------------------------------------------ report
log "writing $OUT/$DATE.md, .json, .png"
"$PY" "$ROOT/bench/compare_report.py" "$RAW" "$OUT" "$DATE" "$SERVERS"
log "done: $OUT/$DATE.md"
