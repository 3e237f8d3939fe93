# Q: Input to reshape is a tensor with 3136 values, but the requested shape has 25088 -- batch size hard-coded
# expect: repaired reshape-size
# diff: tf.reshape(images, [-1, 28, 28, 1])
# stdout: ^\(4, 28, 28, 1\)$
import tensorflow as tf

images = tf.random.uniform((4, 784))
batch = tf.reshape(images, [32, 28, 28, 1])
print(batch.shape)
