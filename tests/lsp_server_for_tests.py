"""The tffix language server with two toy rules of its own, so that the LSP tests depend on the server and the
engine only, never on which production rules exist. Run as a script: `python tests/lsp_server_for_tests.py`."""

from __future__ import annotations

import os

import libcst as cst

from tffix.engine import Engine
from tffix.lsp import serve_stdio
from tffix.rule import Rewrite, Rule, Severity


class RandomNormalRule(Rule):
    """`tf.random_normal` is TensorFlow 1's name for `tf.random.normal`.

    TensorFlow 2 dropped the alias, so the call raises
    `AttributeError: module 'tensorflow' has no attribute 'random_normal'`.
    """

    code = "TFX901"
    name = "tf1-random-normal"
    summary = "tf.random_normal was removed in TensorFlow 2; use tf.random.normal"
    triggers = ("random_normal",)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.is_api(node, "tf.random_normal"):
            renamed = node.with_changes(value=cst.Attribute(node.value, cst.Name("random")), attr=cst.Name("normal"))
            self.report(
                node,
                "tf.random_normal does not exist in TensorFlow 2",
                rewrite=Rewrite.replace("Use tf.random.normal", {node: renamed}),
            )


class DisableV2BehaviorRule(Rule):
    """`tf.compat.v1.disable_v2_behavior()` switches the whole program to graph mode.

    Every later eager-only call then fails or silently builds graph tensors instead of values.
    """

    code = "TFX902"
    name = "disable-v2-behavior"
    summary = "disable_v2_behavior() turns TensorFlow 2 off for the whole program"
    severity = Severity.WARNING
    triggers = ("disable_v2_behavior",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.disable_v2_behavior"):
            self.report(node, "disable_v2_behavior() turns off eager execution everywhere")


TOY_RULES = (RandomNormalRule, DisableV2BehaviorRule)


class LoggingEngine(Engine):
    """An engine that writes each check and fix it makes (a fix when it starts and ends: one may be abandoned mid-way
    and made again), with the path, to the file named by the environment's
    TFFIX_TEST_ENGINE_LOG: the tests see when the server runs the engine."""

    def check(self, source, path, **kwargs):  # type: ignore[no-untyped-def]
        _log("check", path)
        return super().check(source, path, **kwargs)

    def fix(self, source, path, **kwargs):  # type: ignore[no-untyped-def]
        _log("fix", path)
        result = super().fix(source, path, **kwargs)
        _log("fixed", path)
        return result


def _log(what: str, path: str) -> None:
    log = os.environ.get("TFFIX_TEST_ENGINE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{what} {path}\n")


if __name__ == "__main__":
    serve_stdio(lambda settings: LoggingEngine(settings, rules=TOY_RULES))
