"""The libraries netcalc could have used for its products, timed on the shapes netcalc's criterion
bench times (benches/kernels.rs), in the same units (GFLOP/s, 2 per multiply-add):

- numpy's bundled OpenBLAS sgemm: square 512 and 2048, and the four products of the Keras MNIST
  CNN's second convolution as im2col + GEMM (batch 128: 73728 pixels, 288 weight rows, 64
  filters);
- PyTorch's CPU convolution (oneDNN) on that layer: forward, backward-data and backward-weights
  (with the bias), NCHW float32 as PyTorch keeps it.

Run from the repository with the peers' venv (bench/setup-peers.sh makes it):

    bench/peers-venv/bin/python bench/kernel-peers.py [threads]

It prints the median of 20 timed calls after 3 warm-up calls, per shape. Reports only.
"""
import os
import sys
import time

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(threads)

import numpy  # noqa: E402  (after the thread settings)
import torch  # noqa: E402

torch.set_num_threads(threads)


def median_seconds(call, repeats=20, warm_up=3):
    for _ in range(warm_up):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def report(name, flops, seconds):
    print(f"{name:55s} {seconds * 1e3:9.3f} ms {flops / seconds / 1e9:8.1f} GFLOP/s")


random = numpy.random.default_rng(1)
config = numpy.show_config(mode="dicts")
blas = config.get("Build Dependencies", {}).get("blas", {})
print(f"numpy {numpy.__version__} (BLAS: {blas.get('name', '?')} {blas.get('version', '')}), "
      f"torch {torch.__version__}, threads {threads}")
print(f"torch: mkldnn (oneDNN) {torch.backends.mkldnn.is_available()}, "
      f"mkl {torch.backends.mkl.is_available()}")


def gemm(name, m, k, n, transpose_a=False, transpose_b=False):
    a = random.standard_normal((k, m) if transpose_a else (m, k), dtype=numpy.float32)
    b = random.standard_normal((n, k) if transpose_b else (k, n), dtype=numpy.float32)
    left = a.T if transpose_a else a
    right = b.T if transpose_b else b
    out = numpy.empty((m, n), dtype=numpy.float32)
    seconds = median_seconds(lambda: numpy.matmul(left, right, out=out))
    report(f"openblas {name} {m}x{k}x{n}", 2.0 * m * k * n, seconds)


gemm("square", 512, 512, 512)
gemm("square", 2048, 2048, 2048)
gemm("forward Col·W", 73728, 288, 64)
gemm("forward W·Col", 64, 288, 73728)
gemm("data dY·Wt", 73728, 64, 288, transpose_b=True)
gemm("weights Colt·dY", 288, 73728, 64, transpose_a=True)

# The layer: batch 128 of 26×26×32 → 24×24×64, 3×3, bias, as PyTorch runs it (oneDNN).
layer_flops = 2.0 * 128 * 24 * 24 * 64 * 3 * 3 * 32
with torch.no_grad():
    convolution = torch.nn.Conv2d(32, 64, 3)
    images = torch.randn(128, 32, 26, 26)
    report("pytorch conv2 26x26x32->24x24x64 forward", layer_flops,
           median_seconds(lambda: convolution(images)))
images_grad = torch.randn(128, 32, 26, 26, requires_grad=True)
upstream = torch.randn(128, 64, 24, 24)
weight = convolution.weight.detach().clone().requires_grad_(True)
bias = convolution.bias.detach().clone().requires_grad_(True)


def backward(inputs):
    output = torch.nn.functional.conv2d(images_grad, weight, bias)
    return torch.autograd.grad(output, inputs, upstream)


# The forward pass is inside each call; its median is subtracted below.
with torch.no_grad():
    forward_only = median_seconds(
        lambda: torch.nn.functional.conv2d(images_grad, weight, bias))
data = median_seconds(lambda: backward([images_grad])) - forward_only
weights = median_seconds(lambda: backward([weight, bias])) - forward_only
report("pytorch conv2 backward data (call minus its forward)", layer_flops, data)
report("pytorch conv2 backward weights and bias (minus forward)", layer_flops, weights)
