# Données d'entraînement 😀: a TensorFlow 1 script on TensorFlow 2.
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()
poids = {"entrée": tf.random.normal([784, 256]), "sortie": tf.random_normal([256, 10])}
