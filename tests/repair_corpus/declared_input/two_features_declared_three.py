# Q: Dense(input_shape=(3,)) but I dropped a column from the DataFrame-like array
# expect: repaired declared-input
# diff: input_shape=(2,)
import numpy as np
from tensorflow import keras

table = np.random.rand(40, 4)
X = np.delete(table, [0, 3], axis=1)
y = table[:, 3]
model = keras.Sequential([keras.layers.Dense(6, activation="relu", input_shape=(3,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(X, y, epochs=1, verbose=0)
