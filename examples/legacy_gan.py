"""A small legacy (TF1-style) GAN, the way many 2017-2019 repositories wrote it.

Run as it is on a machine without two GPUs, it dies with
    InvalidArgumentError: Cannot assign a device for operation ...
`tffix apply --dry-run examples/` shows the fixes; `tffix verify examples/legacy_gan.py` proves them.
"""
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()

BATCH, NOISE, PIXELS = 16, 32, 64


def generator(z):
    with tf.variable_scope("generator", reuse=tf.AUTO_REUSE):
        w1 = tf.Variable(tf.random_normal([NOISE, 128], stddev=0.02), name="w1")
        b1 = tf.Variable(tf.zeros([128]), name="b1")
        h = tf.nn.relu(tf.matmul(z, w1) + b1)
        w2 = tf.Variable(tf.random_normal([128, PIXELS], stddev=0.02), name="w2")
        return tf.nn.tanh(tf.matmul(h, w2))


def discriminator(x):
    with tf.variable_scope("discriminator", reuse=tf.AUTO_REUSE):
        w1 = tf.Variable(tf.random_normal([PIXELS, 128], stddev=0.02), name="w1")
        h = tf.nn.leaky_relu(tf.matmul(x, w1))
        w2 = tf.Variable(tf.random_normal([128, 1], stddev=0.02), name="w2")
        return tf.matmul(h, w2)


real = tf.placeholder(tf.float32, [None, PIXELS])
noise = tf.placeholder(tf.float32, [None, NOISE])

with tf.device("/gpu:0"):
    fake = generator(noise)
with tf.device("/gpu:1"):
    real_logits = discriminator(real)
    fake_logits = discriminator(fake)

labels = tf.ones([BATCH])
d_loss = tf.reduce_mean(
    tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=real_logits)
) + tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits))

config = tf.ConfigProto()
config.gpu_options.allow_growth = True
with tf.Session(config=config) as sess:
    sess.run(tf.global_variables_initializer())
    feed = {real: np.random.rand(BATCH, PIXELS), noise: np.random.rand(BATCH, NOISE)}
    print("discriminator loss:", sess.run(d_loss, feed))
    print("trainable variables:", len(tf.trainable_variables()))
