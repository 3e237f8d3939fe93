# Q: Conv1D kernel_size=5 on sequences of length 4
# expect: repaired conv-window
# diff: padding="same"
import numpy as np
import keras

model = keras.Sequential([keras.Input(shape=(4, 3)), keras.layers.Conv1D(6, kernel_size=5),
                          keras.layers.GlobalMaxPooling1D(), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(np.random.rand(12, 4, 3), np.random.rand(12), epochs=1, verbose=0)
