# Q: class ids loaded from a CSV (floats) fed to a one-hot placeholder
# expect: repaired onehot-feed
# diff: np.eye(2, dtype=np.float32)
import os
import tempfile
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
path = os.path.join(tempfile.mkdtemp(), "spam.csv")
np.savetxt(path, np.column_stack([np.random.rand(30, 5), np.arange(30) % 2]), delimiter=",")
table = np.loadtxt(path, delimiter=",")
x_data, y_data = table[:, :5], table[:, 5]
x = tf.placeholder(tf.float32, [None, 5])
y = tf.placeholder(tf.float32, [None, 2])
logits = tf.matmul(x, tf.Variable(tf.zeros([5, 2]))) + tf.Variable(tf.zeros([2]))
loss = tf.losses.softmax_cross_entropy(y, logits)
train = tf.train.AdamOptimizer().minimize(loss)
sess = tf.Session()
sess.run(tf.global_variables_initializer())
print(sess.run([train, loss], {x: x_data, y: y_data})[1])
