#!/usr/bin/env bash
# Whole-process time of `netcalc table vgg-16` (start-up, parse, analysis, table, exit), the number
# a person at a terminal feels. Uses hyperfine when installed (apt-get install hyperfine), else a
# plain loop. Prints the mean in milliseconds. Reports only; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
binary=target/release/netcalc
runs=${RUNS:-200}
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 20 --runs "$runs" -N "$binary table vgg-16"
else
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$binary" table vgg-16 >/dev/null; done
  end=$(date +%s%N)
  echo "netcalc table vgg-16: $(( (end - start) / runs / 1000 )) µs per run (mean of $runs, whole process)"
fi
