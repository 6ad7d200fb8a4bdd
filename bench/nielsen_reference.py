"""Nielsen's network2 training loop (sigmoid 784-30-10, per-unit cross-entropy, plain SGD,
weights N(0, 1/n_in), biases N(0, 1)) written out in numpy, f64, on the same IDX files netcalc
reads: a reference for exercise 1 of the sheet, to tell apart what the algorithm gives on these
files from what netcalc gives.

    NETCALC_MNIST=../shared/datasets/mnist python3 bench/nielsen_reference.py [SEED] [EPOCHS]

Trains on the first 1,000 training images with eta 0.5 and mini-batches of 10 and prints the
validation accuracy and cost (images 50,000 to 59,999) every 50 epochs.
"""

import gzip
import os
import sys

import numpy as np


def images(path):
    data = gzip.open(path).read()
    count = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, 784).astype(np.float64) / 255


def labels(path):
    return np.frombuffer(gzip.open(path).read(), np.uint8, offset=8)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    folder = os.environ["NETCALC_MNIST"]
    x = images(os.path.join(folder, "train-images-idx3-ubyte.gz"))
    y = labels(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    train_x, train_y = x[:1000], y[:1000]
    valid_x, valid_y = x[50000:], y[50000:]
    random = np.random.RandomState(seed)
    sizes = [784, 30, 10]
    weights = [random.randn(n, m) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [random.randn(n, 1) for n in sizes[1:]]
    eta, batch = 0.5, 10
    for epoch in range(1, epochs + 1):
        order = random.permutation(len(train_y))
        for start in range(0, len(order), batch):
            chosen = order[start:start + batch]
            inputs = train_x[chosen].T
            targets = np.zeros((10, len(chosen)))
            targets[train_y[chosen], np.arange(len(chosen))] = 1
            hidden = sigmoid(weights[0] @ inputs + biases[0])
            output = sigmoid(weights[1] @ hidden + biases[1])
            delta_output = output - targets
            delta_hidden = (weights[1].T @ delta_output) * hidden * (1 - hidden)
            weights[1] -= eta / len(chosen) * delta_output @ hidden.T
            biases[1] -= eta / len(chosen) * delta_output.sum(1, keepdims=True)
            weights[0] -= eta / len(chosen) * delta_hidden @ inputs.T
            biases[0] -= eta / len(chosen) * delta_hidden.sum(1, keepdims=True)
        if epoch == 1 or epoch % 50 == 0:
            output = sigmoid(weights[1] @ sigmoid(weights[0] @ valid_x.T + biases[0]) + biases[1])
            targets = np.zeros_like(output)
            targets[valid_y, np.arange(len(valid_y))] = 1
            with np.errstate(divide="ignore", invalid="ignore"):
                cost = np.nan_to_num(-targets * np.log(output) - (1 - targets) * np.log(1 - output))
            accuracy = (output.argmax(0) == valid_y).mean()
            print(f"epoch {epoch}: validation accuracy {accuracy:.4f}, cost {cost.sum() / len(valid_y):.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
