"""Secrets are masked in what a run keeps, as data: never by editing encoded JSON."""

from __future__ import annotations

import json
import sqlite3

from executor_helpers import spec_from

from engine.canonical import dumps
from engine.local import run
from engine.secrets import MASK, Redactor
from engine.store import open_store

PIN = """
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: pin}
env:
  PIN: {secret: {name: app, key: pin}}
steps:
  - name: a
    processor: noop
    config:
      outputs: {code: 20240304, pin: 2024, said: "pin 2024 ok", ratio: 2024.5}
    outputs: {code: integer, pin: integer, said: string, ratio: number}
  - name: b
    processor: noop
    dependencies: [a]
    when: steps.a.outputs.code == 20240304
"""


def _stored_texts(db_url: str) -> list[str]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        return [text for (text,) in conn.execute(
            "SELECT outputs FROM flowspec_events WHERE node = 'a' AND outputs IS NOT NULL")]


def test_a_numeric_secret_leaves_numbers_whole_and_the_run_finishes(db_url: str) -> None:
    result = run(spec_from(PIN), store=db_url, secrets={"APP_PIN": "2024"})
    assert result.phase == "Succeeded"
    assert result.steps["a"].outputs == {"code": 20240304, "pin": MASK,
                                         "said": f"pin {MASK} ok", "ratio": 2024.5}
    assert result.steps["b"].phase == "Succeeded"
    assert _stored_texts(db_url) == [
        '{"code":20240304,"pin":"***","ratio":2024.5,"said":"pin *** ok"}']
    store = open_store(db_url)
    try:
        (attempt,) = store.load_run(result.run_id).attempts["a"]
        assert attempt.outputs == result.steps["a"].outputs
    finally:
        store.close()


def test_masking_walks_strings_keys_and_whole_numbers() -> None:
    redactor = Redactor(["2024", 'k"e\\y\n'])
    text = dumps({"n": [2024, 20240304, -2024, 2024.0, True], "2024-01": 'x k"e\\y\n y',
                  "s": "12024"})
    masked = redactor.scrub_encoded(text)
    assert masked is not None
    clean_text, clean = masked
    assert clean == {"n": [MASK, 20240304, -2024, 2024.0, True], "***-01": "x *** y",
                     "s": "1***"}
    assert clean_text == dumps(clean)
    assert json.loads(clean_text) == clean


def test_text_without_a_secret_is_left_as_it_is() -> None:
    redactor = Redactor(["2024", "abc"])  # "abc" is too short to mask
    assert redactor.scrub_encoded(dumps({"code": 20240304, "s": "abc"})) is None
    assert redactor.scrub_encoded(dumps({"s": "nothing here"})) is None
    assert Redactor([]).scrub_encoded('{"a":"2024"}') is None
