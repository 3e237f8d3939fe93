# Q: Keras input_dim does not match the number of features after one-hot encoding
# expect: repaired declared-input
# diff: input_dim=13
import numpy as np
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

X = np.random.rand(50, 13)
Y = np.random.rand(50)
model = Sequential()
model.add(Dense(12, input_dim=20, activation="relu"))
model.add(Dense(1))
model.compile(loss="mean_squared_error", optimizer="adam")
model.fit(X, Y, epochs=1, batch_size=10, verbose=0)
