# Q: text classifier: Embedding then Dense, target.shape=(None,), output.shape=(None, 20, 2)
# expect: repaired flatten-head
# diff: keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")
import numpy as np
import keras

tokens = np.random.randint(1, 100, size=(50, 20))
sentiment = np.random.randint(0, 2, size=50)
model = keras.Sequential([
    keras.Input(shape=(20,)),
    keras.layers.Embedding(100, 8),
    keras.layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(tokens, sentiment, epochs=1, batch_size=10, verbose=0)
