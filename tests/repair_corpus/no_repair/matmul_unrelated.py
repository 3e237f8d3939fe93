# Q: Matrix size-incompatible: In[0]: [3,4], In[1]: [5,6] -- no transpose or swap lines these up
# expect: no-repair
import tensorflow as tf

a = tf.ones((3, 4))
b = tf.ones((5, 6))
print(tf.matmul(a, b))
