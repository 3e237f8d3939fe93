"""TF1 graph mode: matmul of an int32 placeholder by a float32 variable."""
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

x = tf.placeholder(tf.int32, [None, 2])
w = tf.get_variable("w", [2, 3])
y = tf.matmul(x, w)
