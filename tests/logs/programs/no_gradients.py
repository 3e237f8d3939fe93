"""Loss computed after the GradientTape block: every gradient is None and the optimizer refuses them."""
import tensorflow as tf

w = tf.Variable(tf.ones((3, 1)))
optimizer = tf.keras.optimizers.SGD(0.1)
x = tf.ones((2, 3))
with tf.GradientTape() as tape:
    y = tf.matmul(x, w)
loss = tf.reduce_mean(y)
grads = tape.gradient(loss, [w])
optimizer.apply_gradients(zip(grads, [w]))
