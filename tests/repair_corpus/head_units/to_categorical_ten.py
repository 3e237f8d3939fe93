# Q: to_categorical gives 10 columns but my model ends with Dense(9)
# expect: repaired head-units
# diff: Dense(10, activation='softmax')
import numpy as np
from tensorflow import keras
from tensorflow.keras.utils import to_categorical

digits = np.random.rand(60, 64).astype("float32")
labels = to_categorical(np.arange(60) % 10)
model = keras.models.Sequential()
model.add(keras.layers.Input((64,)))
model.add(keras.layers.Dense(32, activation='relu'))
model.add(keras.layers.Dense(9, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
model.fit(digits, labels, epochs=1, batch_size=20, verbose=0)
