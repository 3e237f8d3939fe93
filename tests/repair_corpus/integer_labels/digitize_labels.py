# Q: price bands from np.digitize as labels, categorical_crossentropy complains about ranks
# expect: repaired integer-labels
# diff: sparse_categorical_crossentropy
import numpy as np
import tensorflow as tf

prices = np.random.rand(70) * 100
bands = np.digitize(prices, [25, 50, 75])
features = np.random.rand(70, 3).astype("float32")
inputs = tf.keras.Input(shape=(3,))
hidden = tf.keras.layers.Dense(8, activation="relu")(inputs)
probs = tf.keras.layers.Dense(4, activation="softmax")(hidden)
model = tf.keras.Model(inputs, probs)
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(features, bands, epochs=1, verbose=0)
