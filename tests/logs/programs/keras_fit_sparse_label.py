"""Keras model.fit with sparse labels outside the range of the output layer: a graph execution error."""
import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
model.compile(optimizer="sgd", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
x = np.ones((8, 4), np.float32)
y = np.array([0, 1, 2, 4, 0, 1, 2, 4])
model.fit(x, y, epochs=1, verbose=0)
