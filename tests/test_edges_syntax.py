"""Syntax errors are reported at the error itself (Python's own parser says where), with a short message."""

from __future__ import annotations

import pytest

from tffix.engine import Engine, parse
from tffix.model import ProblemKind


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        # LibCST said 3:10 and listed 33 tokens it expected.
        ('import tensorflow as tf\nprint "x"\nx = 1\n', 2, 1, "Python 2 print statement (tffix reads Python 3 only)"),
        # LibCST said 4:5.
        ("import tensorflow as tf\ndef f(:\n    pass\n\n", 2, 7, "invalid syntax"),
        ("import tensorflow as tf\nx = 1\n  y = 2\n", 3, None, "unexpected indent"),
        ("import tensorflow as tf\nexec 'x = 1'\n", 2, 1, "Python 2 exec statement (tffix reads Python 3 only)"),
        ("import tensorflow as tf\nname = 'é' + (é é)\n", 2, 15, "invalid syntax"),  # columns count characters
    ],
)
def test_syntax_error_is_placed_at_the_error_with_pythons_message(source, line, column, message):
    problem = parse(source, "bad.py").problem
    assert problem is not None and problem.kind is ProblemKind.SYNTAX
    assert problem.line == line
    if column is not None:
        assert problem.column + 1 == column
    assert message in problem.message
    assert "expected one of" not in problem.message


def test_the_engine_reports_the_same_place_and_message():
    (problem,) = Engine().check('import tensorflow as tf\nprint "x", tf.cast(x, tf.int32)\n', "old.py").problems
    assert str(problem) == "old.py:2:1: syntax error: does not parse: Python 2 print statement (tffix reads Python 3 only)"
