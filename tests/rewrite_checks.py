"""What a test of the rules engine asks of a rewrite it expects to succeed."""

from __future__ import annotations

from typing import Any


def assert_valid_and_declarative(result: Any, *, pandas_steps: bool = False,
                                 matched: tuple[str, ...] = ("X", "y", "model")) -> None:
    """Valid, no opaque step (no pandas step either, unless allowed), and ``matched`` compared equal."""
    assert result.status == "valid", result.report.text()
    assert not result.report.opaque_steps
    assert pandas_steps or not result.report.pandas_steps, result.report.pandas_steps
    statuses = {c.what: c.status for c in result.report.validation.checks}
    assert all(statuses.get(what) == "match" for what in matched), statuses
