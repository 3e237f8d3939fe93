# Q: Cannot feed value of shape (32,) for Tensor 'Placeholder_1:0', which has shape '(?, 10)'
# expect: repaired onehot-feed
# diff: np.eye(10, dtype=np.float32)[batch_ys]
# stdout: ^loss \d
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
x = tf.placeholder(tf.float32, [None, 64])
y_ = tf.placeholder(tf.float32, [None, 10])
W = tf.Variable(tf.zeros([64, 10]))
b = tf.Variable(tf.zeros([10]))
logits = tf.matmul(x, W) + b
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=logits))
train_step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
images = np.random.rand(96, 64).astype(np.float32)
digits = np.random.randint(0, 10, size=96)
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(3):
        batch_xs, batch_ys = images[i * 32:(i + 1) * 32], digits[i * 32:(i + 1) * 32]
        _, value = sess.run([train_step, loss], feed_dict={x: batch_xs, y_: batch_ys})
    print("loss", value)
