"""A GAN generator step whose output is cast to int32 and back inside the tape: no gradient reaches the
generator, and the optimizer refuses the all-None gradients."""
import tensorflow as tf

tf.random.set_seed(0)
generator = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(8)])
discriminator = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(1)])
bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam(1e-3)

z = tf.random.normal((4, 16))
with tf.GradientTape() as tape:
    fake = tf.cast(generator(z) * 255.0, tf.int32)
    score = discriminator(tf.cast(fake, tf.float32) / 255.0)
    loss = bce(tf.ones_like(score), score)
grads = tape.gradient(loss, generator.trainable_variables)
optimizer.apply_gradients(zip(grads, generator.trainable_variables))
print("generator step done")
