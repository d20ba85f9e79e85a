#!/bin/sh
# Creates the accounts tern-bench logs in as, on a Tern server, N at a time
# in parallel: `tern user add` is one process per account (~20 ms each:
# process start plus PBKDF2), so 1,000 accounts take a few seconds on two
# cores. An account that already exists is skipped, so a second run is a
# no-op. (A bulk XEP-0227 import will replace this for large counts.)
#
#   bench/tern-bench/provision.sh -c tern.toml -n 1000 [-d localhost]
#       [-u 'bench{}'] [-p bench] [-f 0] [-j 8] [-t path/to/tern]
#
# Rosters (for the presence scenario) are not made here.
set -eu

config=""
count=""
domain="localhost"
pattern="bench{}"
password="bench"
first=0
jobs=8
tern="${TERN_BIN:-}"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

while getopts c:n:d:u:p:f:j:t:h opt; do
  case "$opt" in
    c) config="$OPTARG" ;;
    n) count="$OPTARG" ;;
    d) domain="$OPTARG" ;;
    u) pattern="$OPTARG" ;;
    p) password="$OPTARG" ;;
    f) first="$OPTARG" ;;
    j) jobs="$OPTARG" ;;
    t) tern="$OPTARG" ;;
    *) usage ;;
  esac
done
[ -n "$config" ] && [ -n "$count" ] || usage
if [ -z "$tern" ]; then
  here=$(dirname "$0")
  for candidate in "$here/../../build/tern" "$(command -v tern || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then tern="$candidate"; break; fi
  done
fi
[ -n "$tern" ] && [ -x "$tern" ] || { echo "provision.sh: no tern binary (use -t or TERN_BIN)" >&2; exit 2; }

case "$pattern" in
  *"{}"*) ;;
  *) pattern="${pattern}{}" ;;
esac
prefix=${pattern%%"{}"*}
suffix=${pattern#*"{}"}
last=$((first + count - 1))

# Existing accounts are skipped, so that re-running is cheap and harmless.
existing=$(mktemp)
trap 'rm -f "$existing"' EXIT
"$tern" user list "$domain" --config "$config" 2>/dev/null | sort > "$existing" || true

seq "$first" "$last" \
  | awk -v p="$prefix" -v s="$suffix" -v d="$domain" '{ print p $1 s "@" d }' \
  | sort | comm -23 - "$existing" \
  | xargs -r -P "$jobs" -I{} "$tern" user add {} "$password" --config "$config" >/dev/null

made=$("$tern" user list "$domain" --config "$config" 2>/dev/null \
  | awk -v p="$prefix" -v s="$suffix" -v d="$domain" -v a="$first" -v b="$last" '
      { n = $0; sub("@" d "$", "", n)
        if (substr(n, 1, length(p)) != p) next
        n = substr(n, length(p) + 1)
        if (length(s) && substr(n, length(n) - length(s) + 1) != s) next
        if (length(s)) n = substr(n, 1, length(n) - length(s))
        if (n ~ /^[0-9]+$/ && n + 0 >= a && n + 0 <= b) c++ }
      END { print c + 0 }')
echo "provision.sh: $made of $count accounts ${prefix}{${first}..${last}}${suffix}@${domain} exist"
[ "$made" -eq "$count" ]
