# Q: ValueError: Arguments `target` and `output` must have the same shape. Received: target.shape=(None, 5), output.shape=(None, 3)
# expect: repaired head-units
# diff: keras.layers.Dense(5, activation="softmax")
import numpy as np
import keras

x = np.random.rand(50, 7).astype("float32")
y = np.eye(5)[np.random.randint(0, 5, size=50)]
model = keras.Sequential([keras.Input(shape=(7,)), keras.layers.Dense(12, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=1, verbose=0)
