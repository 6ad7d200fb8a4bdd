#!/usr/bin/env bash
# netcalc side by side with PyTorch and Keras 3 + TensorFlow on the same machine, in one run,
# round robin: for each round, each thread count and each network, every system trains one epoch
# on the 60,000 MNIST training images and is scored on the 10,000 test images; the order of the
# systems rotates from round to round. Workloads:
#   keras-mnist-cnn  the Keras MNIST CNN, Adadelta lr 1.0, batch 128 (epoch, and inference below)
#   mlp-784-400-10   the MLP 784-400-10, SGD lr 0.01, batch 128
#   lenet-5          netcalc's lenet-5 (tanh, 2×2 means), Adadelta lr 1.0, batch 128
#   inference        the CNN just trained on the 10,000 test images: the whole `netcalc eval`
#                    process (it also reads the test set and the weights) against the peers'
#                    second `predict`/no-grad pass inside their process (their first one traces or
#                    warms up and is printed as "cold")
# Seconds per epoch are wall clock of the training loop only (netcalc: history.csv; PyTorch: its
# loop; Keras: `fit`'s epoch, first batch and its tracing included). Peak memory is the whole
# process's maximum resident set (/usr/bin/time -v). Test accuracy is after the one epoch.
# Prints the CPU, the versions, every raw line, then per workload and thread count each system's
# median and netcalc's median divided by the fastest peer's median. Reports only; asserts
# nothing. Run it on a quiet machine: other work on the cores slows every system, unevenly.
#
#   NETCALC_MNIST=../shared/datasets/mnist bench/train-epoch.sh
#   ROUNDS=3 THREADS="1 2" WORKLOADS="keras-mnist-cnn lenet-5" PEERS="pytorch keras" \
#     NETCALC_FEATURES="" bench/train-epoch.sh
#
# Environment: ROUNDS (default 2), THREADS (default "1 2"), WORKLOADS (default all three
# networks; inference comes with keras-mnist-cnn), PEERS (default "pytorch keras"; "" for netcalc
# alone), NETCALC_FEATURES (cargo features for the netcalc build, default none), SEED (default 1),
# PEERS_VENV (default bench/peers-venv), SUBSET (train on the first N images only: a smoke test of
# this script, not a benchmark). The peers are set up by bench/setup-peers.sh (called
# here; it returns at once when they are installed).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NETCALC_MNIST:?set NETCALC_MNIST to the MNIST folder}"
export NETCALC_MNIST
rounds=${ROUNDS:-2}
thread_counts=${THREADS:-"1 2"}
workloads=${WORKLOADS:-"keras-mnist-cnn mlp-784-400-10 lenet-5"}
peers=${PEERS-"pytorch keras"}
seed=${SEED:-1}
subset=${SUBSET:-}
features=${NETCALC_FEATURES:-}
venv=${PEERS_VENV:-$PWD/bench/peers-venv}
export PEERS_VENV=$venv

if [ -n "$features" ]; then
  cargo build --release --quiet --features "$features"
else
  cargo build --release --quiet
fi
binary=target/release/netcalc
if [ -n "$peers" ]; then
  # TensorFlow's start-up chatter goes to the log; it is shown only when the set-up fails.
  bench/setup-peers.sh > "${TMPDIR:-/tmp}/netcalc-setup-peers.log" 2>&1 || {
    cat "${TMPDIR:-/tmp}/netcalc-setup-peers.log" >&2; exit 1; }
fi
python=$venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=$work/raw.txt
: > "$raw"

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores," \
  "$(grep -c processor /proc/cpuinfo) logical; avx512f: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no)," \
  "avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)"
echo "memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "netcalc: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src core draw Cargo.toml Cargo.lock || echo '+changes'), $(rustc --version), features: ${features:-default}"
if [ -n "$peers" ]; then
  TF_CPP_MIN_LOG_LEVEL=3 "$python" - 2>/dev/null <<'EOF'
import platform
import keras, numpy, tensorflow, torch
print(f"peers: python {platform.python_version()}, torch {torch.__version__}, "
      f"tensorflow {tensorflow.__version__}, keras {keras.__version__}, numpy {numpy.__version__}")
EOF
fi
echo "rounds: $rounds, threads: $thread_counts, seed: $seed${subset:+, only the first $subset training images (smoke test)}"
echo

peak_mib() { awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
wall_seconds() {
  # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:03.93"
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, part, ":"); s = 0
    for (i = 1; i <= n; i++) s = s * 60 + part[i]
    printf "%.3f", s }' "$1"
}
# record ROUND THREADS WORKLOAD SYSTEM SECONDS PEAK_MIB ACCURACY [NOTE]
record() {
  printf 'round %s  threads %s  %-16s %-8s %8.3f s  peak %5s MiB  test acc %s%s\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:+  $8}" | tee -a "$raw"
}

optimizer_of() {
  case $1 in
    mlp-784-400-10) echo "--optimizer sgd --learning-rate 0.01" ;;
    *) echo "--optimizer adadelta --learning-rate 1.0" ;;
  esac
}

run_netcalc() {
  local round=$1 threads=$2 network=$3 out=$work/netcalc-$1-$2-$3
  # shellcheck disable=SC2046
  /usr/bin/time -v "$binary" train "$network" --epochs 1 --validation none --threads "$threads" \
    --seed "$seed" --batch-size 128 $(optimizer_of "$network") ${subset:+--subset "$subset"} \
    --quiet --out "$out" \
    > "$out.out" 2> "$out.time"
  local seconds accuracy
  seconds=$(awk -F, 'NR == 2 { print $6 }' "$out/history.csv")
  accuracy=$(sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$out.out")
  record "$round" "$threads" "$network" netcalc "$seconds" "$(peak_mib "$out.time")" "$accuracy"
  if [ "$network" = keras-mnist-cnn ]; then
    /usr/bin/time -v "$binary" eval "$network" --weights "$out/weights.safetensors" \
      --threads "$threads" --batch-size 128 > "$out.eval" 2> "$out.eval-time"
    accuracy=$(sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' "$out.eval")
    record "$round" "$threads" inference netcalc "$(wall_seconds "$out.eval-time")" \
      "$(peak_mib "$out.eval-time")" "$accuracy" "whole process"
  fi
}

run_peer() {
  local round=$1 threads=$2 network=$3 peer=$4 out=$work/$4-$1-$2-$3
  local script=bench/pytorch_mnist.py
  if [ "$peer" = keras ]; then script=bench/keras_mnist.py; fi
  OMP_NUM_THREADS=$threads /usr/bin/time -v "$python" "$script" "$network" --threads "$threads" \
    --seed "$seed" ${subset:+--subset "$subset"} > "$out.out" 2> "$out.time" || {
      echo "$peer failed on $network; its last lines:" >&2; tail -5 "$out.time" >&2; return 0; }
  value() { sed -n "s/^$1 \([0-9.]*\)$/\1/p" "$out.out"; }
  local note=""
  if [ "$peer" = keras ]; then note="first batch $(value first_batch_seconds) s"; fi
  record "$round" "$threads" "$network" "$peer" "$(value seconds)" "$(peak_mib "$out.time")" \
    "$(value accuracy)" "$note"
  if [ "$network" = keras-mnist-cnn ]; then
    record "$round" "$threads" inference "$peer" "$(value inference_seconds)" \
      "$(peak_mib "$out.time")" "$(value accuracy)" "cold $(value cold_inference_seconds) s"
  fi
}

# shellcheck disable=SC2206
systems=(netcalc $peers)
for round in $(seq "$rounds"); do
  for threads in $thread_counts; do
    for network in $workloads; do
      # Rotate who goes first, so no system always runs on the coolest (or warmest) machine.
      count=${#systems[@]}
      for offset in $(seq 0 $((count - 1))); do
        system=${systems[$(((offset + round - 1) % count))]}
        if [ "$system" = netcalc ]; then
          run_netcalc "$round" "$threads" "$network"
        else
          run_peer "$round" "$threads" "$network" "$system"
        fi
      done
    done
  done
done

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "medians over $rounds rounds (peak: the largest of the rounds; test acc: each round's), and"
echo "netcalc's median divided by the fastest peer's:"
awk '
  {
    threads = $4; workload = $5; who = $6; seconds = $7; peak = $10; accuracy = $14
    key = workload " " threads
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
    id = key " " who
    if (!(id in count)) { systems_of[key] = systems_of[key] " " who }
    values[id, ++count[id]] = seconds
    if (peak > peaks[id]) peaks[id] = peak
    accuracies[id] = accuracies[id] (accuracies[id] == "" ? "" : ", ") accuracy
  }
  function median(id,    n, i, j, t, v) {
    n = count[id]
    for (i = 1; i <= n; i++) v[i] = values[id, i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  END {
    for (k = 1; k <= nkeys; k++) {
      key = keys[k]; split(key, part, " ")
      n = split(systems_of[key], list, " ")
      fastest = ""; best = 0
      for (s = 1; s <= n; s++) {
        id = key " " list[s]; m = median(id)
        printf "%-16s threads %s  %-8s median %8.3f s  peak %5d MiB  test acc %s\n", part[1], part[2], list[s], m, peaks[id], accuracies[id]
        if (list[s] != "netcalc" && (fastest == "" || m < best)) { fastest = list[s]; best = m }
      }
      if (fastest != "" && (key " netcalc") in count)
        printf "%-16s threads %s  netcalc / fastest peer (%s): %.2f\n", part[1], part[2], fastest, median(key " netcalc") / best
    }
  }' "$raw"
