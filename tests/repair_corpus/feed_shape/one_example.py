# Q: inference on a single example: Cannot feed value of shape (4,) for Tensor which has shape '(?, 4)'
# expect: repaired feed-shape
# diff: np.reshape(example, (-1, 4))
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
inputs = tf.placeholder(tf.float32, shape=[None, 4])
weights = tf.Variable(tf.ones([4, 2]))
probs = tf.nn.softmax(tf.matmul(inputs, weights))
example = np.array([0.5, 0.1, 0.2, 0.9])
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(probs, {inputs: example}))
