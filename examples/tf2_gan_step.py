"""A TF2 / Keras GAN training step with three silent or loud bugs that tffix finds and fixes."""
import tensorflow as tf
from tensorflow import keras


def make_discriminator():
    return keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(2),  # the real/fake head
    ])


generator = keras.Sequential([keras.Input((16,)), keras.layers.Dense(64)])
discriminator = make_discriminator()
bce = keras.losses.BinaryCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(1e-3)

noise = tf.random.normal((8, 16))
with tf.GradientTape() as tape:
    images = tf.cast(tf.cast(generator(noise) * 127.5, tf.int32), tf.float32) / 127.5
    scores = discriminator(images)
loss = bce(tf.ones((8, 1)), scores)
grads = tape.gradient(loss, generator.trainable_variables)
print("generator gradients are None:", all(g is None for g in grads))
