"""Cheap text tests run before parsing: can any rule fire on this text, and is it safe to parse at all?

The import gate. Rules see TensorFlow and Keras only through `tffix.names`, which gives an API name to a
qualified name that starts with `tensorflow`, `keras` or `tf_keras`; LibCST only gives such qualified names
to names bound by a statement in the file that spells one of those words as an identifier: an import
(`import tensorflow as tf`, `from keras import layers`) or, oddly, a binding of the bare word
(`keras = ...`, `def keras(): ...`). So a file in which none of the three words occurs as such an *origin*
cannot produce an API name, and no rule can fire on it. An occurrence is not an origin when it
- follows a `.`, a quote or an identifier character (`tf.keras`, `"keras.layers.Dense"`, `www.tensorflow.org`):
  an attribute, a string or part of another name never binds a name;
- is followed by `.` outside an import statement (`keras.Sequential(...)` in a docstring): an attribute
  access uses the word, it does not bind it;
- is the module of an import of TensorFlow's or Keras' own internals (`from tensorflow.python.ops import
  math_ops`, `from keras.src import ops`): the names it binds are `tf.python...`/`keras.src...`, which are
  not user API, and rules only ever match user-API names (that is the contract for rules: see
  `INTERNAL_MODULES`).
Every other occurrence counts, in code, comments or docstrings alike: the gate errs on the side of parsing.

The nesting guard. LibCST's parse time grows with the square of an expression's depth (a 1,000-deep list
takes tens of seconds) and its metadata and visitors recurse, so a file nested deeper than a real program
ever is gets a clear refusal instead of a parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import accumulate

from .names import canonical

# Modules that are TensorFlow's or Keras' implementation, not their user API: names imported from there never
# equal an API name that a rule matches. Canonical spelling (`tf.python.ops`, `keras.src.layers`).
INTERNAL_FIRST = frozenset({"python", "core", "compiler", "tsl", "tools", "src"})  # as `tf.X...`, `keras.X...`
INTERNAL_ANYWHERE = frozenset({"python", "py", "proto"})  # `tf.lite.python...`, `tf.security.fuzzing.py`

# An occurrence of one of the three words. Not after `.` `'` `"` `` ` `` `/` `-` or an identifier character, and not
# followed by `/x` or `-x`: no name is bound there (attribute, string, path, URL, `tf-keras`, another name).
_WORD = re.compile(r"(?<![\w.'\"`/-])(?:tensorflow|tf_keras|keras)\b(?![/-]\w)")
_IMPORT_WORD = re.compile(r"\b(?:import|from)\b")
_FROM_PREFIX = re.compile(r"(?:^|;)\s*from\s+$")
_BINDING_PREFIX = re.compile(r"\b(?:class|def|global|nonlocal|type|as)\s+$")
# What follows a name where it is bound: `=` `+=` `:` (annotation, `:=`, headers) `,` `)` `]` `}` (targets and
# patterns) `\` `;`, or ` in` (for), ` if` (case guard), ` as`.
_BINDING_SUFFIX = re.compile(r"[ \t]*(?:[-+*/%@&|^<>!]*=|[:,)\]};\\]|(?:in|if|as)\b)")
_DOTTED = re.compile(r"[\w.]+")
_AS_ALIAS = re.compile(r"\s+as\s+\w+")
_STATEMENT_KERAS = re.compile(r"[^\n(]*(?:\([^)]*\))?[^\n]*")
# Strings and comments, scanned from the start as the tokenizer does (prefixes such as r/b/f do not matter).
_STRING = re.compile(r"'(?:\\[\s\S]|[^'\\\n])*'|\"(?:\\[\s\S]|[^\"\\\n])*\"")
_LITERAL = re.compile(r"#[^\n]*|'\'\'(?:\\[\s\S]|[^\\])*?'\'\'|\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|" + _STRING.pattern)


def is_internal_name(name: str) -> bool:
    """Whether a canonical API name (`tf.python.ops.math_ops.cast`, `keras.src.ops`) is TensorFlow's or Keras'
    implementation rather than user API. Rules must never match such names: the gate relies on it."""
    parts = name.split(".")
    return len(parts) >= 2 and (
        parts[1] in INTERNAL_FIRST or parts[1].startswith("_") or not INTERNAL_ANYWHERE.isdisjoint(parts[2:])
    )


def is_internal_module(module: str) -> bool:
    """`tensorflow.python.ops`, `keras.src`, ...: a module whose names are not user API."""
    name = canonical(module)
    return name is not None and is_internal_name(name)


def imports_user_api(text: str) -> bool:
    """False only when no name in `text` can resolve to a TensorFlow or Keras user-API name."""
    return user_api_origin(text) is not None


def user_api_origin(text: str) -> re.Match | None:
    """The first occurrence of `tensorflow`, `keras` or `tf_keras` that may bind a user-API name."""
    # The strings and comments, scanned from the start only as far as the occurrences asked about: the first
    # import is near the top, and scanning the whole file cost a sixth of the text gates.
    literals: Iterator[re.Match] | None = None
    ahead: re.Match | None = None  # the first literal scanned that starts after the last occurrence asked about
    end = 0  # where the last literal starting before that occurrence ends
    for match in _WORD.finditer(text):
        if not _may_bind(text, match):
            continue
        if literals is None:
            literals = _LITERAL.finditer(text)
        while True:
            ahead = ahead or next(literals, None)
            if ahead is None or ahead.start() > match.start():
                break
            end, ahead = ahead.end(), None
        if match.start() >= end:  # not inside a string or a comment
            return match
    return None


def _may_bind(text: str, match: re.Match) -> bool:
    line_start = text.rfind("\n", 0, match.start()) + 1
    before = text[line_start:match.start()]
    if "#" in before and "'" not in before and '"' not in before:
        return False  # in a comment
    continued = text[max(0, line_start - 3):line_start].rstrip("\r\n").endswith("\\")
    if not continued and _IMPORT_WORD.search(before) is None:
        # `keras = ...`, `def keras`, `for keras in`...; not `keras.layers`, `keras(x)` or prose: those use it
        return bool(_BINDING_PREFIX.search(before) or _BINDING_SUFFIX.match(text, match.end()))
    module = _DOTTED.match(text, match.start()).group()  # type: ignore[union-attr]
    if not is_internal_module(module):
        return True
    if _FROM_PREFIX.search(before):
        # `from tensorflow.python import keras` binds the Keras API all the same.
        names = _STATEMENT_KERAS.match(text, match.start() + len(module)).group()  # type: ignore[union-attr]
        return canonical(module) == "tf.python" and re.search(r"\bkeras\b", names) is not None
    return not _AS_ALIAS.match(text, match.start() + len(module))  # `import tensorflow.python.x` binds `tensorflow`


# --- nesting -------------------------------------------------------------------------------------------------
MAX_BRACKET_DEPTH = 100
MAX_CHAIN = 200  # operators between two commas of one line: `a + a + ...`, `- - - 1` or `a.b.c...` nest that deep
_BRACKET = re.compile(r"[\[\](){}]")
_DEPTH = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}
_LONG_LINE = re.compile(rf"^.{{{MAX_CHAIN},}}$", re.MULTILINE)
_OPERATOR = re.compile(r"[-+*/%@&|^~<>.]|\b(?:if|and|or|not|lambda)\b")


def nesting_problem(text: str) -> str | None:
    """Why `text` is too deeply nested to parse safely, or None."""
    depth = _bracket_depth(text)
    if depth > MAX_BRACKET_DEPTH:
        depth = _bracket_depth(_LITERAL.sub("", text))  # the slower count, without strings and comments
        if depth > MAX_BRACKET_DEPTH:
            return f"brackets nested {depth} deep (limit {MAX_BRACKET_DEPTH})"
    for match in _LONG_LINE.finditer(text):
        segments = _STRING.sub("''", match.group()).split(",")
        operators = max(len(_OPERATOR.findall(segment)) for segment in segments)
        if operators > MAX_CHAIN:
            line = text.count("\n", 0, match.start()) + 1
            return f"line {line} chains {operators} operators (limit {MAX_CHAIN})"
    return None


def _bracket_depth(text: str) -> int:
    return max(accumulate(_DEPTH[b] for b in _BRACKET.findall(text)), default=0)
