"""Keras' own parameter count of Zaremba et al. 2014's medium LSTM language model (section 4.1:
a vocabulary of 10,000 embedded to 650, two LSTM layers of 650, a softmax over 10,000, weights
not tied). Keras' LSTM has one bias per gate unit, as the paper's T_{2n,4n}. Run with the peers'
Python (Keras 3): python docs/counts/zaremba_keras.py > docs/counts/zaremba-keras.txt"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

model = keras.Sequential(
    [
        keras.Input(shape=(35,), dtype="int32"),
        keras.layers.Embedding(10000, 650),
        keras.layers.Dropout(0.5),
        keras.layers.LSTM(650, return_sequences=True),
        keras.layers.Dropout(0.5),
        keras.layers.LSTM(650, return_sequences=True),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10000, activation="softmax"),
    ]
)
print(f"keras {keras.__version__}: {model.count_params()} parameters")
