"""TFX202: the TPU resolver is given `'grpc://' + os.environ['COLAB_TPU_ADDR']`, which exists only on Colab.

## What it does

Reports a TPU resolver given `'grpc://' + os.environ['COLAB_TPU_ADDR']` (directly, or through an address
variable). A lookup guarded by `if 'COLAB_TPU_ADDR' in os.environ:` or by a `try` that catches `KeyError` is
correct and left alone; an address variable also used elsewhere (printed, logged) is reported without a fix.

## Why is this bad?

The old Colab TPU runtime exported its TPU's address in `COLAB_TPU_ADDR`. Anywhere else (Kaggle, Cloud TPU
VMs, today's Colab, a laptop, CI) the lookup raises before TensorFlow is even asked.

## Measured TensorFlow behaviour

Outside that runtime the lookup raises `KeyError: 'COLAB_TPU_ADDR'` (measured: docs/tensorflow-behaviour.md
"TPU setup", probe tpu_setup.py colab_env). Without a TPU, `TPUClusterResolver()` raises `ValueError`
(measured). TensorFlow 2.21's resolver reads `TPU_NAME`, `KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS` and `TPU_CONFIG`,
never `COLAB_TPU_ADDR`.

## Fix safety

`TPUClusterResolver()` without an address finds the TPU itself where there is one (Colab, Kaggle, Cloud TPU
VMs), so the fix drops the address argument; an `ADDRESS = 'grpc://' + os.environ['COLAB_TPU_ADDR']` used only
as the resolver's address goes with it. Because the resolver then raises `ValueError` without a TPU, when
the resolver is not already in a `try` that catches it, the fix also makes the detect-or-fall-back block of
TFX201 (transforms/_tpu.py) around the resolver and its `TPUStrategy`, falling back to
`tf.distribute.get_strategy()`; the two rules' fixes complete each other in either order. The fix removes every
use of `os` it touched, so it never needs an `import os`.

The fix is unsafe (Ruff's definition): where `COLAB_TPU_ADDR` is set (Colab's old TPU runtime) the program
works as written, and whether `TPUClusterResolver()` finds the same TPU there depends on the runtime also
naming it in `TPU_NAME` (which the resolver reads, never `COLAB_TPU_ADDR`), which cannot be measured here; if
it does not, the fixed program falls back to the default strategy (saying so) where it ran on a TPU. Today's
Colab TPU runtime is a TPU VM, where `tpu='local'` is the resolver's argument.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid

from ._flow import assignments_of, chain
from ._tape import block_statements
from ._tpu import (
    RESOLVER,
    STRATEGIES,
    Setup,
    guarded,
    is_colab_address,
    make_setup_fix,
    resolver_argument,
    statement_in_block,
)

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
COLAB_TPU_ADDR = FailureKind(
    "colab-tpu-addr", "The COLAB_TPU_ADDR environment variable is not set",
    """The code reads `os.environ['COLAB_TPU_ADDR']`, which only Colab's old TPU runtime set; anywhere
    else (including current Colab TPU VMs) it is missing. `TPUClusterResolver()` finds a TPU by itself
    where there is one.""",
    r"COLAB_TPU_ADDR",
    exception="KeyError",
)

TPU_NO_NAME = FailureKind(
    "tpu-no-name", "No TPU was found to connect to",
    """`TPUClusterResolver()` was given no TPU name and found none: this machine has no TPU. Code that
    should also run without one falls back to the default strategy when the resolver fails.""",
    r"Please provide a TPU Name",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx201_tpu_strategy_before_initialization import TPU_NOT_FOUND  # noqa: E402


class ColabOnlyTpuAddress(Rule):
    """`TPUClusterResolver(tpu='grpc://' + os.environ['COLAB_TPU_ADDR'])` raises KeyError outside Colab.

    The fix (unsafe) lets the resolver find the TPU itself, `TPUClusterResolver()`, and falls back to the
    default strategy where there is no TPU.
    """

    code = "TFX202"
    name = "colab-only-tpu-address"
    summary = "os.environ['COLAB_TPU_ADDR'] raises KeyError outside Colab; let TPUClusterResolver() find the TPU"
    explains = (COLAB_TPU_ADDR, TPU_NO_NAME, TPU_NOT_FOUND)
    fix = Fix.sometimes("unsafe")
    severity = Severity.ERROR
    triggers = ("COLAB_TPU_ADDR",)
    # The address is reported only where it reaches a resolver.
    anchors = leaves(*RESOLVER)

    VALID = (
        Valid(
            "import os\n"
            "import tensorflow as tf\n"
            "if 'COLAB_TPU_ADDR' in os.environ:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver('grpc://' + os.environ['COLAB_TPU_ADDR'])\n"
        ),
        Valid(
            "import os\n"
            "try:\n"
            "    device_name = os.environ['COLAB_TPU_ADDR']\n"
            "    TPU_ADDRESS = 'grpc://' + device_name\n"
            "except KeyError:\n"
            "    print('TPU not found')\n"
        ),
    )
    INVALID = (
        Invalid(
            "import os\n"
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='grpc://' + os.environ['COLAB_TPU_ADDR'])\n"
            "tf.config.experimental_connect_to_cluster(resolver)\n"
            "tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "strategy = tf.distribute.TPUStrategy(resolver)\n",
            "import os\n"
            "import tensorflow as tf\n"
            "try:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "except ValueError:\n"
            '    print("No TPU found (no TPU name to connect to): running on the default strategy")\n'
            "    strategy = tf.distribute.get_strategy()\n"
            "else:\n"
            "    tf.config.experimental_connect_to_cluster(resolver)\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n",
            unsafe=True,
        ),
        Invalid(
            "import os\n"
            "import tensorflow as tf\n"
            "TPU_WORKER = 'grpc://' + os.environ['COLAB_TPU_ADDR']\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(TPU_WORKER, zone='us-central1-b')\n",
            "import os\n"
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(zone='us-central1-b')\n",
            unsafe=True,
        ),
        Invalid(  # the address is printed too: no fix
            "import os\n"
            "import tensorflow as tf\n"
            "TPU_WORKER = 'grpc://' + os.environ['COLAB_TPU_ADDR']\n"
            "print('TPU address is', TPU_WORKER)\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(TPU_WORKER)\n",
            None,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not is_colab_address(self, node) or guarded(self, node, ("KeyError", "LookupError")):
            return
        message = (
            "`os.environ['COLAB_TPU_ADDR']` exists only on Colab's old TPU runtime: anywhere else it raises "
            "KeyError; `TPUClusterResolver()` finds the TPU itself (Colab, Kaggle, Cloud TPU VMs)"
        )
        resolver = self._resolver_around(node)
        if resolver is not None:
            self.report(node, message, rewrite=self._fix([resolver], removed=None))
            return
        variable = self._address_variable(node)
        if variable is None:
            return
        statement, uses = variable
        resolvers = [self._resolver_around(use) for use in uses]
        if not any(resolvers):
            return  # the address is not given to a resolver here
        fixable = all(resolvers) and m.matches(statement, m.SimpleStatementLine(body=[m.Assign()]))
        self.report(node, message, rewrite=self._fix(resolvers, removed=statement) if fixable else None)  # type: ignore[arg-type]

    def _resolver_around(self, node: cst.CSTNode) -> cst.Call | None:
        """The `TPUClusterResolver(...)` call whose TPU address `node` is part of."""
        child, current = node, self.parent(node)
        while current is not None and not isinstance(current, (cst.BaseStatement, cst.BaseSmallStatement)):
            if isinstance(current, cst.Call) and self.is_call_to(current, *RESOLVER):
                arg = resolver_argument(current)
                return current if arg is not None and child is arg else None
            child, current = current, self.parent(current)
        return None

    def _address_variable(self, node: cst.Subscript) -> tuple[cst.BaseStatement, list[cst.CSTNode]] | None:
        """For `NAME = ... os.environ['COLAB_TPU_ADDR'] ...`: that statement and where NAME is read."""
        found = statement_in_block(self, node)
        if found is None:
            return None
        statement, _ = found
        if not m.matches(statement, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name())])])):
            return None
        target = statement.body[0].targets[0].target  # type: ignore[attr-defined]
        uses = [
            access.node for a in assignments_of(self, target) if a.node is target for access in a.references
        ]
        return statement, uses

    def _fix(self, resolvers: list[cst.Call], removed: cst.BaseStatement | None) -> Rewrite | None:
        if self.module is None:
            return None
        changes: dict = {}
        if removed is not None:
            changes[removed] = cst.RemovalSentinel.REMOVE
        imports: tuple[str, ...] = ()
        for resolver in resolvers:
            arg = resolver_argument(resolver)
            args = [a for a in resolver.args if a is not arg]
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new_call = resolver.with_changes(args=args)
            wrapped = self._wrap(resolver, new_call) if len(resolvers) == 1 else None
            if wrapped is None:
                changes[resolver] = new_call
            else:
                more, imports = wrapped
                changes.update(more)
        return Rewrite.replace("Let TPUClusterResolver() find the TPU", changes, imports=imports, unsafe=True)

    def _wrap(self, resolver: cst.Call, new_call: cst.Call) -> tuple[dict, tuple[str, ...]] | None:
        """The detect-or-fall-back block around `r = TPUClusterResolver()` and its strategy, when unguarded."""
        found = statement_in_block(self, resolver)
        if found is None or guarded(self, resolver, ("ValueError",)):
            return None
        statement, owner = found
        targets = m.findall(statement, m.Assign(targets=[m.AssignTarget(m.Name())], value=m.Call()))
        if len(targets) != 1 or targets[0].value is not resolver:  # type: ignore[attr-defined]
            return None
        name = targets[0].targets[0].target.value  # type: ignore[attr-defined]
        block = block_statements(owner)
        index = next(i for i, s in enumerate(block) if s is statement)
        strategy_index = next(
            (i for i in range(index + 1, len(block)) if _creates_strategy(self, block[i], name)), None
        )
        if strategy_index is None:
            return None
        setup = Setup(block, strategy_index, index, name)
        return make_setup_fix(
            self,
            setup,
            no_tpu="ValueError",
            wrap=True,
            rewritten={statement: statement.deep_replace(resolver, new_call)},  # type: ignore[arg-type]
        )


def _creates_strategy(rule: Rule, statement: cst.BaseStatement, resolver: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    value = getattr(statement.body[0], "value", None)
    return (
        isinstance(value, cst.Call)
        and rule.is_call_to(value, *STRATEGIES)
        and any(chain(a.value) == resolver for a in value.args)
    )
