"""Repair patterns for tensors and TF1 feeds: integer labels fed to a one-hot placeholder and any feed shaped
unlike its placeholder, matmul of vectors or swapped dimensions, elementwise ops and the raw cross-entropy
ops on different shapes, a hard-coded reshape size, and a conv/pool window larger than its input
(issue 15's patterns 3, 7, 8, 9, 10 and 11).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst

from .crash import Candidate, Crash, is_integer_labels, observed_shape, product, wrapped
from .source import Edit, Source, argument, literal, shape_text


def _feeds(source: Source, crash: Crash) -> list[tuple[str, dict, dict, list[cst.DictElement]]]:
    """(variable, placeholder info, fed value info, the dict entries in the file that feed it) for each
    mismatched feed at the crash."""
    site = crash.site("run")
    if site is None:
        return []
    mismatched = []
    for item in site["args"].get("feed_dict") or []:
        key, value = item.get("key") or {}, item.get("value") or {}
        if not key.get("placeholder") or value.get("shape") is None or key.get("shape") is None:
            continue
        placeholder, fed = key["shape"], value["shape"]
        if len(placeholder) == len(fed) and all(p is None or p == f for p, f in zip(placeholder, fed)):
            continue
        variables = [n for n, v in crash.locals.items() if isinstance(v, dict) and v.get("placeholder") == key["placeholder"]]
        entries = []
        for mapping in source.dicts:
            for element in mapping.elements:
                if isinstance(element, cst.DictElement) and source.code(element.key) in variables:
                    entries.append(element)
        if entries:
            mismatched.append((variables[0], key, value, entries))
    return mismatched


def onehot_feed(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for variable, key, value, entries in _feeds(source, crash):
        placeholder, fed = key["shape"], value["shape"]
        if len(placeholder) != 2 or not placeholder[1] or placeholder[1] < 2 or not is_integer_labels(value):
            continue
        if len(fed) > 2 or (len(fed) == 2 and fed[1] != 1) or value.get("max", 0) >= placeholder[1]:
            continue
        np_name, imports = source.numpy()
        dtype = key.get("dtype", "float32")
        index = "{}" if len(fed) == 1 and value["dtype"].startswith(("int", "uint")) else \
            np_name + ".asarray({}).reshape(-1).astype(int)"
        template = f"{np_name}.eye({placeholder[1]}, dtype={np_name}.{dtype})[" + index + "]"
        here = [e for e in entries if source.on_line(e, crash.line)]
        for chosen, title, rank in ((entries, "every feed", 1.0), (here, "the feed that crashed", 1.5)):
            if chosen:
                candidates.append(Candidate(
                    "onehot-feed", f"one-hot the integer labels fed to {variable} ({placeholder[1]} classes) at {title}",
                    (*(wrapped(source, e.value, template) for e in chosen), *imports), rank,
                ))
    return candidates


def feed_shape(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for variable, key, value, entries in _feeds(source, crash):
        placeholder, fed = key["shape"], value["shape"]
        if is_integer_labels(value) and len(placeholder) == 2 and (placeholder[1] or 0) > 1 and len(fed) == 1:
            continue  # pattern 3
        np_name, imports = source.numpy()
        if placeholder[0] is None and None not in placeholder[1:] and product(fed) is not None \
                and product(fed) % max(1, product(placeholder[1:]) or 1) == 0 and \
                (len(fed) < 1 or product(fed[1:]) == product(placeholder[1:]) or list(fed) == list(placeholder[1:])):
            template = np_name + ".reshape({}, " + shape_text([-1, *placeholder[1:]]) + ")"
            candidates.append(Candidate(
                "feed-shape", f"reshape what is fed to {variable} to its placeholder's {shape_text(placeholder)}",
                (*(wrapped(source, e.value, template) for e in entries), *imports), 1.0,
            ))
        # or declare the placeholder with the data's shape
        for call in source.calls_named("placeholder"):
            statement = source.statement_of(call)
            if statement is None or not any(
                isinstance(s, cst.Assign) and any(source.code(t.target) == variable for t in s.targets)
                for s in statement.body
            ):
                continue
            arg = argument(call, 1, "shape")
            if arg is None:
                continue
            new = "[None, " + ", ".join(str(d) for d in fed[1:]) + "]"
            candidates.append(Candidate(
                "feed-shape", f"declare {variable}'s placeholder with the shape of the data, {new}",
                (source.replace(arg.value, new),), 2.0,
            ))
    return candidates


# --- 7. matmul of vectors or with swapped dimensions ---------------------------------------------------------
def matmul(source: Source, crash: Crash) -> list[Candidate]:
    if "MatMul" not in crash.message and "matmul" not in crash.message.lower() and "In[0]" not in crash.message:
        return []
    candidates = []
    tf_name, imports = source.tensorflow()
    site = crash.site("matmul")
    for call in source.calls_named("matmul", line=crash.line):
        a_arg, b_arg = argument(call, 0, "a"), argument(call, 1, "b")
        if a_arg is None or b_arg is None:
            continue
        sa = observed_shape(site["args"].get("a")) if site else observed_shape(crash.value(a_arg.value, source))
        sb = observed_shape(site["args"].get("b")) if site else observed_shape(crash.value(b_arg.value, source))
        candidates.extend(_matmul_candidates(source, call, a_arg.value, b_arg.value, sa, sb, tf_name, imports, True))
    for binop in source.binops:
        if isinstance(binop.operator, cst.MatrixMultiply) and source.on_line(binop, crash.line):
            sa, sb = observed_shape(crash.value(binop.left, source)), observed_shape(crash.value(binop.right, source))
            candidates.extend(_matmul_candidates(source, binop, binop.left, binop.right, sa, sb, tf_name, imports, False))
    return candidates


def _transposed(tf_name: str, code: str, shape) -> str:
    """The last two axes swapped: tf.transpose for a matrix, matrix_transpose for a batch of them."""
    if shape is not None and len(shape) > 2:
        return f"{tf_name}.linalg.matrix_transpose({code})"
    return f"{tf_name}.transpose({code})"


def _matmul_candidates(source, node, a, b, sa, sb, tf_name, imports, is_call) -> list[Candidate]:
    options: list[tuple[str, tuple[Edit, ...], bool]] = []
    code_a, code_b = source.code(a), source.code(b)

    def fits(x, y) -> bool | None:
        if x is None or y is None:
            return None
        return len(x) >= 2 and len(y) >= 2 and x[-1] == y[-2]

    ta = [*sa[:-2], sa[-1], sa[-2]] if sa is not None and len(sa) >= 2 else sa
    tb = [*sb[:-2], sb[-1], sb[-2]] if sb is not None and len(sb) >= 2 else sb
    if sa is not None and len(sa) == 1:
        options.append(("make the vector a row: expand_dims(a, 0)",
                        (source.replace(a, f"{tf_name}.expand_dims({code_a}, 0)"),), fits([1, *sa], sb) is not False))
    if sb is not None and len(sb) == 1:
        options.append(("make the vector a column: expand_dims(b, -1)",
                        (source.replace(b, f"{tf_name}.expand_dims({code_b}, -1)"),), fits(sa, [*sb, 1]) is not False))
    if is_call:
        options.append(("transpose the second operand (transpose_b=True)",
                        (Edit(source.span(b)[1], source.span(b)[1], ", transpose_b=True"),), fits(sa, tb) is not False))
    else:
        options.append(("transpose the second operand", (source.replace(b, _transposed(tf_name, code_b, sb)),),
                        fits(sa, tb) is not False))
    options.append(("swap the operands", (source.replace(a, code_b), source.replace(b, code_a)), fits(sb, sa) is not False))
    if is_call:
        options.append(("transpose the first operand (transpose_a=True)",
                        (Edit(source.span(b)[1], source.span(b)[1], ", transpose_a=True"),), fits(ta, sb) is not False))
    else:
        options.append(("transpose the first operand", (source.replace(a, _transposed(tf_name, code_a, sa)),),
                        fits(ta, sb) is not False))
    return [
        Candidate("matmul", title, (*edits, *imports), 1.0 + index * 0.1 + (0 if plausible else 5))
        for index, (title, edits, plausible) in enumerate(options)
        if plausible
    ]


# --- 9. an elementwise op on tensors of different shapes -----------------------------------------------------
_INCOMPATIBLE = re.compile(r"Incompatible shapes|could not be broadcast|Dimensions must be equal")


_ELEMENTWISE = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)


def elementwise(source: Source, crash: Crash) -> list[Candidate]:
    if not _INCOMPATIBLE.search(crash.message):
        return []
    candidates = []
    pairs = []
    for binop in source.binops:
        if isinstance(binop.operator, _ELEMENTWISE) and source.on_line(binop, crash.line):
            pairs.append((binop.left, binop.right))
    for call in source.calls_named("add", "subtract", "multiply", "divide", "squared_difference", line=crash.line):
        if source.is_api(call, "tf.") and len(call.args) >= 2:
            pairs.append((call.args[0].value, call.args[1].value))
    for left, right in pairs:
        il, ir = crash.value(left, source), crash.value(right, source)
        sl, sr = observed_shape(il), observed_shape(ir)
        if sl is None or sr is None or sl == sr:
            continue
        for node, info, shape, other_node, other in ((right, ir, sr, left, sl), (left, il, sl, right, sr)):
            numpy = info.get("kind") == "ndarray"
            lib, imports = source.numpy() if numpy else source.tensorflow()
            code, other_code = source.code(node), source.code(other_node)
            if len(shape) == len(other) - 1 and list(other[: len(shape)]) == list(shape):
                candidates.append(Candidate("elementwise", f"add a trailing axis to {code} to line it up with {other_code}",
                                            (source.replace(node, f"{lib}.expand_dims({code}, -1)"), *imports), 1.0))
            if len(shape) == len(other) + 1 and shape[-1] == 1 and list(shape[:-1]) == list(other):
                candidates.append(Candidate("elementwise", f"drop {code}'s trailing axis of 1",
                                            (source.replace(node, f"{lib}.squeeze({code}, -1)"), *imports), 0.9))
            if len(shape) == 2 and list(reversed(shape)) == list(other):
                candidates.append(Candidate("elementwise", f"transpose {code}",
                                            (source.replace(node, f"{lib}.transpose({code})"), *imports), 1.5))
            elif product(shape) == product(other) and product(shape) is not None:
                new = shape_text(other)
                candidates.append(Candidate("elementwise", f"reshape {code} to {new}",
                                            (source.replace(node, f"{lib}.reshape({code}, {new})"), *imports), 2.0))
    return candidates


# --- 9b. the raw cross-entropy ops: labels shaped unlike the logits (elementwise over the two) ---------------
_CROSS_ENTROPY = ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits",
                  "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
                  "sparse_softmax_cross_entropy_with_logits")


def _same(a: Sequence, b: Sequence) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def cross_entropy(source: Source, crash: Crash) -> list[Candidate]:
    candidates = []
    for call in source.calls_named(*_CROSS_ENTROPY, line=crash.line):
        if not source.is_api(call, "tf.") and source.callee(call):
            continue
        leaf = source.leaf(call)
        labels, logits = argument(call, 0, "labels"), argument(call, 1, "logits")
        if labels is None or logits is None:
            continue
        site = crash.site(leaf)
        il = (site or {}).get("args", {}).get("labels") or crash.value(labels.value, source)
        ig = (site or {}).get("args", {}).get("logits") or crash.value(logits.value, source)
        sl, sg = observed_shape(il), observed_shape(ig)
        if sl is None or sg is None:
            continue
        tf_name, imports = source.tensorflow()
        code = source.code(labels.value)
        if leaf.startswith("sparse"):
            if len(sl) == len(sg) and sl[-1] == 1:
                candidates.append(Candidate("elementwise", "drop the labels' trailing axis of 1 (sparse labels are (batch,))",
                                            (source.replace(labels.value, f"{tf_name}.squeeze({code}, -1)"), *imports), 1.0))
            continue
        if leaf.startswith("softmax") and len(sl) == len(sg) - 1 and is_integer_labels(il):
            func = source.code(call.func)
            candidates.append(Candidate("elementwise", "integer class labels: the sparse softmax cross-entropy",
                                        (source.replace(call.func, func[: -len(leaf)] + "sparse_softmax_cross_entropy_with_logits"),),
                                        1.0))
            continue
        if len(sl) == len(sg) - 1 and sg[-1] == 1 and _same(sl, sg[:-1]):
            candidates.append(Candidate("elementwise", "give the labels the logits' trailing axis of 1",
                                        (source.replace(labels.value, f"{tf_name}.expand_dims({code}, -1)"), *imports), 1.0))
        elif len(sl) == len(sg) + 1 and sl[-1] == 1 and _same(sl[:-1], sg):
            candidates.append(Candidate("elementwise", "drop the labels' trailing axis of 1, as the logits have none",
                                        (source.replace(labels.value, f"{tf_name}.squeeze({code}, -1)"), *imports), 1.0))
    return candidates


# --- 10. a hard-coded reshape size -------------------------------------------------------------------------------
_RESHAPE_TF = re.compile(r"Input to reshape is a tensor with (?P<size>\d+) values")


_RESHAPE_NP = re.compile(r"cannot reshape array of size (?P<size>\d+) into shape")


def reshape_size(source: Source, crash: Crash) -> list[Candidate]:
    match = _RESHAPE_TF.search(crash.message) or _RESHAPE_NP.search(crash.message)
    if match is None:
        return []
    size = int(match.group("size"))
    candidates = []
    for call in source.calls_named("reshape", line=crash.line):
        is_method = isinstance(call.func, cst.Attribute) and not source.callee(call) & {"tf.reshape", "numpy.reshape"}
        positional = [a for a in call.args if a.keyword is None]
        if is_method:
            receiver = call.func.value  # type: ignore[union-attr]
            if len(positional) == 1 and isinstance(positional[0].value, (cst.Tuple, cst.List)):
                dims = [e.value for e in positional[0].value.elements]
            else:
                dims = [a.value for a in positional]
        else:
            receiver = positional[0].value if positional else None
            shape_arg = argument(call, 1, "shape", "newshape")
            if shape_arg is None or not isinstance(shape_arg.value, (cst.Tuple, cst.List)):
                continue
            dims = [e.value for e in shape_arg.value.elements]
        try:
            values = [literal(d) for d in dims]
        except ValueError:
            values = None
        # a literal that should follow the data: make it -1 (the batch first)
        if values is not None and -1 not in values:
            for index, (node, value) in enumerate(zip(dims, values)):
                rest = product([v for j, v in enumerate(values) if j != index])
                if rest and size % rest == 0:
                    candidates.append(Candidate("reshape-size", f"compute the dimension {value} from the data (-1)",
                                                (source.replace(node, "-1"),), 1.0 + 0.1 * index))
        # a batch size held in a variable (the last batch is smaller): take it from the tensor itself
        if values is None and receiver is not None and dims:
            try:
                rest = [literal(d) for d in dims[1:]]
            except ValueError:
                rest = None
            if rest is not None and -1 in rest and isinstance(dims[0], (cst.Name, cst.Attribute)):
                tf_call = bool(source.callee(call) & {"tf.reshape"})
                if tf_call:
                    tf_name, imports = source.tensorflow()
                    new = f"{tf_name}.shape({source.code(receiver)})[0]"
                else:
                    new, imports = f"{source.code(receiver)}.shape[0]", []
                candidates.append(Candidate("reshape-size", f"take the batch size from the data ({new})",
                                            (source.replace(dims[0], new), *imports), 1.5))
        # the sizes after the batch from the tensor's own shape
        site = crash.site("reshape")
        info = site["args"].get("tensor") if site else (crash.value(receiver, source) if receiver is not None else None)
        shape = observed_shape(info)
        if values is not None and shape and None not in shape and -1 in values[:1] and len(values) >= 2:
            if len(values) == 2:
                new = [-1, product(shape[1:])]
            elif len(values) == len(shape):
                new = [-1, *shape[1:]]
            else:
                new = None
            if new and new != list(values):
                edits = tuple(source.replace(node, str(v)) for node, v, old in zip(dims, new, values) if v != old)
                candidates.append(Candidate("reshape-size", f"reshape to {shape_text(new)}, from the tensor's shape",
                                            edits, 2.0))
    return candidates


# --- 11. a conv/pool window larger than its input ----------------------------------------------------------------
_NEGATIVE = re.compile(r"negative|Negative dimension|would be zero or negative|output size is too small", re.I)


_WINDOWED = ("Conv1D", "Conv2D", "Conv3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
             "AveragePooling2D", "AveragePooling3D", "MaxPool1D", "MaxPool2D", "AvgPool2D", "SeparableConv2D",
             "DepthwiseConv2D")


def conv_window(source: Source, crash: Crash) -> list[Candidate]:
    if not _NEGATIVE.search(crash.message):
        return []
    named = re.search(r"calling (\w+)\.call\(\)|layer '?(\w+)'?", crash.message)
    first = (named.group(1) or "") if named else ""
    layers = [c for c in source.calls_named(*_WINDOWED) if source.is_api(c, "keras.") or not source.callee(c)]
    layers.sort(key=lambda c: (source.leaf(c) != first, -source.span(c)[0]))
    candidates = []
    for index, call in enumerate(layers):
        padding = argument(call, None, "padding")
        if padding is not None:
            try:
                if literal(padding.value) == "same":
                    continue
            except ValueError:
                continue
            edit = source.replace(padding.value, '"same"')
        else:
            end = source.span(call)[1] - 1  # before the closing parenthesis
            separator = ", " if call.args else ""
            if call.args and call.args[-1].comma is not cst.MaybeSentinel.DEFAULT:
                separator = " "
            edit = Edit(end, end, f'{separator}padding="same"')
        candidates.append(Candidate("conv-window", f"pad {source.leaf(call)} (padding=\"same\") so its window fits",
                                    (edit,), 1.0 + 0.1 * index))
    if len(candidates) > 1:  # every window padded, when one is not enough
        edits = tuple(e for c in candidates for e in c.edits)
        candidates.append(Candidate("conv-window", "pad every conv/pool layer (padding=\"same\")", edits, 1.0 + 0.1 * len(candidates)))
    return candidates
