"""One training epoch of the same networks netcalc's bench/train-epoch.sh times, in PyTorch on
the CPU, for a side-by-side figure on the same machine.

    python3 bench/pytorch_mnist.py keras-mnist-cnn --threads 2
    python3 bench/pytorch_mnist.py mlp-784-400-10 --threads 2

Reads the gzipped IDX files of $NETCALC_MNIST (no torchvision), scales pixels to [0, 1], and
trains with the settings the bench uses for netcalc: the Keras MNIST CNN with Adadelta (lr 1.0,
rho 0.95, eps 1e-7), the MLP with SGD (lr 0.01), mini-batches of 128, Glorot-uniform weights and
zero biases as Keras. Prints `seconds S` (the epoch's training only) and `accuracy A` (the test
set afterwards).
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


def keras_initialisation(module):
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.xavier_uniform_(module.weight)
        nn.init.zeros_(module.bias)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("network", choices=["keras-mnist-cnn", "mlp-784-400-10"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(arguments.seed)
    folder = os.environ["NETCALC_MNIST"]
    train_images, train_labels = load(folder, "train")
    test_images, test_labels = load(folder, "test")
    if arguments.network == "keras-mnist-cnn":
        model = keras_mnist_cnn()
        model.apply(keras_initialisation)
        optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7)
    else:
        model = mlp_784_400_10()
        model.apply(keras_initialisation)
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
    correct = 0
    with torch.no_grad():
        for start in range(0, len(test_labels), 1000):
            scores = model(test_images[start:start + 1000])
            correct += (scores.argmax(1) == test_labels[start:start + 1000]).sum().item()
    print(f"seconds {seconds:.2f}")
    print(f"accuracy {correct / len(test_labels):.4f}")


if __name__ == "__main__":
    main()
