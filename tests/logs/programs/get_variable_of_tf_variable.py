"""TF1: tf.get_variable looks up a name that was made by tf.Variable (which never enters the store)."""
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

with tf.variable_scope("shared"):
    w = tf.Variable(tf.random.normal([4, 2]), name="w")

y = tf.matmul(tf.ones([1, 4]), tf.get_variable("shared/w"))
