"""FS310: the env variable a ``${{ }}`` outside env should travel in, named after its reference."""

from __future__ import annotations

import pytest

from engine.rules.interpolation import variable_for


@pytest.mark.parametrize(("reference", "variable"), [
    ("params.branch", "BRANCH"),
    ("steps.extract-rows.outputs.row_count", "EXTRACT_ROWS_ROW_COUNT"),
    ("workflow.name", "WORKFLOW_NAME"),
    ("item", "ITEM"),
    ("item.region", "ITEM_REGION"),
    ("secrets.GITHUB_TOKEN", "GITHUB_TOKEN"),
    ("github.event.pull_request.title", "GITHUB_EVENT_PULL_REQUEST_TITLE"),
    ("params", "PARAMS"),
    ("params.a == 'b'", "VALUE"),
    ("", "VALUE"),
])
def test_variable_for(reference: str, variable: str) -> None:
    assert variable_for(reference) == variable
