"""One training epoch, then inference on the test set, of the networks netcalc's
bench/train-epoch.sh times, in PyTorch on the CPU, for side-by-side figures on the same machine.

    python3 bench/pytorch_mnist.py keras-mnist-cnn --threads 2
    python3 bench/pytorch_mnist.py mlp-784-400-10 --threads 1
    python3 bench/pytorch_mnist.py lenet-5 --threads 2

Reads the gzipped IDX files of $NETCALC_MNIST (no torchvision), scales pixels to [0, 1] and keeps
every image in memory as one tensor, as netcalc does; each mini-batch is gathered from it by index
(no DataLoader, no worker processes). Trains with the settings the bench uses for netcalc:
Adadelta (lr 1.0, rho 0.95, eps 1e-7) for the Keras MNIST CNN and LeNet-5, SGD (lr 0.01) for the
MLP, mini-batches of 128 in a seeded random order, Glorot-uniform weights and zero biases as Keras.
LeNet-5 is netcalc's `lenet-5`: the 28×28 digits centred in 32×32 with zeros, C1 6@5×5, S2 2×2
mean, C3 16@5×5, S4 2×2 mean, C5 120@5×5, F6 84, all tanh, then 10 softmax units.

Threads: torch.set_num_threads (intra-op, which also sizes the OpenMP pool that MKL-DNN/oneDNN
kernels use) and torch.set_num_interop_threads, both to --threads, before any work.

Prints `seconds S` (the epoch's training loop only, wall clock), `accuracy A` (test set after the
epoch), `inference_seconds I` (the second of two forward passes over the 10,000 test images in batches
of --eval-batch-size, no gradients, wall clock), `cold_inference_seconds C` (the first) and `threads N` (what torch reports it uses).
Reports only; asserts nothing.
"""

import argparse
import gzip
import os
import time

import torch
from torch import nn


def read_idx(path, header, shape):
    with gzip.open(path, "rb") as file:
        data = file.read()
    tensor = torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8)
    return tensor.reshape(shape)


def load(folder, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), 16, (-1, 1, 28, 28))
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), 8, (-1,))
    return images.float() / 255.0, labels.long()


def keras_mnist_cnn():
    # conv 32 3×3 relu, conv 64 3×3 relu, max-pool 2×2, dropout 0.25, dense 128 relu,
    # dropout 0.5, dense 10 (softmax in the loss): 1,199,882 parameters.
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(12 * 12 * 64, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def mlp_784_400_10():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 10))


def lenet_5():
    # netcalc's lenet-5 (61,706 parameters): fixed 2×2 means for S2 and S4.
    return nn.Sequential(
        nn.ZeroPad2d(2),
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10),
    )


NETWORKS = {
    "keras-mnist-cnn": (keras_mnist_cnn, "adadelta"),
    "mlp-784-400-10": (mlp_784_400_10, "sgd"),
    "lenet-5": (lenet_5, "adadelta"),
}


def keras_initialisation(module):
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("network", choices=sorted(NETWORKS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--eval-batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subset", type=int, help="train on the first N images only (smoke tests)")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.set_num_interop_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    folder = os.environ["NETCALC_MNIST"]
    train_images, train_labels = load(folder, "train")
    test_images, test_labels = load(folder, "test")
    if arguments.subset:
        train_images, train_labels = train_images[:arguments.subset], train_labels[:arguments.subset]
    build, optimizer_name = NETWORKS[arguments.network]
    model = build()
    model.apply(keras_initialisation)
    if optimizer_name == "adadelta":
        optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_function = nn.CrossEntropyLoss()
    order = torch.randperm(len(train_labels))
    model.train()
    started = time.perf_counter()
    for start in range(0, len(order), arguments.batch_size):
        batch = order[start:start + arguments.batch_size]
        optimizer.zero_grad()
        loss = loss_function(model(train_images[batch]), train_labels[batch])
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    model.eval()
    size = arguments.eval_batch_size
    timings = []
    for _ in range(2):
        correct = 0
        started = time.perf_counter()
        with torch.no_grad():
            for start in range(0, len(test_labels), size):
                scores = model(test_images[start:start + size])
                correct += (scores.argmax(1) == test_labels[start:start + size]).sum().item()
        timings.append(time.perf_counter() - started)
    print(f"seconds {seconds:.3f}")
    print(f"accuracy {correct / len(test_labels):.4f}")
    print(f"inference_seconds {timings[1]:.3f}")
    print(f"cold_inference_seconds {timings[0]:.3f}")
    print(f"threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
