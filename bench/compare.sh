#!/usr/bin/env bash
# bench/compare.sh: Tern, Prosody and ejabberd side by side on loopback, in one
# sitting, driven by the same load generator (build/tern-bench).
#
# For each server it: starts it by hand (never through the init system) on
# free loopback ports of its own, with a self-signed certificate for
# "localhost", c2s STARTTLS + SCRAM-SHA-1 and rate limits raised; creates
# bench0..bench{N-1}@localhost with password "pw"; runs
#   hold  N idle sessions (STARTTLS), server KiB per session
#   login logins/s at a fixed concurrency
#   chat  P pairs at saturation: msgs/s, latency, server CPU us/msg
# and stops it. Then it writes bench/results/<date>.md, .json and .png.
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
#   bench/compare.sh                      # N=1000, 10 s login and chat
#   bench/compare.sh -n 500 --chat-seconds 5 --login-seconds 5
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TERN=$ROOT/build/tern
BENCH=$ROOT/build/tern-bench
USERS=1000
HOLD_SECONDS=5
LOGIN_SECONDS=10
LOGIN_CONCURRENCY=20
CHAT_SECONDS=10
PAIRS=50
SERVERS="tern prosody ejabberd"
OUT=$ROOT/bench/results
DATE=$(date +%F)
KEEP=0
INSTALL_ONLY=0
PASSWORD=pw
MECH=SCRAM-SHA-1

usage() {
  cat <<EOF
usage: bench/compare.sh [options]
  -n, --users N          accounts bench0..bench{N-1} and idle sessions held ($USERS)
  --hold-seconds S       how long the N sessions are held ($HOLD_SECONDS)
  --login-seconds S      login scenario duration ($LOGIN_SECONDS)
  --login-concurrency C  parallel login loops ($LOGIN_CONCURRENCY)
  --chat-seconds S       chat scenario duration ($CHAT_SECONDS)
  --pairs P              chat pairs, needs 2P <= N ($PAIRS)
  --servers "LIST"       subset of "tern prosody ejabberd" (all three)
  --out DIR              where <date>.md/.json/.png go ($OUT)
  --date NAME            report name instead of today's date ($DATE)
  --tern PATH            tern binary ($TERN)
  --bench PATH           tern-bench binary ($BENCH)
  --keep                 keep the temporary directory (configs, logs, raw output)
  --install-only         only install what is missing, then exit
EOF
}

while [[ $# -gt 0 ]]; do
  case $1 in
    -n|--users) USERS=$2; shift 2 ;;
    --hold-seconds) HOLD_SECONDS=$2; shift 2 ;;
    --login-seconds) LOGIN_SECONDS=$2; shift 2 ;;
    --login-concurrency) LOGIN_CONCURRENCY=$2; shift 2 ;;
    --chat-seconds) CHAT_SECONDS=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
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
for s in $SERVERS; do
  case $s in tern|prosody|ejabberd) ;; *) die "unknown server '$s' in --servers" ;; esac
done
(( PAIRS * 2 <= USERS )) || die "--pairs $PAIRS needs at least $((PAIRS * 2)) users, -n is $USERS"
(( LOGIN_CONCURRENCY <= USERS )) || die "--login-concurrency $LOGIN_CONCURRENCY is more than -n $USERS"
[[ $(id -u) -eq 0 ]] || die "run as root: Prosody and ejabberd run as their own users"
if [[ ! -x $TERN || ! -x $BENCH ]]; then
  log "building tern and tern-bench (missing)"
  ninja -C "$ROOT/build" -j1 tern tern-bench >&2 || die "cannot build $TERN / $BENCH"
fi
NOFILE=$(ulimit -Hn)
ulimit -n "$NOFILE"
(( USERS + 200 <= NOFILE )) || die "-n $USERS does not fit under the open-file limit $NOFILE"

RAW=$TMP/raw
mkdir -p "$RAW" "$OUT"
declare -A SKIPPED=()
SERVER_PID=$$

# A free TCP port on 127.0.0.1 (the kernel picks one from the ephemeral
# range, so never a standard service port), distinct from those handed out.
USED_PORTS=" "
free_port() {
  local p
  while :; do
    p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (( p > 10000 )) || continue
    [[ $USED_PORTS == *" $p "* ]] && continue
    USED_PORTS+="$p "
    echo "$p"
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

# ------------------------------------------------------------------ scenarios
# The machine is shared with whatever else runs on it, so every run also
# records how busy all CPUs were: cpu_snapshot PID prints the busy ticks of
# the whole machine, PID's ticks (user + system) and the time in ns.
CLK_TCK=$(getconf CLK_TCK)
cpu_snapshot() {
  local busy proc
  busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
  proc=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}')
  echo "$busy ${proc:-0} $(date +%s%N)"
}

# bench SERVER SCENARIO PORT ARGS...: one tern-bench run; keeps the table
# and the JSON line in $RAW.
bench() {
  local server=$1 scenario=$2 port=$3
  shift 3
  local base=$RAW/$server-$scenario before
  log "$server: tern-bench $scenario $*"
  before=$(cpu_snapshot "$SERVER_PID")
  if ! "$BENCH" "$scenario" --host 127.0.0.1 --port "$port" --domain localhost \
       --user-pattern 'bench{}' --password "$PASSWORD" --tls --mech "$MECH" --quiet \
       "$@" >"$base.txt" 2>"$base.err"; then
    log "$server: tern-bench $scenario exited with $? (see below)"
    tail -5 "$base.err" >&2 || true
  fi
  echo "$before $(cpu_snapshot "$SERVER_PID")" >"$base.cpu"
  grep '^JSON ' "$base.txt" | tail -1 | cut -c6- >"$base.json" || true
  [[ -s $base.json ]] || { log "$server: no JSON from tern-bench $scenario"; rm -f "$base.json"; }
  sed 's/^/    /' "$base.txt" | grep -v '^    JSON' >&2 || true
}

# run_scenarios SERVER PORT PID: the same three runs against every server.
run_scenarios() {
  local server=$1 port=$2 pid=$3
  SERVER_PID=$pid
  echo "$pid" >"$RAW/$server.pid"
  cut -d' ' -f1-3 /proc/loadavg >"$RAW/$server.loadavg"
  bench "$server" hold "$port" --sessions "$USERS" --hold-seconds "$HOLD_SECONDS" \
    --server-pid "$pid" --connect-concurrency 50 --max-seconds $((HOLD_SECONDS + 600))
  sleep 2
  bench "$server" login "$port" --concurrency "$LOGIN_CONCURRENCY" --duration "$LOGIN_SECONDS" \
    --server-pid "$pid" --max-seconds $((LOGIN_SECONDS + 120))
  sleep 2
  bench "$server" chat "$port" --pairs "$PAIRS" --duration "$CHAT_SECONDS" \
    --server-pid "$pid" --max-seconds $((CHAT_SECONDS + 120))
  grep -E '^(VmHWM|VmRSS)' "/proc/$pid/status" >"$RAW/$server.status" 2>/dev/null || true
}

# ------------------------------------------------------------------ Tern
run_tern() {
  local d=$TMP/tern port pid
  port=$(free_port)
  mkdir -p "$d/data"
  cat >"$d/tern.toml" <<TOML
# written by bench/compare.sh
[server]
domains = ["localhost"]
data_dir = "$d/data"
shards = 0
log_level = "warn"
[listen]
c2s = ["127.0.0.1:$port"]
c2s_tls = []
s2s = []
http = []
https = []
component = []
[tls]
cert = "$TMP/localhost.crt"
key = "$TMP/localhost.key"
require_starttls = true
[limits]
max_resources_per_account = 16
# every benchmark connection comes from 127.0.0.1, and sends flat out
connections_per_ip_per_minute = 1000000
stanza_rate = 1000000
stanza_burst = 1000000
TOML
  "$TERN" config check --config "$d/tern.toml" >"$d/config-check.log" 2>&1 ||
    { cat "$d/config-check.log" >&2; die "tern config check failed"; }
  log "tern: creating $USERS accounts"
  # One account through the CLI creates the database and its schema; the
  # rest are written in one transaction (no rosters: --contacts 0).
  "$TERN" user add bench0@localhost "$PASSWORD" --config "$d/tern.toml" >"$d/user-add.log" 2>&1 ||
    { cat "$d/user-add.log" >&2; die "tern user add failed"; }
  python3 "$ROOT/bench/roster_provision.py" --db "$d/data/tern.db" --users "$USERS" --contacts 0 \
    --domain localhost --pattern 'bench{}' --password "$PASSWORD" >&2
  "$TERN" serve --config "$d/tern.toml" >"$d/stdout.log" 2>"$d/stderr.log" &
  pid=$!
  STARTED_PIDS+=("$pid" "tern serve")
  wait_port "$port" "$pid" 30 || { tail "$d/stderr.log" >&2; die "tern did not listen on $port"; }
  log "tern: pid $pid, c2s on 127.0.0.1:$port"
  run_scenarios tern "$port" "$pid"
  stop_pid "$pid" "tern serve"
  wait "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------ Prosody
run_prosody() {
  local d=$TMP/prosody port rpid pid n
  port=$(free_port)
  mkdir -p "$d/data"
  cp "$TMP/localhost.crt" "$TMP/localhost.key" "$d/"
  sed -e "s|@DATA@|$d/data|g" -e "s|@C2S_PORT@|$port|g" \
      -e "s|@CERTS@|$d|g" -e "s|@CERT@|$d/localhost.crt|g" -e "s|@KEY@|$d/localhost.key|g" \
      "$ROOT/bench/prosody/prosody.cfg.lua.in" >"$d/prosody.cfg.lua"
  chown -R prosody:prosody "$d"
  chmod 600 "$d/localhost.key"
  runuser -u prosody -- prosody --config "$d/prosody.cfg.lua" -F >"$d/stdout.log" 2>&1 &
  rpid=$!
  STARTED_PIDS+=("$rpid" "runuser prosody")
  if ! wait_port "$port" "$rpid" 30; then
    tail -20 "$d/stdout.log" "$d/data/prosody.err" "$d/data/prosody.log" >&2 2>/dev/null
    die "prosody did not listen on $port"
  fi
  # The Lua process itself (runuser may stay as its parent).
  pid=$(wait_pidfile "$d/data/prosody.pid" 10) || die "prosody wrote no pid file"
  STARTED_PIDS+=("$pid" "prosody")
  log "prosody: pid $pid, c2s on 127.0.0.1:$port"
  log "prosody: creating $USERS accounts through mod_admin_shell"
  runuser -u prosody -- prosodyctl --config "$d/prosody.cfg.lua" shell \
    "local n = 0; for i = 0, $((USERS - 1)) do if user:create('bench'..i..'@localhost', '$PASSWORD') then n = n + 1 end end; return n .. ' accounts created'" \
    >"$d/provision.log" 2>&1 || { cat "$d/provision.log" >&2; die "prosodyctl shell failed"; }
  n=$(find "$d/data/localhost/accounts" -name 'bench*.dat' 2>/dev/null | wc -l)
  (( n == USERS )) || { cat "$d/provision.log" >&2; die "prosody has $n accounts, not $USERS"; }
  run_scenarios prosody "$port" "$pid"
  stop_pid "$pid" "prosody"
  wait "$rpid" 2>/dev/null || true
}

# ------------------------------------------------------------------ ejabberd
EJ=()
EJ_PID=""
stop_ejabberd() {
  [[ ${#EJ[@]} -gt 0 ]] || return 0
  if [[ -n $EJ_PID ]] && kill -0 "$EJ_PID" 2>/dev/null; then
    log "stopping ejabberd (ejabberdctl stop)"
    timeout 30 "${EJ[@]}" stop >/dev/null 2>&1 || true
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$EJ_PID" 2>/dev/null || break; sleep 0.1; done
  fi
  EJ=()
}

run_ejabberd() {
  local d=$TMP/ejabberd port dist ctlpid pid n
  port=$(free_port)
  dist=$(free_port)
  mkdir -p "$d/spool" "$d/logs" "$d/contrib" "$d/contrib-conf"
  cat "$TMP/localhost.crt" "$TMP/localhost.key" >"$d/localhost.pem"
  sed -e "s|@C2S_PORT@|$port|g" -e "s|@PEM@|$d/localhost.pem|g" \
      "$ROOT/bench/ejabberd/ejabberd.yml.in" >"$d/ejabberd.yml"
  sed -e "s|@DIR@|$d|g" -e "s|@NODE@|ternbench$$@localhost|g" -e "s|@DIST_PORT@|$dist|g" \
      -e "s|@COOKIE@|$(openssl rand -hex 16)|g" \
      "$ROOT/bench/ejabberd/ejabberdctl.cfg.in" >"$d/ejabberdctl.cfg"
  cp "$ROOT/bench/ejabberd/inetrc" "$d/inetrc"
  chown -R ejabberd:ejabberd "$d"
  chmod 600 "$d/localhost.pem" "$d/ejabberdctl.cfg"
  # ejabberdctl runs erl as the ejabberd user itself (su) when called by root.
  EJ=(/usr/sbin/ejabberdctl --config-dir "$d" --ctl-config "$d/ejabberdctl.cfg"
      --logs "$d/logs" --spool "$d/spool")
  CLEANUP_HOOKS+=(stop_ejabberd)
  "${EJ[@]}" foreground >"$d/foreground.log" 2>&1 &
  ctlpid=$!
  STARTED_PIDS+=("$ctlpid" "ejabberdctl foreground")
  if ! wait_port "$port" "$ctlpid" 90; then
    tail -30 "$d/foreground.log" "$d/logs/ejabberd.log" "$d/logs/error.log" >&2 2>/dev/null
    return 1
  fi
  # beam.smp, the Erlang VM that is ejabberd (ejabberdctl and su are its parents).
  pid=$(wait_pidfile "$d/ejabberd.pid" 10) || { log "ejabberd wrote no pid file"; return 1; }
  EJ_PID=$pid
  STARTED_PIDS+=("$pid" "ejabberd beam.smp")
  log "ejabberd: pid $pid ($(ps -o comm= -p "$pid")), c2s on 127.0.0.1:$port, node ternbench$$@localhost"
  log "ejabberd: creating $USERS accounts (ejabberdctl import_piefxis)"
  {
    echo "<?xml version='1.0' encoding='UTF-8'?>"
    echo "<server-data xmlns='urn:xmpp:pie:0'><host jid='localhost'>"
    for ((n = 0; n < USERS; n++)); do echo "<user name='bench$n' password='$PASSWORD'/>"; done
    echo "</host></server-data>"
  } >"$d/users.xml"
  chown ejabberd:ejabberd "$d/users.xml"
  "${EJ[@]}" import_piefxis "$d/users.xml" >"$d/provision.log" 2>&1 ||
    { cat "$d/provision.log" >&2; log "ejabberdctl import_piefxis failed"; return 1; }
  n=$("${EJ[@]}" registered_users localhost | grep -c '^bench' || true)
  (( n == USERS )) || { log "ejabberd has $n accounts, not $USERS"; return 1; }
  run_scenarios ejabberd "$port" "$pid"
  stop_ejabberd
  stop_pid "$pid" "ejabberd beam.smp"
  wait "$ctlpid" 2>/dev/null || true
}

# ------------------------------------------------------------------ the run
machine_and_versions() {
  local tern_sha erl_ver
  tern_sha=$(sha256sum "$TERN" | cut -c1-16)
  erl_ver=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().' 2>/dev/null || echo "?")
  python3 - "$RAW/meta.json" <<PY
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
    "users": $USERS, "hold_seconds": $HOLD_SECONDS, "login_seconds": $LOGIN_SECONDS,
    "login_concurrency": $LOGIN_CONCURRENCY, "chat_seconds": $CHAT_SECONDS, "pairs": $PAIRS,
    "tls": "STARTTLS", "mech": "$MECH", "generator_threads": 1,
  },
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY
}

machine_and_versions
log "servers: $SERVERS; $USERS users; hold ${HOLD_SECONDS}s, login ${LOGIN_SECONDS}s x$LOGIN_CONCURRENCY, chat ${CHAT_SECONDS}s x$PAIRS pairs"
for s in $SERVERS; do
  case $s in
    tern) run_tern ;;
    prosody) run_prosody ;;
    ejabberd)
      if ! run_ejabberd; then
        SKIPPED[ejabberd]="could not be started or provisioned; see the log above"
        log "SKIPPING ejabberd: ${SKIPPED[ejabberd]}"
        stop_ejabberd
        rm -f "$RAW"/ejabberd-*.json
      fi ;;
  esac
  sleep 2
done
for s in "${!SKIPPED[@]}"; do echo "$s	${SKIPPED[$s]}"; done >"$RAW/skipped.tsv"

# ------------------------------------------------------------------ report
log "writing $OUT/$DATE.md, .json, .png"
python3 - "$RAW" "$OUT" "$DATE" "$SERVERS" <<'PY'
import json, os, sys

raw, out, date, servers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
meta = json.load(open(os.path.join(raw, "meta.json")))
skipped = {}
if os.path.exists(os.path.join(raw, "skipped.tsv")):
    for line in open(os.path.join(raw, "skipped.tsv")):
        if line.strip():
            name, why = line.rstrip("\n").split("\t", 1)
            skipped[name] = why
ALL = ["tern", "prosody", "ejabberd"]
NAMES = {"tern": "Tern", "prosody": "Prosody", "ejabberd": "ejabberd"}
results = {}
for s in ALL:
    for sc in ("hold", "login", "chat"):
        p = os.path.join(raw, f"{s}-{sc}.json")
        if os.path.exists(p):
            r = results.setdefault(s, {})[sc] = json.load(open(p))
            c = os.path.join(raw, f"{s}-{sc}.cpu")
            if os.path.exists(c):
                b_busy, b_srv, b_ns, a_busy, a_srv, a_ns = map(int, open(c).read().split())
                wall = (a_ns - b_ns) / 1e9
                tck = meta["machine"]["clk_tck"]
                busy = (a_busy - b_busy) / tck / wall
                srv = (a_srv - b_srv) / tck / wall
                gen = r.get("generator_cpu_seconds", 0) / wall
                r["run_wall_seconds"] = wall
                r["run_machine_busy_cores"] = busy
                r["run_server_cores"] = srv
                r["run_generator_cores"] = gen
                r["run_other_cores"] = max(0.0, busy - srv - gen)
    la = os.path.join(raw, f"{s}.loadavg")
    if os.path.exists(la) and s in results:
        results[s]["loadavg_before"] = open(la).read().split()
    st = os.path.join(raw, f"{s}.status")
    if os.path.exists(st) and s in results:
        for line in open(st):
            k, v = line.split(":", 1)
            results[s].setdefault("server", {})[k.strip().lower() + "_kib"] = int(v.split()[0])


def get(s, sc, key):
    return results.get(s, {}).get(sc, {}).get(key)


def div(a, b):
    return a / b if a is not None and b else None


# Each row: label, scenario, how to compute it from one server's results,
# format, and whether more is better (None: not a figure to compare).
def rss_mib(key):
    return lambda s: div(get(s, "hold", key), 1024)


def ms(sc, key):
    return lambda s: div(get(s, sc, key), 1000)


def key(sc, k):
    return lambda s: get(s, sc, k)


def chat_cores(s):
    return div(get(s, "chat", "server_cpu_window_seconds"), get(s, "chat", "duration_seconds"))


def cores(sc):
    """Where the machine's CPU went while tern-bench ran (start to exit)."""
    def f(s):
        srv, gen, oth = (get(s, sc, k) for k in ("run_server_cores", "run_generator_cores", "run_other_cores"))
        return None if srv is None else f"{srv:.2f} / {gen:.2f} / {oth:.2f}"
    return f


def per_100k(s):
    us = get(s, "chat", "server_cpu_us_per_message")
    return us * 1e5 / 1e6 if us is not None else None


TABLES = [
    ("hold", f"Idle sessions: {meta['parameters']['users']} sessions through STARTTLS + {meta['parameters']['mech']}, bound, roster fetched, presence sent, held {meta['parameters']['hold_seconds']} s", [
        ("sessions online", key("hold", "online"), "{:.0f}", None),
        ("failed / dropped", lambda s: None if get(s, "hold", "failed") is None else f"{get(s, 'hold', 'failed')} / {get(s, 'hold', 'dropped')}", "{}", None),
        ("**server KiB per session**", key("hold", "server_kib_per_session"), "{:.1f}", False),
        ("server RSS before (MiB)", rss_mib("server_rss_before_kib"), "{:.1f}", False),
        ("server RSS all online (MiB)", rss_mib("server_rss_online_kib"), "{:.1f}", False),
        ("time to connect all (s)", key("hold", "connect_seconds"), "{:.2f}", False),
        ("logins/s while connecting (50 in flight)", key("hold", "connect_rate"), "{:.0f}", True),
        ("login latency p50 (ms)", ms("hold", "login_p50_us"), "{:.2f}", False),
        ("login latency p99 (ms)", ms("hold", "login_p99_us"), "{:.2f}", False),
        ("server CPU while connecting (s)", key("hold", "server_cpu_connect_seconds"), "{:.2f}", False),
        ("generator CPU while connecting (s)", key("hold", "cpu_connect_seconds"), "{:.2f}", None),
        ("server / generator / other processes' CPU over the run (cores)", cores("hold"), "{}", None),
    ]),
    ("login", f"Logins: {meta['parameters']['login_concurrency']} loops of connect, STARTTLS, SASL, bind, close, for {meta['parameters']['login_seconds']} s", [
        ("**logins/s**", key("login", "logins_per_second"), "{:.0f}", True),
        ("logins completed", key("login", "logins"), "{:.0f}", None),
        ("failed", key("login", "failed"), "{:.0f}", None),
        ("login latency p50 (ms)", ms("login", "login_p50_us"), "{:.2f}", False),
        ("login latency p99 (ms)", ms("login", "login_p99_us"), "{:.2f}", False),
        ("server CPU per login (µs)", key("login", "server_cpu_us_per_login"), "{:.0f}", False),
        ("generator CPU (% of one core)", key("login", "generator_cpu_percent"), "{:.0f}", None),
        ("server / generator / other processes' CPU over the run (cores)", cores("login"), "{}", None),
    ]),
    ("chat", f"Chat at saturation: {meta['parameters']['pairs']} pairs, one-to-one messages to full JIDs, {meta['parameters']['chat_seconds']} s", [
        ("**messages/s delivered**", key("chat", "delivered_per_second"), "{:.0f}", True),
        ("latency p50 (ms)", ms("chat", "latency_p50_us"), "{:.2f}", False),
        ("latency p90 (ms)", ms("chat", "latency_p90_us"), "{:.2f}", False),
        ("latency p99 (ms)", ms("chat", "latency_p99_us"), "{:.2f}", False),
        ("latency max (ms)", ms("chat", "latency_max_us"), "{:.2f}", False),
        ("lost / error replies", lambda s: None if get(s, "chat", "lost") is None else f"{get(s, 'chat', 'lost')} / {get(s, 'chat', 'errors')}", "{}", None),
        ("**server CPU per message (µs)**", key("chat", "server_cpu_us_per_message"), "{:.1f}", False),
        ("server CPU per 100,000 messages (s)", per_100k, "{:.2f}", False),
        ("server cores busy", chat_cores, "{:.2f}", None),
        ("generator CPU per message (µs)", key("chat", "cpu_us_per_message"), "{:.1f}", None),
        ("generator CPU (% of one core)", key("chat", "generator_cpu_percent"), "{:.0f}", None),
        ("server / generator / other processes' CPU over the run (cores)", cores("chat"), "{}", None),
    ]),
]


def fmt(v, f):
    if v is None:
        return "–"
    return f.format(v) if not isinstance(v, str) else v


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not b:
        return "–"
    return f"{a / b:.2f}"


m = meta["machine"]
L = []
L.append(f"# Tern, Prosody and ejabberd side by side: {date}")
L.append("")
L.append("Written by `bench/compare.sh`. The three servers ran one after the other in the same "
         "sitting on loopback, each alone on the machine, driven by the same load generator "
         "(`build/tern-bench`, one thread, on the same machine: its own CPU is listed, "
         "since it competes with the server for the cores).")
L.append("")
L.append(f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_total_kib'] / 1048576:.1f} GiB RAM, "
         f"Linux {m['kernel']}, {m['os']}, {m['openssl']}, open-file limit {m['open_files_limit']}")
for s in ALL:
    L.append(f"- {NAMES[s]}: {meta['versions'][s]}" + (f" — **skipped: {skipped[s]}**" if s in skipped else "")
             + ("" if s in servers else " — not run (--servers)"))
L.append(f"- tern-bench: {meta['versions']['tern_bench']}")
loads = [f"{NAMES[s]} {' '.join(results[s]['loadavg_before'])}" for s in ALL if 'loadavg_before' in results.get(s, {})]
if loads:
    L.append("- Load average (1, 5, 15 min) when each server's runs began: " + "; ".join(loads) +
             ". The machine is not reserved: the last row of each table shows how many cores other "
             "processes used during each run; figures taken while that is well above 0 are depressed.")
p = meta["parameters"]
L.append(f"- Accounts bench0..bench{p['users'] - 1}@localhost on each server; every session: "
         f"STARTTLS (one self-signed P-256 certificate for all three), SASL {p['mech']}, bind; "
         "rate limits and shapers off on all three (Tern: limits raised to 1,000,000; Prosody: "
         "mod_limits not loaded; ejabberd: shaper none, max_user_sessions 100000). "
         "Tern: shards = one per core; Prosody 0.12: one Lua process (one core); ejabberd: "
         "one BEAM VM (all cores). SCRAM-SHA-1 because Prosody 0.12 stores only SCRAM-SHA-1.")
L.append("- Ratios are Tern / other. For messages/s and logins/s more is better; for KiB, "
         "CPU and latency less is better.")
L.append("")
have = [s for s in ALL if s in results]
for sc, title, rows in TABLES:
    L.append(f"## {sc}")
    L.append("")
    L.append(title + ".")
    L.append("")
    L.append("| | Tern | Prosody | ejabberd | Tern/Prosody | Tern/ejabberd |")
    L.append("|:--|--:|--:|--:|--:|--:|")
    for label, fn, f, better in rows:
        vals = {s: (fn(s) if s in results and sc in results[s] else None) for s in ALL}
        r1 = ratio(vals["tern"], vals["prosody"]) if better is not None else ""
        r2 = ratio(vals["tern"], vals["ejabberd"]) if better is not None else ""
        L.append(f"| {label} | {fmt(vals['tern'], f)} | {fmt(vals['prosody'], f)} | "
                 f"{fmt(vals['ejabberd'], f)} | {r1} | {r2} |")
    L.append("")
L.append("Raw tern-bench output of every run: `" + date + ".json` (`results.SERVER.SCENARIO`). "
         "Chart: `" + date + ".png`.")
L.append("")
L.append(f"![messages/s and KiB per session]({date}.png)")
L.append("")
open(os.path.join(out, date + ".md"), "w").write("\n".join(L))

headline = {}
for s in ALL:
    if s in results:
        headline[s] = {
            "kib_per_session": get(s, "hold", "server_kib_per_session"),
            "logins_per_second": get(s, "login", "logins_per_second"),
            "messages_per_second": get(s, "chat", "delivered_per_second"),
            "chat_p99_ms": ms("chat", "latency_p99_us")(s),
            "server_cpu_us_per_message": get(s, "chat", "server_cpu_us_per_message"),
        }
json.dump({"meta": meta, "skipped": skipped, "headline": headline, "results": results},
          open(os.path.join(out, date + ".json"), "w"), indent=1)

# Data for the chart: server, msgs/s, KiB/session.
with open(os.path.join(raw, "chart.dat"), "w") as f:
    for s in have:
        f.write(f"{NAMES[s]} {get(s, 'chat', 'delivered_per_second') or 0} "
                f"{get(s, 'hold', 'server_kib_per_session') or 0}\n")
print("\n".join(L))
PY

if [[ -s $RAW/chart.dat ]]; then
  term=png
  gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && term=pngcairo
  gnuplot >"$RAW/gnuplot.log" 2>&1 <<GP || { cat "$RAW/gnuplot.log" >&2; log "gnuplot failed"; }
set terminal $term size 1000,420 font "sans,10"
set output "$OUT/$DATE.png"
set multiplot layout 1,2 title "Tern, Prosody, ejabberd on $(nproc) CPUs, $DATE (STARTTLS, $MECH)"
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
unset key
set title "chat: messages/s delivered at saturation ($PAIRS pairs)"
plot "$RAW/chart.dat" using 2:xtic(1) linecolor rgb "#3465a4", \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle
set title "hold: server KiB per idle session ($USERS sessions)"
plot "$RAW/chart.dat" using 3:xtic(1) linecolor rgb "#cc0000", \
     "" using 0:3:(sprintf("%.1f", \$3)) with labels offset 0,0.7 notitle
unset multiplot
GP
fi
log "done: $OUT/$DATE.md"
