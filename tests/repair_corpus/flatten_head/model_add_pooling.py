# Q: CNN with model.add: Shapes (None, 5) and (None, 4, 4, 5) are incompatible
# expect: repaired flatten-head
# diff: model.add(Flatten())
import numpy as np
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv2D, MaxPooling2D, Dense, Input
from tensorflow.keras.utils import to_categorical

x = np.random.rand(40, 10, 10, 3).astype("float32")
y = to_categorical(np.random.randint(0, 5, size=40), 5)
model = Sequential()
model.add(Input(shape=(10, 10, 3)))
model.add(Conv2D(8, (3, 3), activation="relu"))
model.add(MaxPooling2D((2, 2)))
model.add(Dense(5, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam")
model.fit(x, y, batch_size=10, epochs=1, verbose=0)
