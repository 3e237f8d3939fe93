# Q: Labels read from a CSV as floats (0.0, 1.0, 2.0, 3.0) with categorical_crossentropy and categorical_accuracy
# expect: repaired integer-labels
# diff: sparse_categorical_crossentropy
# diff: sparse_categorical_accuracy
import os
import tempfile
import numpy as np
from tensorflow import keras

path = os.path.join(tempfile.mkdtemp(), "train.csv")
rows = np.column_stack([np.random.rand(80, 6), np.arange(80) % 4])
np.savetxt(path, rows, delimiter=",", fmt="%.4f")
data = np.genfromtxt(path, delimiter=",")
features, classes = data[:, :6], data[:, 6]

inputs = keras.Input(shape=(6,))
x = keras.layers.Dense(12, activation="relu")(inputs)
outputs = keras.layers.Dense(4, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["categorical_accuracy"])
model.fit(features, classes, epochs=1, batch_size=20, verbose=0)
