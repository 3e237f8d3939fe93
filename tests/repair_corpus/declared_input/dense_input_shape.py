# Q: ValueError: Input 0 of layer "dense" is incompatible with the layer: expected axis -1 of input shape to have value 10
# expect: repaired declared-input
# diff: input_shape=(8,)
import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(0)
features = rng.normal(size=(96, 8)).astype("float32")
target = (features.sum(axis=1) > 0).astype("float32")

model = keras.Sequential([
    layers.Dense(16, activation="relu", input_shape=(10,)),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(features, target, epochs=1, batch_size=32, verbose=0)
print("trained on", len(features))
