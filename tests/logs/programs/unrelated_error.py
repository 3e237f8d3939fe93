"""Not a TensorFlow failure at all."""
import tensorflow as tf

rate = tf.constant(0.5)
print(1 / 0)
