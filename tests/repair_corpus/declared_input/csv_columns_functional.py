# Q: Functional model on a CSV: expected shape=(None, 4), found shape=(None, 5)
# expect: repaired declared-input
# diff: shape=(5,)
import os
import tempfile
import numpy as np
import keras

path = os.path.join(tempfile.mkdtemp(), "houses.csv")
rng = np.random.default_rng(1)
table = rng.normal(size=(64, 6))
np.savetxt(path, table, delimiter=",")
data = np.loadtxt(path, delimiter=",")
X, y = data[:, :-1], data[:, -1]

inputs = keras.Input(shape=(4,))
hidden = keras.layers.Dense(8, activation="relu")(inputs)
outputs = keras.layers.Dense(1)(hidden)
model = keras.Model(inputs, outputs)
model.compile(optimizer="sgd", loss="mse")
model.fit(X, y, epochs=1, verbose=0)
