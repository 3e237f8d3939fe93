# Q: Received a label value of 9 which is outside the valid range of [0, 5)
# expect: repaired head-units
# diff: Dense(10)
import numpy as np
import keras

x = np.random.rand(40, 6).astype("float32")
y = np.arange(40) % 10
model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(5)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, epochs=1, verbose=0)
