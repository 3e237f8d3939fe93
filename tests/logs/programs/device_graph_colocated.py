"""TF1 graph mode: tf.get_variable with an initializer under a GPU device that does not exist."""
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

with tf.device("/gpu:0"):
    w = tf.get_variable("w", initializer=tf.random.normal([4, 2]))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(w))
