# Q: In[0] and In[1] has different ndims: [4] vs. [4,3]
# expect: repaired matmul
# diff: tf.matmul(tf.expand_dims(v, 0), W)
# stdout: ^\(1, 3\)$
import tensorflow as tf

v = tf.constant([1.0, 2.0, 3.0, 4.0])
W = tf.random.normal((4, 3))
out = tf.matmul(v, W)
print(out.shape)
