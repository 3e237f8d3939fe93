"""The module as a whole, for the device-placement and TF1 variable rules (TFX101-TFX103, TFX501-TFX502).

- `GraphFacts.of(rule, module)`: is this TF1 graph code (the only code where device pins fail and where
  variable scopes share variables), which alias spells TF1 APIs here (`tf`, `tf.compat.v1`, ...), which
  `tf.device(...)` calls pin an accelerator, which sessions run the graph, and whether soft placement was
  switched on or off with `tf.config.set_soft_device_placement`.
- `ModuleIndex.of(rule)`: every node, call and function of the module, once per check; `calls_of` and
  `runs_from` follow a function to its callers.

Devices are in `_devices`, TF1 variables in `_tf1_variables` and `_variable_reuse`, small CST helpers in
`_cst_utils`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.parents import walk
from tffix.rule import FileAnalysis, Rule

from ._cst_utils import code_of, enclosing_function
from ._devices import Device, device_of, is_guarded_by_device_check


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
