# Q: multi-label tags (N, 3) with a single sigmoid output
# expect: repaired head-units
# diff: Dense(3, activation="sigmoid")
import numpy as np
import keras
from keras.layers import Dense

x = np.random.rand(45, 5).astype("float32")
tags = (np.random.rand(45, 3) > 0.5).astype("float32")
model = keras.Sequential([keras.Input(shape=(5,)), Dense(8, activation="relu"), Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
model.fit(x, tags, epochs=1, verbose=0)
