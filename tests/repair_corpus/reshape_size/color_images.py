# Q: flattening 32x32 RGB images with the MNIST size: requested shape requires a multiple of 784
# expect: repaired reshape-size
# diff: [-1, 3072]
# stdout: ^\(10, 3072\)$
import tensorflow as tf

pics = tf.random.uniform((10, 32, 32, 3))
flat = tf.reshape(pics, [-1, 784])
print(flat.shape)
