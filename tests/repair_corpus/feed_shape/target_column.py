# Q: regression targets (N,) fed to a (?, 1) placeholder
# expect: repaired feed-shape
# diff: np.reshape(train_y, (-1, 1))
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
X = tf.placeholder(tf.float32, [None, 2])
Y = tf.placeholder(tf.float32, [None, 1])
w = tf.Variable(tf.zeros([2, 1]))
pred = tf.matmul(X, w)
cost = tf.reduce_mean(tf.square(pred - Y))
opt = tf.train.GradientDescentOptimizer(0.01).minimize(cost)
train_x = np.random.rand(25, 2)
train_y = train_x.sum(axis=1) + 0.1
sess = tf.Session()
sess.run(tf.global_variables_initializer())
for _ in range(3):
    _, c = sess.run([opt, cost], feed_dict={X: train_x, Y: train_y})
print(c)
