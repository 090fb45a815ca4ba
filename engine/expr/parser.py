"""Recursive-descent parser for `when` conditions, one function per precedence level.

Precedence, tightest first: ``!`` > comparison and ``in`` (not chainable) > ``&&`` > ``||``.
References are parsed here too (``reference``), shared with `${{ }}` interpolation, so a
reference means the same thing, and is misspelt with the same hints, in both places.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import cast

from .ast import (
    Compare,
    CompareOp,
    Expr,
    ItemRef,
    ListLiteral,
    Literal,
    Logical,
    Not,
    ParamRef,
    Reference,
    StepOutputRef,
    StepStatusRef,
    WorkflowNameRef,
    WorkflowStatusRef,
)
from .errors import CONDITION_SYNTAX, ExprSyntaxError
from .lexer import EOF, FLOAT, INT, KEYWORDS, NAME, STRING, Token, tokenize

COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
#: Bounds the depth of the tree (and so the recursion of every stage) far above any real
#: condition: a hostile `((((...` gets a syntax error, not a RecursionError.
MAX_OPERATORS = 64
_LITERAL_KINDS = frozenset({STRING, INT, FLOAT, "true", "false", "null"})
_WORD_KINDS = frozenset({NAME}) | KEYWORDS
_LITERAL_VALUES: dict[str, object] = {"true": True, "false": False, "null": None}


#: References a `when` condition may use.
CONDITION_REFERENCES: frozenset[type] = frozenset(
    {ParamRef, StepOutputRef, StepStatusRef, WorkflowStatusRef, ItemRef}
)

_FORMS: dict[type, str] = {
    ParamRef: "params.NAME",
    StepOutputRef: "steps.STEP.outputs.NAME",
    StepStatusRef: "steps.STEP.status",
    WorkflowStatusRef: "workflow.status",
    WorkflowNameRef: "workflow.name",
    ItemRef: "item",
}


@lru_cache(maxsize=8)
def reference_forms(allowed: frozenset[type]) -> str:
    """'params.NAME, ... or item': the references ``allowed``, for hints."""
    forms = [text for kind, text in _FORMS.items() if kind in allowed]
    return ", ".join(forms[:-1]) + " or " + forms[-1]



# Words people bring from other languages, and what to write instead.
_WORD_HINTS = {
    "and": "use '&&' for 'and'",
    "or": "use '||' for 'or'",
    "not": "use '!' for 'not', e.g. !(x in [1, 2])",
    "True": "booleans are lower case: true",
    "False": "booleans are lower case: false",
    "TRUE": "booleans are lower case: true",
    "FALSE": "booleans are lower case: false",
    "None": "write null",
    "nil": "write null",
    "NULL": "write null",
    "Null": "write null",
    "undefined": "write null",
    "tasks": "flowspec names steps: steps.STEP.outputs.NAME or steps.STEP.status",
    "inputs": "workflow inputs are params.NAME",
    "outputs": "outputs belong to a step: steps.STEP.outputs.NAME",
    "env": "conditions cannot read environment variables; declare a param and use params.NAME",
}


def parse_condition(text: str) -> Expr:
    """Parse a `when` condition; raises ExprSyntaxError with offsets and a hint."""
    parser = _Parser(text, tokenize(text), CONDITION_SYNTAX, CONDITION_REFERENCES)
    if parser.peek().kind == EOF:
        raise ExprSyntaxError(
            "the condition is empty", 0, len(text),
            "write a condition such as params.count > 0, or remove 'when'",
        )
    expr = parser.disjunction()
    parser.expect_end("condition")
    return expr


def parse_reference(
    text: str, start: int, stop: int, allowed: frozenset[type], code: str
) -> Reference:
    """Parse exactly one reference found in ``text[start:stop]`` (used by interpolation)."""
    parser = _Parser(text, tokenize(text, code, start, stop), code, allowed)
    if parser.peek().kind == EOF:
        raise ExprSyntaxError(
            "empty reference", start, stop, f"write {reference_forms(allowed)}", code
        )
    ref = parser.reference(allowed)
    parser.expect_end("reference")
    return ref


class _Parser:
    __slots__ = ("code", "forms", "operators", "pos", "text", "tokens")

    def __init__(
        self, text: str, tokens: list[Token], code: str, allowed: frozenset[type]
    ) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.code = code
        self.forms = reference_forms(allowed)
        self.operators = 0

    # -- token helpers ---------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def error(self, message: str, token: Token, hint: str | None = None) -> ExprSyntaxError:
        end = max(token.start, token.end)
        return ExprSyntaxError(message, token.start, end, hint, self.code)

    def operator(self) -> Token:
        """Consume a '(', '!', '&&' or '||', within the budget that bounds tree depth."""
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise self.error(
                f"the condition is too complex (more than {MAX_OPERATORS} of '(', '!', '&&', "
                "'||')", self.peek(),
                "split the decision: let an earlier step output a boolean and test that",
            )
        return self.advance()

    def expect_end(self, what: str) -> None:
        token = self.peek()
        if token.kind != EOF:
            raise self.error(
                f"unexpected {_describe(token)} after the end of the {what}",
                token,
                _WORD_HINTS.get(token.text) or _after_operand_hint(token),
            )

    # -- precedence levels -----------------------------------------------------------------
    def disjunction(self) -> Expr:
        left = self.conjunction()
        while self.peek().kind == "||":
            self.operator()
            right = self.conjunction()
            left = Logical(left.start, right.end, "||", left, right)
        return left

    def conjunction(self) -> Expr:
        left = self.comparison()
        while self.peek().kind == "&&":
            self.operator()
            right = self.comparison()
            left = Logical(left.start, right.end, "&&", left, right)
        return left

    def comparison(self) -> Expr:
        left = self.unary()
        op_token = self.peek()
        if op_token.kind not in COMPARE_OPS:
            return left
        self.advance()
        right = self.unary()
        following = self.peek()
        if following.kind in COMPARE_OPS:
            raise self.error(
                f"comparisons cannot be chained ('{op_token.text}' then '{following.text}')",
                following,
                "join two comparisons with '&&', e.g. a < b && b < c",
            )
        return Compare(left.start, right.end, cast(CompareOp, op_token.kind), left, right)

    def unary(self) -> Expr:
        token = self.peek()
        if token.kind != "!":
            return self.primary()
        self.operator()
        operand = self.unary()
        return Not(token.start, operand.end, operand)

    def primary(self) -> Expr:
        token = self.peek()
        kind = token.kind
        if kind == "(":
            self.operator()
            inner = self.disjunction()
            closing = self.peek()
            if closing.kind != ")":
                raise self.error(
                    f"expected ')' but found {_describe(closing)}",
                    closing,
                    f"close the '(' opened at offset {token.start}",
                )
            self.advance()
            return inner
        if kind in _LITERAL_KINDS:
            self.advance()
            return Literal(token.start, token.end, _literal_value(token))
        if kind == "[":
            return self.list_literal()
        if kind == NAME:
            return self.reference(CONDITION_REFERENCES)
        if kind == EOF:
            previous = self.tokens[self.pos - 1] if self.pos else token
            raise self.error(
                "the condition ends too early",
                token,
                f"add a value after '{previous.text}'" if self.pos else None,
            )
        raise self.error(
            f"expected a value but found {_describe(token)}",
            token,
            _WORD_HINTS.get(token.text) or f"a value is a literal or {self.forms}",
        )

    def list_literal(self) -> ListLiteral:
        opening = self.advance()
        items: list[Literal] = []
        if self.peek().kind == "]":
            return ListLiteral(opening.start, self.advance().end, ())
        while True:
            token = self.peek()
            if token.kind == "null":
                raise self.error(
                    "null cannot be a list item", token,
                    "null never matches with 'in'; test it with == null",
                )
            if token.kind not in _LITERAL_KINDS:
                hint = (
                    "lists cannot be nested" if token.kind == "["
                    else "list items are literals: 'text', numbers, true or false"
                )
                raise self.error(f"expected a list item but found {_describe(token)}", token, hint)
            self.advance()
            items.append(Literal(token.start, token.end, _literal_value(token)))
            separator = self.advance()
            if separator.kind == "]":
                return ListLiteral(opening.start, separator.end, tuple(items))
            if separator.kind != ",":
                raise self.error(
                    f"expected ',' or ']' but found {_describe(separator)}",
                    separator,
                    f"close the '[' opened at offset {opening.start}",
                )

    # -- references ------------------------------------------------------------------------
    def reference(self, allowed: frozenset[type]) -> Reference:
        root = self.advance()
        word = root.text
        if word == "params":
            name = self.segment(root, "a param name")
            ref: Reference = ParamRef(root.start, name.end, name.text)
        elif word == "steps":
            ref = self.step_reference(root)
        elif word == "workflow":
            field = self.segment(root, "'status'")
            if field.text == "status":
                ref = WorkflowStatusRef(root.start, field.end)
            elif field.text == "name":
                ref = WorkflowNameRef(root.start, field.end)
            else:
                hint = (
                    "workflow inputs are params.NAME" if field.text == "parameters"
                    else _did_you_mean(field.text, ("status", "name"))
                )
                raise self.error(f"unknown field workflow.{field.text}", field, hint)
        elif word == "item":
            if self.adjacent_dot(root):
                key = self.segment(root, "a key of the item")
                ref = ItemRef(root.start, key.end, key.text)
            else:
                ref = ItemRef(root.start, root.end, None)
        else:
            hint = f"references are {self.forms}"
            if allowed == CONDITION_REFERENCES:
                hint += f"; to compare with text, quote it: '{word}'"
            raise self.error(f"unknown name '{word}'", root, _WORD_HINTS.get(word) or hint)
        if type(ref) not in allowed:
            raise ExprSyntaxError(
                f"{self.text[ref.start:ref.end]} cannot be used here",
                ref.start, ref.end, _unavailable_hint(ref, self.forms), self.code,
            )
        following = self.peek()
        if following.kind == "." and following.start == ref.end:
            raise self.error(
                f"{self.text[ref.start:ref.end]} has no field '{self.text_after(following)}'",
                following,
                _extra_field_hint(ref, self.forms),
            )
        return ref

    def step_reference(self, root: Token) -> Reference:
        step = self.segment(root, "a step name")
        field = self.segment(step, "'outputs' or 'status'")
        if field.text == "status":
            return StepStatusRef(root.start, field.end, step.text)
        if field.text != "outputs":
            hint = _did_you_mean(field.text, ("outputs", "status")) or (
                f"use steps.{step.text}.outputs.NAME or steps.{step.text}.status"
            )
            raise self.error(f"unknown field '{field.text}' of step '{step.text}'", field, hint)
        name = self.segment(field, "an output name")
        if name.text == "parameters" and self.adjacent_dot(name):
            raise self.error(
                "'parameters' is Argo's spelling", name,
                f"write steps.{step.text}.outputs.{self.text_after(self.peek())}",
            )
        return StepOutputRef(root.start, name.end, step.text, name.text)

    def adjacent_dot(self, previous: Token) -> bool:
        token = self.peek()
        return token.kind == "." and token.start == previous.end

    def segment(self, previous: Token, what: str) -> Token:
        """The word after ``previous`` + '.', written without spaces."""
        dot = self.peek()
        if dot.kind != "." or dot.start != previous.end:
            raise self.error(
                f"expected '.' and {what} after '{previous.text}'", dot
                if dot.kind != EOF else previous,
                f"references are {self.forms}" if dot.kind != "." else
                "write references without spaces",
            )
        self.advance()
        word = self.peek()
        if word.kind not in _WORD_KINDS or word.start != dot.end:
            raise self.error(
                f"expected {what} after '.' but found {_describe(word)}", word,
                "write references without spaces" if word.kind in _WORD_KINDS else None,
            )
        return self.advance()

    def text_after(self, dot: Token) -> str:
        following = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else dot
        return following.text if following.start == dot.end else ""


def _literal_value(token: Token) -> str | int | float | bool | None:
    if token.kind in _LITERAL_VALUES:
        return cast("bool | None", _LITERAL_VALUES[token.kind])
    return cast("str | int | float", token.value)


def _describe(token: Token) -> str:
    if token.kind == EOF:
        return "the end"
    if token.kind == STRING:
        return f"string {token.text}"
    if token.kind in (INT, FLOAT):
        return f"number {token.text}"
    return f"'{token.text}'"


def _after_operand_hint(token: Token) -> str | None:
    if token.kind in (NAME, STRING, INT, FLOAT, "true", "false", "null", "(", "["):
        return "join conditions with '&&' or '||'; compare values with '==' or '!='"
    return None


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _unavailable_hint(ref: Reference, forms: str) -> str:
    if isinstance(ref, WorkflowNameRef):
        return "workflow.name is available in env values only"
    if isinstance(ref, StepStatusRef):
        return "a step's status is available in `when` conditions only"
    return f"use {forms}"


def _extra_field_hint(ref: Reference, forms: str) -> str:
    if isinstance(ref, ItemRef):
        return "item keys are one level deep: item.KEY"
    if isinstance(ref, StepOutputRef):
        return f"an output is a whole value: steps.{ref.step}.outputs.{ref.output}"
    return f"references are {forms}"


