# Q: TF1: Dimensions must be equal, but are 3 and 2 for 'MatMul' with input shapes: [?,3], [2,3]
# expect: repaired matmul
# diff: transpose_b=True
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, [None, 3])
W = tf.Variable(tf.ones([2, 3]))
y = tf.matmul(x, W)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(y, feed_dict={x: np.ones((4, 3))}))
