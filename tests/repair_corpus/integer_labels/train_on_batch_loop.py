# Q: train_on_batch in a custom loop fails with integer labels and a 10-way softmax
# expect: repaired integer-labels
# diff: sparse_categorical_crossentropy
import numpy as np
import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
for step in range(3):
    batch_x = np.random.rand(16, 20).astype("float32")
    batch_y = np.random.randint(0, 10, size=16)
    loss = model.train_on_batch(batch_x, batch_y)
print("loss", loss)
