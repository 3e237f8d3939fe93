"""The measured facts the rules rest on (docs/tensorflow-behaviour.md), re-measured on every run.

Each row runs one probe from `probes/` under the installed TensorFlow (warm runner, a fresh process per
probe) and checks the observable the facts file states. When a TensorFlow or Keras upgrade changes one of
these behaviours, this test names the fact, and the rules that rely on it must be revisited.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PROBES = Path(__file__).resolve().parent.parent / "probes"

# (probe, argv, exception the program ends with or None, regexes its stdout must contain)
FACTS = [
    # Device placement
    ("device_missing_gpu_graph.py", (), "InvalidArgumentError", []),
    ("device_colocated_initializer.py", (), "InvalidArgumentError", []),
    ("device_soft_placement_session.py", (), None, [r"\(1, 1\)"]),
    ("device_cross_two_cpus.py", (), None, [r"\(1, 1\)"]),  # cross-device use alone is not an error
    ("get_variable_of_tf_variable.py", (), "ValueError", []),
    ("tpu_setup.py", ("gpu1_eager",), None, [r"gpu1_eager OK .*CPU:0"]),
    ("tpu_setup.py", ("gpu1_eager_nosoft",), None, [r"ERR InvalidArgumentError Could not satisfy device"]),
    # TPU set-up
    ("tpu_setup.py", ("colab_env",), None, [r"ERR KeyError 'COLAB_TPU_ADDR'"]),
    ("tpu_setup.py", ("resolver_default",), None, [r"ERR ValueError Please provide a TPU Name"]),
    ("tpu_setup.py", ("resolver_empty",), None, [r"ERR ValueError Please provide a TPU Name"]),
    ("tpu_setup.py", ("strategy_no_init",), None, [r"ERR IndexError"]),
    ("tpu_setup.py", ("idiom",), None, [r"idiom OK _DefaultDistributionStrategy 1"]),
    ("tpu_setup.py", ("tpu_device",), None, [r"tpu_device OK .*CPU:0"]),  # silently on the CPU
    ("tpu_local_and_soft.py", ("local_init",), None, [r"ERR NotFoundError TPUs not found"]),
    ("tpu_local_and_soft.py", ("v1_session_soft",), None, [r"v1_session_soft OK"]),
    # Losses, shapes, dtypes
    ("losses_shapes.py", ("dense2_bce",), None, [r"ERR ValueError .*must have the same shape"]),
    ("losses_shapes.py", ("target_shape",), None, [r"target_shape OK"]),  # Keras aligns (32,) with (32,1)
    ("losses_shapes.py", ("target_shape_mse",), None, [r"target_shape_mse OK"]),
    ("losses_shapes.py", ("raw_sce",), None, [r"ERR ValueError .*must have the same shape"]),
    ("losses_shapes.py", ("raw_sce2",), None, [r"ERR ValueError .*must have the same shape"]),
    ("losses_shapes.py", ("int_dense",), None, [r"int_dense OK"]),  # Keras casts an int input to Dense
    ("losses_shapes.py", ("matmul",), None, [r"matmul OK \(2, 3\)"]),
    ("losses_shapes.py", ("matmul_bad",), None, [r"ERR InvalidArgumentError .*Matrix size-incompatible"]),
    ("losses_shapes.py", ("onehot",), None, [r"onehot OK"]),  # silent all-zero row
    ("losses_shapes.py", ("sparse_oob",), None, [r"ERR InvalidArgumentError .*outside the valid range"]),
    ("losses_shapes.py", ("sparse_oob_nn",), None, [r"ERR InvalidArgumentError .*outside the valid range"]),
    ("dtype_cases.py", ("matmul_mixed",), None, [r"ERR InvalidArgumentError"]),
    ("dtype_cases.py", ("add_mixed",), None, [r"ERR InvalidArgumentError"]),
    ("dtype_cases.py", ("sce_int_labels",), None, [r"ERR InvalidArgumentError"]),
    ("dtype_cases.py", ("softmax_ce_shape",), None, [r"ERR InvalidArgumentError .*broadcastable"]),
    # GradientTape: the value printed is `tape.gradient(...) is None`
    ("tape_cases.py", ("assign_in_tape",), None, [r"assign_in_tape False"]),
    ("tape_cases.py", ("loss_outside",), None, [r"loss_outside True"]),
    ("tape_cases.py", ("numpy_in_tape",), None, [r"numpy_in_tape True"]),
    ("tape_cases.py", ("int_cast_tape",), None, [r"int_cast_tape True"]),
    ("tape_cases.py", ("tensor_not_watched",), None, [r"tensor_not_watched True"]),
    # Keras 3 and NumPy 2
    ("keras3_variable_tracked.py", (), None, [r"^1 \(3, 1\)"]),
    ("keras3_removals.py", (), None, [
        r"FAIL keras.layers.merge AttributeError",
        r"FAIL predict_classes AttributeError",
        r"FAIL tf.keras.optimizers.SGD\(lr=\) ValueError Argument\(s\) not recognized",
        r"FAIL fit\(x,y,use_multiprocessing=True\) TypeError",
        r"FAIL Dense\(units=2.0\) ValueError",
    ]),
    # Keras 2 spellings on Keras 3 and pinned Keras 2 (the 6xx rules); `legacy`: TF_USE_LEGACY_KERAS=1, tf-keras
    ("keras3_legacy_args.py", ("adam_lr",), None, [r"adam_lr ERR ValueError Argument\(s\) not recognized: \{'lr'"]),
    ("keras3_legacy_args.py", ("adam_lr", "legacy"), None, [r"adam_lr OK 0\.001$"]),  # lr silently ignored
    ("keras3_legacy_args.py", ("fit_nb_epoch",), None, [r"fit_nb_epoch ERR TypeError .*'nb_epoch'"]),
    ("keras3_legacy_args.py", ("fit_nb_epoch", "legacy"), None, [r"fit_nb_epoch ERR TypeError .*'nb_epoch'"]),
    ("keras3_legacy_args.py", ("fit_generator_attr",), None, [r"ERR AttributeError .*'fit_generator'"]),
    ("keras3_legacy_args.py", ("fit_generator", "legacy"), None, [r"fit_generator OK 1$"]),
    ("keras3_legacy_args.py", ("fit_with_generator",), None, [r"fit_with_generator OK 2$"]),
    ("keras3_legacy_args.py", ("predict_bare_generator",), None, [r"ERR ValueError .*must return a tuple"]),
    ("keras3_legacy_args.py", ("predict_bare_generator", "legacy"), None, [r"predict_bare_generator OK \(8, 1\)"]),
    ("keras3_legacy_args.py", ("fit_workers",), None, [r"ERR TypeError .*unexpected keyword argument 'workers'"]),
    ("keras3_legacy_args.py", ("fit_workers", "legacy"), None, [r"fit_workers OK"]),
    ("keras3_legacy_args.py", ("evaluate_workers",), None, [r"ERR ValueError Arguments not recognized: \{'workers'"]),
    ("keras3_legacy_args.py", ("predict_classes", "legacy"), None, [r"ERR AttributeError .*'predict_classes'"]),
    ("keras3_legacy_args.py", ("predict_proba",), None, [r"ERR AttributeError .*'predict_proba'"]),
    ("keras3_legacy_args.py", ("embedding_float",), None, [r"ERR ValueError .*input_dim. must be a positive integer"]),
    ("keras3_legacy_args.py", ("conv2d_float",), None, [r"conv2d_float OK Conv2D"]),
    ("keras3_legacy_args.py", ("dense_float_units", "legacy"), None, [r"dense_float_units OK 2$"]),
    ("keras3_legacy_args.py", ("get_session",), None, [r"ERR AttributeError"]),
    ("keras3_decay.py", ("ignored",), None, [r"ignored OK -3\.0 \| .*decay. is no longer supported"]),
    ("keras3_decay.py", ("schedule",), None, [r"schedule OK -2\.1667"]),
    ("keras3_decay.py", ("legacy",), None, [r"legacy OK -2\.1667"]),
    ("keras3_decay.py", ("legacy_new",), None, [r"legacy_new ERR ValueError decay is deprecated"]),
    ("keras3_layer_variable.py", ("tf_variable",), None, [r"tf_variable tracked=0 changed=False"]),
    ("keras3_layer_variable.py", ("keras_variable",), None, [r"keras_variable tracked=1 changed=True"]),
    ("keras3_layer_variable.py", ("legacy",), None, [r"legacy tracked=1 changed=True"]),
    ("keras3_compat_layers.py", ("eager",), None, [r"eager ERR AttributeError .*not available with Keras 3"]),
    ("keras3_compat_layers.py", ("graph",), None, [r"graph ERR AttributeError .*not available with Keras 3"]),
    ("keras3_compat_layers.py", ("legacy_graph",), None, [r"legacy_graph OK \(1, 4\)"]),
    ("numpy2_removed_names.py", ("aliases",), None, [
        r"^gone float$", r"^gone int$", r"^gone object$", r"^gone str$", r"^gone complex$", r"^gone unicode$",
        r"^kept bool$", r"^kept long$", r"np.bool is numpy.bool_: True np.long is int64: True",
    ]),
    ("numpy2_removed_names.py", ("numpy2",), None, [r"^gone float_$"] + [
        r"^gone (?:%s)$" % n for n in ("NaN", "Inf", "NINF", "product", "string_", "bool8", "trapz", "in1d")
    ]),
    ("numpy2_removed_names.py", ("replacements",), None, [
        r"^kept (?:%s)$" % n for n in ("float64", "nan", "inf", "prod", "bytes_", "bool_", "trapezoid", "isin")
    ]),
]


def test_every_probe_is_used():
    used = {probe for probe, *_ in FACTS}
    unused = sorted(p.name for p in PROBES.glob("*.py") if p.name not in used | {"import_time.py"})
    assert not unused, f"probes whose fact nothing checks: {unused}"


@pytest.mark.execution
@pytest.mark.parametrize(("probe", "args", "exception", "stdout"), FACTS,
                         ids=[f"{p}:{' '.join(a) or '-'}" for p, a, *_ in FACTS])
def test_fact_still_holds(probe, args, exception, stdout, warm_runner):
    import re

    outcome = warm_runner.run(PROBES / probe, args, timeout=120)
    if exception is None:
        assert outcome.ok, f"{probe} {args}: {outcome.summary()}\n{outcome.stderr[-2000:]}"
    else:
        assert outcome.raised(exception), f"{probe} {args}: expected {exception}, got {outcome.summary()}"
    for pattern in stdout:
        assert re.search(pattern, outcome.stdout, re.MULTILINE), f"{probe} {args}: no {pattern!r} in\n{outcome.stdout}"
