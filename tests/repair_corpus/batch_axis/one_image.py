# Q: predicting a single 28x28 image after training
# expect: repaired batch-axis
# diff: np.expand_dims(img, 0)
import numpy as np
import tensorflow as tf

images = np.random.rand(30, 28, 28).astype("float32")
labels = np.random.randint(0, 10, 30)
model = tf.keras.Sequential([tf.keras.Input((28, 28)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(images, labels, epochs=1, verbose=0)
img = images[3]
probs = model.predict(img, verbose=0)
print(np.argmax(probs))
