# Q: model.predict(x_test[0]) -- expected shape=(None, 8), found shape=(8,)
# expect: repaired batch-axis
# diff: np.expand_dims(x_test[0], 0)
import numpy as np
import keras

x_train = np.random.rand(40, 8).astype("float32")
y_train = np.random.rand(40, 1).astype("float32")
x_test = np.random.rand(5, 8).astype("float32")
model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, epochs=1, verbose=0)
print(model.predict(x_test[0], verbose=0))
