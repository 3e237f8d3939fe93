# Q: cannot reshape array of size 32000 into shape (60000,32) -- copied the MNIST count
# expect: repaired reshape-size
# diff: x.reshape(-1, 32)
import numpy as np
import keras

x = np.random.rand(1000, 4, 8)
y = np.random.randint(0, 2, 1000)
x = x.reshape(60000, 32)
model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1, activation="sigmoid")])
model.compile(loss="binary_crossentropy", optimizer="adam")
model.fit(x, y, epochs=1, batch_size=250, verbose=0)
