# Q: Model trained fine but predict on new data fails: expected axis -1 to have value 6
# expect: repaired declared-input
# diff: input_shape=(7,)
# stdout: ^\(3, 1\)$
import numpy as np
import keras

x = np.random.rand(30, 7)
y = np.random.rand(30, 1)
model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(6,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
history = model.fit(x, y, epochs=1, verbose=0)
print(model.predict(x[:3], verbose=0).shape)
