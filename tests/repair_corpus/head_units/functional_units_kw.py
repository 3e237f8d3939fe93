# Q: functional model, Dense(units=4) head but six one-hot classes
# expect: repaired head-units
# diff: units=6
import numpy as np
import keras

inp = keras.Input(shape=(10,))
h = keras.layers.Dense(16, activation="relu")(inp)
out = keras.layers.Dense(units=4, activation="softmax")(h)
model = keras.Model(inp, out)
model.compile(optimizer="adam", loss="categorical_crossentropy")
targets = keras.utils.to_categorical(np.random.randint(0, 6, size=36), 6)
model.fit(np.random.rand(36, 10), targets, epochs=1, verbose=0)
