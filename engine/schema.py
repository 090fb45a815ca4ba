"""The JSON Schema pass: the shape of a spec, each problem placed on the YAML that caused it.

The schema file is the one description of the language that editors (yaml-language-server),
``flowspec schema`` and this pass share. jsonschema's own messages are written for schema
authors ("Additional properties are not allowed ('x' was unexpected)", reprs of whole
sub-documents under oneOf); users need the key, the position and the fix, so every error is
translated here: unknown keys point at the key with a did-you-mean, missing keys at their
mapping, bad values at the value. ``patternErrorMessage`` (the keyword VS Code and
yaml-language-server show for a failed pattern) gives patterns their human wording, so editors
and the command line say the same thing. Cross-field rules (depends vs dependencies, unknown
step names, condition types) belong to the semantic passes, which can say more.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from engine.diagnostics import Code, Diagnostic, code, did_you_mean, finish
from engine.loader import Document, Path
from engine.source import Span

SCHEMA_FILE = "flowspec.schema.json"

UNKNOWN_KEY = code("FS101", "unknown key", """
The mapping has a key the spec language does not define here. It is often a typo
(`dependecies`), a key at the wrong level (`image` belongs under a step's `argo`), or a key
from another tool. Unknown keys are errors rather than being ignored, so a typo never silently
drops a setting.

Keys of GitHub Actions and other CI tools are translated in the hint: `if` is `when` (without
`${{ }}`), `needs` is `dependencies`, `run` is `processor: shell` with `config: {command: ...}`,
`uses` is `processor`, `with` is `config`, `timeout-minutes` is `timeout` (a duration such
as `10m`), `continue-on-error` is `continue_on`; `runs-on` is not needed (on Argo the image is
`argo.image`).
""", silenceable=True)
MISSING_KEY = code("FS102", "missing required key", """
A key that this mapping must have is absent: a workflow needs `apiVersion`, `kind`,
`metadata` (with `name`) and `steps`; a step needs `name` and `processor`; a param needs `type`.
""")
WRONG_TYPE = code("FS103", "wrong type", """
The value has the wrong type: text where a number is expected, a single value where a list
or mapping is expected, or an empty value. Quote values that must be text (`'8080'`).
""")
INVALID_VALUE = code("FS104", "invalid value", """
The value has the right type but is not allowed: not one of the listed choices, not in the
expected format (names, durations such as `30s`, quantities such as `512Mi`), out of range, too
long, or repeated in a list that must not repeat.
""")
SCHEMA_VIOLATION = code("FS105", "schema violation", """
The value breaks a rule of the schema that has no more specific code.
""")

_TYPE_NOUNS = {
    "string": "text", "integer": "an integer", "number": "a number", "boolean": "a boolean",
    "object": "a mapping", "array": "a list", "null": "nothing (null)",
}
_VALUE_RULES = {
    "enum", "const", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
    "uniqueItems", "minProperties", "maxProperties",
}
_MAX_SHOWN = 40  # longer text is cut in messages: it is on the source line anyway


def schema_path() -> FilePath:
    """The schema file: ``schemas/`` of a source checkout (what editors point at), else the
    copy shipped inside the package for non-editable installs."""
    checkout = FilePath(__file__).resolve().parent.parent / "schemas" / SCHEMA_FILE
    return checkout if checkout.is_file() else FilePath(__file__).with_name(SCHEMA_FILE)


def load_schema() -> dict[str, Any]:
    """A fresh copy of the schema, safe for the caller to change."""
    with schema_path().open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@functools.cache
def _validator() -> Validator:
    """Built once per process: compiling the schema costs more than validating a spec."""
    return Draft202012Validator(load_schema())


@functools.cache
def _verdict() -> Callable[[Any], bool]:
    """Whether a document fits the schema, by jsonschema-rs (the schema compiled to Rust).

    It answers far faster than jsonschema but says nothing about where or why,
    so it only decides whether the positioned validator has to run. It never lets through
    what jsonschema rejects (``test_schema`` checks that on arbitrary documents); where it is
    stricter (a pattern's ``$`` before a final newline, which Python's ``re`` accepts) the
    positioned validator runs and finds nothing, as it would have anyway.
    """
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema()).is_valid


def fits_schema(data: Any) -> bool:
    """Whether ``data`` fits the flowspec schema; False also where jsonschema-rs cannot read
    a value (a mapping key that is not text), which the positioned validator then reports."""
    try:
        return _verdict()(data)
    except ValueError:
        return False


def check_schema(doc: Document) -> list[Diagnostic]:
    """Every way ``doc`` breaks the flowspec schema, sorted by position.

    A spec being edited is valid most of the time, so the fast verdict comes first and the
    positioned validator, which costs far more, runs only for a document with
    something to report.
    """
    if fits_schema(doc.data):
        return []
    return validate_at(doc, _validator())


def validate_at(doc: Document, validator: Validator, path: Path = ()) -> list[Diagnostic]:
    """Validate the value at ``path`` of ``doc`` against any schema, with positioned messages.

    Also meant for a processor's config schema (``path=("steps", i, "config")``), so that
    config errors read and point like schema errors.
    """
    instance: Any = doc.data
    for part in path:
        instance = instance[part]
    return _Translator(doc, validator, tuple(path)).run(instance)


@dataclass(frozen=True, slots=True)
class _Error:
    """One jsonschema error, typed, with its full document path."""

    rule: str | None  # the failing keyword; None for a `false` schema
    limit: Any  # the keyword's value in the schema
    value: Any  # the offending instance (a key's name for propertyNames)
    schema: Mapping[str, Any]  # the schema holding the keyword
    path: Path  # from the document root
    about_key: bool  # the error is about a key's name, not a value (propertyNames)
    type_mismatch_here: bool  # a `type` error at the same instance as its anyOf/oneOf parent
    alternatives: list[ValidationError]  # an anyOf/oneOf's per-alternative errors

    @classmethod
    def of(cls, error: ValidationError, base: Path) -> _Error:
        rule = error.validator if isinstance(error.validator, str) else None
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        return cls(
            rule, error.validator_value, error.instance, schema,
            base + tuple(error.absolute_path),
            # jsonschema reports a bad key name with the name as the instance and the path
            # left at the mapping
            "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str),
            rule == "type" and not error.path,
            list(error.context or ()),
        )


class _Translator:
    """Turns jsonschema errors for one instance into diagnostics."""

    def __init__(self, doc: Document, validator: Validator, base: Path) -> None:
        self.doc = doc
        self.validator = validator
        self.base = base
        self.out: list[Diagnostic] = []
        #: per mapping path, the names that unknown keys there were probably meant to be
        self.meant: dict[Path, set[str]] = {}

    def run(self, instance: Any) -> list[Diagnostic]:
        required: list[_Error] = []
        for raw in self.validator.iter_errors(instance):
            error = _Error.of(raw, self.base)
            if error.rule == "required":
                required.append(error)  # after unknown keys: a typo must not also be "missing"
            else:
                self.translate(error)
        for error in required:
            self.missing(error)
        return finish(self.out)

    # -- dispatch -------------------------------------------------------------------------

    def translate(self, error: _Error) -> None:
        rule = error.rule
        if rule in ("anyOf", "oneOf") and error.alternatives:
            self.alternatives(error)
        elif rule == "additionalProperties" and isinstance(error.value, dict):
            self.unknown_keys(error)
        elif rule == "required":
            self.missing(error)
        elif rule == "type":
            self.wrong_type(error)
        elif rule in _VALUE_RULES:
            self.invalid_value(error)
        else:
            self.emit(self.value_span(error), SCHEMA_VIOLATION,
                      f"{_field(error.path)}: {_other_rule(rule)}")

    def emit(self, span: Span, c: Code, message: str, hint: str | None = None) -> None:
        self.out.append(Diagnostic.at(self.doc.file, span, c, message, hint))

    def value_span(self, error: _Error) -> Span:
        """The value, or the key itself when the error is about a key's name."""
        if error.about_key:
            return self.doc.span((*error.path, error.value), key=True)
        return self.doc.span(error.path)

    # -- structure ------------------------------------------------------------------------

    def unknown_keys(self, error: _Error) -> None:
        allowed = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        where = _where(error.path, self.doc.data)
        meant = self.meant.setdefault(error.path, set())
        for key, value in error.value.items():
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            foreign = FOREIGN_KEYS.get(key)
            hint: str | None
            if foreign is not None and foreign.home in allowed:
                hint = foreign.hint(value)
                meant.update(foreign.supplies)
            elif hint := did_you_mean(key, allowed):
                meant.add(_suggested(hint))
            else:
                hint = self.nested_home(key, error.schema) or (
                    f"allowed here: {', '.join(allowed)}" if allowed else None)
            self.emit(self.doc.span((*error.path, key), key=True), UNKNOWN_KEY,
                      f"unknown key '{key}' in {where}", hint)

    def nested_home(self, key: str, schema: Mapping[str, Any]) -> str | None:
        """Where a key that is unknown here does exist one level down (``image`` on a step
        lives under ``argo``, a step's ``retry`` at the top level under ``defaults``)."""
        for name, sub in schema.get("properties", {}).items():
            resolved = self.resolve(sub)
            if key in self.resolve(resolved.get("items", {})).get("properties", {}):
                return f"'{key}' belongs in each item of '{name}'"
            if key in resolved.get("properties", {}):
                return f"'{key}' belongs under '{name}'"
        return None

    def missing(self, error: _Error) -> None:
        if not isinstance(error.value, dict):
            return
        meant = self.meant.get(error.path, set())
        properties = error.schema.get("properties", {})
        where = _where(error.path, self.doc.data)
        for key in error.limit:
            if key in error.value or key in meant:
                continue
            self.emit(self.mapping_span(error.path, error.value), MISSING_KEY,
                      f"{where} is missing the required key '{key}'",
                      _add_hint(key, self.documented(properties.get(key, {}))))

    def mapping_span(self, path: Path, mapping: dict[str, Any]) -> Span:
        """Where to show a missing key: the mapping's own key, else its first key's line."""
        info = self.doc.nodes.get(path)
        if info is not None and info.key is not None:
            return info.key
        if mapping:
            return self.doc.span((*path, next(iter(mapping))), key=True)
        return self.doc.span(path)

    # -- values ---------------------------------------------------------------------------

    def wrong_type(self, error: _Error) -> None:
        self.emit(self.value_span(error), WRONG_TYPE,
                  f"{_field(error.path)}: expected {_nouns(error.limit)}, got {_got(error.value)}",
                  self.type_hint(error.value, error.schema))

    def type_hint(self, value: Any, schema: Mapping[str, Any]) -> str | None:
        if isinstance(value, str):
            unquoted = _unquote(value)
            if unquoted is not None and self.accepts(schema, unquoted):
                return f"remove the quotes: {value}"
        elif isinstance(value, (bool, int, float)) and self.accepts(schema, _plain(value)):
            return f"put the value in quotes: '{_plain(value)}'"
        examples = _examples_hint(schema)
        if value is None:
            return "write a value after the colon, or remove the key" + (
                f" ({examples})" if examples else "")
        return examples

    def invalid_value(self, error: _Error) -> None:
        rule, limit, value, schema = error.rule, error.limit, error.value, error.schema
        span = self.value_span(error)
        hint: str | None = None
        if rule == "enum":
            message = f"{_show(value)} is not one of: {', '.join(map(_plain, limit))}"
            if isinstance(value, str):
                hint = did_you_mean(value, [str(v) for v in limit])
        elif rule == "const":
            message = f"expected {_show(limit)}, got {_show(value)}"
            hint = schema.get("description")
        elif rule == "pattern":
            explained = schema.get("patternErrorMessage")
            message = (f"{_show(value)} is {explained}" if explained
                       else f"{_show(value)} does not match the pattern {limit}")
            hint = self.fix_hint(value, schema) or _examples_hint(schema)
        elif rule == "uniqueItems":
            index = _first_repeat(value)
            if index is not None:
                span = self.doc.span((*error.path, index))
            message = (f"{_show(value[index])} is listed more than once" if index is not None
                       else "has repeated items")
            hint = "remove the repeated entry"
        else:
            message = _limit_message(str(rule), limit, value)
        self.emit(span, INVALID_VALUE, f"{_field(error.path)}: {message}", hint)

    def fix_hint(self, value: str, schema: Mapping[str, Any]) -> str | None:
        """Offer the nearest value that would pass (``My_Step`` -> ``my-step``)."""
        candidates = (
            re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-"),
            re.sub(r"\W+", "_", value).strip("_"),
            re.sub(r"\s+", "", value),
        )
        for candidate in candidates:
            if candidate and candidate != value and self.accepts(schema, candidate):
                return f"did you mean '{candidate}'?"
        return None

    def accepts(self, schema: Mapping[str, Any], value: Any) -> bool:
        return bool(self.validator.evolve(schema=schema).is_valid(value))

    # -- anyOf / oneOf ----------------------------------------------------------------------

    def alternatives(self, error: _Error) -> None:
        """Report the alternative the user most likely meant, never jsonschema's summary.

        As check-jsonschema's ``find_best_deep_match``: alternatives whose type does not even
        fit the value are set aside, and among the rest the error deepest in the document wins
        (it is the most specific). When no alternative fits the type, list the types allowed.
        Ties keep the schema's order, so the message is stable.
        """
        subs = [(raw.relative_schema_path[0], _Error.of(raw, self.base))
                for raw in error.alternatives]
        misfits = {branch for branch, sub in subs if sub.type_mismatch_here}
        fitting = [sub for branch, sub in subs if branch not in misfits]
        if fitting:
            self.translate(max(fitting, key=_depth_relevance))
            return
        types = [t for _, sub in subs if sub.type_mismatch_here for t in _as_list(sub.limit)]
        self.emit(self.value_span(error), WRONG_TYPE,
                  f"{_field(error.path)}: expected {_nouns(list(dict.fromkeys(types)))}, "
                  f"got {_got(error.value)}",
                  _examples_hint(error.schema))

    def documented(self, schema: Any) -> Mapping[str, Any]:
        """A property's schema with its own description and examples over its $ref target's."""
        return {**self.resolve(schema), **schema} if isinstance(schema, Mapping) else {}

    def resolve(self, schema: Any) -> Mapping[str, Any]:
        """Follow local ``$ref``s (``#/$defs/step``) to the schema holding the keywords."""
        seen = 0
        while isinstance(schema, Mapping) and "$ref" in schema and seen < 20:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            target: Any = self.validator.schema
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) \
                    if isinstance(target, Mapping) else {}
            schema, seen = target, seen + 1
        return schema if isinstance(schema, Mapping) else {}


# -- keys of other tools ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Foreign:
    """A key GitHub Actions (or another CI or workflow tool) uses, and flowspec's way to say it.

    ``home`` is the flowspec key it becomes: the hint is given only in a mapping that allows
    it, so ``if`` is translated on a step, not in ``metadata``. ``supplies`` are the required
    keys the translation provides (``run`` becomes ``processor: shell``), which are then not
    also reported as missing.
    """

    home: str
    hint: Callable[[Any], str]
    supplies: tuple[str, ...] = ()


def _condition(value: Any) -> str:
    """A GitHub ``if:`` as a flowspec condition: the same text without ``${{ }}``."""
    from engine.expr.interpolate import wrapped

    text = str(value) if value is not None else "steps.STEP.outputs.NAME == 'x'"
    inside = wrapped(text)
    return text[inside[0]:inside[1]].strip() if inside else text


def _command_hint(value: Any) -> str:
    command = _inline(value) if isinstance(value, (str, list)) else "..."
    command = command if len(command) <= _MAX_SHOWN else "..."
    return ("a command is run by the shell processor: processor: shell, and "
            f"config: {{command: {command}}}")


def _minutes(value: Any) -> str:
    number = _plain(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else "10"
    return f"flowspec's timeout is a duration per attempt: timeout: {number}m"


FOREIGN_KEYS: dict[str, _Foreign] = {
    "if": _Foreign("when", lambda v: "flowspec calls it 'when', and a condition needs no "
                                     f"'${{{{ }}}}': when: {_condition(v)}"),
    "needs": _Foreign("dependencies", lambda v: "flowspec calls it 'dependencies': "
                                                f"dependencies: {_inline(_as_list(v))}"),
    "runAfter": _Foreign("dependencies", lambda v: "flowspec calls it 'dependencies': "
                                                   f"dependencies: {_inline(_as_list(v))}"),
    "runs-on": _Foreign("argo", lambda v: "not needed: a step runs where flowspec runs, and on "
                                          "Argo in the image set by argo.image (per step or "
                                          "for the workflow); remove it"),
    "run": _Foreign("processor", _command_hint, ("processor",)),
    "script": _Foreign("processor", _command_hint, ("processor",)),
    "uses": _Foreign("processor", lambda v: "a step names what it runs in 'processor': shell, "
                                            "python, noop, a registered processor or "
                                            "package.module:Class", ("processor",)),
    "with": _Foreign("config", lambda v: "a processor's inputs go under 'config'"
                                         + (f": config: {_inline(v)}" if isinstance(v, dict)
                                            else "")),
    "timeout-minutes": _Foreign("timeout", _minutes),
    "continue-on-error": _Foreign("continue_on", lambda v: "flowspec calls it 'continue_on': "
                                                           "continue_on: {failed: true}"),
    "jobs": _Foreign("steps", lambda v: "flowspec has no jobs: list the work under 'steps', "
                                        "ordered by each step's 'dependencies'"),
    "on": _Foreign("argo", lambda v: "a spec runs when started (flowspec run, flowspec "
                                     "submit); for a schedule set argo.schedules and compile "
                                     "with --kind CronWorkflow"),
}


# -- helpers (pure) -------------------------------------------------------------------------

def _depth_relevance(error: _Error) -> tuple[int, bool]:
    """Deeper first (most specific), then a concrete rule over a nested anyOf/oneOf, which
    ``translate`` descends into in turn."""
    return len(error.path), error.rule not in ("anyOf", "oneOf")


def _step_label(path: Path, data: Any) -> str | None:
    if len(path) < 2 or path[0] not in ("steps", "finally") or not isinstance(path[1], int):
        return None
    steps = data.get(path[0]) if isinstance(data, dict) else None
    step = steps[path[1]] if isinstance(steps, list) and path[1] < len(steps) else None
    name = step.get("name") if isinstance(step, dict) else None
    if not isinstance(name, str) or not name:
        return f"{path[0]}[{path[1]}]"
    return f"finally step '{name}'" if path[0] == "finally" else f"step '{name}'"


def _where(path: Path, data: Any) -> str:
    """A mapping named the way a user thinks of it: "step 'x'", "'retry' of step 'x'"."""
    if not path:
        return "the workflow"
    step = _step_label(path, data)
    if step is None:
        return f"'{_dotted(path)}'"
    rest = path[2:]
    return f"'{_dotted(rest)}' of {step}" if rest else step


def _field(path: Path) -> str:
    """The field a value sits in, relative to its step: ``retry.limit``, ``metadata.name``."""
    if len(path) > 2 and path[0] in ("steps", "finally") and isinstance(path[1], int):
        path = path[2:]
    return _dotted(path) or "the document"


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _nouns(types: Any) -> str:
    names = [_TYPE_NOUNS.get(t, str(t)) for t in _as_list(types)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _got(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {_plain(value)}"
    if isinstance(value, (int, float)):
        return f"the number {_plain(value)}"
    if isinstance(value, str):
        return f"the text {_show(value)}"
    return "a list" if isinstance(value, list) else "a mapping"


def _show(value: Any) -> str:
    """A value as a message quotes it: text in quotes (cut when long), the rest as YAML."""
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 1] + "…"
        return f"'{shown}'"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value) if isinstance(value, bool) else repr(value)


def _unquote(text: str) -> Any:
    """What quoted text would be without the quotes, if that is a number or boolean."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        return float(text)
    return None


def _inline(value: Any) -> str:
    """A value as one line of YAML flow style, for hints."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    return dumped.removesuffix("\n...\n").strip()


def _examples_hint(schema: Mapping[str, Any]) -> str | None:
    examples = schema.get("examples")
    if not examples:
        return None
    return "for example: " + ", ".join(_inline(e) for e in examples[:3])


def _add_hint(key: str, schema: Mapping[str, Any]) -> str:
    examples = schema.get("examples")
    if examples:
        line = f"{key}: {_inline(examples[0])}"
        if len(line) <= 72:
            return f"add '{line}'"
    description = schema.get("description")
    return f"add '{key}'" + (f": {description}" if description else "")


def _suggested(hint: str) -> str:
    """The name inside a did-you-mean hint."""
    return hint.split("'")[1]


def _first_repeat(items: list[Any]) -> int | None:
    """The index of the first item equal to an earlier one (``true`` is not ``1``, as in
    JSON Schema)."""
    for index, item in enumerate(items):
        if any(item == other and (type(item) is bool) == (type(other) is bool)
               for other in items[:index]):
            return index
    return None


def _limit_message(rule: str, limit: Any, value: Any) -> str:
    size = len(value) if isinstance(value, (str, list, dict)) else 0
    messages = {
        "minimum": f"{_show(value)} is less than the minimum, {limit}",
        "maximum": f"{_show(value)} is more than the maximum, {limit}",
        "exclusiveMinimum": f"{_show(value)} must be greater than {limit}",
        "exclusiveMaximum": f"{_show(value)} must be less than {limit}",
        "multipleOf": f"{_show(value)} is not a multiple of {limit}",
        "minLength": "must not be empty" if limit == 1
        else f"{_show(value)} is shorter than {limit} characters",
        "maxLength": f"{_show(value)} is {size} characters long; at most {limit} are allowed",
        "minItems": f"needs at least {limit} item{'s' if limit != 1 else ''}, has {size}",
        "maxItems": f"has {size} items; at most {limit} are allowed",
        "minProperties": f"needs at least {limit} entr{'ies' if limit != 1 else 'y'}",
        "maxProperties": f"has {size} entries; at most {limit} are allowed",
        "format": f"{_show(value)} is not a valid {limit}",
    }
    return messages[rule]


def _other_rule(rule: str | None) -> str:
    if rule is None:  # a `false` schema
        return "no value is allowed here"
    if rule in ("anyOf", "oneOf"):  # oneOf matched more than one alternative
        return "the value fits more than one of the allowed shapes"
    if rule == "not":
        return "this value is not allowed here"
    return f"the value breaks the schema's '{rule}' rule"
