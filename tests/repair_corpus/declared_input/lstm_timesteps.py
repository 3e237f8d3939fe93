# Q: LSTM on two sensor channels: expected shape=(None, 10, 2), found shape=(None, 20)
# expect: repaired declared-input
# diff: .reshape(windows, (-1, 10, 2))
import numpy as np
import keras

t = np.arange(300) / 5.0
series = np.stack([np.sin(t), np.cos(t)], axis=1).astype("float32")  # (300, 2)
windows = np.stack([series[i:i + 10].ravel() for i in range(200)])  # flattened: (200, 20)
nexts = series[10:210, 0]

model = keras.Sequential([keras.Input(shape=(10, 2)), keras.layers.LSTM(8), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
model.fit(windows, nexts, epochs=1, batch_size=50, verbose=0)
