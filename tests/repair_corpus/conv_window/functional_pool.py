# Q: functional model, AveragePooling2D(3) on a 2x2 map
# expect: repaired conv-window
# diff: padding="same"
import numpy as np
import keras
from keras import layers

inp = keras.Input(shape=(4, 4, 1))
x = layers.Conv2D(3, 3)(inp)
x = layers.AveragePooling2D(3)(x)
x = layers.Flatten()(x)
out = layers.Dense(1)(x)
model = keras.Model(inp, out)
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.rand(8, 4, 4, 1), np.random.rand(8, 1), epochs=1, verbose=0)
