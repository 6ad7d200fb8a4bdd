"""One training epoch, then inference on the test set, of the networks netcalc's
bench/train-epoch.sh times, in Keras 3 on the TensorFlow backend (CPU, oneDNN), for side-by-side
figures on the same machine.

    python3 bench/keras_mnist.py keras-mnist-cnn --threads 2
    python3 bench/keras_mnist.py mlp-784-400-10 --threads 1
    python3 bench/keras_mnist.py lenet-5 --threads 2

Reads the gzipped IDX files of $NETCALC_MNIST, scales pixels to [0, 1] and keeps every image in
memory as one numpy array, as netcalc does; `fit` and `predict` take those arrays (Keras cuts them
into batches itself; no files, no generators). Trains with the settings the bench uses for
netcalc: Adadelta (lr 1.0, rho 0.95, eps 1e-7) for the Keras MNIST CNN and LeNet-5, SGD (lr 0.01)
for the MLP, mini-batches of 128, shuffled, cross-entropy on softmax outputs, Keras' default
Glorot-uniform weights and zero biases. LeNet-5 is netcalc's `lenet-5`: the 28×28 digits centred
in 32×32 with zeros, C1 6@5×5, S2 2×2 mean, C3 16@5×5, S4 2×2 mean, C5 120@5×5, F6 84, all tanh,
then 10 softmax units.

Threads: TensorFlow's intra-op and inter-op pools are both set to --threads before TensorFlow
starts (tf.config.threading); oneDNN runs on TensorFlow's intra-op pool. OMP_NUM_THREADS is set
too, for any OpenMP code.

Prints `seconds S` (the epoch inside `fit`, from its first batch, which traces the training
function, to its end; wall clock), `first_batch_seconds F` (of which the first batch),
`accuracy A` (test set after the epoch), `inference_seconds I` (the second of two
`predict` calls over the 10,000 test images in batches of --eval-batch-size; the first traces the
function), `cold_inference_seconds C` (the first) and `threads N` (the intra-op setting TensorFlow
reports). Reports only; asserts nothing.
"""

import argparse
import gzip
import os
import time


def arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("network", choices=["keras-mnist-cnn", "lenet-5", "mlp-784-400-10"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--eval-batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subset", type=int, help="train on the first N images only (smoke tests)")
    return parser.parse_args()


OPTIONS = arguments()
os.environ["OMP_NUM_THREADS"] = str(OPTIONS.threads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy  # noqa: E402
import tensorflow  # noqa: E402

tensorflow.config.threading.set_intra_op_parallelism_threads(OPTIONS.threads)
tensorflow.config.threading.set_inter_op_parallelism_threads(OPTIONS.threads)

import keras  # noqa: E402
from keras import layers  # noqa: E402


def read_idx(path, header):
    with gzip.open(path, "rb") as file:
        return numpy.frombuffer(file.read()[header:], dtype=numpy.uint8)


def load(folder, split):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), 8)
    images = images.reshape(-1, 28, 28, 1).astype(numpy.float32) / 255.0
    return images, labels.astype(numpy.int64)


def keras_mnist_cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def mlp_784_400_10():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Flatten(),
        layers.Dense(400, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def lenet_5():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.ZeroPadding2D(2),
        layers.Conv2D(6, 5, activation="tanh"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="tanh"),
        layers.AveragePooling2D(2),
        layers.Conv2D(120, 5, activation="tanh"),
        layers.Flatten(),
        layers.Dense(84, activation="tanh"),
        layers.Dense(10, activation="softmax"),
    ])


NETWORKS = {
    "keras-mnist-cnn": (keras_mnist_cnn, "adadelta"),
    "mlp-784-400-10": (mlp_784_400_10, "sgd"),
    "lenet-5": (lenet_5, "adadelta"),
}


class EpochClock(keras.callbacks.Callback):
    """The wall time of the epoch and of its first batch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.first_batch = time.perf_counter() - self.started

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.started


def main():
    keras.utils.set_random_seed(OPTIONS.seed)
    folder = os.environ["NETCALC_MNIST"]
    train_images, train_labels = load(folder, "train")
    test_images, test_labels = load(folder, "test")
    if OPTIONS.subset:
        train_images, train_labels = train_images[:OPTIONS.subset], train_labels[:OPTIONS.subset]
    build, optimizer_name = NETWORKS[OPTIONS.network]
    model = build()
    if optimizer_name == "adadelta":
        optimizer = keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7)
    else:
        optimizer = keras.optimizers.SGD(learning_rate=0.01)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    clock = EpochClock()
    model.fit(
        train_images,
        train_labels,
        batch_size=OPTIONS.batch_size,
        epochs=1,
        shuffle=True,
        verbose=0,
        callbacks=[clock],
    )
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        scores = model.predict(test_images, batch_size=OPTIONS.eval_batch_size, verbose=0)
        timings.append(time.perf_counter() - started)
    accuracy = float(numpy.mean(numpy.argmax(scores, axis=1) == test_labels))
    print(f"seconds {clock.seconds:.3f}")
    print(f"first_batch_seconds {clock.first_batch:.3f}")
    print(f"accuracy {accuracy:.4f}")
    print(f"inference_seconds {timings[1]:.3f}")
    print(f"cold_inference_seconds {timings[0]:.3f}")
    print(f"threads {tensorflow.config.threading.get_intra_op_parallelism_threads()}")


if __name__ == "__main__":
    main()
