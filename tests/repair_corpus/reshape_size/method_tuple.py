# Q: x_train.reshape((100, 8, 8, 1)) after a train/test split of 80 samples
# expect: repaired reshape-size
# diff: reshape((-1, 8, 8, 1))
import numpy as np
import keras

images = np.random.rand(100, 64)
labels = np.random.randint(0, 3, 100)
x_train, y_train = images[:80], labels[:80]
x_train = x_train.reshape((100, 8, 8, 1))
model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
model.fit(x_train, y_train, epochs=1, verbose=0)
