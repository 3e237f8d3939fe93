# Q: predict on a tensor row from tf.constant, no numpy imported
# expect: repaired batch-axis
# diff: np.expand_dims(row, 0)
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(1)])
row = tf.constant([1.0, 2.0, 3.0])
print(model.predict(row, verbose=0))
