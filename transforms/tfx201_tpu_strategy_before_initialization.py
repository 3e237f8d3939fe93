"""TFX201: `TPUStrategy(resolver)` without connecting to the cluster and initializing the TPU system first.

`tf.distribute.TPUStrategy` needs `tf.config.experimental_connect_to_cluster(resolver)` and
`tf.tpu.experimental.initialize_tpu_system(resolver)` before it. Measured with tensorflow-cpu 2.21 on a
machine without a TPU (shared/tf-behaviour.md "TPU setup", probes tpu_setup.py, tpu_local_and_soft.py):
`TPUStrategy(TPUClusterResolver(tpu='local'))` raises `IndexError: index 0 is out of bounds`; with the resolver
connected, `initialize_tpu_system` raises `NotFoundError: TPUs not found in the cluster`; `TPUClusterResolver()`
and `TPUStrategy()` raise `ValueError: Please provide a TPU Name to connect to.`.

The fix inserts what is missing, in order, once per resolver, before the strategy: the resolver (as a name,
when the strategy made its own), the connect, the initialize. So that the program still runs where there is no
TPU, it makes the detect-or-fall-back block (transforms/_tpu.py): the set-up goes in a `try` whose `except`
assigns (or returns) `tf.distribute.get_strategy()`, the default strategy, and keeps the user's names. The
`except` catches `ValueError` when the resolver has no TPU name (that is what it raises), and
`(ValueError, tf.errors.NotFoundError)` for `tpu='local'` or a name or value this rule cannot see (measured:
with `tpu='local'` the resolver and the connect succeed and only the initialize raises). It is safe: on a TPU
the program runs as intended, and elsewhere the program, which raised, runs on the CPU. Code already inside a
`try` that catches `ValueError`, or under `if resolver:`, gets only the missing calls.

Not curable: an explicit `grpc://host:port` address that is unreachable makes the connect hang (measured over
200 s); no `except` helps there.
"""

from __future__ import annotations

import libcst as cst

from tffix.names import leaves
from tffix.rule import Invalid, Rewrite, Rule, Severity, Valid, argument

from ._tape import assignments_of, chain, free_name, line_of, tensorflow_alias
from ._tpu import (
    CONNECT,
    INITIALIZE,
    RESOLVER,
    STRATEGIES,
    calls_before,
    falls_back_on_value_error,
    find_setup,
    guarded,
    make_setup_fix,
    resolver_call_of,
    statement_in_block,
    strategy_fallback,
)


class TpuStrategyBeforeInitialization(Rule):
    """`tf.distribute.TPUStrategy(resolver)` without `experimental_connect_to_cluster` and
    `initialize_tpu_system` on that resolver before it.

    Without a TPU it raises; the fix adds the missing calls in a detect-or-fall-back `try` that falls back to
    the default strategy.
    """

    code = "TFX201"
    name = "tpu-strategy-before-initialization"
    summary = "TPUStrategy needs connect_to_cluster and initialize_tpu_system first; fall back when there is no TPU"
    severity = Severity.ERROR
    triggers = ("TPUStrategy",)
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
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='local')\n"
            "strategy = tf.distribute.TPUStrategy(resolver)\n",
            "import tensorflow as tf\n"
            "try:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu='local')\n"
            "    tf.config.experimental_connect_to_cluster(resolver)\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n"
            "except (ValueError, tf.errors.NotFoundError):\n"
            "    strategy = tf.distribute.get_strategy()\n",
        ),
        Invalid(
            "import tensorflow as tf\n"
            "strategy = tf.distribute.TPUStrategy()\n",
            "import tensorflow as tf\n"
            "try:\n"
            "    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()\n"
            "    tf.config.experimental_connect_to_cluster(resolver)\n"
            "    tf.tpu.experimental.initialize_tpu_system(resolver)\n"
            "    strategy = tf.distribute.TPUStrategy(resolver)\n"
            "except ValueError:\n"
            "    strategy = tf.distribute.get_strategy()\n",
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

    def __init__(self, context) -> None:
        super().__init__(context)
        self.module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> None:
        self.module = node

    def visit_Call(self, node: cst.Call) -> None:
        if not self.is_call_to(node, *STRATEGIES) or self.module is None:
            return
        line = line_of(self, node)
        connects = calls_before(self, self.module, CONNECT, line)
        initializes = calls_before(self, self.module, INITIALIZE, line)
        arg = argument(node, "tpu_cluster_resolver", 0)
        if arg is not None and isinstance(arg.value, cst.Name):
            name = arg.value
            if any(isinstance(a.node, cst.Param) for a in assignments_of(self, name)):
                # A resolver passed in: set up by the caller when the module sets a TPU up anywhere.
                connects = calls_before(self, self.module, CONNECT, float("inf"))
                initializes = calls_before(self, self.module, INITIALIZE, float("inf"))
                if connects and initializes:
                    return
            missing = [
                label
                for label, calls in (("connect", connects), ("initialize", initializes))
                if not any(_first_argument_is(call, name.value) for call in calls)
            ]
            resolver_call = resolver_call_of(self, name)
            value_error_only = falls_back_on_value_error(self, resolver_call)
        elif arg is None or self.is_call_to(arg.value, *RESOLVER):
            if connects and initializes:
                return
            name, missing = None, ["connect", "initialize"]
            resolver_call = arg.value if arg is not None else None
            value_error_only = falls_back_on_value_error(self, resolver_call, default=True)  # type: ignore[arg-type]
        else:
            if not (connects and initializes):
                self.report(node, self._message(["connect", "initialize"]))
            return
        if missing:
            self.report(node, self._message(missing), rewrite=self._fix(node, arg, name, missing, value_error_only))

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

    def _fix(self, call, arg, name, missing, value_error_only) -> Rewrite | None:
        found = statement_in_block(self, call)
        if found is None or self.module is None:
            return None
        statement, owner = found
        if strategy_fallback(statement, "tf") is None or statement.body[0].value is not call:  # type: ignore[attr-defined]
            return None
        tf = tensorflow_alias(self.module) or "tensorflow"
        inserted: list[cst.BaseStatement] = []
        new_strategy = None
        if name is None:  # the strategy makes its own resolver: give it a name
            resolver = free_name(self.module, ("resolver", "tpu_resolver", "tpu"))
            value = arg.value if arg is not None else cst.parse_expression(
                f"{tf}.distribute.cluster_resolver.TPUClusterResolver()"
            )
            inserted.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(resolver))], value)]))
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
            self.module,
            setup,
            inserted=inserted,
            new_strategy=new_strategy,
            value_error_only=value_error_only,
            wrap=not guarded(self, statement, ("ValueError",), resolver),
        )
        if made is None:
            return None
        changes, imports = made
        return Rewrite.replace("Connect and initialize the TPU system, falling back without a TPU", changes, imports=imports)


def _first_argument_is(call: cst.Call, name: str) -> bool:
    return any(chain(arg.value) == name for arg in call.args)
