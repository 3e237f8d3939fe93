"""TF1 graph mode: an op pinned to a GPU that does not exist, default Session (no soft placement)."""
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

with tf.device("/gpu:0"):
    w = tf.Variable(tf.random.normal([4, 2]), name="w")
    y = tf.matmul(tf.ones([1, 4]), w)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(y))
