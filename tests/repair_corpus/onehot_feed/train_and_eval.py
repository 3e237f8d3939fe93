# Q: training works with my batches but accuracy evaluation fails: Cannot feed value of shape (40,) ... '(?, 5)'
# expect: repaired onehot-feed
# diff: np.eye(5, dtype=np.float32)[test_y]
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
inp = tf.placeholder(tf.float32, [None, 8])
lab = tf.placeholder(tf.float32, [None, 5])
weights = tf.Variable(tf.truncated_normal([8, 5], stddev=0.1))
logits = tf.matmul(inp, weights)
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=lab, logits=logits))
correct = tf.equal(tf.argmax(logits, 1), tf.argmax(lab, 1))
accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
train_x, train_y = np.random.rand(40, 8), np.eye(5)[np.random.randint(0, 5, 40)]
test_x, test_y = np.random.rand(40, 8), np.random.randint(0, 5, 40)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    sess.run(train, feed_dict={inp: train_x, lab: train_y})
    print("accuracy", sess.run(accuracy, feed_dict={inp: test_x, lab: test_y}))
