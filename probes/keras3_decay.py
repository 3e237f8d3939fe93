"""What `decay=` does on a Keras 3 optimizer (CASE ignored), and that InverseTimeDecay(lr, 1, decay) is Keras 2's
decay (CASE schedule): three SGD steps of gradient 1 on a variable at 0, learning rate 1, decay 0.5.
No decay gives -3.0; Keras 2's lr / (1 + decay * iterations) gives -(1 + 1/1.5 + 1/2) = -2.1667.
CASE legacy: the same with Keras 2 pinned (TF_USE_LEGACY_KERAS=1) and its legacy SGD; CASE legacy_new: the
pinned non-legacy SGD."""
import os
import sys
import warnings

case = sys.argv[1]
if case.startswith("legacy"):
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf

keras = tf.keras
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        if case == "ignored":
            opt = keras.optimizers.SGD(learning_rate=1.0, decay=0.5)
        elif case == "schedule":
            opt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(1.0, 1, 0.5))
        elif case == "legacy":
            opt = keras.optimizers.legacy.SGD(learning_rate=1.0, decay=0.5)
        else:
            opt = keras.optimizers.SGD(learning_rate=1.0, decay=0.5)
    except Exception as e:  # noqa: BLE001
        print(case, "ERR", type(e).__name__, str(e)[:120])
        raise SystemExit(0)
v = tf.Variable(0.0)
for _ in range(3):
    opt.apply_gradients([(tf.constant(1.0), v)])
print(case, "OK", round(float(v.numpy()), 4), "|", "; ".join(str(w.message)[:80] for w in caught))
