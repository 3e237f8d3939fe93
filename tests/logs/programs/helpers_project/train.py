"""The training script: its labels have rank 1, the helper's raw op wants them shaped like the logits."""
import tensorflow as tf

from losses_lib import discriminator_loss

logits = tf.keras.layers.Dense(1)(tf.random.normal((8, 4)))
labels = tf.ones((8,))
print(float(discriminator_loss(labels, logits)))
