"""Shared helpers for the TPU set-up rules (TFX201, TFX202, TFX203).

The one correct TPU set-up that still runs where there is no TPU, and hides no TPU that was found, is the
detect-or-fall-back block, with only the statement that says "no TPU" in the `try`:

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    except ValueError:
        print("No TPU found (no TPU name to connect to): running on the default strategy")
        strategy = tf.distribute.get_strategy()
    else:
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)

What each step raises on a machine without a TPU (measured with TF 2.21, docs/tensorflow-behaviour.md "TPU setup",
probes tpu_setup.py and tpu_local_and_soft.py; TensorFlow's source says where each is raised):

- `TPUClusterResolver()`, `TPUClusterResolver(tpu='')`, `tpu=None` (and `TPUStrategy()`, which makes one):
  `ValueError: Please provide a TPU Name to connect to.`, at the resolver, raised only when neither a name
  nor the `TPU_NAME`/`KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS`/`TPU_CONFIG` environment names a TPU: exactly "no TPU";
- `TPUClusterResolver(tpu='local')`: the resolver and the connect succeed, `initialize_tpu_system` raises
  `NotFoundError: TPUs not found in the cluster` (TensorFlow's own translation of the init op's failure);
  without connect/initialize `TPUStrategy` raises `IndexError`;
- a named TPU (`tpu='my-tpu'`) asks the GCE metadata server: `URLError` with no network, and a name the TPU
  API does not know raises `ValueError: Could not lookup TPU metadata` at the connect: a misconfiguration,
  not "no TPU": no fallback hides it;
- an explicit `grpc://host:port` address: connecting hangs (over 200 s): no fallback can help there;
- `TPUClusterResolver.connect(...)` is resolve + `experimental_connect_to_cluster` + `initialize_tpu_system`
  in one call (TensorFlow's source; measured: without a TPU it raises the resolver's ValueError, or with
  `tpu='local'` the NotFoundError);
- in a TF1 graph (eager execution disabled) `experimental_connect_to_cluster` raises `ValueError: ... can
  only be called in eager mode`, and `initialize_tpu_system` runs a Session: a TF1 program sets its TPU up
  through its Session or Estimator.

`make_setup_fix` builds that block from the statements of a block for both TFX201 and TFX202, so that
whichever fix is made first, the other one completes the same result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

from tffix.parents import walk
from tffix.rule import Rule, argument

from ._cst_utils import TF, line_of
from ._flow import Flow, assigned_value, assignments_of, chain
from ._tape import blank_lines_above, block_statements, without_blank_lines

RESOLVER = ("tf.distribute.cluster_resolver.TPUClusterResolver",)
STRATEGIES = ("tf.distribute.TPUStrategy", "tf.distribute.experimental.TPUStrategy")
CONNECT = ("tf.config.experimental_connect_to_cluster",)
INITIALIZE = ("tf.tpu.experimental.initialize_tpu_system",)
# Set a TPU up too: the resolver's own connect (resolve + connect + initialize), and TF1's init op for a Session.
CONNECT_AND_INITIALIZE = ("tf.distribute.cluster_resolver.TPUClusterResolver.connect",)
INITIALIZE_OP = ("tf.tpu.initialize_system",)
# A module that builds TF1 graphs: eager execution off, Sessions, Estimators (names and their attributes).
GRAPH_MODE = (
    "tf.Session",
    "tf.InteractiveSession",
    "tf.disable_eager_execution",
    "tf.disable_v2_behavior",
    "tf.train.MonitoredTrainingSession",
    "tf.estimator",
    "tf.contrib",
)
COLAB_VARIABLE = "COLAB_TPU_ADDR"
_TPU_DEVICE = re.compile(r"(^|/)(device:)?tpu:\d+", re.IGNORECASE)


def is_tpu_device(text: str) -> bool:
    return bool(_TPU_DEVICE.search(text))


def is_colab_address(rule: Rule, node: cst.CSTNode) -> bool:
    """`os.environ['COLAB_TPU_ADDR']` (whatever `os` or `environ` was imported as)."""
    if not isinstance(node, cst.Subscript) or len(node.slice) != 1:
        return False
    index = node.slice[0].slice
    if not (isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString)):
        return False
    if index.value.evaluated_value != COLAB_VARIABLE:
        return False
    return "os.environ" in rule.qualified_names(node.value)


def resolver_argument(call: cst.Call) -> cst.Arg | None:
    return argument(call, "tpu", 0)


def no_tpu_exception(rule: Rule, resolver: cst.Call | None, default: str | None = None) -> str | None:
    """What the set-up raises, and where, when there is no TPU: "ValueError" (the resolver, given no TPU name:
    `Please provide a TPU Name to connect to.`), "NotFoundError" (`tpu='local'`: `initialize_tpu_system`
    raises `TPUs not found in the cluster`), or None when the resolver's argument is not a literal (a flag, a
    name: either, or a named TPU, whose failures are no "no TPU"). `default` when the resolver is not known."""
    if resolver is None:
        return default
    arg = resolver_argument(resolver)
    if arg is None or m.matches(arg.value, m.Name("None")):
        return "ValueError"
    if isinstance(arg.value, cst.SimpleString):
        value = arg.value.evaluated_value
        return "ValueError" if value == "" else "NotFoundError" if value == "local" else None
    if any(is_colab_address(rule, s) for s in m.findall(arg.value, m.Subscript())):
        return "ValueError"  # TFX202 turns it into `TPUClusterResolver()`
    return None


def statement_in_block(rule: Rule, node: cst.CSTNode) -> tuple[cst.BaseStatement, cst.CSTNode] | None:
    """The statement holding `node` that is directly in a block, and that block (Module or IndentedBlock)."""
    current = node
    parent = rule.parent(current)
    while parent is not None and not isinstance(parent, (cst.Module, cst.IndentedBlock)):
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return None
        current, parent = parent, rule.parent(parent)
    if parent is None:
        return None
    return current, parent  # type: ignore[return-value]


def handler_catches(rule: Rule, handler: cst.ExceptHandler, names: Sequence[str]) -> bool:
    if handler.type is None:
        return True
    wanted = {*names, "Exception", "BaseException"}
    for element in (handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]):
        expr = element.value if isinstance(element, cst.Element) else element
        text = chain(expr)
        if text is not None and (text.split(".")[-1] in wanted):
            return True
    return False


def guarded(rule: Rule, node: cst.CSTNode, exceptions: Sequence[str], resolver_name: str | None = None) -> bool:
    """`node` runs inside a `try` that catches one of `exceptions` (or in its `else:`), or under `if <resolver>:` /
    `if 'COLAB_TPU_ADDR' in os.environ:` (up to the enclosing function)."""
    child, current = node, rule.parent(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Module)):
        if isinstance(current, cst.Try) and (child is current.body or child is current.orelse):
            if any(handler_catches(rule, h, exceptions) for h in current.handlers):
                return True
        if isinstance(current, cst.If) and child is current.body:
            test = current.test
            if resolver_name is not None and resolver_name in {chain(n) for n in _names(test)}:
                return True
            if any(s.evaluated_value == COLAB_VARIABLE for s in m.findall(test, m.SimpleString())):
                return True
        child, current = current, rule.parent(current)
    return False


def _names(node: cst.CSTNode) -> list[cst.CSTNode]:
    return list(m.findall(node, m.Name() | m.Attribute()))


def calls_before(rule: Rule, module: cst.Module, names: Sequence[str], line: float) -> list[cst.Call]:
    """Calls to `names` in the module that start before `line`."""
    return [call for at, call in _calls_to(rule, module, tuple(names)) if at < line]


def _calls_to(rule: Rule, module: cst.Module, names: tuple[str, ...]) -> list[tuple[int, cst.Call]]:
    """The calls to `names` in `module`, with their lines; one search per file and names (searching the whole
    tree for every strategy call made TFX201 quadratic in the size of the file). Kept in the file's analysis,
    never in a global: two checks at once (the LSP's worker and the runner's threads) each see their own."""
    def search() -> list[tuple[int, cst.Call]]:
        return [(line_of(rule, call), call) for call in walk(module)
                if isinstance(call, cst.Call) and rule.is_call_to(call, *names)]

    return rule.analysis.fact((_calls_to, id(module), names), search)


@dataclass(frozen=True)
class Setup:
    """A TPU set-up found in a block: the strategy statement and, when it is in the same block, the resolver's."""

    block: Sequence[cst.BaseStatement]
    strategy_index: int
    resolver_index: int | None  # `r = TPUClusterResolver(...)` in the same block, before the strategy
    resolver_name: str

    @property
    def strategy_statement(self) -> cst.BaseStatement:
        return self.block[self.strategy_index]


def find_setup(rule: Rule, strategy_statement: cst.BaseStatement, owner: cst.CSTNode, resolver_name: str) -> Setup:
    """The set-up around `strategy_statement`: the resolver's index is that of the last statement before it
    that binds `resolver_name`, when that is a plain `resolver_name = TPUClusterResolver(...)`."""
    block = block_statements(owner)
    index = next(i for i, s in enumerate(block) if s is strategy_statement)
    flow = Flow(rule)
    for i in range(index - 1, -1, -1):
        statement = block[i]
        if resolver_name in flow.writes(statement):
            single = m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name(resolver_name))])])
            if m.matches(statement, single) and rule.is_call_to(statement.body[0].value, *RESOLVER):  # type: ignore[attr-defined]
                return Setup(block, index, i, resolver_name)
            break
    return Setup(block, index, None, resolver_name)


def strategy_fallback(statement: cst.BaseStatement, tf: str) -> str | None:
    """The statement the `except` branch runs: `<target> = tf.distribute.get_strategy()` or a `return` of it."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = chain(small.targets[0].target)
        return f"{target} = {tf}.distribute.get_strategy()" if target is not None else None
    if isinstance(small, cst.Return) and small.value is not None:
        return f"return {tf}.distribute.get_strategy()"
    return None


def no_tpu_message(reason: str) -> str:
    return f'print("No TPU found ({reason}): running on the default strategy")'


_REASONS = {"ValueError": "no TPU name to connect to", "NotFoundError": "TPUs not found in the cluster"}


def make_setup_fix(
    rule: Rule,
    setup: Setup,
    *,
    inserted: Sequence[cst.BaseStatement] = (),
    made_resolver: cst.BaseStatement | None = None,
    new_strategy: cst.BaseStatement | None = None,
    no_tpu: str | None,
    wrap: bool,
    rewritten: Mapping[cst.CSTNode, cst.BaseStatement] | None = None,
) -> tuple[dict, tuple[str, ...]] | None:
    """Node changes (and imports) that put `made_resolver` (a new `resolver = TPUClusterResolver(...)`) and
    `inserted` (connect, initialize) before the strategy statement, replaced by `new_strategy` when given, and,
    when `wrap`, fall back to the default strategy where there is no TPU, and only there, saying so.

    What "no TPU" is differs (`no_tpu`, see `no_tpu_exception`), and only the statement that raises it goes in
    the `try`; what follows it goes in the `try`'s `else:`, so that whatever a TPU that was found raises still
    reaches the user:

    - "ValueError": the resolver's construction. The `try` holds its assignment (when in the same block; as
      given in `rewritten`, when there); the statements between it and the strategy that define no name, the
      inserted ones and the strategy go in the `else:`. A statement between that defines a name would be
      skipped by the fallback branch: it stays before the `try` when it neither uses the resolver nor follows a
      connect/initialize (so it sees what it saw), and otherwise there is no fix (None). A resolver made in
      another block raised before this code: there is nothing to fall back from here, so no `try`.
    - "NotFoundError": `initialize_tpu_system` (the resolver and the connect succeed without a TPU); the `try`
      holds the inserted initialize, the `else:` the strategy.
    - None (the resolver's argument is not a literal): no `try`, the calls alone.

    None too when the strategy is neither assigned nor returned.
    """
    spelling = TF.at(rule)
    imports, tf = spelling.imports, spelling.alias
    original = setup.strategy_statement
    strategy = new_strategy if new_strategy is not None else original
    rewritten = rewritten or {}
    made = [made_resolver] if made_resolver is not None else []
    if no_tpu == "ValueError" and not made and setup.resolver_index is None:
        wrap = False
    if not wrap or no_tpu is None:
        statements = [*made, *inserted, strategy]
        statements = [s.with_changes(leading_lines=()) for s in statements]
        statements[0] = statements[0].with_changes(leading_lines=original.leading_lines)
        return {original: cst.FlattenSentinel(statements)}, imports
    fallback = strategy_fallback(original, tf)
    if fallback is None:
        return None
    handler = "ValueError" if no_tpu == "ValueError" else f"{tf}.errors.NotFoundError"
    template = cst.parse_statement(
        f"try:\n    pass\nexcept {handler}:\n    {no_tpu_message(_REASONS[no_tpu])}\n    {fallback}\nelse:\n    pass\n"
    )
    assert isinstance(template, cst.Try) and template.orelse is not None

    def guarded_block(tried: Sequence[cst.BaseStatement], after: Sequence[cst.BaseStatement]) -> cst.Try:
        tried = [without_blank_lines(s) for s in tried]
        after = [without_blank_lines(s) for s in after]
        tried[0] = tried[0].with_changes(leading_lines=())
        orelse = template.orelse.with_changes(body=template.orelse.body.with_changes(body=after))  # type: ignore[union-attr]
        return template.with_changes(body=template.body.with_changes(body=tried), orelse=orelse)

    if no_tpu == "NotFoundError":
        initialize = [s for s in inserted if _calls_any(rule, s, INITIALIZE) or _is_initialize(s)]
        if len(initialize) != 1:
            return None
        before = [*made, *(s for s in inserted if s is not initialize[0])]
        statements = [
            *(s.with_changes(leading_lines=()) for s in before),
            guarded_block(initialize, [strategy]),
        ]
        statements[0] = statements[0].with_changes(leading_lines=original.leading_lines)
        return {original: cst.FlattenSentinel(statements)}, imports

    if made:  # the strategy's own resolver, now named: it alone in the `try`
        block = guarded_block(made, [*inserted, strategy]).with_changes(leading_lines=original.leading_lines)
        return {original: block}, imports

    flow = Flow(rule)
    moved: list[int] = []
    assert setup.resolver_index is not None
    touched_tpu = False
    for index in range(setup.resolver_index + 1, setup.strategy_index):
        statement = setup.block[index]
        if not flow.writes(statement) - {setup.resolver_name}:
            moved.append(index)
            touched_tpu = touched_tpu or _calls_any(rule, statement, (*CONNECT, *INITIALIZE))
        elif touched_tpu or any(_reads(r, setup.resolver_name) for r in flow.reads(statement)):
            return None
    resolver_statement = setup.block[setup.resolver_index]
    after = [rewritten.get(setup.block[i], setup.block[i]) for i in moved]
    first = resolver_statement
    changes: dict = {setup.block[i]: cst.RemovalSentinel.REMOVE for i in (setup.resolver_index, *moved)}
    changes[original] = guarded_block(
        [rewritten.get(resolver_statement, resolver_statement)], [*after, *inserted, strategy]
    ).with_changes(leading_lines=first.leading_lines)
    kept = [i for i in range(setup.resolver_index + 1, setup.strategy_index) if i not in moved]
    if kept:
        # The statements that stay take the resolver's place, and its blank lines; the `try` after them takes
        # their blank lines and the resolver's comments.
        statement = setup.block[kept[0]]
        changes[statement] = without_blank_lines(statement).with_changes(
            leading_lines=[*blank_lines_above(first), *without_blank_lines(statement).leading_lines]
        )
        changes[original] = changes[original].with_changes(
            leading_lines=[*blank_lines_above(statement), *without_blank_lines(first).leading_lines]
        )
    return changes, imports


def _is_initialize(statement: cst.BaseStatement) -> bool:
    """A statement made by `cst.parse_statement` (no metadata): `<tf>.tpu.experimental.initialize_tpu_system(...)`."""
    calls = list(m.findall(statement, m.Call()))
    return len(calls) == 1 and (chain(calls[0].func) or "").endswith("tpu.experimental.initialize_tpu_system")


def _calls_any(rule: Rule, node: cst.CSTNode, names: Sequence[str]) -> bool:
    return any(rule.is_call_to(call, *names) for call in m.findall(node, m.Call()))  # type: ignore[arg-type]


def _reads(read: str, name: str) -> bool:
    return read == name or read.startswith(name + ".")


def resolver_call_of(rule: Rule, name: cst.Name) -> cst.Call | None:
    """The `TPUClusterResolver(...)` call `name` is bound to, when it is bound to exactly one."""
    values = [assigned_value(rule, a.node) for a in assignments_of(rule, name)]
    if len(values) == 1 and isinstance(values[0], cst.Call) and rule.is_call_to(values[0], *RESOLVER):
        return values[0]
    return None
