"""TF1 graph mode: matmul of placeholders whose inner dimensions only clash at run time."""
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

a = tf.placeholder(tf.float32, [None, None])
b = tf.placeholder(tf.float32, [None, None])
product = tf.matmul(a, b)

with tf.Session() as sess:
    print(sess.run(product, {a: np.ones((2, 2)), b: np.ones((3, 2))}))
