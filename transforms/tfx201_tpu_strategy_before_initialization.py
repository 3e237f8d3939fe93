"""TFX201: `TPUStrategy(resolver)` without connecting to the cluster and initializing the TPU system first.

## What it does

Reports a `tf.distribute.TPUStrategy` made without `tf.config.experimental_connect_to_cluster(resolver)` and
`tf.tpu.experimental.initialize_tpu_system(resolver)` before it.

Reported only where the missing set-up can be seen (preconditions):
- the strategy's resolver is made here: no resolver (`TPUStrategy()`), `TPUStrategy(TPUClusterResolver(...))`,
  or a name bound once to `TPUClusterResolver(...)`. A resolver passed in as a parameter, kept in an attribute
  or returned by a helper (tf-models' `tpu_initialize`, which connects and initializes) is not reported;
- the module sets no TPU up another way: `TPUClusterResolver.connect(...)` (the class's or a resolver's)
  resolves, connects AND initializes (TensorFlow's source; measured: it raises what the resolver or the
  initialize raises), so a connect or initialize added after it would do it a second time;
- the module is no TF1 graph code (`disable_eager_execution`, `disable_v2_behavior`, a `Session`, an
  Estimator, `MonitoredTrainingSession`, `tf.contrib`, the `tf.tpu.initialize_system` op): there
  `experimental_connect_to_cluster` raises `ValueError: ... can only be called in eager mode` (measured) and
  the Session or Estimator initializes the TPU;
- calls made before it anywhere in the module count (a set-up in a helper that runs first).

## Why is this bad?

`TPUStrategy` needs the connect and the initialize before it: without them it sees no TPU devices and
raises, on a TPU machine and off one.

## Measured TensorFlow behaviour

Measured with tensorflow-cpu 2.21 on a machine without a TPU (docs/tensorflow-behaviour.md "TPU setup",
probes tpu_setup.py, tpu_local_and_soft.py): `TPUStrategy(TPUClusterResolver(tpu='local'))` raises
`IndexError: index 0 is out of bounds` (eagerly, and in a TF1 graph too; also with the connect alone); with
the resolver connected, `initialize_tpu_system` raises `NotFoundError: TPUs not found in the cluster`;
`TPUClusterResolver()` and `TPUStrategy()` raise `ValueError: Please provide a TPU Name to connect to.`. An
explicit `grpc://host:port` address that is unreachable makes the connect hang (measured over 200 s).

## Fix safety

The fix inserts what is missing, in order, before the strategy: the resolver (as a name, when the strategy
made its own), the connect, the initialize. So that the program still runs where there is no TPU, and only
there, it falls back to `tf.distribute.get_strategy()` on exactly the exception that means "no TPU", and
prints a line saying so (transforms/_tpu.py):
- a resolver given no TPU name (`TPUClusterResolver()`, `tpu=''`, `tpu=None`): `ValueError` at the resolver,
  raised only when nothing names a TPU; the `try` holds the resolver alone, the rest goes in its `else:`;
- `tpu='local'`: `NotFoundError` from `initialize_tpu_system` ("TPUs not found in the cluster"); the `try`
  holds the initialize alone, the strategy goes in its `else:`;
- any other argument (a flag, a variable, a TPU name): no fallback, the calls alone. A named TPU that cannot be
  reached is a configuration error the user must see, and where the name is empty the resolver raised before.
So a TPU that was found is never hidden: whatever its connect, initialize or strategy raises reaches the user.
Code already inside a `try` that catches `ValueError`, or under `if resolver:`, gets only the missing calls.

Why the fix is safe (Ruff's definition): the strategy it guards could never be built, so no working program
changes; on a TPU the program now runs as intended; without one it runs on the default strategy and says so
where it raised before. Not curable: an unreachable explicit address makes the connect hang; no `except`
helps there.
"""

from __future__ import annotations

import ast

import libcst as cst
import libcst.matchers as m

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Rule, Severity, Valid, argument

from ._cst_utils import TF, fresh_name, line_of, names_in
from ._flow import chain
from ._tpu import (
    CONNECT,
    CONNECT_AND_INITIALIZE,
    GRAPH_MODE,
    INITIALIZE,
    INITIALIZE_OP,
    RESOLVER,
    STRATEGIES,
    calls_before,
    find_setup,
    guarded,
    make_setup_fix,
    no_tpu_exception,
    resolver_call_of,
    statement_in_block,
    strategy_fallback,
)

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
TPU_STRATEGY_BEFORE_INIT = FailureKind(
    "tpu-strategy-before-init", "TPUStrategy was created before the TPU system was initialised",
    """`TPUStrategy` was created before `tf.config.experimental_connect_to_cluster(resolver)` and
    `tf.tpu.experimental.initialize_tpu_system(resolver)`, so it saw no TPU devices.""",
    r"index 0 is out of bounds",
    frame_hint=r"tpu",
)

TPU_NOT_FOUND = FailureKind(
    "tpu-not-found", "There is no TPU on this machine",
    """Initialising the TPU system failed because there is no TPU here. Code that should also run
    without a TPU catches the failure and falls back to the default strategy.""",
    r"TPUs not found in the cluster",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx202_colab_only_tpu_address import TPU_NO_NAME  # noqa: E402


class TpuStrategyBeforeInitialization(Rule):
    """`tf.distribute.TPUStrategy(resolver)` without `experimental_connect_to_cluster` and
    `initialize_tpu_system` on that resolver before it.

    Without a TPU it raises; the fix adds the missing calls in a detect-or-fall-back `try` that falls back to
    the default strategy.
    """

    code = "TFX201"
    name = "tpu-strategy-before-initialization"
    summary = "TPUStrategy needs connect_to_cluster and initialize_tpu_system first; fall back when there is no TPU"
    explains = (TPU_NO_NAME, TPU_STRATEGY_BEFORE_INIT, TPU_NOT_FOUND)
    fix = Fix.sometimes("safe")
    severity = Severity.ERROR
    # It reports at the strategy; a set-up sliced away only makes it report more.
    anchors = leaves(*STRATEGIES)

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "try:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "    tf.config.experimental_connect_to_cluster(resolver)\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n"
            "except ValueError:\n"
            "    strategy = tf.distribute.get_strategy()\n"
        ),
        Valid(  # Kaggle's form
            "import tensorflow as tf\n"
            "try:\n"
            "    tpu = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "except ValueError:\n"
            "    tpu = None\n"
            "if tpu:\n"
            "    tf.config.experimental_connect_to_cluster(tpu)\n"
            "    tf.tpu.experimental.initialize_tpu_system(tpu)\n"
            "    strategy = tf.distribute.experimental.TPUStrategy(tpu)\n"
            "else:\n"
            "    strategy = tf.distribute.get_strategy()\n"
        ),
        Valid(  # connect() resolves, connects and initializes
            "import tensorflow as tf\n"
            "try:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver.connect()\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n"
            "except ValueError:\n"
            "    strategy = tf.distribute.get_strategy()\n"
        ),
        Valid(  # TF1 Estimator code: the Session sets the TPU up; the connect would raise in a graph
            "import tensorflow.compat.v1 as tf\n"
            "tf.disable_v2_behavior()\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=FLAGS.tpu)\n"
            "strategy = tf.distribute.experimental.TPUStrategy(resolver)\n"
        ),
        Valid(  # a resolver from a helper that sets it up
            "import tensorflow as tf\n"
            "from official.common import tpu_lib\n"
            "resolver = tpu_lib.tpu_initialize(FLAGS.tpu)\n"
            "strategy = tf.distribute.TPUStrategy(resolver)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='local')\n"
            "strategy = tf.distribute.TPUStrategy(resolver)\n",
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='local')\n"
            "tf.config.experimental_connect_to_cluster(resolver)\n"
            "try:\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "except tf.errors.NotFoundError:\n"
            '    print("No TPU found (TPUs not found in the cluster): running on the default strategy")\n'
            "    strategy = tf.distribute.get_strategy()\n"
            "else:\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "strategy = tf.distribute.TPUStrategy()\n",
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
        ),
        Invalid(  # a TPU named by a flag: the calls alone, no fallback that could hide a misnamed TPU
            "import tensorflow as tf\n"
            "def make_strategy(flags):\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=flags.tpu)\n"
            "    return tf.distribute.TPUStrategy(resolver)\n",
            "import tensorflow as tf\n"
            "def make_strategy(flags):\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=flags.tpu)\n"
            "    tf.config.experimental_connect_to_cluster(resolver)\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "    return tf.distribute.TPUStrategy(resolver)\n",
        ),
        Invalid(  # already guarded: only the missing initialize goes in
            "import tensorflow as tf\n"
            "try:\n"
            "    tpu = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "    tf.config.experimental_connect_to_cluster(tpu)\n"
            "    strategy = tf.distribute.TPUStrategy(tpu)\n"
            "except ValueError:\n"
            "    strategy = tf.distribute.get_strategy()\n",
            "import tensorflow as tf\n"
            "try:\n"
            "    tpu = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "    tf.config.experimental_connect_to_cluster(tpu)\n"
            "    tf.tpu.experimental.initialize_tpu_system(tpu)\n"
            "    strategy = tf.distribute.TPUStrategy(tpu)\n"
            "except ValueError:\n"
            "    strategy = tf.distribute.get_strategy()\n",
        ),
    )

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a strategy call given no resolver, a `TPUClusterResolver(...)` call, or a name an
        assignment binds to one (`resolver_call_of`); a resolver from anywhere else is not judged."""
        for call in facts.calls_of(*STRATEGIES):
            arg = ast_argument(call, "tpu_cluster_resolver", 0)
            if arg is None or (type(arg) is ast.Call and not facts.api_names(arg.func).isdisjoint(RESOLVER)):
                return True
            if type(arg) is ast.Name and any(
                type(v) is ast.Call and not facts.api_names(v.func).isdisjoint(RESOLVER)
                for v in facts.bound.get(arg.id, ())
            ):
                return True
        return False

    def __init__(self, context) -> None:
        super().__init__(context)
        self.module: cst.Module | None = None
        self._set_up_otherwise: bool | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def visit_Call(self, node: cst.Call) -> None:
        if not self.is_call_to(node, *STRATEGIES) or self.module is None:
            return
        if self._sets_tpu_up_otherwise(self.module):
            return
        line = line_of(self, node)
        connects = calls_before(self, self.module, CONNECT, line)
        initializes = calls_before(self, self.module, INITIALIZE, line)
        arg = argument(node, "tpu_cluster_resolver", 0)
        if arg is not None and isinstance(arg.value, cst.Name):
            # Only a resolver made here, by TPUClusterResolver(...), is known not to be set up: one passed in,
            # or returned by a helper (which may well connect and initialize it), is not reported.
            name = arg.value
            resolver_call = resolver_call_of(self, name)
            if resolver_call is None:
                return
            done = {
                label
                for label, calls in (("connect", connects), ("initialize", initializes))
                if any(_first_argument_is(call, name.value) for call in calls)
            }
            if done == {"initialize"}:  # connect missing after the initialize: reported, the order is the author's
                self.report(node, self._message(["connect"]))
                return
            missing = [label for label in ("connect", "initialize") if label not in done]
            no_tpu = no_tpu_exception(self, resolver_call)
        elif arg is None or self.is_call_to(arg.value, *RESOLVER):
            if connects and initializes:
                return
            name, missing = None, ["connect", "initialize"]
            resolver_call = arg.value if arg is not None else None
            no_tpu = no_tpu_exception(self, resolver_call, default="ValueError")  # type: ignore[arg-type]
        else:
            return  # a resolver from elsewhere (an attribute, a helper's result): its set-up is not seen here
        if missing:
            self.report(node, self._message(missing), rewrite=self._fix(node, arg, name, missing, no_tpu))

    def _sets_tpu_up_otherwise(self, module: cst.Module) -> bool:
        """The module sets a TPU up some other way: `TPUClusterResolver.connect()` (resolve, connect and
        initialize in one), or it builds TF1 graphs (eager off, a Session, an Estimator), where the connect is
        an error and the TPU is set up by the Session or the Estimator. Either way a missing call is no bug."""
        if self._set_up_otherwise is None:
            self._set_up_otherwise = False
            for call in m.findall(module, m.Call()):
                if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
                    continue
                names = self.api_names(call.func)
                if any(n in CONNECT_AND_INITIALIZE or n in INITIALIZE_OP for n in names) or any(
                    n == g or n.startswith(g + ".") for n in names for g in GRAPH_MODE
                ) or _connects_resolver(self, call):
                    self._set_up_otherwise = True
                    break
        return self._set_up_otherwise

    @staticmethod
    def _message(missing: list[str]) -> str:
        calls = {
            "connect": "`tf.config.experimental_connect_to_cluster(resolver)`",
            "initialize": "`tf.tpu.experimental.initialize_tpu_system(resolver)`",
        }
        return (
            f"TPUStrategy is created without {' and '.join(calls[m] for m in missing)} before it: it raises "
            "(IndexError, or NotFoundError/ValueError without a TPU); set the TPU up first and fall back to the "
            "default strategy where there is none"
        )

    def _fix(self, call, arg, name, missing, no_tpu) -> Rewrite | None:
        found = statement_in_block(self, call)
        if found is None or self.module is None:
            return None
        statement, owner = found
        if strategy_fallback(statement, "tf") is None or statement.body[0].value is not call:  # type: ignore[attr-defined]
            return None
        tf = TF.at(self).alias
        inserted: list[cst.BaseStatement] = []
        made_resolver = new_strategy = None
        if name is None:  # the strategy makes its own resolver: give it a name
            resolver = fresh_name(("resolver", "tpu_resolver", "tpu"), names_in(self.module))
            value = arg.value if arg is not None else cst.parse_expression(
                f"{tf}.distribute.cluster_resolver.TPUClusterResolver()"
            )
            made_resolver = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(resolver))], value)])
            new_arg = cst.Arg(cst.Name(resolver))
            args = [new_arg] if arg is None else [new_arg if a is arg else a for a in call.args]
            small = statement.body[0]  # type: ignore[attr-defined]
            new_call = call.with_changes(args=args, whitespace_before_args=cst.SimpleWhitespace(""))
            new_strategy = statement.with_changes(body=[small.with_changes(value=new_call)])
        else:
            resolver = name.value
        for label, template in (
            ("connect", "{tf}.config.experimental_connect_to_cluster({r})\n"),
            ("initialize", "{tf}.tpu.experimental.initialize_tpu_system({r})\n"),
        ):
            if label in missing:
                inserted.append(cst.parse_statement(template.format(tf=tf, r=resolver)))
        setup = find_setup(self, statement, owner, resolver)
        made = make_setup_fix(
            self,
            setup,
            inserted=inserted,
            made_resolver=made_resolver,
            new_strategy=new_strategy,
            no_tpu=no_tpu,
            wrap=not guarded(self, statement, ("ValueError",), resolver),
        )
        if made is None:
            return None
        changes, imports = made
        return Rewrite.replace("Connect and initialize the TPU system, falling back without a TPU", changes, imports=imports)


def _connects_resolver(rule: Rule, call: cst.Call) -> bool:
    """`resolver.connect(...)` on a name bound to a `TPUClusterResolver(...)`: the static method, which sets up
    the TPU (and returns a new resolver)."""
    func = call.func
    return (
        isinstance(func, cst.Attribute)
        and func.attr.value == "connect"
        and isinstance(func.value, cst.Name)
        and resolver_call_of(rule, func.value) is not None
    )


def _first_argument_is(call: cst.Call, name: str) -> bool:
    return any(chain(arg.value) == name for arg in call.args)
