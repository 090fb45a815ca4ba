"""Argo's task-result logic (`depends`): parsing, evaluation and canonical text.

Argo does not parse `depends`: it finds words with a regex, expands bare names textually and
hands the result to expr, so `and`, `true` or `a.succeeded` become task names and fail late.
We parse it properly (errors with offsets: FS210 syntax, FS211 unknown result) and evaluate it
the way `evaluateDependsLogic` does: wait until every named step is fulfilled, then decide.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal as TypingLiteral
from typing import NamedTuple, TypeAlias

from .errors import ExprSyntaxError

DEPENDS_SYNTAX = "FS210"
DEPENDS_RESULT = "FS211"

RESULTS = (
    "Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed",
)
#: Phases after which Argo considers a dependency fulfilled (daemons aside).
FULFILLED_PHASES = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
PHASES = FULFILLED_PHASES | {"Pending", "Running"}

#: Bounds tree depth (see parser.MAX_OPERATORS).
MAX_OPERATORS = 64
_RESULT_BY_LOWER = {result.lower(): result for result in RESULTS}
_NOT_OPERATORS = {
    "and": "use '&&' for 'and'",
    "or": "use '||' for 'or'",
    "not": "use '!' for 'not'",
    "true": "depends has no constants; name the steps to wait for",
    "false": "depends has no constants; name the steps to wait for",
    "nil": "depends has no constants; name the steps to wait for",
    "in": "depends has no 'in'; combine results with '||'",
}
_BAD_CHAR_HINTS = {
    "&": "use '&&' for 'and'",
    "|": "use '||' for 'or'",
    "=": "depends names results instead of comparing: a.Succeeded, a.Failed, ...",
    "_": "step names use '-', not '_'",
    "{": "depends takes step names, not '{{ }}' templates",
    "}": "depends takes step names, not '{{ }}' templates",
}


@dataclass(frozen=True, slots=True)
class DependsRef:
    """``name`` (result None: the bare form) or ``name.Result``."""

    start: int
    end: int
    name: str
    result: str | None

    @property
    def name_span(self) -> tuple[int, int]:
        return self.start, self.start + len(self.name)


@dataclass(frozen=True, slots=True)
class DependsNot:
    start: int
    end: int
    operand: DependsExpr


@dataclass(frozen=True, slots=True)
class DependsLogical:
    start: int
    end: int
    op: TypingLiteral["&&", "||"]
    left: DependsExpr
    right: DependsExpr


DependsExpr: TypeAlias = DependsRef | DependsNot | DependsLogical


@dataclass(frozen=True, slots=True)
class TaskState:
    """What `depends` may know about one named step when deciding."""

    phase: str
    continue_on_failed: bool = False
    continue_on_error: bool = False
    #: Phases of the instances of a for_each step (None: the step does not fan out).
    fanout_children: Sequence[str] | None = None


# --- lexing --------------------------------------------------------------------------------
class _Token(NamedTuple):
    kind: str  # "name", ".", "&&", "||", "!", "(", ")", "eof"
    text: str
    start: int
    end: int


_TOKEN_RE = re.compile(r"(?P<ws>\s+)|(?P<name>[A-Za-z0-9][-A-Za-z0-9]*)|(?P<op>&&|\|\||[!().])")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            ch = text[pos]
            raise ExprSyntaxError(
                f"unexpected character {ch!r} in depends", pos, pos + 1,
                _BAD_CHAR_HINTS.get(ch), DEPENDS_SYNTAX,
            )
        if m.lastgroup == "name":
            tokens.append(_Token("name", m.group(), pos, m.end()))
        elif m.lastgroup == "op":
            tokens.append(_Token(m.group(), m.group(), pos, m.end()))
        pos = m.end()
    tokens.append(_Token("eof", "", len(text), len(text)))
    return tokens


# --- parsing -------------------------------------------------------------------------------
def parse_depends(text: str) -> DependsExpr:
    """Parse a `depends` string; raises ExprSyntaxError with code FS210 or FS211."""
    parser = _Parser(_tokenize(text))
    if parser.peek().kind == "eof":
        raise ExprSyntaxError(
            "depends is empty", 0, len(text),
            "name the steps to wait for, e.g. depends: a && b.Failed", DEPENDS_SYNTAX,
        )
    expr = parser.disjunction()
    token = parser.peek()
    if token.kind != "eof":
        raise _error(
            f"unexpected {_describe(token)} in depends", token,
            _NOT_OPERATORS.get(token.text) or "join step results with '&&' or '||'",
        )
    return expr


class _Parser:
    __slots__ = ("operators", "pos", "tokens")

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.operators = 0

    def operator(self) -> _Token:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise _error(f"depends is too complex (more than {MAX_OPERATORS} of '(', '!', "
                         "'&&', '||')", self.peek(), "split it across steps")
        return self.advance()

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def disjunction(self) -> DependsExpr:
        left = self.conjunction()
        while self.peek().kind == "||":
            self.operator()
            right = self.conjunction()
            left = DependsLogical(left.start, right.end, "||", left, right)
        return left

    def conjunction(self) -> DependsExpr:
        left = self.unary()
        while self.peek().kind == "&&":
            self.operator()
            right = self.unary()
            left = DependsLogical(left.start, right.end, "&&", left, right)
        return left

    def unary(self) -> DependsExpr:
        token = self.peek()
        if token.kind == "!":
            self.operator()
            operand = self.unary()
            return DependsNot(token.start, operand.end, operand)
        if token.kind == "(":
            self.operator()
            inner = self.disjunction()
            closing = self.advance()
            if closing.kind != ")":
                raise _error(
                    f"expected ')' but found {_describe(closing)}", closing,
                    f"close the '(' opened at offset {token.start}",
                )
            return inner
        if token.kind == "name":
            return self.reference()
        if token.kind == "eof":
            raise _error("depends ends too early", token, "add a step name after the operator")
        raise _error(f"expected a step name but found {_describe(token)}", token, None)

    def reference(self) -> DependsRef:
        name = self.advance()
        if name.text in _NOT_OPERATORS:
            raise _error(f"'{name.text}' is not an operator in depends", name,
                         _NOT_OPERATORS[name.text])
        dot = self.peek()
        if dot.kind != "." or dot.start != name.end:
            if dot.kind == ".":
                raise _error("no spaces around '.' in depends", dot, f"write {name.text}.RESULT")
            return DependsRef(name.start, name.end, name.text, None)
        self.advance()
        result = self.advance()
        if result.kind != "name" or result.start != dot.end:
            raise _error(
                f"expected a result after '{name.text}.'", result,
                "results are " + ", ".join(RESULTS),
            )
        if result.text not in RESULTS:
            raise ExprSyntaxError(
                f"unknown task result '{result.text}' for step '{name.text}'",
                result.start, result.end, _result_hint(result.text), DEPENDS_RESULT,
            )
        return DependsRef(name.start, result.end, name.text, result.text)


def _error(message: str, token: _Token, hint: str | None) -> ExprSyntaxError:
    return ExprSyntaxError(message, token.start, token.end, hint, DEPENDS_SYNTAX)


def _describe(token: _Token) -> str:
    return "the end" if token.kind == "eof" else f"'{token.text}'"


def _result_hint(word: str) -> str:
    exact = _RESULT_BY_LOWER.get(word.lower())
    if exact is not None:
        return f"results are capitalised as Argo requires: {exact}"
    close = difflib.get_close_matches(word, RESULTS, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "results are " + ", ".join(RESULTS)


# --- queries -------------------------------------------------------------------------------
def references(expr: DependsExpr) -> list[DependsRef]:
    """Every reference in source order (a name may appear more than once)."""
    return list(_walk(expr))


def depends_names(expr: DependsExpr) -> list[str]:
    """The named steps, each once, in order of first appearance."""
    return list(dict.fromkeys(ref.name for ref in _walk(expr)))


def _walk(expr: DependsExpr) -> Iterator[DependsRef]:
    if isinstance(expr, DependsRef):
        yield expr
    elif isinstance(expr, DependsNot):
        yield from _walk(expr.operand)
    else:
        yield from _walk(expr.left)
        yield from _walk(expr.right)


# --- evaluation ----------------------------------------------------------------------------
def evaluate_depends(expr: DependsExpr, states: Mapping[str, TaskState]) -> bool | None:
    """True: go on to `when`; False: the step is Omitted; None: wait.

    Like Argo, this waits until *every* named step is fulfilled, even when the answer is
    already known (``a || b`` with ``a`` Succeeded still waits for ``b``). A step missing from
    ``states`` has not started yet.
    """
    for name in depends_names(expr):
        state = states.get(name)
        if state is None:
            return None
        if state.phase not in PHASES:
            raise ValueError(f"step '{name}' has unknown phase {state.phase!r}")
        if state.phase not in FULFILLED_PHASES:
            return None
    return _decide(expr, states)


def _decide(expr: DependsExpr, states: Mapping[str, TaskState]) -> bool:
    if isinstance(expr, DependsRef):
        return _result(states[expr.name], expr.result)
    if isinstance(expr, DependsNot):
        return not _decide(expr.operand, states)
    if expr.op == "&&":
        return _decide(expr.left, states) and _decide(expr.right, states)
    return _decide(expr.left, states) or _decide(expr.right, states)


def _result(state: TaskState, result: str | None) -> bool:
    phase = state.phase
    if result is None:
        return (
            phase in ("Succeeded", "Skipped")
            or (state.continue_on_error and phase == "Error")
            or (state.continue_on_failed and phase == "Failed")
        )
    if result == "Errored":
        return phase == "Error"
    if result == "Daemoned":
        return False  # flowspec has no daemon steps
    children = state.fanout_children
    if result == "AnySucceeded":
        return bool(children) and any(child == "Succeeded" for child in children or ())
    if result == "AllFailed":
        return bool(children) and all(child == "Failed" for child in children or ())
    return phase == result


# --- text for Argo -------------------------------------------------------------------------
def dependencies_to_depends(
    deps: Sequence[str], continue_on: Mapping[str, tuple[bool, bool]]
) -> str:
    """``dependencies: [a, b]`` as a `depends` string with the same meaning on Argo.

    ``continue_on`` maps a dependency to its own ``(failed, error)`` flags. Argo widens a bare
    name by the dependency's continueOn, but rejects continueOn in any DAG that uses
    `depends`, so the widening is written out: ``(a.Succeeded || a.Skipped || a.Daemoned ||
    a.Failed)``, in the order Argo's expandDependency uses.
    """
    parts = []
    for name in dict.fromkeys(deps):
        failed, error = continue_on.get(name, (False, False))
        if not (failed or error):
            parts.append(name)
            continue
        results = ["Succeeded", "Skipped", "Daemoned"]
        results += ["Errored"] * error + ["Failed"] * failed
        parts.append("(" + " || ".join(f"{name}.{r}" for r in results) + ")")
    return " && ".join(parts)


def to_argo_depends(expr: DependsExpr) -> str:
    """Canonical text: single spaces, parentheses only where the tree needs them."""
    return _text(expr, 0)


def _text(expr: DependsExpr, level: int) -> str:
    if isinstance(expr, DependsRef):
        return expr.name if expr.result is None else f"{expr.name}.{expr.result}"
    if isinstance(expr, DependsNot):
        return "!" + _text(expr.operand, 2)
    mine = 0 if expr.op == "||" else 1
    text = f"{_text(expr.left, mine)} {expr.op} {_text(expr.right, mine + 1)}"
    return f"({text})" if mine < level else text
