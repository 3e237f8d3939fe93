"""TFX401: the target of `tape.gradient` is computed after the `with tf.GradientTape()` block ended.

## What it does

Reports `tape.gradient(target, ...)` whose target is computed after the tape's block. Only statements that
compute (a call or an operator in what they assign) lose the gradient: a Python alias or unpacking after the
block (`loss = outputs[0]`, also under `if isinstance(outputs, tuple) and len(outputs) == 1:`) is the very
tensor the tape recorded, and is not reported. Nor is work done in a `with tape:` block after the first one:
entering the tape again records it (measured: TF 2.21 gives the gradient of a persistent tape's loss computed
there).

## Why is this bad?

A tape records the operations run while its `with` block is open. A loss computed after the block from values
recorded inside it is not recorded: the gradient is None for every variable, so nothing trains, or the
optimizer raises.

## Measured TensorFlow behaviour

`tape.gradient(loss, variables)` returns None for every variable (measured: docs/tensorflow-behaviour.md,
GradientTape, "forward pass inside the tape, loss computed after the with block"; probe tape_cases.py
loss_outside), and a Keras optimizer given only None gradients raises `ValueError: No gradients provided for
any variable`. The same holds inside `@tf.function`. Updating a variable inside the tape (`x.assign_add`)
does NOT make the gradient None (probe assign_in_tape): only work done outside the block is lost.

## Fix safety

The fix moves into the end of the tape block exactly the statements the target depends on (transitively,
through names assigned after the block), in their order, and leaves every other statement where it is: a step
counter, a metric update or a print that the target does not read stays put. A target written as an expression
in the call itself (`tape.gradient(real_loss + fake_loss, ...)`) is computed outside the tape as well: the fix
computes it at the end of the block under a new name (`total_loss`) and passes that name. It is safe: the moved statements
compute the same values, now recorded. It is offered only when the reordering cannot change what any statement
sees (no statement left behind reads or writes what a moved one writes) and no moved statement itself takes a
gradient of the tape; otherwise the finding comes without a fix.
"""

from __future__ import annotations

import ast

import libcst as cst

from tffix.ast_facts import Facts, argument as ast_argument
from tffix.names import leaves
from tffix.rule import FailureKind, Fix, Invalid, Rewrite, Severity, Valid

from ._cst_utils import fresh_name, names_in
from ._flow import Flow, any_touch, chain, elements, has_operation
from ._tape import (
    GRADIENT_METHODS,
    Gradient,
    Tape,
    TapeRule,
    appended_to_body,
    ast_tapes,
    blank_lines_above,
    computes,
    method_calls,
    without_blank_lines,
)

# The failures this rule is the main cause of, as `tffix explain` recognises them (other rules that can cause
# them list these objects too).
NO_GRADIENTS = FailureKind(
    "no-gradients", "Every gradient is None",
    """The optimizer got no gradient at all: nothing connects the loss to the variables through
    operations the tape recorded. Usual causes: the loss is computed after the `with tf.GradientTape()`
    block, a constant was never `tape.watch`ed, or the value went through NumPy or an integer cast,
    which cut the gradient.""",
    r"No gradients provided for any variable",
)

NONE_GRADIENT_USED = FailureKind(
    "none-gradient-used", "A None value (a missing gradient?) was used as a tensor",
    """A value that should be a tensor is None. When it comes from `tape.gradient(...)`, the gradient is None
    because nothing connects the target to the source through operations the tape recorded: the target
    was computed after the `with tf.GradientTape()` block, the source is a constant that was never
    `tape.watch`ed, or the value went through NumPy or an integer cast.""",
    r"Attempt to convert a value \(None\) with an unsupported type|unsupported operand type\(s\) for .*'NoneType'",
)

# Failures other rules are the main cause of, imported after this module's own (those modules import them).
from .tfx403_gradient_cutting_operation_in_tape import GRADIENT_OF_NUMPY_VALUE  # noqa: E402


class WorkOutsideTape(TapeRule):
    """Statements after a `with tf.GradientTape() as tape:` block compute the target of `tape.gradient`.

    They are not recorded, so the gradient is None. The fix moves them (and only them) into the block.
    """

    code = "TFX401"
    name = "work-outside-tape"
    summary = "The gradient target is computed after the GradientTape block, so its gradient is None"
    explains = (NO_GRADIENTS, GRADIENT_OF_NUMPY_VALUE, NONE_GRADIENT_USED)
    fix = Fix.sometimes("safe")
    severity = Severity.WARNING
    # It reports at the tape's gradient call.
    anchors = leaves("tf.GradientTape")
    local = True  # its findings are the union of its parts' (see Rule.local)

    VALID = (
        Valid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    loss = tf.reduce_mean(model(x))\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
            "optimizer.apply_gradients(zip(grads, model.trainable_variables))\n"
            "step.assign_add(1)\n"
        ),
        Valid(  # nested tapes: the inner gradient is taken inside the outer block
            "import tensorflow as tf\n"
            "with tf.GradientTape() as outer:\n"
            "    with tf.GradientTape() as inner:\n"
            "        y = x * x\n"
            "    dy = inner.gradient(y, x)\n"
            "d2y = outer.gradient(dy, x)\n"
        ),
        Valid(  # a Python alias after the block records nothing new, and loses nothing
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    outputs = [model(x)]\n"
            "loss = outputs[0]\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n"
        ),
        Valid(  # unpacking a one-element tuple under a test that calls Python builtins computes nothing either
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    outputs = layer(x)\n"
            "if isinstance(outputs, tuple) and len(outputs) == 1:\n"
            "    outputs = outputs[0]\n"
            "grads = tape.gradient(outputs, layer.trainable_variables)\n"
        ),
    )
    INVALID = (
        Invalid(
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "loss = loss_fn(y, logits)\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "    loss = loss_fn(y, logits)\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
        ),
        Invalid(  # the step counter does not feed the loss and stays where it is
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "step.assign_add(1)\n"
            "loss = loss_fn(y, logits)\n"
            "loss += 1e-4 * tf.add_n([tf.nn.l2_loss(v) for v in model.trainable_variables])\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    logits = model(x)\n"
            "    loss = loss_fn(y, logits)\n"
            "    loss += 1e-4 * tf.add_n([tf.nn.l2_loss(v) for v in model.trainable_variables])\n"
            "step.assign_add(1)\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
        ),
        Invalid(  # the target is an expression of the gradient call
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    real_loss = bce(ones, real)\n"
            "    fake_loss = bce(zeros, fake)\n"
            "grads = tape.gradient(real_loss + fake_loss, discriminator.trainable_variables)\n",
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    real_loss = bce(ones, real)\n"
            "    fake_loss = bce(zeros, fake)\n"
            "    total_loss = real_loss + fake_loss\n"
            "grads = tape.gradient(total_loss, discriminator.trainable_variables)\n",
        ),
        Invalid(  # a statement left behind reads what would move: reported, not fixed
            "import tensorflow as tf\n"
            "with tf.GradientTape() as tape:\n"
            "    y = model(x)\n"
            "print(loss)\n"
            "loss = tf.reduce_mean(y)\n"
            "grads = tape.gradient(loss, model.trainable_variables)\n",
            None,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self.flow = Flow(self)

    @classmethod
    def can_fire(cls, facts: Facts) -> bool:
        """A finding is a gradient of a tape taken in a statement after its `with` block, with statements in
        between that name the target's name (what computes it writes it: `backward_slice`), or a target computed in
        the call itself (`tape.gradient(a + b)`)."""
        for tape in ast_tapes(facts):
            for call, after in tape.gradients:
                if after is None:
                    continue
                if _computed_in_call(call):
                    return True
                roots = _target_roots(call)  # what computes the target must write one of these names
                if roots and any(
                    type(n) is ast.Name and n.id in roots
                    for statement in tape.block[tape.index + 1 : after] for n in ast.walk(statement)
                ):
                    return True
        return False

    def check_tape(self, tape: Tape) -> None:
        for gradient in tape.gradients:
            if gradient.index is not None:
                self._check_gradient(tape, gradient)

    def _check_gradient(self, tape: Tape, gradient: Gradient) -> None:
        targets = [chain(e) for e in elements(gradient.target)]
        expression = None  # a target computed in the gradient call itself: `tape.gradient(a + b, ...)`
        if any(t is None for t in targets):
            if isinstance(gradient.target, (cst.List, cst.Tuple)) or not has_operation(gradient.target):
                return
            expression = gradient.target
        between = tape.block[tape.index + 1 : gradient.index]
        needed = self.flow.reads(expression) if expression is not None else set(targets)
        moved, _ = self.flow.backward_slice(between, needed)  # type: ignore[arg-type]
        # `with tape:` enters the same tape again: what it runs is recorded (its inputs may still not be)
        reentered = {i for i in moved if _reenters(between[i], tape.name)}
        if expression is None and not any(computes(between[i]) for i in moved if i not in reentered):
            return
        method = f"`{tape.name}.{gradient.call.func.attr.value}(...)`"  # type: ignore[attr-defined]
        block = f"the `with tf.GradientTape() as {tape.name}:` block"
        if expression is None:
            shown = ", ".join(f"`{t}`" for t in targets)
            message = f"{shown} is computed after {block} ended: the tape did not record it, so {method} is None"
        else:
            message = (
                f"the target is computed in the {method} call, after {block} ended: the tape did not record it, "
                "so the gradient is None"
            )
        rewrite = None
        if not reentered and self._can_move(tape, between, moved):
            rewrite = self._move(tape, between, moved, gradient if expression is not None else None)
        self.report(gradient.call, message, rewrite=rewrite)

    def _can_move(self, tape: Tape, between, moved: list[int]) -> bool:
        if not isinstance(tape.with_node.body, cst.IndentedBlock):
            return False
        for index in moved:
            statement = between[index]
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                return False
            if method_calls(statement, tape.name, GRADIENT_METHODS):
                return False
        for stay in (i for i in range(len(between)) if i not in moved):
            touched = self.flow.reads(between[stay]) | self.flow.writes(between[stay])
            later = [between[i] for i in moved if i > stay]
            if any(any_touch(touched, self.flow.writes(s)) for s in later):
                return False
        return True

    def _move(self, tape: Tape, between, moved: list[int], expression_of: Gradient | None) -> Rewrite:
        """Move `between[i]` for i in `moved` to the end of the tape block; with `expression_of`, also compute
        that gradient's target expression there, under a new name the call then uses."""
        statements = [without_blank_lines(between[i]) for i in moved]
        changes: dict[cst.CSTNode, object] = {}
        if expression_of is not None:
            name = fresh_name(("total_loss", "objective", "gradient_target"), names_in(self.module))  # type: ignore[arg-type]
            target = cst.AssignTarget(cst.Name(name))
            statements.append(cst.SimpleStatementLine([cst.Assign([target], expression_of.target)]))
            changes[expression_of.target] = cst.Name(name)
        changes[tape.with_node] = lambda updated: appended_to_body(updated, statements)
        # The blank lines above a moved statement stay with the statement that now follows the tape block.
        rest = [*between, tape.block[tape.index + len(between) + 1]]
        for index in moved:
            blank = blank_lines_above(between[index])
            following = next(rest[i] for i in range(index + 1, len(rest)) if i not in moved)
            changes[between[index]] = cst.RemovalSentinel.REMOVE
            if blank and not blank_lines_above(following) and following not in changes:
                changes[following] = lambda updated, blank=blank: updated.with_changes(
                    leading_lines=[*blank, *updated.leading_lines]
                )
        return Rewrite.replace("Move the computation of the target into the tape block", changes)


def _computed_in_call(call: ast.Call) -> bool:
    """The gradient's target is an expression that computes (`has_operation`), not a list or tuple of targets."""
    target = ast_argument(call, "target", 0)
    if target is None or type(target) in (ast.List, ast.Tuple):
        return False
    return any(type(n) in (ast.Call, ast.BinOp, ast.UnaryOp) for n in ast.walk(target))


def _target_roots(call: ast.Call) -> set[str]:
    """The names the gradient's targets (`elements`: a list or tuple of them, or one) are chains on (`loss`,
    `self` of `self.loss`); empty when one is not a name or attribute chain (no finding then, unless computed)."""
    target = ast_argument(call, "target", 0)
    if target is None:
        return set()
    roots = set()
    for element in target.elts if type(target) in (ast.List, ast.Tuple) else [target]:  # type: ignore[attr-defined]
        if type(element) is ast.Starred:
            element = element.value  # type: ignore[attr-defined]
        while type(element) is ast.Attribute:
            element = element.value  # type: ignore[attr-defined]
        if type(element) is not ast.Name:
            return set()
        roots.add(element.id)  # type: ignore[attr-defined]
    return roots


def _reenters(statement: cst.CSTNode, tape_name: str) -> bool:
    """`with tape:` (without `as`): the block records on the tape again."""
    return isinstance(statement, cst.With) and any(
        chain(item.item) == tape_name and item.asname is None for item in statement.items
    )
