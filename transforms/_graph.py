"""Shared analysis for the device-placement and TF1 variable rules (TFX101-TFX103, TFX501-TFX502).

What a rule of this family asks about a module, answered from its code alone:

- `GraphFacts.of(rule, module)`: is this TF1 graph code (the only code where device pins fail and where
  variable scopes share variables), which alias spells TF1 APIs here (`tf`, `tf.compat.v1`, ...), which
  `tf.device(...)` calls pin an accelerator, which sessions run the graph, and whether soft placement was
  switched on or off with `tf.config.set_soft_device_placement`.
- `Device` / `device_of(rule, expr)`: a device string as TensorFlow reads it (`/gpu:0`, `/device:GPU:0`,
  `/job:localhost/replica:0/task:0/device:GPU:1`, any case), also when part of it is computed
  (`'/gpu:%d' % i`, `f'/gpu:{i}'`, `'/gpu:{}'.format(i)`, `'/gpu:' + str(i)`): the computed part is unknown.
- `device_at(rule, node)`: the device the enclosing `with tf.device(...)` blocks put ops created at `node`
  on (nested blocks merge field by field, as in graph mode), within the node's own function.
- small builders used by the fixes: inserting statements before or after one (keywords are added with
  `_dtypes.with_keyword`, shared with the dtype rules).

The TF1 variable helpers (variable scopes, `tf.Variable` to `tf.get_variable` conversion) are at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.parents import walk
from tffix.rule import FileAnalysis, Rule, argument

# Stands for a computed part of a device string ('/gpu:%d' % i): the field it lands in is unknown.
_HOLE = "\x00"

# --------------------------------------------------------------------------------------------------------------
# Device strings


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


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=()).code_for_node(node)


def fresh_name(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`... whichever is not in `taken` (which then holds it)."""
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    taken.add(candidate)
    return candidate


def single_assigned_value(rule: Rule, name: cst.Name) -> cst.BaseExpression | None:
    """The value of `name` when its scope assigns it exactly once, by a plain `name = value`."""
    try:
        scope = rule.analysis.scope(name)
    except KeyError:
        return None
    if scope is None:
        return None
    assignments = list(scope.assignments[name.value])
    if len(assignments) != 1:
        return None
    node = getattr(assignments[0], "node", None)
    parent = rule.parent(node) if node is not None else None
    if isinstance(parent, cst.AssignTarget):
        statement = rule.parent(parent)
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            return statement.value
    return None


# --------------------------------------------------------------------------------------------------------------
# Where a node sits

_BARRIERS = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
_LOOPS = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def enclosing_function(rule: Rule, node: cst.CSTNode) -> cst.FunctionDef | None:
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return None
    return None


def enclosing_withs(rule: Rule, node: cst.CSTNode) -> Iterator[tuple[cst.With, cst.WithItem]]:
    """The `with` items around `node`, innermost first, up to its function. Only blocks whose body holds
    `node` count (the items of a `with` are not inside it)."""
    child = node
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, _BARRIERS):
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


def in_loop_below(rule: Rule, node: cst.CSTNode, top: cst.CSTNode) -> bool:
    """`node` sits in a loop or comprehension that is itself inside `top`."""
    for ancestor in rule.ancestors(node):
        if ancestor is top:
            return False
        if isinstance(ancestor, _LOOPS):
            return True
    return False


def statement_of(rule: Rule, node: cst.CSTNode) -> cst.BaseStatement | None:
    """The statement, directly in a block, that holds `node` (where new statements can go before it)."""
    for ancestor in (node, *rule.ancestors(node)):
        if isinstance(ancestor, (cst.Lambda,)):
            return None
        if isinstance(ancestor, cst.BaseStatement) and isinstance(rule.parent(ancestor), (cst.IndentedBlock, cst.Module)):
            return ancestor
    return None


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


def line_of(rule: Rule, node: cst.CSTNode) -> int:
    return rule.position(node).start.line


# --------------------------------------------------------------------------------------------------------------
# The module as a whole

SESSIONS = ("tf.Session", "tf.InteractiveSession", "tf.train.MonitoredTrainingSession")
# Sessions made inside these: their ConfigProto is passed through a session creator or a `config=`.
MONITORED_SESSIONS = ("tf.train.MonitoredSession", "tf.train.SingularMonitoredSession")
HIDDEN_SESSIONS = (*MONITORED_SESSIONS, "tf.train.Supervisor")
# Only graph code uses these: sessions, placeholders, initializer ops, building into a tf.Graph.
_GRAPH_APIS = frozenset({
    "tf.disable_v2_behavior", "tf.disable_eager_execution", "tf.placeholder", "tf.global_variables_initializer",
    "tf.initialize_all_variables", "tf.Graph", *SESSIONS, *HIDDEN_SESSIONS,
})
# TF1-style, but they also run eagerly: they say "graph code" only where nothing says "eager code".
_TF1_STYLE_APIS = frozenset({"tf.get_variable", "tf.variable_scope"})
_EAGER_APIS = frozenset({"tf.GradientTape", "tf.function", "tf.enable_eager_execution", "tf.enable_v2_behavior"})
# What makes `GraphFacts.tf1_graph` true, and variable sharing (`reuses_variables`): a rule that reports only in
# TF1 graph code takes these as anchors too, so that the code saying "graph" is never sliced away. (Code saying
# "eager" may be: without it a slice looks more like graph code, which only makes it report more.)
GRAPH_EVIDENCE = leaves(*_GRAPH_APIS, *_TF1_STYLE_APIS, "tf.AUTO_REUSE", "tf.get_variable_scope")


@dataclass
class GraphFacts:
    module: cst.Module
    tf1_graph: bool = False
    v1_prefix: str | None = None  # how this module spells the TF1 namespace: "tf", "tf.compat.v1", ...
    pins: list[tuple[cst.Call, Device]] = field(default_factory=list)  # tf.device(...) pinning GPU/TPU
    sessions: list[cst.Call] = field(default_factory=list)
    monitored: list[cst.Call] = field(default_factory=list)  # MonitoredSession / SingularMonitoredSession
    soft_on: list[cst.Call] = field(default_factory=list)  # tf.config.set_soft_device_placement(True)
    soft_off: list[cst.Call] = field(default_factory=list)  # ... (False)
    graph_switches: list[cst.Call] = field(default_factory=list)  # disable_v2_behavior() / disable_eager...
    tf_imports: list[cst.CSTNode] = field(default_factory=list)  # module-level statements importing TF

    @classmethod
    def of(cls, rule: Rule | FileAnalysis, module: cst.Module) -> GraphFacts:
        """The facts of `module` (the module `rule` checks), computed once per check for all the rules that ask."""
        return rule.analysis.fact(cls, lambda: cls._collect(rule, module))

    @classmethod
    def _collect(cls, rule: Rule, module: cst.Module) -> GraphFacts:
        facts = cls(module)
        v1_alias, tf_alias, spells_compat = None, None, False
        graph, tf1_style, eager = False, False, False
        for node in ModuleIndex.of(rule).nodes:
            if isinstance(node, cst.Decorator):
                eager = eager or bool(rule.api_names(node.decorator) & _EAGER_APIS)
            elif isinstance(node, cst.Call):
                names = rule.api_names(node.func)
                graph = graph or bool(names & _GRAPH_APIS)
                tf1_style = tf1_style or bool(names & _TF1_STYLE_APIS)
                eager = eager or bool(names & _EAGER_APIS) or m.matches(node.func, m.Attribute(attr=m.Name("numpy")))
                if "tf.device" in names and node.args:
                    device = device_of(rule, node.args[0].value)
                    if device is not None and device.accelerator and device.local:
                        if not is_guarded_by_device_check(rule, node):
                            facts.pins.append((node, device))
                if names & set(SESSIONS):
                    facts.sessions.append(node)
                elif names & set(MONITORED_SESSIONS):
                    facts.monitored.append(node)
                if names & {"tf.disable_v2_behavior", "tf.disable_eager_execution"}:
                    facts.graph_switches.append(node)
                if "tf.config.set_soft_device_placement" in names and node.args:
                    value = node.args[0].value
                    if m.matches(value, m.Name("True")):
                        facts.soft_on.append(node)
                    elif m.matches(value, m.Name("False")):
                        facts.soft_off.append(node)
            elif isinstance(node, cst.Attribute) and not spells_compat:
                spells_compat = m.matches(node, m.Attribute(value=m.Attribute(attr=m.Name("compat")), attr=m.Name("v1")))
            elif isinstance(node, cst.Import):
                for alias in node.names:
                    dotted = code_of(alias.name)
                    bound = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                    if dotted == "tensorflow.compat.v1" and bound:
                        v1_alias = v1_alias or bound
                    elif dotted == "tensorflow":
                        tf_alias = tf_alias or bound or "tensorflow"
                    if dotted.startswith("tensorflow") and isinstance(rule.parent(rule.parent(node)), cst.Module):
                        facts.tf_imports.append(rule.parent(node))
            elif isinstance(node, cst.ImportFrom) and node.module is not None and not isinstance(node.names, cst.ImportStar):
                source_module = code_of(node.module)
                for alias in node.names:
                    if source_module == "tensorflow.compat" and alias.name.value == "v1":  # type: ignore[union-attr]
                        v1_alias = v1_alias or (alias.asname.name.value if alias.asname else "v1")  # type: ignore[union-attr]
                if source_module.startswith("tensorflow") and isinstance(rule.parent(rule.parent(node)), cst.Module):
                    facts.tf_imports.append(rule.parent(node))
        if v1_alias is not None:
            facts.v1_prefix = v1_alias  # `import tensorflow.compat.v1 as tf`: TF1-style code
            tf1_style = True
        elif tf_alias is not None:
            facts.v1_prefix = f"{tf_alias}.compat.v1" if spells_compat else tf_alias
        facts.tf1_graph = bool(facts.graph_switches) or graph or (tf1_style and not eager)
        return facts

    def parse_expression(self, code: str) -> cst.BaseExpression:
        return cst.parse_expression(code, config=self.module.config_for_parsing)

    def parse_statement(self, code: str) -> cst.BaseStatement:
        return cst.parse_statement(code, config=self.module.config_for_parsing)

    def string(self, text: str) -> str:
        """`text` as a string literal in the quote style this module uses most."""
        quotes = [n.quote for n in m.findall(self.module, m.SimpleString()) if len(n.quote) == 1]  # type: ignore[union-attr]
        quote = "'" if quotes.count("'") > quotes.count('"') else '"'
        return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote



# --------------------------------------------------------------------------------------------------------------
# Building fixes


def insert_before(statements: list[cst.BaseStatement]):
    """A replacement for a statement that puts `statements` before it; comments above it stay on top."""

    def build(updated: cst.CSTNode) -> cst.FlattenSentinel:
        leading = getattr(updated, "leading_lines", ())
        first = statements[0].with_changes(leading_lines=leading)
        return cst.FlattenSentinel([first, *statements[1:], updated.with_changes(leading_lines=())])

    return build


def insert_after(statements: list[cst.BaseStatement]):
    def build(updated: cst.CSTNode) -> cst.FlattenSentinel:
        return cst.FlattenSentinel([updated, *statements])

    return build


# --------------------------------------------------------------------------------------------------------------
# TF1 variables: variable scopes, sharing, and `tf.Variable` -> `tf.get_variable`

_KERAS_OR_MODULE = ("tf.Module", "keras.layers.Layer", "keras.Layer", "keras.Model", "keras.Sequential")


def scope_call(rule: Rule, item: cst.WithItem) -> cst.Call | None:
    """The `tf.variable_scope(...)` call of a `with` item, if it is one."""
    return item.item if rule.is_call_to(item.item, "tf.variable_scope") else None  # type: ignore[return-value]


def _is_false_or_none(node: cst.BaseExpression) -> bool:
    return m.matches(node, m.Name("False") | m.Name("None"))


def reuses_variables(rule: Rule, module: cst.Module) -> bool:
    """Does the module ask for variable sharing anywhere: `reuse=...` (not False/None), `tf.AUTO_REUSE`,
    `scope.reuse_variables()`?"""
    for node in ModuleIndex.of(rule).nodes:
        if isinstance(node, cst.Call):
            if rule.is_call_to(node, "tf.variable_scope"):
                reuse = argument(node, "reuse", 2)
                if reuse is not None and not _is_false_or_none(reuse.value):
                    return True
            if m.matches(node.func, m.Attribute(attr=m.Name("reuse_variables"))):
                return True
        elif isinstance(node, (cst.Attribute, cst.Name)) and rule.is_api(node, "tf.AUTO_REUSE"):
            return True
    return False


def in_keras_or_module_class(rule: Rule, node: cst.CSTNode) -> bool:
    """Inside a class deriving from tf.Module or a Keras layer/model: TF2 object-oriented code."""
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.ClassDef) and any(
            any(n == api or n.startswith("keras.") for api in _KERAS_OR_MODULE for n in rule.api_names(base.value))
            for base in ancestor.bases
        ):
            return True
    return False


def scope_region(rule: Rule, node: cst.CSTNode) -> cst.CSTNode | None:
    """The innermost `with tf.variable_scope(...)` around `node` in its function, else that function (or the
    module); None inside a lambda or class body."""
    child = node
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, cst.With) and child is ancestor.body and any(scope_call(rule, i) for i in ancestor.items):
            return ancestor
        if isinstance(ancestor, (cst.FunctionDef, cst.Module)):
            return ancestor
        if isinstance(ancestor, (cst.Lambda, cst.ClassDef)):
            return None
        child = ancestor
    return None


@dataclass
class ModuleIndex:
    """The nodes, calls and functions of a module, found in one walk shared by the graph and variable rules:
    they ask for the calls of each function (a search of the whole tree per function made them quadratic), and
    `GraphFacts` and `reuses_variables` go through every node."""

    module: cst.Module
    nodes: list[cst.CSTNode] = field(default_factory=list)  # every node, in source order
    calls: list[cst.Call] = field(default_factory=list)
    functions: list[cst.FunctionDef] = field(default_factory=list)
    by_callee: dict[str, list[cst.Call]] = field(default_factory=dict)  # `name(...)` and `self.name(...)`
    scoped: set[cst.FunctionDef] | None = None  # `scoped_functions`, once worked out

    @classmethod
    def of(cls, owner: Rule | FileAnalysis) -> ModuleIndex:
        """The index of the module `owner` (a rule, or the analysis itself) checks, made once per check."""
        return owner.analysis.fact(cls, lambda: cls._build(owner.analysis.module))

    @classmethod
    def _build(cls, module: cst.Module) -> ModuleIndex:
        index = cls(module)
        for node in walk(module):
            index.nodes.append(node)
            if isinstance(node, cst.Call):
                index.calls.append(node)
                func = node.func
                if isinstance(func, cst.Name):
                    index.by_callee.setdefault(func.value, []).append(node)
                elif m.matches(func, m.Attribute(value=m.Name("self"))):
                    index.by_callee.setdefault(func.attr.value, []).append(node)  # type: ignore[attr-defined]
            elif isinstance(node, cst.FunctionDef):
                index.functions.append(node)
        return index



def calls_of(rule: Rule | FileAnalysis, function: cst.FunctionDef) -> list[cst.Call]:
    """The calls of `function` in the module: `name(...)` or `self.name(...)`, in source order."""
    return ModuleIndex.of(rule).by_callee.get(function.name.value, [])


def runs_from(rule: Rule, module: cst.Module, caller: cst.FunctionDef | None, code: cst.CSTNode, depth: int = 6) -> bool:
    """Code at `code` runs when `caller` (None: the module's top level) runs, or before: it is top-level code, or
    in `caller` itself, or in a function of this module that `caller` calls, directly or through others."""
    frontier: list[cst.FunctionDef | None] = [enclosing_function(rule, code)]
    if frontier[0] is None:
        return True  # top-level code runs on import, before any function of the module
    seen: set[int] = set()
    for _ in range(depth):
        if any(function is caller for function in frontier):
            return True
        callers: list[cst.FunctionDef | None] = []
        for function in frontier:
            if function is None or id(function) in seen:
                continue
            seen.add(id(function))
            callers += [enclosing_function(rule, call) for call in calls_of(rule, function)]
        if not callers:
            return False
        frontier = callers
    return False


def scoped_functions(rule: Rule, module: cst.Module) -> set[cst.FunctionDef]:
    """Functions of the module that run under a variable scope: called inside a `with tf.variable_scope`
    block, or from such a function (by name, or as `self.name`)."""
    index = ModuleIndex.of(rule)
    if index.scoped is None:
        index.scoped = _scoped_functions(rule, module, index.functions)
    return index.scoped


def _scoped_functions(rule: Rule, module: cst.Module, functions: list[cst.FunctionDef]) -> set[cst.FunctionDef]:
    scoped: set[cst.FunctionDef] = set()
    changed = True
    while changed:
        changed = False
        for function in functions:
            if function in scoped:
                continue
            for call in calls_of(rule, function):
                region = scope_region(rule, call)
                if isinstance(region, cst.With) or (isinstance(region, cst.FunctionDef) and region in scoped):
                    scoped.add(function)
                    changed = True
                    break
    return scoped


def under_variable_scope(rule: Rule, node: cst.CSTNode, scoped: set[cst.FunctionDef]) -> bool:
    region = scope_region(rule, node)
    return isinstance(region, cst.With) or (isinstance(region, cst.FunctionDef) and region in scoped)


def assigned_name(rule: Rule, value: cst.CSTNode) -> str | None:
    """The name a value is stored under: `w = v`, `self.w = v`, `weights['h1'] = v`, `{'h1': v}`."""
    parent = rule.parent(value)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        if isinstance(target, cst.Name):
            return target.value
        if isinstance(target, cst.Attribute):
            return target.attr.value
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            index = target.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                return index.value.evaluated_value  # type: ignore[return-value]
    if isinstance(parent, cst.DictElement) and isinstance(parent.key, cst.SimpleString):
        return parent.key.evaluated_value  # type: ignore[return-value]
    return None


def variable_name(rule: Rule, call: cst.Call) -> tuple[str | None, cst.BaseExpression | None]:
    """A variable's name as text (None when computed) and its `name=` expression (None when derived from the
    assignment target)."""
    name = argument(call, "name")
    if name is not None:
        text = name.value.evaluated_value if isinstance(name.value, cst.SimpleString) else None
        return text, name.value  # type: ignore[return-value]
    return assigned_name(rule, call), None


_RANDOM = {  # op -> (initializer, the op's (parameter, position) pairs kept by the initializer)
    "tf.random.normal": ("random_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random_normal": ("random_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random.truncated_normal": ("truncated_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.truncated_normal": ("truncated_normal_initializer", (("mean", 1), ("stddev", 2), ("seed", 4))),
    "tf.random.uniform": ("random_uniform_initializer", (("minval", 1), ("maxval", 2), ("seed", 4))),
    "tf.random_uniform": ("random_uniform_initializer", (("minval", 1), ("maxval", 2), ("seed", 4))),
}
_KEPT_VARIABLE_ARGS = ("trainable", "collections", "validate_shape", "caching_device", "constraint",
                       "synchronization", "aggregation", "use_resource")
_NUMPY_DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


def _literal_dims(node: cst.BaseExpression) -> list[int] | None:
    """The shape of a nested literal list/tuple of numbers ([] for a number)."""
    if isinstance(node, (cst.Integer, cst.Float)) or (
        isinstance(node, cst.UnaryOperation) and isinstance(node.expression, (cst.Integer, cst.Float))
    ):
        return []
    if isinstance(node, (cst.List, cst.Tuple)) and node.elements:
        inner = [_literal_dims(e.value) for e in node.elements]
        if any(i is None or i != inner[0] for i in inner):
            return None
        return [len(node.elements), *inner[0]]  # type: ignore[misc]
    return None


def _literal_kind(node: cst.BaseExpression) -> str | None:
    """'float', 'int' or 'bool' for literal numbers and lists of them."""
    kinds = set()
    for found in walk(node):
        if isinstance(found, cst.Float):
            kinds.add("float")
        elif isinstance(found, cst.Integer):
            kinds.add("int")
        elif m.matches(found, m.Name("True") | m.Name("False")):
            kinds.add("bool")
    if "float" in kinds:
        return "float"
    return kinds.pop() if len(kinds) == 1 else None


@dataclass
class Conversion:
    """`tf.get_variable(...)` in place of a `tf.Variable(...)`: the new call's code, or why there is none."""

    code: str | None
    reason: str = ""


def convert_variable(rule: Rule, facts: GraphFacts, call: cst.Call) -> Conversion:
    v1 = facts.v1_prefix
    if v1 is None:
        return Conversion(None, "no TensorFlow alias to spell tf.get_variable with")
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > 1 or any(a.star for a in call.args):
        return Conversion(None, "arguments passed by position")
    initial = argument(call, "initial_value", 0)
    if initial is None:
        return Conversion(None, "no initial value")
    others = [a for a in call.args if a.keyword is not None and a.keyword.value not in ("initial_value", "name", "dtype")]
    if any(a.keyword.value not in _KEPT_VARIABLE_ARGS for a in others):  # type: ignore[union-attr]
        return Conversion(None, "arguments tf.get_variable does not take")
    text, name_expr = variable_name(rule, call)
    if name_expr is None and text is None:
        return Conversion(None, "no name to give the variable (pass name=...)")
    name_code = code_of(name_expr) if name_expr is not None else facts.string(text)  # type: ignore[arg-type]
    mapped = _initializer(rule, v1, initial.value)
    if mapped is None:
        return Conversion(None, "an initial value that cannot be made an initializer")
    parts = [name_code, *mapped]
    explicit_dtype = argument(call, "dtype")
    if explicit_dtype is not None:
        parts = [p for p in parts if not p.startswith("dtype=")] + [f"dtype={code_of(explicit_dtype.value)}"]
    parts += [f"{a.keyword.value}={code_of(a.value)}" for a in others]  # type: ignore[union-attr]
    return Conversion(f"{v1}.get_variable({', '.join(parts)})")


def _initializer(rule: Rule, v1: str, value: cst.BaseExpression) -> list[str] | None:
    """`shape=..., initializer=..., dtype=...` arguments that make what `value` made, or None."""
    if isinstance(value, cst.Lambda):
        return None  # tf.get_variable would call it as an initializer(shape, dtype, partition_info)
    mapped = _mapped_initializer(rule, v1, value) if isinstance(value, cst.Call) else None
    # Otherwise a tensor, array or number: tf.get_variable takes shape and dtype from it (measured).
    return mapped if mapped is not None else [f"initializer={code_of(value)}"]


def _mapped_initializer(rule: Rule, v1: str, value: cst.Call) -> list[str] | None:
    names = rule.api_names(value.func)
    for op, (initializer, params) in _RANDOM.items():
        if op in names:
            return _random_args(v1, value, initializer, params)
    if names & {"tf.zeros", "tf.ones"}:
        shape, dtype = argument(value, "shape", 0), argument(value, "dtype", 1)
        if shape is None:
            return None
        kind = "zeros" if "tf.zeros" in names else "ones"
        return _args(shape=code_of(shape.value), initializer=f"{v1}.{kind}_initializer()", dtype=_opt(dtype))
    if "tf.constant" in names or "tf.fill" in names:
        return _constant_args(v1, value, fill="tf.fill" in names)
    numpy = _numpy_name(rule, value.func)
    if numpy in ("numpy.zeros", "numpy.ones"):
        shape, dtype = argument(value, "shape", 0), argument(value, "dtype", 1)
        if shape is None:
            return None
        kind = numpy.split(".")[-1]
        return _args(shape=code_of(shape.value), initializer=f"{v1}.{kind}_initializer()",
                     dtype=_numpy_dtype(v1, dtype.value if dtype else None, "float"))
    if numpy in ("numpy.array", "numpy.asarray"):
        data, dtype = argument(value, "object", 0) or argument(value, "a", 0), argument(value, "dtype", 1)
        dims = _literal_dims(data.value) if data is not None else None
        if dims is not None:
            return _args(shape=str(dims), initializer=f"{v1}.constant_initializer({code_of(value)})",
                         dtype=_numpy_dtype(v1, dtype.value if dtype else None, _literal_kind(data.value)))  # type: ignore[union-attr]
    return None


def _args(**values: str | None) -> list[str]:
    return [f"{key}={value}" for key, value in values.items() if value is not None]


def _opt(arg: cst.Arg | None) -> str | None:
    return code_of(arg.value) if arg is not None else None


def _random_args(v1: str, op: cst.Call, initializer: str, params: tuple[tuple[str, int], ...]) -> list[str] | None:
    shape, dtype = argument(op, "shape", 0), argument(op, "dtype", 3)
    if shape is None:
        return None
    kept = [f"{name}={code_of(arg.value)}" for name, position in params if (arg := argument(op, name, position))]
    return _args(shape=code_of(shape.value), initializer=f"{v1}.{initializer}({', '.join(kept)})", dtype=_opt(dtype))


def _constant_args(v1: str, op: cst.Call, fill: bool) -> list[str] | None:
    if fill:
        shape_arg, value, dtype = argument(op, "dims", 0), argument(op, "value", 1), None
        shape = code_of(shape_arg.value) if shape_arg is not None else None
    else:
        value, dtype, shape_arg = argument(op, "value", 0), argument(op, "dtype", 1), argument(op, "shape", 2)
        dims = _literal_dims(value.value) if value is not None else None
        shape = code_of(shape_arg.value) if shape_arg is not None else (str(dims) if dims is not None else None)
    if value is None or shape is None:
        return None
    dtype_code = _opt(dtype)
    if dtype_code is None:  # tf.constant(0) is int32: keep that
        kind = _literal_kind(value.value)
        if kind is None and not isinstance(value.value, (cst.Name, cst.Attribute)):
            return None
        dtype_code = {"int": f"{v1}.int32", "bool": f"{v1}.bool"}.get(kind or "")
    return _args(shape=shape, initializer=f"{v1}.constant_initializer({code_of(value.value)})", dtype=dtype_code)


def _numpy_name(rule: Rule, func: cst.BaseExpression) -> str | None:
    return next((name for name in rule.qualified_names(func) if name.startswith("numpy.")), None)


def _numpy_dtype(v1: str, dtype: cst.BaseExpression | None, kind: str | None) -> str | None:
    """The TensorFlow dtype of a NumPy array: its dtype= (np.float32 -> tf.float32), else NumPy's default."""
    if dtype is not None:
        name = dtype.attr.value if isinstance(dtype, cst.Attribute) else (
            dtype.evaluated_value if isinstance(dtype, cst.SimpleString) else None
        )
        return f"{v1}.{name}" if name in _NUMPY_DTYPES else None
    return {"float": f"{v1}.float64", "int": f"{v1}.int64", "bool": f"{v1}.bool"}.get(kind or "")


@dataclass(frozen=True)
class Creation:
    call: cst.Call
    by_variable: bool  # made by tf.Variable (else by tf.get_variable)
    full_name: str


@dataclass(frozen=True)
class Lookup:
    """`tf.get_variable("scope/name")` with no shape and no initializer: it can only find an existing variable."""

    call: cst.Call
    full_name: str
    creation: Creation
    reuse: bool  # a reusing variable scope is in effect where the lookup runs


def _scope_prefix(rule: Rule, node: cst.CSTNode, scoped: set[cst.FunctionDef], name_scopes: bool) -> list[str] | None:
    """The literal variable-scope names (and name-scope names, for tf.Variable) around `node`, outermost
    first; None when one is computed or the function runs under a caller's scope."""
    names: list[str] = []
    for _, item in enclosing_withs(rule, node):
        call = scope_call(rule, item)
        if call is None and name_scopes and rule.is_call_to(item.item, "tf.name_scope"):
            call = item.item  # type: ignore[assignment]
        if call is None:
            continue
        first = argument(call, "name_or_scope", 0) or argument(call, "name", 0)
        if first is not None and rule.is_call_to(first.value, "tf.get_variable_scope"):
            continue  # re-entering the current scope adds nothing
        if first is None or not isinstance(first.value, cst.SimpleString):
            return None
        names.insert(0, first.value.evaluated_value)  # type: ignore[arg-type]
    function = enclosing_function(rule, node)
    if function is not None and function in scoped:
        return None
    return names


def reuse_at(rule: Rule, node: cst.CSTNode, reuse_calls: list[cst.Call]) -> bool:
    """A reusing scope may be in effect at `node`: an enclosing scope with reuse= anything but False/None, or
    `scope.reuse_variables()` earlier in an enclosing block."""
    for _, item in enclosing_withs(rule, node):
        call = scope_call(rule, item)
        reuse = argument(call, "reuse", 2) if call is not None else None
        if reuse is not None and not _is_false_or_none(reuse.value):
            return True
    return reuse_switched_before(rule, node, reuse_calls)


def reuse_switched_before(rule: Rule, node: cst.CSTNode, reuse_calls: list[cst.Call]) -> bool:
    """`scope.reuse_variables()` runs earlier than `node` in a block that encloses it."""
    ancestors = set(map(id, rule.ancestors(node)))
    for call in reuse_calls:
        statement = statement_of(rule, call)
        if statement is not None and id(rule.parent(statement)) in ancestors and line_of(rule, call) < line_of(rule, node):
            return True
    return False


def variable_lookups(rule: Rule, module: cst.Module, scoped: set[cst.FunctionDef]) -> list[Lookup]:
    """Name-only `tf.get_variable` calls that find a variable this module makes, with how it was made."""
    creations: dict[str, Creation] = {}
    lookups: list[tuple[cst.Call, str]] = []
    reuse_calls: list[cst.Call] = []
    for call in ModuleIndex.of(rule).calls:
        if m.matches(call.func, m.Attribute(attr=m.Name("reuse_variables"))):
            reuse_calls.append(call)
        if rule.is_call_to(call, "tf.Variable") and not in_keras_or_module_class(rule, call):
            text, _ = variable_name(rule, call)
            prefix = _scope_prefix(rule, call, scoped, name_scopes=True)
            if text is not None and prefix is not None:
                creations.setdefault("/".join([*prefix, text]), Creation(call, True, "/".join([*prefix, text])))
        elif rule.is_call_to(call, "tf.get_variable"):
            name = argument(call, "name", 0)
            prefix = _scope_prefix(rule, call, scoped, name_scopes=False)
            if name is None or not isinstance(name.value, cst.SimpleString) or prefix is None:
                continue
            full = "/".join([*prefix, name.value.evaluated_value])  # type: ignore[list-item]
            if argument(call, "shape", 1) is None and argument(call, "initializer", 3) is None:
                lookups.append((call, full))
            else:
                creations.setdefault(full, Creation(call, False, full))
    return [
        Lookup(call, full, creations[full], reuse_at(rule, call, reuse_calls))
        for call, full in lookups
        if full in creations and line_of(rule, creations[full].call) < line_of(rule, call)
    ]


# --------------------------------------------------------------------------------------------------------------
# Variable-making code that demonstrably runs twice under a reusing scope (TFX501)


def _truthy_reuse(rule: Rule, value: cst.BaseExpression) -> bool:
    return m.matches(value, m.Name("True")) or rule.is_api(value, "tf.AUTO_REUSE")


def _scope_key(rule: Rule, call: cst.Call) -> str | None:
    """What names a variable scope the same on every run: a literal, the current scope re-entered, or an
    attribute of `self` (one object: one name). None when it may differ between runs."""
    first = argument(call, "name_or_scope", 0)
    if first is None:
        return None  # default_name=: a fresh, uniquified scope on every run
    value = first.value
    if isinstance(value, cst.SimpleString):
        return repr(value.evaluated_value)
    if rule.is_call_to(value, "tf.get_variable_scope"):
        return "<current>"
    if m.matches(value, m.Attribute(value=m.Name("self"))):
        return "self." + value.attr.value  # type: ignore[attr-defined]
    if isinstance(value, cst.Name):
        return "param:" + value.value  # resolved per call where it is a parameter
    return None


def _exclusive(rule: Rule, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """`a` and `b` are in different branches of one `if`: at most one of them runs."""
    chain_a = [a, *rule.ancestors(a)]
    index = {id(n): i for i, n in enumerate(chain_a)}
    below_b: cst.CSTNode = b
    for ancestor in rule.ancestors(b):
        if id(ancestor) in index:
            if not isinstance(ancestor, (cst.If, cst.IfExp)) or index[id(ancestor)] == 0:
                return False
            below_a = chain_a[index[id(ancestor)] - 1]
            return below_a is not below_b and ancestor.test not in (below_a, below_b)
        below_b = ancestor
    return False


@dataclass
class _Context:
    """The variable scopes around a node inside its function, innermost first, and the loops among them."""

    keys: list[str | None]  # scope keys from the node outwards
    reuse: bool  # a scope around it (in its function) reuses: reuse=True / AUTO_REUSE
    reuse_params: list[str]  # `reuse=name` scopes: the name decides (a parameter, usually)


def _context(rule: Rule, node: cst.CSTNode, stop: cst.CSTNode | None = None) -> _Context:
    keys: list[str | None] = []
    reuse, params = False, []
    for with_node, item in enclosing_withs(rule, node):
        if stop is not None and with_node is stop:
            break
        call = scope_call(rule, item)
        if call is None:
            continue
        keys.append(_scope_key(rule, call))
        value = argument(call, "reuse", 2)
        if value is not None:
            if _truthy_reuse(rule, value.value):
                reuse = True
            elif isinstance(value.value, cst.Name) and not _is_false_or_none(value.value):
                params.append(value.value.value)
    return _Context(keys, reuse, params)


def _loop_repeats_with_reuse(rule: Rule, node: cst.CSTNode) -> bool:
    """A loop in the node's function runs it again and again under one scope name, reusing: `for i in
    range(n): with tf.variable_scope(tf.get_variable_scope(), reuse=i > 0): tower(...)` (or AUTO_REUSE, True,
    or `scope.reuse_variables()` in the loop)."""
    for ancestor in rule.ancestors(node):
        if isinstance(ancestor, _BARRIERS):
            return False
        if not isinstance(ancestor, (cst.For, cst.While)):
            continue
        targets = {n.value for n in walk(ancestor.target) if isinstance(n, cst.Name)} if isinstance(ancestor, cst.For) else set()
        reuse = False
        for with_node, item in enclosing_withs(rule, node):
            if not any(a is ancestor for a in rule.ancestors(with_node)):
                break  # outside the loop: entered once for every iteration
            call = scope_call(rule, item)
            if call is None:
                continue
            key = _scope_key(rule, call)
            first = argument(call, "name_or_scope", 0)
            if key is None or (first is not None and any(isinstance(n, cst.Name) and n.value in targets for n in walk(first.value))):
                return False  # a new scope name per iteration: nothing is shared
            value = argument(call, "reuse", 2)
            if value is not None and (
                _truthy_reuse(rule, value.value)
                or any(isinstance(n, cst.Name) and n.value in targets for n in walk(value.value))
            ):
                reuse = True
        if not reuse:
            reuse = any(
                m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))
                for c in walk(ancestor.body)
                if isinstance(c, cst.Call)
            )
        return reuse
    return False


def _call_sites(rule: Rule, module: cst.Module, function: cst.FunctionDef) -> list[tuple[cst.Call, str | None]]:
    """The calls of `function` in this module, each with the instance it is called on (for a method called
    as `obj.method(...)` or `obj(...)` for `__call__`; None for `name(...)` and `self.name(...)`)."""
    sites: list[tuple[cst.Call, str | None]] = [(c, None) for c in calls_of(rule, function)]
    owner = next((a for a in rule.ancestors(function) if isinstance(a, cst.ClassDef)), None)
    if owner is None or rule.parent(rule.parent(function)) is not owner:
        return sites
    instances = set()
    for call in ModuleIndex.of(rule).calls:
        if m.matches(call.func, m.Name(owner.name.value)):
            parent = rule.parent(call)
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
                instances.add(parent.targets[0].target.value)
    for call in ModuleIndex.of(rule).calls:
        func = call.func
        if function.name.value == "__call__" and isinstance(func, cst.Name) and func.value in instances:
            sites.append((call, func.value))
        elif m.matches(func, m.Attribute(value=m.Name(), attr=m.Name(function.name.value))) and func.value.value in instances:  # type: ignore[attr-defined]
            sites.append((call, func.value.value))  # type: ignore[attr-defined]
    return sites


def _argument_key(rule: Rule, function: cst.FunctionDef, call: cst.Call, name: str) -> str | None:
    """The literal a call passes for parameter `name` (its default when not passed), as a key."""
    listed = [*function.params.posonly_params, *function.params.params]
    position = next((i for i, p in enumerate(listed) if p.name.value == name), None)
    shift = 1 if listed and listed[0].name.value in ("self", "cls") else 0  # obj.method(...), obj(...)
    arg = argument(call, name, None if position is None else position - shift)
    value = arg.value if arg is not None else next(
        (p.default for p in [*listed, *function.params.kwonly_params] if p.name.value == name), None
    )
    if isinstance(value, cst.SimpleString):
        return repr(value.evaluated_value)
    if value is not None and (m.matches(value, m.Name("True") | m.Name("False") | m.Name("None")) or rule.is_api(value, "tf.AUTO_REUSE")):
        return code_of(value)
    return None


def repeats_under_reuse(rule: Rule, module: cst.Module, node: cst.CSTNode, depth: int = 0) -> bool:
    """The code at `node` demonstrably runs at least twice under one variable-scope name with a reusing scope
    in effect the second time: a loop that reuses (the multi-GPU tower loop), or two calls of its function
    (that are not alternatives of one `if`) under the same scope, the later one reusing (the GAN
    discriminator's `reuse=True` call, `scope.reuse_variables()` between the calls, AUTO_REUSE)."""
    if depth > 4:
        return False
    if _loop_repeats_with_reuse(rule, node):
        return True
    function = enclosing_function(rule, node)
    if function is None:
        return False
    inner = _context(rule, node)
    if any(key is None for key in inner.keys):
        return False  # a scope whose name may differ between runs
    sites = _call_sites(rule, module, function)
    reuse_calls = [c for c in ModuleIndex.of(rule).calls if m.matches(c.func, m.Attribute(attr=m.Name("reuse_variables")))]
    for call, _ in sites:
        if enclosing_function(rule, call) is function:
            continue  # recursion
        if repeats_under_reuse(rule, module, call, depth + 1) and _same_inner_names(rule, function, inner, call, call):
            return True
    for i, (first, first_on) in enumerate(sites):
        for second, second_on in sites[i + 1:]:
            if first is second or _exclusive(rule, first, second):
                continue
            if enclosing_function(rule, first) is not enclosing_function(rule, second):
                continue
            if any(k.startswith("self.") for k in inner.keys) and (first_on is None or first_on != second_on):
                continue  # scope names read from the object: the same only for one object
            if _context_names(rule, first) != _context_names(rule, second) or None in _context_names(rule, first):
                continue
            if not _same_inner_names(rule, function, inner, first, second):
                continue
            if line_of(rule, second) < line_of(rule, first):
                first, second = second, first
            passed = [_argument_key(rule, function, second, name) or "" for name in inner.reuse_params]
            if inner.reuse or _reuses_at_call(rule, second, reuse_calls) or any(
                key == "True" or key.endswith("AUTO_REUSE") for key in passed
            ):
                return True
    return False


def _reuses_at_call(rule: Rule, call: cst.Call, reuse_calls: list[cst.Call]) -> bool:
    """A reusing scope is in effect where `call` runs, as its own function shows: an enclosing scope with
    reuse=True or AUTO_REUSE, or `scope.reuse_variables()` earlier in an enclosing block."""
    return _context(rule, call).reuse or reuse_switched_before(rule, call, reuse_calls)


def _context_names(rule: Rule, call: cst.CSTNode) -> list[str | None]:
    return _context(rule, call).keys


def _same_inner_names(rule: Rule, function: cst.FunctionDef, inner: _Context, first: cst.Call, second: cst.Call) -> bool:
    """The scope names inside `function` are the same for both calls (literals, or a parameter both pass
    equally)."""
    for key in inner.keys:
        if key is not None and key.startswith("param:"):
            name = key[len("param:"):]
            a, b = _argument_key(rule, function, first, name), _argument_key(rule, function, second, name)
            if a is None or a != b:
                return False
    return True
