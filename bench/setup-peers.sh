#!/usr/bin/env bash
# Sets up the peers bench/train-epoch.sh compares netcalc with: a Python virtual environment in
# bench/peers-venv (git-ignored) holding PyTorch (CPU), TensorFlow (tensorflow-cpu) and Keras 3,
# all from the package registries. Idempotent: a second run finds everything importable and only
# prints the versions. Needs python3 with its venv module (Debian: apt-get install python3-venv).
#
#   bench/setup-peers.sh            # set up (or check) and print the versions
#   PEERS_VENV=/elsewhere bench/setup-peers.sh
#
# PyTorch: the CPU-only wheels of PyTorch's own index (download.pytorch.org/whl/cpu) are tried
# first. Where that host is not reachable, the wheel comes from PyPI, whose Linux x86-64 build is
# the CUDA one: pip then also fetches NVIDIA's CUDA libraries (~3 GB on disk). They stay unused on
# a machine without a GPU; the CPU code path (MKL-DNN/oneDNN kernels, OpenMP threads) is the same.
# The script says which of the two it installed.
set -euo pipefail
cd "$(dirname "$0")"
venv=${PEERS_VENV:-$PWD/peers-venv}
python=$venv/bin/python

if ! [ -x "$python" ]; then
  if ! python3 -m venv "$venv"; then
    echo "python3 -m venv failed: install the venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
pip() { "$python" -m pip --disable-pip-version-check --quiet "$@"; }

if ! "$python" -c 'import torch' 2>/dev/null; then
  if pip install --index-url https://download.pytorch.org/whl/cpu torch 2>/dev/null; then
    echo "installed torch from https://download.pytorch.org/whl/cpu (CPU-only wheels)"
  else
    echo "download.pytorch.org is not reachable: installing torch from PyPI (with its unused CUDA libraries)"
    pip install torch
  fi
fi
if ! "$python" -c 'import tensorflow, keras' 2>/dev/null; then
  pip install tensorflow-cpu keras
fi

"$python" - <<'EOF'
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import platform
import keras
import numpy
import tensorflow
import torch
print(f"python {platform.python_version()}, numpy {numpy.__version__}")
build = "CUDA build, running on the CPU" if torch.version.cuda else "CPU-only build"
print(f"torch {torch.__version__} ({build}; oneDNN {torch.backends.mkldnn.is_available()})")
print(f"tensorflow {tensorflow.__version__}, keras {keras.__version__} (backend {keras.backend.backend()})")
EOF
