# Q: Matrix size-incompatible: In[0]: [6,4], In[1]: [3,4] -- weights stored as (out, in)
# expect: repaired matmul
# diff: transpose_b=True
import numpy as np
import tensorflow as tf

X = tf.constant(np.random.rand(6, 4), dtype=tf.float32)
W = tf.Variable(tf.random.normal((3, 4)))
logits = tf.matmul(X, W)
print(tf.reduce_sum(logits).numpy())
