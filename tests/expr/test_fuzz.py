"""Random input never crashes a parser with anything but ExprSyntaxError (actionlint's
fuzz/expr.go, with hypothesis), and canonical text always parses back to the same tree."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.expr import ast
from engine.expr.depends import parse_depends, to_argo_depends
from engine.expr.errors import ExprSyntaxError
from engine.expr.interpolate import parse_interpolation
from engine.expr.parser import parse_condition

CONDITION_PIECES = [
    "params", "steps", "workflow", "item", "outputs", "status", ".", "a", "load-b", "x_1",
    "==", "!=", "<", "<=", ">", ">=", "in", "&&", "||", "!", "(", ")", "[", "]", ",",
    "true", "false", "null", "'t'", '"q\\"', "'", "\\u00e9", "1", "-2.5e3", "007", "=", "&",
    "and", "not", "{{", "}}", "${{", " ", "\n", "é", "\x00",
]
DEPENDS_PIECES = [
    "a", "load", "load-b", "2x", ".", "Succeeded", "Failed", "Errored", "AnySucceeded",
    "succeeded", "&&", "||", "!", "(", ")", " ", "and", "_", "&", "-",
]
FUZZ = settings(max_examples=300, deadline=None)


def soup(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=25).flatmap(
        lambda parts: st.sampled_from(["", " "]).map(lambda sep: sep.join(parts))
    )


def assert_syntax_error_in_bounds(error: ExprSyntaxError, text: str, codes: set[str]) -> None:
    assert 0 <= error.start <= error.end <= len(text)
    assert error.code in codes
    assert error.message


@FUZZ
@given(st.one_of(st.text(max_size=60), soup(CONDITION_PIECES)))
def test_condition_parser_only_raises_syntax_errors(text: str) -> None:
    try:
        expr = parse_condition(text)
    except ExprSyntaxError as error:
        assert_syntax_error_in_bounds(error, text, {"FS300"})
    else:
        assert 0 <= expr.start <= expr.end <= len(text)
        assert _strip(parse_condition(ast.to_text(expr))) == _strip(expr)


@FUZZ
@given(st.one_of(st.text(max_size=60), soup(DEPENDS_PIECES)))
def test_depends_parser_only_raises_syntax_errors(text: str) -> None:
    try:
        expr = parse_depends(text)
    except ExprSyntaxError as error:
        assert_syntax_error_in_bounds(error, text, {"FS210", "FS211"})
    else:
        canonical = to_argo_depends(expr)
        assert to_argo_depends(parse_depends(canonical)) == canonical


@FUZZ
@given(st.one_of(st.text(max_size=60), soup([*CONDITION_PIECES, "${{ ", " }}", "}"])))
def test_interpolation_parser_only_raises_syntax_errors(text: str) -> None:
    try:
        parts = parse_interpolation(text)
    except ExprSyntaxError as error:
        assert_syntax_error_in_bounds(error, text, {"FS309"})
    else:
        assert all(isinstance(p, str) or 0 <= p.start < p.end <= len(text) for p in parts)


# --- generated trees -----------------------------------------------------------------------
NAMES = st.sampled_from(["a", "load-b", "x_1", "in", "null", "Status"])
SCALARS = st.one_of(
    st.text(max_size=8),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)
LITERALS = st.one_of(SCALARS, st.none()).map(lambda v: ast.Literal(0, 0, v))
REFERENCES = st.one_of(
    NAMES.map(lambda n: ast.ParamRef(0, 0, n)),
    st.tuples(NAMES, NAMES).map(lambda p: ast.StepOutputRef(0, 0, *p)),
    NAMES.map(lambda n: ast.StepStatusRef(0, 0, n)),
    st.just(ast.WorkflowStatusRef(0, 0)),
    st.one_of(st.none(), NAMES).map(lambda k: ast.ItemRef(0, 0, k)),
)
LISTS = st.lists(SCALARS.map(lambda v: ast.Literal(0, 0, v)), max_size=3).map(
    lambda items: ast.ListLiteral(0, 0, tuple(items))
)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        children.map(lambda c: ast.Not(0, 0, c)),
        st.tuples(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in"]),
                  st.one_of(LITERALS, REFERENCES, children.map(lambda c: ast.Not(0, 0, c))),
                  st.one_of(LITERALS, REFERENCES, LISTS)).map(
            lambda t: ast.Compare(0, 0, t[0], t[1], t[2])),
        st.tuples(st.sampled_from(["&&", "||"]), children, children).map(
            lambda t: ast.Logical(0, 0, t[0], t[1], t[2])),
    )


TREES = st.recursive(st.one_of(LITERALS, REFERENCES, LISTS), _compound, max_leaves=12)


@FUZZ
@given(TREES)
def test_canonical_text_parses_back_to_the_same_tree(tree: ast.Expr) -> None:
    text = ast.to_text(tree)
    assert _strip(parse_condition(text)) == _strip(tree), text


def _strip(expr: object) -> object:
    if isinstance(expr, tuple):
        return tuple(_strip(item) for item in expr)
    fields = getattr(expr, "__dataclass_fields__", None)
    if fields is None:
        return expr
    return (type(expr).__name__,) + tuple(
        _strip(getattr(expr, name)) for name in fields if name not in ("start", "end")
    )
