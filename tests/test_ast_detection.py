"""Rules that detect on Python's `ast` (`Rule.detect`, `tffix.ast_detection`) find exactly what their LibCST
visitors find, with the same spans, messages, severities and fixes; they decide typical files without LibCST and
leave doubtful ones to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tffix import engine as engine_module
from tffix.ast_detection import NamesOnAst, full_name
from tffix.config import Settings
from tffix.engine import Engine
from tffix.registry import all_rules
from tffix.rule import Rule

FIXTURES = Path(__file__).parent / "fixtures"
EVERY_RULE = ("ALL", *(r.code for r in all_rules() if not r.default_selected))
DETECTING = sorted(
    (rule for rule in all_rules() if rule.detect.__func__ is not Rule.detect.__func__),  # type: ignore[attr-defined]
    key=lambda rule: rule.code,
)

# Files the ast path decides: what each rule reports on typical code.
TYPICAL = {
    "TFX607": "import numpy as np\nimport tensorflow as tf\nx = np.zeros(3, dtype=np.float)\ny = x.astype(np.int)\n",
    "TFX608": "import numpy as onp\nimport tensorflow as tf\nlow = -onp.Inf\nm = onp.in1d(a, b)\nz = onp.NINF ** 2\n",
    "TFX609": (
        "import tensorflow.compat.v1 as tf\nfrom tensorflow.compat.v1 import layers\n"
        "def net(x):\n    h = tf.layers.dense(x, 4)\n    return layers.Dense(2)(h)\n"
    ),
    "TFX601": (
        "import tensorflow as tf\nfrom tensorflow.keras.optimizers import Adam\n"
        "a = tf.keras.optimizers.SGD(lr=0.1, momentum=0.9)\nb = Adam(lr = 1e-3 , learning_rate=2)\n"
    ),
}

# Files where a name's meaning, a position or a node LibCST has and `ast` lacks makes the ast path unsure, or
# could make it wrong: whatever each rule decides, the findings must be LibCST's.
DOUBTFUL = [
    # a name bound by an import and by something else
    "import numpy as np\nimport tensorflow as tf\ntry:\n    pass\nexcept ImportError:\n    np = None\nx = np.float\n",
    "import numpy as np\nimport tensorflow as tf\ndef f(np):\n    return np.float\ny = np.int\n",
    "import tensorflow as tf\ndef f():\n    import numpy as np\n    return np.float\n",
    "import tensorflow as tf\nclass C:\n    import numpy as np\n    x = np.float\n",
    # the builtin is rebound somewhere
    "import numpy as np\nimport tensorflow as tf\ndef f(float):\n    return np.float\nx = np.float\n",
    "import numpy as np\nimport tensorflow as tf\nfor int in range(3):\n    pass\nx = np.int\n",
    # dotted, relative and star imports; a class named like a package
    "import numpy.random\nimport tensorflow as tf\nx = numpy.float\n",
    "import tensorflow as tf\nfrom . import np\nx = np.float\n",
    "import numpy as np\nfrom tensorflow import *\nx = np.float\n",
    "import numpy as np\nimport tensorflow as tf\nclass numpy:\n    float = 1\nx = np.float + numpy.float\n",
    # positions: f-strings, parentheses, non-ASCII text before the node, continuation lines
    'import numpy as np\nimport tensorflow as tf\nprint(f"{np.float}")\nx = np.int\n',
    "import numpy as np\nimport tensorflow as tf\nx = ( np ).float\ny = (np.int)\nz = (\n    np\n).str\n",
    "import numpy as np\nimport tensorflow as tf\nname = 'é€😀'; x = np.float\n",
    "import numpy as np\nimport tensorflow as tf\nx = np.\\\n    float\n",
    "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=(0.1))\nsgd = tf.keras.optimizers.SGD(\n    lr\n    =\n    0.1,\n)\n",
    'import tensorflow as tf\nprint(f"{tf.keras.optimizers.Adam(lr=0.1)}")\n',
    # names that `ast` keeps as strings and LibCST visits as `Name` nodes
    "from tensorflow.compat.v1.layers import dense as d\nimport tensorflow as tf\nh = d(x, 4)\n",
    "from tensorflow.compat.v1.layers import dense\nimport tensorflow as tf\nh = f(dense=3)\n",
    "from tensorflow.compat.v1.layers import dense\nimport tensorflow as tf\ndef dense(x):\n    return x\n",
    "import tensorflow as tf\nfrom tensorflow.compat.v1.layers import core\nh = core.dense\n",
    "import tensorflow.compat.v1 as tf\nimport tensorflow as tf\nh = tf.layers.dense(x, 4)\n",
    # Keras 2 pinned
    "import tf_keras\nimport tensorflow.compat.v1 as tf\nh = tf.layers.dense(x, 4)\nopt = tf.keras.optimizers.Adam(lr=1)\n",
    "import tensorflow as tf\nimport tf_keras\nopt = tf_keras.optimizers.Adam(lr=1)\n",
    # suppressions and duplicates
    "import numpy as np\nimport tensorflow as tf\nx = np.float  # tffix: ignore[TFX607]\ny = np.float; z = np.float\n",
]


def _programs() -> list[tuple[str, str]]:
    found = [
        (str(p), p.read_text(encoding="utf-8"))
        for p in sorted(FIXTURES.glob("TFX6*/*/*.py"))
        if p.name in ("before.py", "valid.py")
    ]
    for rule in DETECTING:
        found += [(f"{rule.code}-valid-{i}", e.code) for i, e in enumerate(rule.VALID)]
        found += [(f"{rule.code}-invalid-{i}", e.code) for i, e in enumerate(rule.INVALID)]
    found += [(f"typical-{code}", source) for code, source in TYPICAL.items()]
    found += [(f"doubtful-{i}", source) for i, source in enumerate(DOUBTFUL)]
    return found


def _everything(engine: Engine, path: str, source: str) -> list[tuple]:
    """Each finding whole: span, message, severity, and its fix's title, applicability and edits."""
    result = engine.check(source, path)
    return [
        (f.code, f.start, f.end, f.message, f.severity, f.fix and (f.fix.title, f.fix.applicability, f.fix.edits))
        for f in result.findings
    ] + [str(p) for p in result.problems]


def test_some_rules_detect_on_ast():
    assert {rule.code for rule in DETECTING} >= {"TFX601", "TFX607", "TFX608", "TFX609"}


@pytest.mark.parametrize("path,source", _programs(), ids=[p for p, _ in _programs()])
def test_findings_on_ast_are_those_of_libcst(path, source):
    on_ast = Engine(Settings(select=EVERY_RULE))
    on_libcst = Engine(Settings(select=EVERY_RULE), detect_on_ast=False)  # the same gates, every rule on LibCST
    assert _everything(on_ast, path, source) == _everything(on_libcst, path, source)


@pytest.fixture
def libcst_forbidden(monkeypatch):
    def refuse(source: str, path: str):
        raise AssertionError("LibCST was asked to parse a file the ast path should decide")

    monkeypatch.setattr(engine_module, "parse", refuse)


@pytest.mark.parametrize("code", sorted(TYPICAL))
def test_typical_files_are_decided_without_libcst(code, libcst_forbidden):
    findings = Engine(Settings(select=(code,))).check(TYPICAL[code], "t.py").findings
    assert findings and {f.code for f in findings} == {code}


def test_a_doubtful_file_goes_to_libcst(monkeypatch):
    parsed = []
    real_parse = engine_module.parse
    monkeypatch.setattr(engine_module, "parse", lambda source, path: parsed.append(path) or real_parse(source, path))
    findings = Engine(Settings(select=("TFX607",))).check(DOUBTFUL[0], "t.py").findings
    assert parsed == ["t.py"]
    assert [f.start.line for f in findings] == [7]  # `np` may be None at run time, LibCST still reports it


def test_a_rule_whose_detection_on_ast_crashes_still_reports_from_libcst(monkeypatch):
    rule = next(rule for rule in DETECTING if rule.code == "TFX607")

    def crash(module):
        raise ValueError("bug")

    monkeypatch.setattr(rule, "detect", crash)
    findings = Engine(Settings(select=("TFX607",))).check(TYPICAL["TFX607"], "t.py").findings
    assert [f.start.line for f in findings] == [3, 4]


def test_fixes_of_findings_on_ast_are_made_on_libcst_when_asked():
    source = TYPICAL["TFX607"]
    result = Engine(Settings(select=("TFX607",))).check(source, "t.py")
    edits = [e for f in result.findings for e in f.fix.edits]  # type: ignore[union-attr]
    text = source
    for edit in sorted(edits, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    assert text == source.replace("np.float", "float").replace("np.int", "int")


def test_a_file_that_python_cannot_parse_is_left_to_libcst_which_reports_it():
    result = Engine(Settings(select=("TFX607",))).check("import numpy as np\nx = np.float(\n", "t.py")
    assert result.findings == () and [p.kind.value for p in result.problems] == ["syntax"]


def test_qualified_names_follow_module_level_imports_only():
    tree = ast.parse(
        "import numpy as np\nimport tensorflow.compat.v1 as tf\nimport tensorflow as tf\nfrom keras import layers as L\n"
        "import os.path\nx = 1\ndef f(y):\n    import json\n"
    )
    names = NamesOnAst(tree, "")
    assert names.qualified_path("np.float") == {"numpy.float"}
    assert names.qualified_path("tf.layers.dense") == {"tensorflow.compat.v1.layers.dense", "tensorflow.layers.dense"}
    assert names.qualified_path("L.Dense") == {"keras.layers.Dense"}
    assert names.qualified_path("x.shape") == frozenset()  # a local variable: no module path
    assert names.qualified_path("y") == frozenset()
    assert names.qualified_path("os.path.join") is None  # `import os.path`: not modelled
    assert names.qualified_path("json.dumps") is None  # imported inside a function


def test_full_names_are_libcsts():
    def name_of(expression: str) -> str | None:
        return full_name(ast.parse(expression, mode="eval").body)

    assert name_of("tf.zeros(3).shape") == "tf.zeros.shape"
    assert name_of("a.b[0].c") == "a.b.c"
    assert name_of("'x'.join") is None
