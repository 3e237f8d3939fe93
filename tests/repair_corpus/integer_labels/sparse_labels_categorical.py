# Q: ValueError: Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(None,), output.shape=(None, 3)
# expect: repaired integer-labels
# diff: loss="sparse_categorical_crossentropy"
import numpy as np
import keras

X = np.random.rand(90, 4).astype("float32")
y = np.repeat([0, 1, 2], 30)  # iris-like species codes

model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(10, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=1, batch_size=16, verbose=0)
