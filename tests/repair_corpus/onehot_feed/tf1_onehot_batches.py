# Q: TF1 next_batch helper returns class ids; placeholder expects one-hot
# expect: repaired onehot-feed
# diff: np.eye(6, dtype=np.float32)
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

def next_batch(n):
    return np.random.rand(n, 12), np.random.randint(0, 6, n)

x = tf.placeholder(tf.float32, [None, 12])
y = tf.placeholder(tf.float32, [None, 6])
W = tf.Variable(tf.zeros([12, 6]))
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(x, W)))
train = tf.train.AdamOptimizer(0.01).minimize(loss)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(3):
        bx, by = next_batch(16)
        _, l = sess.run([train, loss], feed_dict={x: bx, y: by})
    print(l)
