"""tf.compat.v1.layers with Keras 3 (CASE eager, graph) and with Keras 2 pinned (CASE legacy_graph:
TF_USE_LEGACY_KERAS=1 before TensorFlow is imported). Prints `CASE OK shape` or `CASE ERR ...`."""
import os
import sys

case = sys.argv[1]
if case.startswith("legacy"):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf

try:
    if case == "eager":
        print(case, "OK", tf.compat.v1.layers.dense(tf.ones((2, 3)), 4).shape)
    else:
        v1 = tf.compat.v1
        v1.disable_v2_behavior()
        x = v1.placeholder(tf.float32, (None, 3))
        h = v1.layers.dense(x, 4)
        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            print(case, "OK", sess.run(h, {x: [[1.0, 2.0, 3.0]]}).shape)
except Exception as e:  # noqa: BLE001
    print(case, "ERR", type(e).__name__, str(e)[:120])
