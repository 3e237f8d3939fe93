# Q: LSTM(return_sequences=True) then Dense: output.shape=(None, 12, 4) for one label per sequence
# expect: repaired flatten-head
# diff: return_sequences=False
import numpy as np
import keras

seqs = np.random.rand(30, 12, 3).astype("float32")
label = np.random.randint(0, 4, size=30)
model = keras.Sequential([
    keras.Input(shape=(12, 3)),
    keras.layers.LSTM(16, return_sequences=True),
    keras.layers.Dense(4, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(seqs, label, epochs=1, verbose=0)
