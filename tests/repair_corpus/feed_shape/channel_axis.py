# Q: grayscale batch (N, 8, 8) fed to a conv placeholder (?, 8, 8, 1)
# expect: repaired feed-shape
# diff: np.reshape(imgs, (-1, 8, 8, 1))
# stdout: ^\(6, 8, 8, 2\)$
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()
images = tf.placeholder(tf.float32, [None, 8, 8, 1])
kernel = tf.Variable(tf.ones([3, 3, 1, 2]))
conv = tf.nn.conv2d(images, kernel, strides=[1, 1, 1, 1], padding="SAME")
imgs = np.random.rand(6, 8, 8)
feed = {images: imgs}
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    print(sess.run(conv, feed_dict=feed).shape)
