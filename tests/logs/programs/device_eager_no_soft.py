"""TF2 eager with soft placement switched off: a GPU that does not exist."""
import tensorflow as tf

tf.config.set_soft_device_placement(False)

with tf.device("/gpu:1"):
    x = tf.constant([1.0, 2.0])
    y = x + x
print(y)
