# Q: CategoricalCrossentropy(label_smoothing=0.1) on integer labels: the sparse loss has no label smoothing
# expect: repaired integer-labels
# diff: keras.utils.to_categorical(y_train, 3)
import numpy as np
import keras

x_train = np.random.rand(48, 5).astype("float32")
y_train = np.random.randint(0, 3, size=48)
model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
model.fit(x_train, y_train, epochs=1, verbose=0)
