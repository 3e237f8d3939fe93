# Q: feed dict built before sess.run: ValueError Cannot feed value of shape (20,) ... which has shape '(?, 3)'
# expect: repaired onehot-feed
# diff: np.eye(3, dtype=np.float32)[labels]
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
features = tf.placeholder(tf.float32, shape=(None, 4), name="features")
target = tf.placeholder(tf.float32, shape=(None, 3), name="target")
W1 = tf.Variable(tf.random_normal([4, 8], stddev=0.1))
W2 = tf.Variable(tf.random_normal([8, 3], stddev=0.1))
hidden = tf.nn.relu(tf.matmul(features, W1))
out = tf.matmul(hidden, W2)
cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=out))
opt = tf.train.AdamOptimizer(0.01).minimize(cost)
data = np.random.rand(20, 4)
labels = np.arange(20) % 3
feed = {features: data, target: labels}
sess = tf.Session()
sess.run(tf.global_variables_initializer())
for epoch in range(2):
    _, c = sess.run([opt, cost], feed_dict=feed)
print(c)
