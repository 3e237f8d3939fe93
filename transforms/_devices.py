"""Device strings and the `with tf.device(...)` blocks around code (TFX101-TFX103, TFX203).

- `Device` / `device_of(rule, expr)`: a device string as TensorFlow reads it (`/gpu:0`, `/device:GPU:0`,
  `/job:localhost/replica:0/task:0/device:GPU:1`, any case), also when part of it is computed
  (`'/gpu:%d' % i`, `f'/gpu:{i}'`, `'/gpu:{}'.format(i)`, `'/gpu:' + str(i)`): the computed part is unknown.
- `device_at(rule, node)`: the device the enclosing `with tf.device(...)` blocks put ops created at `node`
  on (nested blocks merge field by field, as in graph mode), within the node's own function.
- `is_guarded_by_device_check(rule, node)`: code that runs only where the device exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from tffix.parents import walk
from tffix.rule import Rule, argument

from ._cst_utils import BARRIERS, code_of, single_assigned_value


# Stands for a computed part of a device string ('/gpu:%d' % i): the field it lands in is unknown.
_HOLE = "\x00"


@dataclass(frozen=True)
class Device:
    """A device specification as written; a field is None when not given and contains _HOLE when computed."""

    job: str | None = None
    replica: str | None = None
    task: str | None = None
    kind: str | None = None  # upper case: "GPU", "TPU", "CPU", "XLA_GPU"
    index: str | None = None
    source: str = ""  # the expression's code, which identifies a computed device within one block

    @property
    def dynamic(self) -> bool:
        return any(_HOLE in (f or "") for f in (self.job, self.replica, self.task, self.kind, self.index))

    @property
    def accelerator(self) -> bool:
        """Pins a GPU/TPU (or other non-CPU) device, which a CPU-only machine does not have."""
        return self.kind is not None and _HOLE not in self.kind and self.kind != "CPU"

    @property
    def local(self) -> bool:
        """In this process: soft placement can only move ops between local devices."""
        return self.job is None or self.job == "localhost"

    @property
    def tag(self) -> str:
        """A short name for identifiers: gpu1, cpu0, or gpu when the index is computed."""
        kind = (self.kind or "device").lower()
        index = self.index if self.index is not None and _HOLE not in self.index and self.index != "*" else ""
        return f"{kind}{index}"

    @property
    def pretty(self) -> str:
        parts = []
        for key, value in (("job", self.job), ("replica", self.replica), ("task", self.task)):
            if value is not None:
                parts.append(f"/{key}:{value.replace(_HOLE, '?')}")
        if self.kind is not None:
            parts.append(f"/device:{self.kind.replace(_HOLE, '?')}:{(self.index or '0').replace(_HOLE, '?')}")
        return "".join(parts) or "''"

    def inside(self, outer: Device | None) -> Device:
        """This device nested in `outer`: fields given here win, as in graph-mode `tf.device` merging."""
        if outer is None:
            return self
        merged = {
            name: getattr(self, name) if getattr(self, name) is not None else getattr(outer, name)
            for name in ("job", "replica", "task", "kind", "index")
        }
        if self.kind is not None and self.index is None:
            merged["index"] = None  # a new device type without an index means "any of that type"
        return Device(**merged, source=" ".join(s for s in (outer.source, self.source) if s))

    def _normal(self, name: str) -> str | None:
        value = getattr(self, name)
        if value is None:
            return {"job": "localhost", "replica": "0", "task": "0", "index": "0"}.get(name)
        return value

    def relation(self, other: Device) -> str:
        """"same", "different" or "unknown" (a computed field that static analysis cannot settle)."""
        if self.kind is None or other.kind is None:
            return "unknown"
        undecided = False
        for name in ("kind", "index", "job", "replica", "task"):
            a, b = self._normal(name), other._normal(name)
            if a is None or b is None or _HOLE in a or _HOLE in b or "*" in (a, b):
                undecided = True
            elif a != b:
                return "different"
        if not undecided:
            return "same"
        return "same" if self.source and self.source == other.source else "unknown"


_DEVICE_PART = re.compile(r"^(?:device:)?(?P<kind>[A-Za-z_\x00]+):(?P<index>[0-9*\x00]+)$", re.IGNORECASE)


_FIELD_PART = re.compile(r"^(?P<key>job|replica|task):(?P<value>[\w\x00-]+)$", re.IGNORECASE)


def parse_device(text: str, source: str = "") -> Device | None:
    """A device string with _HOLE standing for computed parts; None when it is not one TensorFlow accepts."""
    fields: dict[str, str] = {}
    for part in (p for p in text.strip().split("/") if p):
        match = _FIELD_PART.match(part)
        if match:
            fields[match["key"].lower()] = match["value"]
            continue
        match = _DEVICE_PART.match(part)
        if match is None:
            return None
        fields["kind"] = match["kind"].upper()
        fields["index"] = match["index"]
    return Device(**fields, source=source)


def _template(rule: Rule, expr: cst.BaseExpression, depth: int = 0) -> str | None:
    """The text of a string expression, with _HOLE for each computed piece; None when it is not a string."""
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left, right = _template(rule, expr.left, depth), _template(rule, expr.right, depth)
        return None if left is None or right is None else left + right
    if isinstance(expr, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else _HOLE for p in expr.parts)
    if isinstance(expr, cst.BinaryOperation):
        if isinstance(expr.operator, cst.Modulo):  # '/gpu:%d' % i
            left = _template(rule, expr.left, depth)
            return None if left is None else re.sub(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", _HOLE, left)
        if isinstance(expr.operator, cst.Add):  # '/gpu:' + str(i)
            parts = [_template(rule, side, depth) for side in (expr.left, expr.right)]
            if all(p is None for p in parts):
                return None
            return "".join(_HOLE if p is None else p for p in parts)
    if (
        isinstance(expr, cst.Call)
        and m.matches(expr.func, m.Attribute(attr=m.Name("format")))
        and isinstance(expr.func.value, (cst.SimpleString, cst.ConcatenatedString))  # type: ignore[union-attr]
    ):
        text = _template(rule, expr.func.value, depth)  # type: ignore[union-attr]
        return None if text is None else re.sub(r"\{[^{}]*\}", _HOLE, text)
    if isinstance(expr, cst.Name) and depth < 3:  # DEVICE = '/gpu:0' assigned once
        value = single_assigned_value(rule, expr)
        if value is not None:
            return _template(rule, value, depth + 1)
    return None


def device_of(rule: Rule, expr: cst.BaseExpression | None) -> Device | None:
    """The device an argument of `tf.device(...)` names, or None when it cannot be read from the code."""
    if expr is None:
        return None
    source = code_of(expr)
    if rule.is_call_to(expr, "tf.DeviceSpec"):
        kind, index = argument(expr, "device_type"), argument(expr, "device_index")  # type: ignore[arg-type]
        job = argument(expr, "job", 0)  # type: ignore[arg-type]
        kind_text = _template(rule, kind.value) if kind else None
        if kind_text is None:
            return None
        index_text = (
            str(index.value.evaluated_value)
            if index is not None and isinstance(index.value, cst.Integer)
            else (_HOLE if index is not None else None)
        )
        job_text = _template(rule, job.value) if job is not None else None
        return Device(job=job_text, kind=kind_text.upper(), index=index_text, source=source)
    text = _template(rule, expr)
    return None if text is None else parse_device(text, source)


def enclosing_withs(rule: Rule, node: cst.CSTNode) -> Iterator[tuple[cst.With, cst.WithItem]]:
    """The `with` items around `node`, innermost first, up to its function. Only blocks whose body holds
    `node` count (the items of a `with` are not inside it)."""
    child = node
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, BARRIERS):
            return
        if isinstance(ancestor, cst.With) and child is ancestor.body:
            for item in reversed(ancestor.items):
                yield ancestor, item
        child = ancestor


RESET = Device(kind=None, source="None")


def device_item(rule: Rule, item: cst.WithItem) -> Device | None:
    """The device a `with` item sets: a Device, RESET for `tf.device(None)`, None when not `tf.device`."""
    call = item.item
    if not rule.is_call_to(call, "tf.device"):
        return None
    arg = argument(call, "device_name", 0) or argument(call, "device_name_or_function", 0)  # type: ignore[arg-type]
    if arg is None or m.matches(arg.value, m.Name("None")):
        return RESET
    device = device_of(rule, arg.value)
    return device if device is not None else Device(kind=_HOLE, source=code_of(arg.value))


def device_at(rule: Rule, node: cst.CSTNode) -> tuple[Device | None, cst.With | None]:
    """The device ops made at `node` are pinned to by the enclosing device blocks of its function, and the
    innermost such block; (None, None) where no block pins anything."""
    devices: list[Device] = []
    innermost: cst.With | None = None
    for with_node, item in enclosing_withs(rule, node):
        device = device_item(rule, item)
        if device is None:
            continue
        innermost = innermost or with_node
        if device is RESET:
            break
        devices.append(device)
    result: Device | None = None
    for device in reversed(devices):
        result = device.inside(result)
    return result, innermost


def is_guarded_by_device_check(rule: Rule, node: cst.CSTNode) -> bool:
    """`node` runs only where a GPU was found: under `if tf.config.list_physical_devices('GPU'):`,
    `if tf.test.is_gpu_available():`, `if use_gpu:`, `if FLAGS.num_gpus > 0:` and the like; in a loop over the
    device count (`for i in range(FLAGS.num_gpus):`); after an early exit on such a test (`if not use_gpu:
    return`, `self.skipTest(...)`); in a function whose decorator tests for a GPU (`@test_util.run_gpu_only`)."""
    child: cst.CSTNode = node
    for ancestor in rule.ancestors(node):
        test = ancestor.test if isinstance(ancestor, (cst.If, cst.IfExp, cst.While)) else None
        if isinstance(ancestor, cst.For) and child is ancestor.body:
            test = ancestor.iter
        if test is not None and _mentions_device_check(rule, test):
            return True
        if isinstance(ancestor, cst.FunctionDef):
            if any(_mentions_device_check(rule, d.decorator) for d in ancestor.decorators):
                return True
        if isinstance(ancestor, cst.IndentedBlock | cst.Module) and _exits_early_without_device(rule, ancestor, child):
            return True
        child = ancestor
    return False


def _exits_early_without_device(rule: Rule, block: cst.IndentedBlock | cst.Module, statement: cst.CSTNode) -> bool:
    """A statement of `block` before `statement` is `if <device test>: return / raise / continue / skipTest()`."""
    for earlier in block.body:
        if earlier is statement:
            return False
        if isinstance(earlier, cst.If) and _mentions_device_check(rule, earlier.test):
            last = earlier.body.body[-1] if earlier.body.body else None
            inner = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else None
            if isinstance(inner, (cst.Return, cst.Raise, cst.Continue, cst.Break)) or (
                isinstance(inner, cst.Expr) and m.matches(inner.value, m.Call(func=m.Attribute(attr=m.Name("skipTest"))))
            ):
                return True
    return False


_DEVICE_CHECKS = (
    "tf.config.list_physical_devices", "tf.config.experimental.list_physical_devices",
    "tf.config.list_logical_devices", "tf.config.experimental.list_logical_devices",
    "tf.test.is_gpu_available", "tf.test.is_built_with_cuda", "tf.test.gpu_device_name",
)


def _mentions_device_check(rule: Rule, test: cst.BaseExpression) -> bool:
    for node in walk(test):
        if isinstance(node, cst.Call) and rule.is_call_to(node, *_DEVICE_CHECKS):
            return True
        if isinstance(node, cst.Name) and re.search(r"gpu|tpu|cuda|device", node.value, re.IGNORECASE):
            return True
    return False


def pin_text(pin: cst.Call) -> str:
    """The device argument of a `tf.device(...)` call as written, for messages."""
    return code_of(pin.args[0].value) if pin.args else "?"
