# Q: Conv1D model for sensor windows, one label per window: output rank mismatch
# expect: repaired flatten-head
# diff: Flatten
import numpy as np
from keras.models import Sequential
from keras.layers import Conv1D, Dense, Input

X = np.random.rand(36, 20, 2)
y = np.random.randint(0, 3, 36)
model = Sequential()
model.add(Input((20, 2)))
model.add(Conv1D(8, 3, activation="relu"))
model.add(Dense(3, activation="softmax"))
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
model.fit(X, y, epochs=1, verbose=0)
