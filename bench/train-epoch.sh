#!/usr/bin/env bash
# One training epoch on the full 60,000 MNIST training images for the Keras MNIST CNN
# (keras-mnist-cnn, Adadelta lr 1.0, batch 128) and the MLP 784-400-10 (SGD lr 0.01, batch 128):
# seconds per epoch (from the run's history, training only), images per second, threads and the
# peak memory of the whole process (/usr/bin/time -v, "Maximum resident set size"). When
# `python3 -c 'import torch'` works, bench/pytorch_mnist.py trains the same network for one
# epoch on the same machine and the ratio is printed; otherwise it says PyTorch is missing.
# Reports only; asserts nothing.
#
#   NETCALC_MNIST=../shared/datasets/mnist bench/train-epoch.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
: "${NETCALC_MNIST:?set NETCALC_MNIST to the MNIST folder}"
threads=${1:-$(nproc)}
cargo build --release --quiet
binary=target/release/netcalc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_torch=no
if python3 -c 'import torch' 2>/dev/null; then have_torch=yes; fi

peak_mib() { awk -F: '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

bench() {
  local network=$1; shift
  /usr/bin/time -v "$binary" train "$network" --epochs 1 --validation none --threads "$threads" \
    --seed 1 --quiet --out "$work/$network" "$@" > "$work/$network.out" 2> "$work/$network.time"
  local seconds
  seconds=$(awk -F, 'NR == 2 { print $6 }' "$work/$network/history.csv")
  local accuracy
  accuracy=$(sed -n 's/^Test accuracy: \([0-9.]*\).*/\1/p' "$work/$network.out")
  printf '%-16s netcalc  threads %s  %7.1f s/epoch  %7.0f images/s  peak %5s MiB  test acc %s\n' \
    "$network" "$threads" "$seconds" "$(awk -v s="$seconds" 'BEGIN { print 60000 / s }')" \
    "$(peak_mib "$work/$network.time")" "$accuracy"
  if [ "$have_torch" = yes ]; then
    /usr/bin/time -v python3 bench/pytorch_mnist.py "$network" --threads "$threads" \
      > "$work/$network.torch" 2> "$work/$network.torch-time"
    local torch_seconds
    torch_seconds=$(sed -n 's/^seconds \([0-9.]*\)$/\1/p' "$work/$network.torch")
    printf '%-16s pytorch  threads %s  %7.1f s/epoch  %7.0f images/s  peak %5s MiB  test acc %s\n' \
      "$network" "$threads" "$torch_seconds" "$(awk -v s="$torch_seconds" 'BEGIN { print 60000 / s }')" \
      "$(peak_mib "$work/$network.torch-time")" \
      "$(sed -n 's/^accuracy \([0-9.]*\)$/\1/p' "$work/$network.torch")"
    printf '%-16s netcalc / pytorch time: %.2f\n' "$network" \
      "$(awk -v a="$seconds" -v b="$torch_seconds" 'BEGIN { print a / b }')"
  fi
}

bench keras-mnist-cnn --optimizer adadelta --learning-rate 1.0 --batch-size 128
bench mlp-784-400-10 --optimizer sgd --learning-rate 0.01 --batch-size 128
if [ "$have_torch" = no ]; then
  echo "PyTorch is not installed (python3 -c 'import torch' fails): no side-by-side figures"
fi
