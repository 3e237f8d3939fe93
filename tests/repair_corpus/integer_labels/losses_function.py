# Q: loss=keras.losses.categorical_crossentropy on integer digit labels
# expect: repaired integer-labels
# diff: keras.losses.sparse_categorical_crossentropy
import numpy as np
import keras

digits = np.random.rand(100, 8, 8).astype("float32")
targets = np.arange(100) % 10
model = keras.Sequential([keras.Input(shape=(8, 8)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss=keras.losses.categorical_crossentropy, metrics=["accuracy"])
model.fit(digits, targets, validation_split=0.2, epochs=1, verbose=0)
