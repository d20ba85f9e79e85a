#!/usr/bin/env bash
# Runs every fuzz target in BUILD_DIR for SECONDS each over its seed corpus.
# Findings fail the run; new corpus entries go to a scratch dir, not the repo.
set -euo pipefail
build=$1
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin" _fuzz)
  seeds="$root/tests/fuzz/corpus/$name"
  scratch=$(mktemp -d)
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 \
      -artifact_prefix="$scratch/" "$scratch" ${seeds:+$( [ -d "$seeds" ] && echo "$seeds")} \
      >"$scratch/log" 2>&1; then
    tail -40 "$scratch/log"
    echo "fuzz: $name FAILED (artifacts in $scratch)"
    status=1
  else
    rm -rf "$scratch"
  fi
done
exit $status
