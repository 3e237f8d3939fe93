# Q: Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None,), output.shape=(None, 6, 6, 3)
# expect: repaired flatten-head
# diff: layers.Flatten(), layers.Dense(3, activation="softmax")
import numpy as np
import keras
from keras import layers

imgs = np.random.rand(32, 8, 8, 1).astype("float32")
kinds = np.random.randint(0, 3, size=32)
model = keras.Sequential([
    keras.Input(shape=(8, 8, 1)),
    layers.Conv2D(4, 3, activation="relu"),
    layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(imgs, kinds, epochs=1, verbose=0)
