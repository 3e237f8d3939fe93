"""tf.compat.v1.layers.dense under Keras 3."""
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, [None, 2])
y = tf.layers.dense(x, 3)
