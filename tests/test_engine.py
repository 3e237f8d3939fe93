"""The engine's contract, with small rules defined here so that it is tested apart from production rules."""

from __future__ import annotations

import libcst as cst
import pytest

from tffix.engine import Engine
from tffix.model import ProblemKind
from tffix.rule import Rewrite, Rule


class UnwrapIdentity(Rule):
    """Test rule: `tf.identity(x)` becomes `x` (exercises grouping and import resolution)."""

    code = "TFX901"
    name = "unwrap-identity"
    summary = "test"
    triggers = ("identity",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.identity"):
            self.report(node, "identity", rewrite=Rewrite.replace("unwrap", {node: node.args[0].value}))


class BreakSyntax(Rule):
    """Test rule whose fix would produce code that does not parse."""

    code = "TFX902"
    name = "break-syntax"
    summary = "test"
    triggers = ("identity",)

    def visit_Call(self, node: cst.Call) -> None:
        if self.is_call_to(node, "tf.identity"):
            self.report(node, "bad", rewrite=Rewrite.replace("bad", {node: cst.Name("lambda")}))


class Crash(Rule):
    """Test rule that crashes on every call."""

    code = "TFX903"
    name = "crash"
    summary = "test"
    triggers = ("identity",)

    def visit_Call(self, node: cst.Call) -> None:
        raise RuntimeError("boom")


def fix(source: str, *rules: type[Rule]) -> str:
    return Engine(rules=rules or (UnwrapIdentity,)).fix(source, "t.py").fixed_source


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import tensorflow as tf\ny = tf.identity(a + b) * 2\n", "import tensorflow as tf\ny = (a + b) * 2\n"),
        ("import tensorflow as tf\ny = tf.identity(a + b).shape\n", "import tensorflow as tf\ny = (a + b).shape\n"),
        ("import tensorflow as tf\ny = -tf.identity(a - b)\n", "import tensorflow as tf\ny = -(a - b)\n"),
        ("import tensorflow as tf\ny = f(tf.identity(a + b))\n", "import tensorflow as tf\ny = f(a + b)\n"),
        ("import tensorflow as tf\ny = (tf.identity(a + b))\n", "import tensorflow as tf\ny = (a + b)\n"),
        ("import tensorflow as tf\ny = tf.identity(a * b) + c\n", "import tensorflow as tf\ny = a * b + c\n"),
    ],
)
def test_replacement_keeps_grouping(source, expected):
    assert fix(source) == expected


@pytest.mark.parametrize(
    "imports",
    [
        "import tensorflow as tf\ny = tf.identity(x)\n",
        "import tensorflow.compat.v1 as tf\ny = tf.identity(x)\n",
        "from tensorflow import identity\ny = identity(x)\n",
        "import tensorflow\ny = tensorflow.identity(x)\n",
    ],
)
def test_names_resolve_through_every_import_form(imports):
    assert Engine(rules=[UnwrapIdentity]).check(imports, "t.py").findings


def test_unrelated_identity_is_not_matched_by_spelling():
    source = "import mylib as tf\ny = tf.identity(x)\n"
    assert Engine(rules=[UnwrapIdentity]).check(source, "t.py").findings == ()


def test_every_other_byte_survives_crlf_tabs_and_comments():
    source = "import tensorflow as tf\r\nif x:\r\n\ty = tf.identity(z)  # keep\r\n\tw = 1\r\n"
    assert fix(source) == "import tensorflow as tf\r\nif x:\r\n\ty = z  # keep\r\n\tw = 1\r\n"


def test_fix_that_does_not_parse_is_dropped_and_reported():
    source = "import tensorflow as tf\ny = tf.identity(x)\n"
    result = Engine(rules=[BreakSyntax]).fix(source, "t.py")
    assert result.fixed_source == source
    assert [p.kind for p in result.problems] == [ProblemKind.INTERNAL]
    assert "does not parse" in result.problems[0].message


def test_a_crashing_rule_does_not_silence_the_others():
    source = "import tensorflow as tf\ny = tf.identity(x)\n"
    result = Engine(rules=[Crash, UnwrapIdentity]).check(source, "t.py")
    assert [f.code for f in result.findings] == ["TFX901"]
    assert [p.kind for p in result.problems] == [ProblemKind.INTERNAL]
    assert "TFX903" in result.problems[0].message


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# tffix: ignore", True),
        ("# tffix: ignore[TFX901]", True),
        ("# tffix: ignore[TFX301, TFX901]", True),
        ("# tffix: ignore[TFX301]", False),
        ("# a comment", False),
    ],
)
def test_suppression_comments(comment, suppressed):
    source = f"import tensorflow as tf\ny = tf.identity(x)  {comment}\n"
    assert (Engine(rules=[UnwrapIdentity]).check(source, "t.py").findings == ()) is suppressed


def test_file_level_suppression():
    source = "# tffix: ignore-file\nimport tensorflow as tf\ny = tf.identity(x)\n"
    assert Engine(rules=[UnwrapIdentity]).check(source, "t.py").findings == ()


def test_fixes_settle_and_are_idempotent():
    source = "import tensorflow as tf\ny = tf.identity(tf.identity(tf.identity(x)))\n"
    result = Engine(rules=[UnwrapIdentity]).fix(source, "t.py")
    assert result.fixed_source == "import tensorflow as tf\ny = x\n"
    assert result.remaining == () and result.problems == ()
    assert fix(result.fixed_source) == result.fixed_source


def test_syntax_error_is_a_value_with_position_and_python2_hint():
    result = Engine(rules=[UnwrapIdentity]).check('import tensorflow as tf\nprint "x", tf.identity(1)\n', "old.py")
    (problem,) = result.problems
    assert problem.kind is ProblemKind.SYNTAX and problem.line == 2
    assert "Python 2" in problem.message


def test_calling_a_layer_is_not_calling_its_class():
    class FindDenseCalls(Rule):
        """Test rule: reports calls of keras.layers.Dense itself."""

        code = "TFX904"
        name = "find-dense"
        summary = "test"
        triggers = ("Dense",)

        def visit_Call(self, node: cst.Call) -> None:
            if self.is_call_to(node, "keras.layers.Dense"):
                self.report(node, "Dense")

    source = "from tensorflow.keras.layers import Dense\nh = Dense(2)(x)\n"
    (finding,) = Engine(rules=[FindDenseCalls]).check(source, "t.py").findings
    assert (finding.start.column, finding.end.column) == (4, 12)


def test_a_report_may_override_the_rule_severity():
    from tffix.model import Severity

    class Mixed(Rule):
        """Test rule: a warning by default, an error for identity of a literal."""

        code = "TFX905"
        name = "mixed"
        summary = "test"
        severity = Severity.WARNING
        triggers = ("identity",)

        def visit_Call(self, node: cst.Call) -> None:
            if self.is_call_to(node, "tf.identity"):
                literal = isinstance(node.args[0].value, cst.Integer)
                self.report(node, "identity", severity=Severity.ERROR if literal else None)

    source = "import tensorflow as tf\na = tf.identity(1)\nb = tf.identity(x)\n"
    findings = Engine(rules=[Mixed]).check(source, "t.py").findings
    assert [f.severity for f in findings] == [Severity.ERROR, Severity.WARNING]


def test_suppression_counts_lines_as_python_does_not_as_splitlines():
    # A form feed is whitespace to Python but a line break to str.splitlines.
    source = "import tensorflow as tf\n\x0c\ny = tf.identity(x)  # tffix: ignore[TFX901]\n"
    assert Engine(rules=[UnwrapIdentity]).check(source, "t.py").findings == ()


class ExplicitOnlyIdentity(UnwrapIdentity):
    """Test rule that reports no bug: selected only when a select entry is its full code."""

    code = "TFX906"
    name = "explicit-only-identity"
    default_selected = False


@pytest.mark.parametrize(
    ("select", "ignore", "selected"),
    [
        (("TFX",), (), False),  # the default selection: every rule but this one
        (("ALL",), (), False),
        (("TFX9",), (), False),
        (("TFX90",), (), False),
        (("TFX906",), (), True),
        (("TFX", "TFX906"), (), True),  # extend-select adds it to the default
        (("TFX906",), ("TFX9",), True),  # the more specific select wins, as for every rule
        (("TFX906",), ("TFX906",), False),
    ],
)
def test_a_rule_not_selected_by_default_runs_only_when_its_code_is_selected(select, ignore, selected):
    from tffix.config import Settings

    settings = Settings(select=select, ignore=ignore)
    assert settings.is_selected(ExplicitOnlyIdentity) is selected
    source = "import tensorflow as tf\ny = tf.identity(x)\n"
    codes = {f.code for f in Engine(settings, rules=[UnwrapIdentity, ExplicitOnlyIdentity]).check(source, "t.py").findings}
    assert ("TFX906" in codes) is selected


def test_rules_handed_to_the_engine_without_settings_are_selected_by_their_codes():
    source = "import tensorflow as tf\ny = tf.identity(x)\n"
    assert [f.code for f in Engine(rules=[ExplicitOnlyIdentity]).check(source, "t.py").findings] == ["TFX906"]
    assert ExplicitOnlyIdentity not in Engine(rules=None).rules


def test_production_rules_that_report_no_bug_are_out_of_the_default_selection():
    from tffix.config import Settings
    from tffix.registry import rule_by_code

    assert rule_by_code("TFX103").default_selected is False
    assert not Settings().is_selected("TFX103") and Settings(select=("TFX103",)).is_selected("TFX103")
    assert "TFX103" not in {rule.code for rule in Engine().rules}
    assert Settings().is_selected("TFX101")
