# Q: binary classifier with Dense(2, activation="sigmoid"): target.shape=(None, 1), output.shape=(None, 2)
# (from TFX301's fixture functional_compile_fit: found by bench/repair_fixtures.py, where the sparse loss was kept)
# expect: repaired head-units
# diff: layers.Dense(1, activation="sigmoid")(h)
# stdout: prediction shape: \(3, 1\)
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(0)
x_train = rng.normal(size=(64, 20)).astype("float32")
y_train = np.random.randint(0, 2, size=(64, 1))

inputs = keras.Input(shape=(20,))
h = layers.Dense(16, activation="relu")(inputs)
outputs = layers.Dense(2, activation="sigmoid")(h)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
print("trained, loss:", round(float(history.history["loss"][0]), 3) > 0)
print("prediction shape:", tuple(model(x_train[:3]).shape))
