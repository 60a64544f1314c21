"""What a test of the rules engine asks of a rewrite it expects to succeed."""

from __future__ import annotations

from typing import Any

# the end of a test script that saves its feature matrix and labels for the validation to read
SAVES_X_AND_Y = 'os.makedirs("out", exist_ok=True)\nnp.save("out/X.npy", np.array(X))\nnp.save("out/y.npy", np.array(y))\n'


def assert_valid_and_declarative(result: Any, *, pandas_steps: bool = False,
                                 matched: tuple[str, ...] = ("X", "y", "model")) -> None:
    """Valid, no opaque step (no pandas step either, unless allowed), and ``matched`` compared equal."""
    assert result.status == "valid", result.report.text()
    assert not result.report.opaque_steps
    assert pandas_steps or not result.report.pandas_steps, result.report.pandas_steps
    statuses = {c.what: c.status for c in result.report.validation.checks}
    assert all(statuses.get(what) == "match" for what in matched), statuses


def rewrite_declaratively(folder: Any, monkeypatch: Any, script: str, tables: dict[str, Any],
                          **expected: Any) -> Any:
    """Write ``tables`` (pandas DataFrames) as ``data/NAME`` CSV files and ``script`` as ``s.py``
    in ``folder``, rewrite it with the rules engine there, and check the rewrite as
    :func:`assert_valid_and_declarative` does (``expected`` are its options)."""
    import lester as lt

    (folder / "data").mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_csv(folder / "data" / name, index=False)
    (folder / "s.py").write_text(script)
    monkeypatch.chdir(folder)
    result = lt.rewrite("s.py", engine="rules", timeout=120)
    assert_valid_and_declarative(result, **expected)
    return result
