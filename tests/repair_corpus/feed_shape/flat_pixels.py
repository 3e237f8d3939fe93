# Q: Cannot feed value of shape (16, 28, 28) for Tensor 'Placeholder:0', which has shape '(?, 784)'
# expect: repaired feed-shape
# diff: np.reshape(batch, (-1, 784))
# stdout: ^\(16, 10\)$
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, [None, 784])
W = tf.Variable(tf.zeros([784, 10]))
scores = tf.matmul(x, W)
batch = np.random.rand(16, 28, 28)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(scores, feed_dict={x: batch}).shape)
