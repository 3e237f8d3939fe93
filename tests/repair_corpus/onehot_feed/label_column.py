# Q: labels as a column vector (N, 1) of class ids fed to a (?, 4) placeholder
# expect: repaired onehot-feed
# diff: np.eye(4, dtype=np.float32)[np.asarray(y_batch).reshape(-1).astype(int)]
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
X = tf.placeholder(tf.float32, [None, 6])
Y = tf.placeholder(tf.float32, [None, 4])
W = tf.Variable(tf.random_normal([6, 4], stddev=0.1))
pred = tf.nn.softmax(tf.matmul(X, W))
cost = tf.reduce_mean(-tf.reduce_sum(Y * tf.log(pred + 1e-9), axis=1))
step = tf.train.GradientDescentOptimizer(0.1).minimize(cost)
x_batch = np.random.rand(24, 6)
y_batch = np.random.randint(0, 4, size=(24, 1))
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run([step, cost], feed_dict={X: x_batch, Y: y_batch})[1])
