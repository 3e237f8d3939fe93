# Q: placeholder declared with 3 features, the data has 5 columns
# expect: repaired feed-shape
# diff: [None, 5]
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
data = np.random.rand(12, 5)
x = tf.placeholder(tf.float32, [None, 3])
total = tf.reduce_sum(x, axis=1)
with tf.Session() as sess:
    print(sess.run(total, feed_dict={x: data}))
