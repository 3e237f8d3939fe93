# Q: Conv2D on flattened pixel rows read from a CSV: expected shape=(None, 12, 12, 1), found (None, 144)
# expect: repaired declared-input
# diff: .reshape(x_train, (-1, 12, 12, 1))
import numpy as np
import tensorflow as tf

x_train = np.random.rand(40, 144).astype("float32")  # one row of pixels per image, as in a Kaggle CSV
y_train = np.random.randint(0, 4, size=40)

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(12, 12, 1)),
    tf.keras.layers.Conv2D(4, 3, activation="relu"),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(4, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=1, batch_size=8, verbose=0)
