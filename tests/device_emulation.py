"""Emulated GPUs for executed fixtures on a machine that has none (TFX103 and the tower fixtures of TFX5xx).

A fixture asks for it in expect.toml, and the harness (fixture_cases.py) runs it in the child before the
program:

    [run]
    emulate_gpus = 2

After `emulate_gpus(n)`:
- the CPU is split into n + 1 logical devices, and every session (also one given an explicit ConfigProto,
  whose own `device_count` would otherwise hide them) sees them all, `/device:CPU:0` .. `/device:CPU:{n}`;
- `/gpu:i` in any spelling (`/GPU:1`, `/device:GPU:1`, `/job:localhost/.../device:gpu:1`, a DeviceSpec, a
  device function's result) names `/device:CPU:{i+1}` instead, in graph mode and in eager mode, so that the
  emulated GPUs are distinct from each other and from the program's own `/cpu:0`.

So ops the program pins to two GPUs really run on two distinct devices, and tensors really cross between
them, with TensorFlow's own transfer machinery. What the graph records as an op's device is the CPU it
was mapped to (`/device:CPU:2` for `/gpu:1`).

Each `sess.run` also writes the graph's device crossings to stderr (stdout stays the program's own, so
before/after outputs can be compared), one line per edge between ops pinned to different devices:

    transfer: MatMul MatMul on /device:CPU:1 -> Identity h_to_gpu1 on /device:CPU:2 feeding MatMul MatMul_1 on /device:CPU:2
"""

from __future__ import annotations

import re
import sys

_GPU = re.compile(r"\b(?:XLA_)?GPU:(\d+)", re.IGNORECASE)


def emulate_gpus(count: int) -> None:
    import tensorflow as tf
    from tensorflow.python.client import session
    from tensorflow.python.eager import context
    from tensorflow.python.framework import device_spec, ops

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * (count + 1))

    def on_cpu(spec):
        if isinstance(spec, str):
            return _GPU.sub(lambda match: f"CPU:{int(match.group(1)) + 1}", spec)
        if isinstance(spec, device_spec.DeviceSpecV2):
            if (spec.device_type or "").upper() != "GPU":
                return spec
            return spec.replace(device_type="CPU", device_index=(spec.device_index or 0) + 1)
        if callable(spec):
            return lambda op: on_cpu(spec(op))
        return spec

    graph_device = ops.Graph.device
    ops.Graph.device = lambda self, name: graph_device(self, on_cpu(name))
    eager_device = context.Context.device
    context.Context.device = lambda self, name: eager_device(self, on_cpu(name))

    session_init = session.BaseSession.__init__

    def init(self, target="", graph=None, config=None):
        if config is not None and config.device_count.get("CPU", 1) <= count:
            widened = type(config)()
            widened.CopyFrom(config)
            widened.device_count["CPU"] = count + 1
            config = widened
        session_init(self, target, graph, config)

    session.BaseSession.__init__ = init

    session_run = session.BaseSession.run
    reported: set = set()

    def run(self, *args, **kwargs):
        for line in _transfers(self.graph):
            if line not in reported:
                reported.add(line)
                print(line, file=sys.stderr)
        return session_run(self, *args, **kwargs)

    session.BaseSession.run = run


def _transfers(graph) -> list[str]:
    lines = []
    for op in graph.get_operations():
        for tensor in op.inputs:
            source = tensor.op
            if source.device and op.device and _where(source.device) != _where(op.device):
                line = f"transfer: {source.type} {source.name} on {source.device} -> {op.type} {op.name} on {op.device}"
                if op.type == "Identity":
                    consumers = [c for out in op.outputs for c in out.consumers()]
                    line += " feeding " + ", ".join(f"{c.type} {c.name} on {c.device}" for c in consumers)
                lines.append(line)
    return lines


def _where(device: str) -> str:
    """'CPU:2' for '/device:CPU:2' and '/job:localhost/replica:0/task:0/device:CPU:2' alike (one process)."""
    return device.rsplit("device:", 1)[-1].upper()
