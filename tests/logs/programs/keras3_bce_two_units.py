"""Keras 3: a binary head with two units against (batch, 1) labels."""
import tensorflow as tf

x = tf.random.normal((32, 100))
hidden = tf.keras.layers.Dense(16, activation="relu")(x)
logits = tf.keras.layers.Dense(2)(hidden)
loss = tf.keras.losses.BinaryCrossentropy(from_logits=True)(tf.zeros((32, 1)), logits)
print(float(loss))
