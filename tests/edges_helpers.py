"""Toy rules and helpers for the tests of tffix at its edges (tests/test_edges_*.py).

The edge tests are about the runner and the CLI, not about any rule: they use two toy rules whose findings
and fixes are fixed forever, so that a production rule's precondition changing never changes what they test.
`tf.identity(x)` gets a safe fix to `x` (TFX991), `tf.stop_gradient(x)` an unsafe one (TFX992).
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from tffix import runner as runner_module
from tffix.engine import Engine
from tffix.rule import Rewrite, Rule

SAFE = "import tensorflow as tf\ny = tf.identity(x)\n"
SAFE_FIXED = "import tensorflow as tf\ny = x\n"
UNSAFE = "import tensorflow as tf\nz = tf.stop_gradient(x)\n"
CLEAN = "import tensorflow as tf\ny = x\n"


class UnwrapIdentity(Rule):
    """Toy rule: `tf.identity(x)` becomes `x` (a safe fix)."""

    code = "TFX991"
    name = "toy-unwrap-identity"
    summary = "toy"
    triggers = ("identity",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.identity"):
            self.report(node, "identity", rewrite=Rewrite.replace("unwrap", {node: node.args[0].value}))


class UnwrapStopGradient(Rule):
    """Toy rule: `tf.stop_gradient(x)` becomes `x` (an unsafe fix)."""

    code = "TFX992"
    name = "toy-unwrap-stop-gradient"
    summary = "toy"
    triggers = ("stop_gradient",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.stop_gradient"):
            self.report(node, "stop_gradient",
                        rewrite=Rewrite.replace("unwrap", {node: node.args[0].value}, unsafe=True))


TOY_RULES = (UnwrapIdentity, UnwrapStopGradient)


def use_toy_rules(monkeypatch) -> None:
    """Make every run (the CLI's too, and its worker processes, which are forked) use the toy rules only."""
    monkeypatch.setattr(runner_module, "make_engine", lambda settings: Engine(settings, rules=TOY_RULES))


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def tffix(*args: str, env: dict | None = None):
    """The CLI in this process (so that `use_toy_rules` applies), stdout and stderr apart."""
    from typer.testing import CliRunner

    from tffix.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], env=env)
